// TEMPORARY STUB (lead engineer): replaced by the argument-validator helper's module.
export class ArgumentValidator {
  constructor(_schemaOf: (toolName: string) => Record<string, unknown> | undefined, _onError?: (error: Error) => void) {}
  validate(_toolName: string, _args: unknown): { ok: true } | { ok: false; message: string; data: { path: string; errors: Array<{ path: string; message: string; keyword: string }> } } { return { ok: true }; }
  clear(): void {}
}
