/**
 * Limits on what a request's params may contain, checked before any schema validation or handler sees them:
 * nesting depth (deep structures make recursive code in handlers and validators overflow the stack) and string
 * length. The walk is iterative for the same reason, and cheap for the small requests that are the norm.
 */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export function isValidToolName(name: unknown): boolean {
  return typeof name === 'string' && TOOL_NAME_PATTERN.test(name);
}

export interface InputLimitProblem {
  problem: 'depth' | 'string';
  /** Where, as a JSON Pointer into params: `/arguments/items/3`. */
  path: string;
  limit: number;
}

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string;
}

function pointer(frame: Frame): string {
  const keys: string[] = [];
  for (let current: Frame | undefined = frame; current?.parent !== undefined; current = current.parent)
    keys.push(current.key.replace(/~/g, '~0').replace(/\//g, '~1'));
  return keys.length === 0 ? '/' : `/${keys.reverse().join('/')}`;
}

export function checkInputLimits(
  value: unknown,
  limits: { maxJsonDepth: number; maxStringLength: number },
): InputLimitProblem | undefined {
  const stack: Frame[] = [{ value, depth: 0, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const current = frame.value;
    if (typeof current === 'string') {
      if (current.length > limits.maxStringLength)
        return { problem: 'string', path: pointer(frame), limit: limits.maxStringLength };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    const depth = frame.depth + 1;
    if (depth > limits.maxJsonDepth) return { problem: 'depth', path: pointer(frame), limit: limits.maxJsonDepth };
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--)
        stack.push({ value: current[index], depth, parent: frame, key: String(index) });
    } else {
      for (const key of Object.keys(current)) {
        if (key.length > limits.maxStringLength)
          return { problem: 'string', path: pointer(frame), limit: limits.maxStringLength };
        stack.push({ value: (current as Record<string, unknown>)[key], depth, parent: frame, key });
      }
    }
  }
  return undefined;
}
