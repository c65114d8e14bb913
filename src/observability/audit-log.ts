/**
 * The audit log: one JSON line per request and per refused attempt, written with pino (asynchronously, through
 * sonic-boom, so the hot path only formats a line). It never holds a credential: entries have no field for one,
 * and tool arguments appear only when `includeArguments` is set, with sensitive names redacted at any depth.
 */
import { randomBytes } from 'node:crypto';

import pino, { type Logger } from 'pino';

import { failOption, RemoteMcpOptionError } from '../errors.js';

export interface AuditOptions {
  /** 'stdout' (default) or a file path (appended to, created with its directory). */
  destination?: string;
  /** Include tools/call arguments. Default false. */
  includeArguments?: boolean;
  /** Argument names always redacted (any depth, any case). Default: password, token, secret, apiKey, api_key, authorization. */
  sensitiveArguments?: string[];
}

export interface ResolvedAuditOptions {
  destination: string;
  includeArguments: boolean;
  sensitiveArguments: Set<string>;
}

export const AUDIT_DEFAULTS = Object.freeze({
  destination: 'stdout',
  includeArguments: false,
  sensitiveArguments: ['password', 'token', 'secret', 'apiKey', 'api_key', 'authorization'],
});

export type AuditOutcome =
  | 'ok'
  | 'error'
  | 'denied'
  | 'rate-limited'
  | 'unauthenticated'
  | 'invalid'
  | 'cancelled'
  /** Refused by a transport before it became a JSON-RPC request; `reason` is one of src/observability/refusal-reasons.ts. */
  | 'refused';

export interface AuditEntry {
  requestId: string;
  /** The principal key (see src/security/principal.ts). */
  principal?: string;
  subject?: string;
  clientIp: string;
  transport: 'http' | 'sse' | 'websocket';
  /** Unknown for attempts refused before their body was read. */
  era?: 'modern' | 'legacy';
  method?: string;
  /** Tool or prompt name, or resource URI. */
  name?: string;
  outcome: AuditOutcome;
  status?: number;
  errorCode?: number;
  reason?: string;
  durationMs?: number;
  /** A tools/call answered with `isError: true` (outcome stays `ok`: the protocol exchange succeeded). */
  toolError?: boolean;
  /** The W3C trace id: of the request's span, or of the caller's traceparent. */
  traceId?: string;
  arguments?: unknown;
  rpcId?: string | number | null;
}

function fail(name: string, expected: string, value: unknown): never {
  failOption(`audit.${name}`, expected, value);
}

export function resolveAuditOptions(value: unknown): ResolvedAuditOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RemoteMcpOptionError(
      `remote-mcp: option \`audit\` must be an object; received ${JSON.stringify(value)}.`,
    );
  const options = value as AuditOptions;
  const destination = options.destination ?? AUDIT_DEFAULTS.destination;
  if (typeof destination !== 'string' || destination.length === 0)
    fail('destination', '"stdout" or a file path', destination);
  const includeArguments = options.includeArguments ?? AUDIT_DEFAULTS.includeArguments;
  if (typeof includeArguments !== 'boolean') fail('includeArguments', 'a boolean', includeArguments);
  const sensitive = options.sensitiveArguments ?? AUDIT_DEFAULTS.sensitiveArguments;
  if (!Array.isArray(sensitive) || sensitive.some((name) => typeof name !== 'string' || name.length === 0))
    fail('sensitiveArguments', 'an array of argument names', sensitive);
  return { destination, includeArguments, sensitiveArguments: new Set(sensitive.map((name) => name.toLowerCase())) };
}

const MAX_LOGGED_STRING = 1024;
const MAX_LOGGED_DEPTH = 8;

/** A copy of tool arguments fit for a log: sensitive names redacted, long strings cut, deep nesting elided. */
function loggable(value: unknown, sensitive: Set<string>, depth = 0): unknown {
  if (typeof value === 'string')
    return value.length > MAX_LOGGED_STRING
      ? `${value.slice(0, MAX_LOGGED_STRING)}…[${value.length - MAX_LOGGED_STRING} more]`
      : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_LOGGED_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 100).map((item) => loggable(item, sensitive, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    copy[key] = sensitive.has(key.toLowerCase()) ? '[redacted]' : loggable(item, sensitive, depth + 1);
  return copy;
}

export class AuditLog {
  private readonly logger: Logger;
  private readonly destination: ReturnType<typeof pino.destination>;

  constructor(private readonly options: ResolvedAuditOptions) {
    this.destination = pino.destination({
      dest: options.destination === 'stdout' ? 1 : options.destination,
      sync: false,
      mkdir: options.destination !== 'stdout',
    });
    this.logger = pino(
      { base: { log: 'audit' }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'message' },
      this.destination,
    );
  }

  record(entry: AuditEntry): void {
    const { arguments: args, ...rest } = entry;
    this.logger.info(
      this.options.includeArguments && args !== undefined
        ? { ...rest, arguments: loggable(args, this.options.sensitiveArguments) }
        : rest,
    );
  }

  /** Writes out what is buffered, then closes a file destination. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.destination.flush((error?: Error) => {
        if (error !== undefined && error !== null) resolve();
        else if (this.options.destination === 'stdout') resolve();
        else {
          this.destination.once('close', () => resolve());
          this.destination.end();
        }
      });
    });
  }
}

const PREFIX = randomBytes(4).toString('hex');
let sequence = 0;

/** A request id unique across processes (random prefix) and cheap on the hot path (a counter). */
export function newRequestId(): string {
  sequence = (sequence + 1) % 0x1_0000_0000;
  return `${PREFIX}${sequence.toString(16).padStart(8, '0')}`;
}
