// TEMPORARY STUB (lead engineer): replaced by the input-limits helper's module.
export const INPUT_LIMIT_DEFAULTS = { maxJsonDepth: 64, maxStringLength: 1_048_576 };
export function checkInputLimits(_value: unknown, _limits: { maxJsonDepth: number; maxStringLength: number }): { problem: 'depth' | 'string'; path: string; limit: number } | undefined { return undefined; }
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
export function isValidToolName(name: unknown): boolean { return typeof name === 'string' && TOOL_NAME_PATTERN.test(name); }
