/**
 * tools/call arguments checked against the tool's input schema (JSON Schema 2020-12, as the SDK lists it) with
 * ajv before the handler runs, so a bad call gets -32602 naming the failing path instead of reaching the tool.
 * The SDK validates again with the tool's own schema object; this check exists for the precise error and to
 * keep malformed input away from handlers. Validators are compiled once per tool and dropped when the tool list
 * changes.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

export type ArgumentVerdict =
  | { ok: true }
  | {
      ok: false;
      message: string;
      data: { path: string; errors: Array<{ path: string; message: string; keyword: string }> };
    };

const MAX_REPORTED_ERRORS = 10;

export class ArgumentValidator {
  private readonly ajv = new Ajv2020({
    allErrors: false,
    strict: false,
    coerceTypes: false,
    useDefaults: false,
    validateSchema: false,
  });
  private readonly compiled = new Map<string, ValidateFunction | null>();

  constructor(
    private readonly schemaOf: (toolName: string) => Record<string, unknown> | undefined,
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  validate(toolName: string, args: unknown): ArgumentVerdict {
    let validate = this.compiled.get(toolName);
    if (validate === undefined) {
      const schema = this.schemaOf(toolName);
      // Unknown tools are not cached: callers choose the names, and the cache must stay as small as the tool list.
      if (schema === undefined) return { ok: true };
      validate = this.compile(toolName, schema);
      this.compiled.set(toolName, validate);
    }
    if (validate === null || validate(args ?? {})) return { ok: true };
    const errors = (validate.errors ?? []).slice(0, MAX_REPORTED_ERRORS).map((error: ErrorObject) => ({
      path: error.instancePath === '' ? '/' : error.instancePath,
      message: error.message ?? 'is invalid',
      keyword: error.keyword,
    }));
    const first = errors[0] ?? { path: '/', message: 'is invalid', keyword: 'unknown' };
    return {
      ok: false,
      message: `Invalid arguments for tool ${toolName}: ${first.path} ${first.message}`,
      data: { path: first.path, errors },
    };
  }

  clear(): void {
    this.compiled.clear();
  }

  /** null: a schema ajv cannot compile (the SDK still checks the arguments). */
  private compile(toolName: string, schema: Record<string, unknown>): ValidateFunction | null {
    try {
      const { $schema: _ignored, ...rest } = schema;
      return this.ajv.compile(rest);
    } catch (error) {
      this.onError(
        new Error(
          `remote-mcp: the input schema of tool ${toolName} does not compile; its arguments are left to the SDK: ${(error as Error).message}`,
        ),
      );
      return null;
    }
  }
}
