/** The `upstream` option: a remote MCP server of any era or transport, served through remote-mcp. */
import { failOption } from '../errors.js';
import type { GatewayLimits } from './stdio-gateway.js';
import type { StdioIsolation } from './stdio-options.js';

export interface UpstreamOptions {
  /** The upstream endpoint: http(s):// (Streamable HTTP; …/sse or …/events for HTTP+SSE) or ws(s)://. Required. */
  url: string;
  /** Headers sent with every upstream request, such as its credentials. Default none. */
  headers?: Record<string, string>;
  /**
   * `session` (default): each 2025-era client session gets an upstream session of its own. `shared`: 2025-era
   * clients share upstream sessions (one per set of client capabilities). 2026-07-28 requests are stateless and
   * share one connection either way.
   */
  isolation?: StdioIsolation;
  /** Most upstream 2025-era sessions open at once. Default 1000. */
  maxSessions?: number;
  /** How long a request waits for the upstream's answer, in ms; then -32054. Default 60000. */
  requestTimeoutMs?: number;
  /** How long the upstream has to answer the handshake of a new connection, in ms. Default 10000. */
  startTimeoutMs?: number;
  /** An upstream session with nothing in flight for this long is ended (DELETE), in ms. Default 300000. */
  idleTimeoutMs?: number;
  /** First delay before a failed shared connection is opened again, doubling per failure, in ms. Default 1000. */
  restartDelayMs?: number;
  /** Longest delay between reconnection attempts, in ms. Default 30000. */
  maxRestartDelayMs?: number;
}

export const UPSTREAM_DEFAULTS = Object.freeze({
  isolation: 'session' as StdioIsolation,
  maxSessions: 1000,
  requestTimeoutMs: 60_000,
  startTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  restartDelayMs: 1_000,
  maxRestartDelayMs: 30_000,
});

export interface ResolvedUpstreamOptions extends GatewayLimits {
  url: URL;
  headers: Record<string, string>;
}

const INTEGERS = [
  'maxSessions',
  'requestTimeoutMs',
  'startTimeoutMs',
  'idleTimeoutMs',
  'restartDelayMs',
  'maxRestartDelayMs',
] as const;
const KNOWN = new Set(['url', 'headers', 'isolation', ...INTEGERS]);

export function resolveUpstreamOptions(value: unknown): ResolvedUpstreamOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    failOption('upstream', 'an object with a url', value);
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input))
    if (!KNOWN.has(key)) failOption(`upstream.${key}`, `one of ${[...KNOWN].join(', ')} (unknown key)`, key);
  let url: URL;
  try {
    url = new URL(String(input.url));
  } catch {
    failOption('upstream.url', 'an absolute http(s):// or ws(s):// URL', input.url);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol))
    failOption('upstream.url', 'an http(s):// or ws(s):// URL', input.url);
  const headers = input.headers ?? {};
  if (
    headers === null ||
    typeof headers !== 'object' ||
    Array.isArray(headers) ||
    Object.values(headers).some((header) => typeof header !== 'string')
  )
    failOption('upstream.headers', 'an object of string values', headers);
  const isolation = input.isolation ?? UPSTREAM_DEFAULTS.isolation;
  if (isolation !== 'shared' && isolation !== 'session')
    failOption('upstream.isolation', '"shared" or "session"', isolation);
  const limits: Record<string, number> = {};
  for (const name of INTEGERS) {
    const number = input[name] ?? UPSTREAM_DEFAULTS[name];
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1)
      failOption(`upstream.${name}`, 'an integer >= 1', number);
    limits[name] = number;
  }
  return Object.freeze({
    url,
    headers: { ...(headers as Record<string, string>) },
    isolation,
    maxChildren: limits.maxSessions!,
    poolSize: 1,
    requestTimeoutMs: limits.requestTimeoutMs!,
    startTimeoutMs: limits.startTimeoutMs!,
    idleTimeoutMs: limits.idleTimeoutMs!,
    maxLifetimeMs: 0,
    restartDelayMs: limits.restartDelayMs!,
    maxRestartDelayMs: limits.maxRestartDelayMs!,
  });
}

/** `--upstream-header "Name: value"`, repeatable. */
export function parseUpstreamHeader(line: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon).trim() : '';
  if (name === '' || /\s/.test(name)) failOption('upstream.headers', 'headers given as "Name: value"', line);
  return { ...previous, [name]: line.slice(colon + 1).trim() };
}
