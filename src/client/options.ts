/**
 * The options of `connect()` and their defaults, validated once. Every limit is named here and in docs/client.md.
 */
import { TASKS_EXTENSION, type InputRequestsHandler } from './tasks.js';
import type {
  ClientCapabilities,
  ClientOptions,
  Implementation,
  ResponseCacheStore,
} from '@modelcontextprotocol/client';

import { VERSION } from '../version.js';

/** Which wire to use. `auto` picks from the URL scheme and the server's answers (see connect.ts). */
export type TransportKind = 'auto' | 'streamable-http' | 'sse' | 'websocket';

/** Which protocol era to speak. `auto` tries 2026-07-28 first and falls back to a 2025-era session. */
export type ProtocolChoice = 'auto' | 'modern' | 'legacy';

/** Headers computed per request: a function is called before every HTTP request and WebSocket handshake. */
export type HeaderSource = () => Record<string, string> | Promise<Record<string, string>>;

/** A bearer token, an API key (sent as `X-API-Key` unless `header` names another), or a function. */
export type AuthOption = { token: string } | { apiKey: string; header?: string } | HeaderSource;

export interface RetryOptions {
  /** Tries in all, the first included. Default 3; 1 turns retries off. */
  attempts?: number;
  /** Delay before the first retry. Default 200 ms. */
  initialDelayMs?: number;
  /** Cap on any one delay, `Retry-After` included. Default 10,000 ms. */
  maxDelayMs?: number;
  /** Growth of the delay per retry. Default 2. */
  factor?: number;
  /** Full jitter: each delay is a random value between 0 and the computed one. Default true. */
  jitter?: boolean;
}

export interface CacheOption {
  /** The SDK's response-cache store; share one between clients (it may be async, e.g. backed by Redis). */
  store?: ResponseCacheStore;
  /** Partition for `private`-scoped entries: set it to the principal when one store serves several. */
  partition?: string;
}

/** What a retry is told, for logging or metrics. */
export interface RetryEvent {
  method: string;
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface ConnectOptions {
  /** Default `auto`. */
  transport?: TransportKind;
  /** Default `auto`. */
  protocol?: ProtocolChoice;
  /** Sent with every HTTP request and the WebSocket handshake. */
  headers?: Record<string, string>;
  auth?: AuthOption;
  /** Per request (each try of it). Default 60,000 ms, the SDK's. */
  timeoutMs?: number;
  /** Bound on a whole call: every try, every delay and every progress reset. Default none. */
  totalTimeoutMs?: number;
  /** Restart `timeoutMs` whenever the server reports progress. Default false. */
  resetTimeoutOnProgress?: boolean;
  /** `false` turns retries off. */
  retry?: RetryOptions | false;
  /** The SDK's response cache (`ttlMs` hints). Default: a private in-memory store per client. */
  cache?: CacheOption;
  /** Default `{ name: 'remote-mcp-client', version }`. */
  clientInfo?: Implementation;
  capabilities?: ClientCapabilities;
  /** Passed to the SDK `Client` as is (listChanged, inputRequired, jsonSchemaValidator, ...). */
  client?: Omit<ClientOptions, 'capabilities' | 'versionNegotiation' | 'responseCacheStore' | 'cachePartition'>;
  /** Connect (handshake and discovery) within this. Default 10,000 ms. */
  connectTimeoutMs?: number;
  onRetry?: (event: RetryEvent) => void;
  /**
   * Declare the io.modelcontextprotocol/tasks extension, so task tools run as tasks: `callTool` then follows a
   * task to its end (tasks/get at the interval it suggests) and returns the final result; `callToolAsTask`
   * hands the task over instead. Default true.
   */
  tasks?: boolean;
  /** Answers the input requests of a task that `callTool` follows; without it such a task is cancelled and fails. */
  onInputRequests?: InputRequestsHandler;
}

export const CLIENT_DEFAULTS = Object.freeze({
  transport: 'auto' as TransportKind,
  protocol: 'auto' as ProtocolChoice,
  timeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  resetTimeoutOnProgress: false,
  retry: Object.freeze({ attempts: 3, initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: true }),
  clientInfo: Object.freeze({ name: 'remote-mcp-client', version: VERSION }),
  apiKeyHeader: 'x-api-key',
  tasks: true,
});

export type ResolvedRetry = Required<RetryOptions>;

export interface ResolvedConnectOptions {
  transport: TransportKind;
  protocol: ProtocolChoice;
  headers: Record<string, string>;
  auth: AuthOption | undefined;
  timeoutMs: number;
  totalTimeoutMs: number | undefined;
  connectTimeoutMs: number;
  resetTimeoutOnProgress: boolean;
  retry: ResolvedRetry;
  cache: CacheOption | undefined;
  clientInfo: Implementation;
  capabilities: ClientCapabilities | undefined;
  client: ConnectOptions['client'];
  onRetry: ConnectOptions['onRetry'];
  tasks: boolean;
  onInputRequests: InputRequestsHandler | undefined;
}

const TRANSPORTS: readonly TransportKind[] = ['auto', 'streamable-http', 'sse', 'websocket'];
const PROTOCOLS: readonly ProtocolChoice[] = ['auto', 'modern', 'legacy'];

function positive(name: string, value: unknown, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    throw new TypeError(
      `remote-mcp client: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`,
    );
  return value;
}

function resolveRetry(retry: ConnectOptions['retry']): ResolvedRetry {
  if (retry === false) return { ...CLIENT_DEFAULTS.retry, attempts: 1 };
  const merged = { ...CLIENT_DEFAULTS.retry, ...retry };
  positive('retry.attempts', merged.attempts, true);
  if (typeof merged.initialDelayMs !== 'number' || merged.initialDelayMs < 0)
    throw new TypeError(`remote-mcp client: retry.initialDelayMs must be >= 0, got ${String(merged.initialDelayMs)}`);
  positive('retry.maxDelayMs', merged.maxDelayMs);
  if (typeof merged.factor !== 'number' || merged.factor < 1)
    throw new TypeError(`remote-mcp client: retry.factor must be >= 1, got ${String(merged.factor)}`);
  return merged;
}

function resolveAuth(auth: ConnectOptions['auth']): AuthOption | undefined {
  if (auth === undefined || typeof auth === 'function') return auth;
  if ('token' in auth && typeof auth.token === 'string' && auth.token !== '') return auth;
  if ('apiKey' in auth && typeof auth.apiKey === 'string' && auth.apiKey !== '') return auth;
  throw new TypeError('remote-mcp client: auth must be { token }, { apiKey, header? } or a function returning headers');
}

/** Validates the options once and fills in the defaults; a bad option throws a TypeError that names it. */
export function resolveConnectOptions(options: ConnectOptions = {}): ResolvedConnectOptions {
  const transport = options.transport ?? CLIENT_DEFAULTS.transport;
  if (!TRANSPORTS.includes(transport))
    throw new TypeError(
      `remote-mcp client: transport must be one of ${TRANSPORTS.join(', ')}, got ${String(transport)}`,
    );
  const protocol = options.protocol ?? CLIENT_DEFAULTS.protocol;
  if (!PROTOCOLS.includes(protocol))
    throw new TypeError(`remote-mcp client: protocol must be one of ${PROTOCOLS.join(', ')}, got ${String(protocol)}`);
  return {
    transport,
    protocol,
    headers: { ...options.headers },
    auth: resolveAuth(options.auth),
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs),
    totalTimeoutMs:
      options.totalTimeoutMs === undefined ? undefined : positive('totalTimeoutMs', options.totalTimeoutMs),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs),
    resetTimeoutOnProgress: options.resetTimeoutOnProgress ?? CLIENT_DEFAULTS.resetTimeoutOnProgress,
    retry: resolveRetry(options.retry),
    cache: options.cache,
    clientInfo: options.clientInfo ?? CLIENT_DEFAULTS.clientInfo,
    capabilities: withTasks(options.capabilities, options.tasks ?? CLIENT_DEFAULTS.tasks),
    client: options.client,
    onRetry: options.onRetry,
    tasks: options.tasks ?? CLIENT_DEFAULTS.tasks,
    onInputRequests: options.onInputRequests,
  };
}

/** The capabilities with the tasks extension declared (when `tasks` is on). */
function withTasks(capabilities: ClientCapabilities | undefined, tasks: boolean): ClientCapabilities | undefined {
  if (typeof tasks !== 'boolean')
    throw new TypeError(`remote-mcp client: tasks must be true or false, got ${String(tasks)}`);
  if (!tasks) return capabilities;
  const extensions = { ...(capabilities as { extensions?: Record<string, unknown> } | undefined)?.extensions };
  extensions[TASKS_EXTENSION] ??= {};
  return { ...capabilities, extensions } as ClientCapabilities;
}

/** The headers the auth option adds (a function is called each time). */
export async function authHeaders(auth: AuthOption | undefined): Promise<Record<string, string>> {
  if (auth === undefined) return {};
  if (typeof auth === 'function') return await auth();
  if ('token' in auth) return { authorization: `Bearer ${auth.token}` };
  return { [(auth.header ?? CLIENT_DEFAULTS.apiKeyHeader).toLowerCase()]: auth.apiKey };
}
