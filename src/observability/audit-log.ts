/**
 * The audit log: one JSON line per request and per refused attempt, written with pino (asynchronously, through
 * sonic-boom, so the hot path only formats a line). It never holds a credential: entries have no field for one,
 * and tool arguments appear only when `includeArguments` is set, with sensitive names redacted at any depth.
 *
 * A line is at most `maxLineBytes` long, whatever a client sends: most fields come from the request (method,
 * tool name or URI, JSON-RPC id, the principal's subject), and a request refused by a rate limit is logged before
 * any input limit has looked at it. Strings longer than a field's budget keep their start and a marker
 * (`…[truncated 123456 bytes]`); arguments that do not fit the room left become the start of their JSON and the
 * marker.
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
  /** Longest line in bytes (at least 1024); longer fields are cut with a marker. Default 65536 (64 KiB). */
  maxLineBytes?: number;
}

export interface ResolvedAuditOptions {
  destination: string;
  includeArguments: boolean;
  sensitiveArguments: Set<string>;
  maxLineBytes: number;
}

export const AUDIT_DEFAULTS = Object.freeze({
  destination: 'stdout',
  includeArguments: false,
  sensitiveArguments: ['password', 'token', 'secret', 'apiKey', 'api_key', 'authorization'],
  maxLineBytes: 64 * 1024,
});

/** The smallest `maxLineBytes`: room for every fixed field and a marker in each of the others. */
const MIN_LINE_BYTES = 1024;

export type AuditOutcome =
  | 'ok'
  | 'error'
  | 'denied'
  | 'rate-limited'
  | 'unauthenticated'
  | 'invalid'
  | 'cancelled'
  | 'ended'
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
  /** Outcome `ended`: what the server ended because its credential expired or was revoked. */
  stream?: 'websocket' | 'listen' | 'session-get' | 'http-sse' | 'session';
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
  const maxLineBytes = options.maxLineBytes ?? AUDIT_DEFAULTS.maxLineBytes;
  if (typeof maxLineBytes !== 'number' || !Number.isSafeInteger(maxLineBytes) || maxLineBytes < MIN_LINE_BYTES)
    fail('maxLineBytes', `an integer >= ${MIN_LINE_BYTES}`, maxLineBytes);
  return {
    destination,
    includeArguments,
    sensitiveArguments: new Set(sensitive.map((name) => name.toLowerCase())),
    maxLineBytes,
  };
}

const MAX_LOGGED_STRING = 1024;
const MAX_LOGGED_DEPTH = 8;
/**
 * What pino adds to the fields' own JSON: `"level":30,"time":"2026-11-24T05:01:02.003Z","log":"audit",` and the
 * newline (60 bytes), with room to spare.
 */
const LINE_OVERHEAD = 80;
/** The longest marker: `…[truncated <up to 16 digits> bytes]`. */
const MARKER_BYTES = 40;

function marker(bytes: number): string {
  return `…[truncated ${bytes} bytes]`;
}

/** `value` cut to its first `max` characters (a surrogate pair stays whole) and the marker; as is when short enough. */
function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max;
  const last = value.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  const kept = value.slice(0, end);
  return `${kept}${marker(Buffer.byteLength(value) - Buffer.byteLength(kept))}`;
}

/**
 * A bound on the bytes of `fields` as JSON, without serializing: a character is at most 6 bytes escaped
 * (`\u0000`), a number at most 24. Undefined when a value is of another kind (then measure it).
 */
function sizeBound(fields: Record<string, unknown>): number | undefined {
  let bytes = 2;
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    bytes += key.length + 4;
    if (typeof value === 'string') bytes += value.length * 6 + 2;
    else if (typeof value === 'number') bytes += 24;
    else if (typeof value === 'boolean' || value === null) bytes += 5;
    else return undefined;
  }
  return bytes;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** `fields` with every string longer than `budget` characters cut (the same object when none is). */
function shorten(fields: Record<string, unknown>, budget: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || value.length <= budget) continue;
    copy ??= { ...fields };
    copy[key] = cut(value, budget);
  }
  return copy ?? fields;
}

/** A copy of tool arguments fit for a log: sensitive names redacted, long strings cut, deep nesting elided. */
function loggable(value: unknown, sensitive: Set<string>, depth = 0): unknown {
  if (typeof value === 'string') return cut(value, MAX_LOGGED_STRING);
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
  /** Characters a string field keeps before it is cut. */
  private readonly fieldBudget: number;

  constructor(private readonly options: ResolvedAuditOptions) {
    this.fieldBudget = Math.floor(options.maxLineBytes / 16);
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
      this.fit(
        rest,
        this.options.includeArguments && args !== undefined
          ? loggable(args, this.options.sensitiveArguments)
          : undefined,
      ),
    );
  }

  /**
   * The fields and arguments of one line, cut to fit maxLineBytes. The common line (short fields, no
   * arguments) is checked against a bound without serializing; only a line that may be long is measured, and
   * its field budget halved until it fits (a field budget of 0 leaves each long field its marker alone).
   */
  private fit(fields: Record<string, unknown>, args: unknown): Record<string, unknown> {
    const limit = this.options.maxLineBytes - LINE_OVERHEAD;
    let budget = this.fieldBudget;
    let line = shorten(fields, budget);
    const bound = sizeBound(line);
    let size = bound !== undefined && bound <= limit && args === undefined ? bound : jsonBytes(line);
    while (size > limit && budget > 0) {
      budget = Math.floor(budget / 2);
      line = shorten(fields, budget);
      size = jsonBytes(line);
    }
    if (size > limit) return { requestId: fields.requestId, outcome: fields.outcome, truncated: true };
    if (args === undefined) return line;
    const json = JSON.stringify(args);
    if (json === undefined) return line;
    const room = limit - size - ',"arguments":'.length;
    const bytes = Buffer.byteLength(json);
    if (bytes <= room) return { ...line, arguments: args };
    // As a string, the JSON's start: a character of it is at most 3 bytes in UTF-8, or 2 escaped (`\"`).
    const keep = Math.floor((room - 2 - MARKER_BYTES) / 3);
    return keep < 0 ? line : { ...line, arguments: cut(json, keep) };
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
