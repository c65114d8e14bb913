/**
 * Options of createRemoteServer: every limit with its default in one place, validated once at construction.
 * docs/options.md documents the same table; a test checks they agree.
 */
import { randomBytes } from 'node:crypto';

import type { McpServer, Server } from '@modelcontextprotocol/server';

import { RemoteMcpOptionError } from '../errors.js';
import type { EventBus } from '../state/event-bus.js';
import { EVENT_BYTE_DEFAULTS, type EventStore } from '../state/event-store.js';
import type { SessionStore } from '../state/session-store.js';
import { resolveRedisOptions, type RedisOptions, type ResolvedRedisOptions } from '../state/redis-options.js';
import type { AuthOptions } from '../security/authenticator.js';
import type { AuthorizationPolicy } from '../security/authorization.js';
import type { RateLimitOptions } from '../security/rate-limit.js';
import type { TrustProxy } from '../security/client-ip.js';
import type { AuditOptions } from '../observability/audit-log.js';
import type { CorsOptions } from '../security/cors.js';
import type { HealthOptions } from '../observability/health.js';
import type { MetricsOptions } from '../observability/metrics.js';
import type { LogOptions } from '../observability/logger.js';
import { resolveStdioOptions, type ResolvedStdioOptions, type StdioOptions } from '../gateway/stdio-options.js';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from '../tasks/task-options.js';
import {
  resolveUpstreamOptions,
  type ResolvedUpstreamOptions,
  type UpstreamOptions,
} from '../gateway/upstream-options.js';

/** Publishes change events to every subscribed client of every era (see {@link FactoryContext.notify}). */
export interface Notifier {
  toolsListChanged(): void;
  promptsListChanged(): void;
  resourcesListChanged(): void;
  resourceUpdated(uri: string): void;
}

/** What the server factory is told when remote-mcp asks it for an instance. */
export interface FactoryContext {
  /**
   * `modern`: the one shared instance that serves every 2026-07-28 request. `legacy`: an instance that serves
   * 2025-era sessions whose clients sent identical initialize parameters (pooled, one session at a time).
   */
  era: 'modern' | 'legacy';
  /** Publishes list-changed / resource-updated events to subscribed clients of every era. */
  notify: Notifier;
}

export type ServerFactory = (context: FactoryContext) => McpServer | Server | Promise<McpServer | Server>;

export interface RemoteServerOptions {
  /** Returns a new McpServer (or low-level Server) each time it is called. Required unless `stdio` is given. */
  server?: ServerFactory;
  /**
   * Serve a stdio MCP server program instead of a factory (a gateway: docs/gateway.md): its command, isolation
   * (`shared` or `session`), and the limits and lifetimes of its children. Default: none.
   */
  stdio?: StdioOptions;
  /**
   * Serve a remote MCP server of any era or transport through remote-mcp (a gateway: docs/gateway.md), adding
   * its auth, limits, metrics and transports: its URL, the headers (credentials) to send it, isolation and
   * limits. Default: none.
   */
  upstream?: UpstreamOptions;
  /** The endpoint path. Default `/mcp`. */
  path?: string;
  /** Largest request body in bytes; larger bodies get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Most messages in one JSON-RPC batch (2025-03-26 sessions); more get 413. Default 100. */
  maxBatchLength?: number;
  /** How 2026-07-28 request responses are framed: `auto` (JSON unless the handler streams first), `json`, `sse`. Default `auto`. */
  responseMode?: 'auto' | 'json' | 'sse';
  /** Interval of keep-alive comments on SSE streams, in ms; 0 disables. Default 15000. */
  keepAliveMs?: number;
  /** Unread bytes an SSE stream may buffer before the slow client is disconnected. Default 8 MiB. */
  maxStreamBufferBytes?: number;
  /** Key (>= 32 bytes) that integrity-protects 2026-07-28 requestState. Share it between instances. Default: random per process. */
  requestStateKey?: string | Uint8Array;
  /**
   * Keep sessions, stream events, change events and rate-limit counters in Redis, so several instances behind a
   * plain load balancer serve any request (see docs/scaling.md). Needs `requestStateKey`. Default: in memory.
   */
  redis?: RedisOptions;
  /** How long a requestState stays valid, in ms. Default 600000 (10 minutes). */
  requestStateTtlMs?: number;
  /** Serve 2025-era clients (initialize, sessions) on the same endpoint. Default true. */
  legacy?: boolean;
  /**
   * With `legacy`, also serve the 2024-11-05 HTTP+SSE transport: GET `<path>/events` (alias `/sse`) opens the
   * stream, POST `<path>/messages?sessionId=` (alias `/messages`) carries messages. Default true.
   */
  legacySse?: boolean;
  /** Serve MCP over WebSocket (subprotocol `mcp`) at the endpoint path, by HTTP upgrade. Default true. */
  websocket?: boolean;
  /** Most open WebSocket connections; upgrades beyond it get 503. Default 10000. */
  maxWebSocketConnections?: number;
  /** Interval of WebSocket pings, in ms; a peer that has not answered the previous one is dropped. 0 disables. Default 30000. */
  webSocketPingIntervalMs?: number;
  /** A 2025-era session with no activity for this long is ended, in ms. Default 1800000 (30 minutes). */
  sessionIdleTimeoutMs?: number;
  /** Most concurrent 2025-era sessions; initialize beyond it gets 503. Default 10000. */
  maxSessions?: number;
  /** Most open long-lived SSE streams (subscriptions/listen and 2025-era GET streams); beyond it, 503. Default 10000. */
  maxStreams?: number;
  /** Most open `subscriptions/listen` on one WebSocket connection (each also counts against maxStreams); beyond it, -32029. Default 100. */
  maxListensPerConnection?: number;
  /** Events kept per 2025-era stream for Last-Event-ID resumption. Default 100. */
  maxEventsPerStream?: number;
  /** Streams kept per 2025-era session for resumption (newest). Default 16. */
  maxStreamsPerSession?: number;
  /** Idle pooled 2025-era server instances kept for reuse. Default 64. */
  maxIdleLegacyInstances?: number;
  /** Bytes of events kept per 2025-era stream for resumption (the oldest go first). Default 8 MiB. */
  maxEventBytesPerStream?: number;
  /** Bytes of events kept per 2025-era session for resumption, over all its streams (the oldest go first). Default 16 MiB. */
  maxEventBytesPerSession?: number;
  /** Bytes of initialize params the idle pooled 2025-era instances may hold in all (the oldest idle go first). Default 16 MiB. */
  maxIdleLegacyInstanceBytes?: number;
  /**
   * Bytes of distinct initialize params shared by the 2025-era sessions of identical clients (each released
   * when its last session ends); beyond it, sessions keep their own copy. Default 16 MiB.
   */
  maxInternedIdentityBytes?: number;
  /** Check Host and Origin against the allowlists (DNS-rebinding protection). Default true. */
  dnsRebindingProtection?: boolean;
  /** Host names (optionally with :port) accepted in the Host header. Default: localhost, 127.0.0.1, [::1] — or any, when listen() binds a non-loopback address. */
  allowedHosts?: string[];
  /** Origins (scheme://host[:port]) accepted in the Origin header. Default: http(s) origins on localhost, 127.0.0.1, [::1]. */
  allowedOrigins?: string[];
  /**
   * Slow clients (slowloris), for the server listen() starts (set the same on your own http.Server when you
   * mount the handler): complete request headers must arrive within headersTimeoutMs (default 10000), the whole
   * request, body included, within requestTimeoutMs (default 30000; responses and streams are not limited), and
   * an idle keep-alive connection is closed after keepAliveTimeoutMs (default 5000). Past a limit: 408.
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** How long close() waits for in-flight requests, in ms, before cutting them off. Default 10000. */
  drainTimeoutMs?: number;
  /** The `retry` hint (ms) SSE streams ended by a drain carry, so clients reconnect soon (to another instance). Default 1000. */
  drainRetryMs?: number;
  /**
   * The shortest a drain lasts, in ms: until then requests arriving on connections already open keep getting
   * 503 (nothing ran; a proxy may re-send them) rather than meeting a closed connection. Set it above the idle
   * timeout of a proxy's kept-alive connections to the instances (nginx upstream `keepalive_timeout`), so the
   * proxy closes them first. Default 0.
   */
  drainDelayMs?: number;
  /** Session registry. Default: in memory. */
  sessionStore?: SessionStore;
  /** Event store for 2025-era resumption. Default: in memory, bounded by maxEventsPerStream/maxStreamsPerSession and maxEventBytesPerStream/maxEventBytesPerSession. */
  eventStore?: EventStore;
  /** Change-event bus. Default: in memory. */
  eventBus?: EventBus;
  /**
   * Authentication for every transport: bearer JWTs, API keys and/or your own hook, plus the OAuth protected
   * resource metadata. Default: none (every request is served; fine on loopback, not on a network).
   */
  auth?: AuthOptions;
  /**
   * Tasks (the io.modelcontextprotocol/tasks extension) of tools registered with `registerTaskTool`: the store
   * and the limits (docs/tasks.md). Default: in memory, or in Redis with `redis`; limits in TASK_DEFAULTS.
   */
  tasks?: TaskOptions;
  /** Which principals may use which tools, resources and prompts (needs `auth`). Default: none (all allowed). */
  authorization?: AuthorizationPolicy;
  /** Rate limits per principal (client IP without auth), server-wide, and tool costs. Default: none. */
  rateLimits?: RateLimitOptions;
  /** Which proxies' X-Forwarded-For to believe for the client IP: false, true, a hop count, or trusted addresses/CIDRs. Default false. */
  trustProxy?: TrustProxy;
  /** CORS for browser clients: allowed origins (no `*` with credentials), preflights, exposed headers. Default: none. */
  cors?: CorsOptions;
  /** helmet's security headers on every response (CSP default-src 'none', nosniff, frame denial...). Default true. */
  securityHeaders?: boolean;
  /** The audit log: one JSON line per request and per refused attempt. Default: off. */
  audit?: AuditOptions;
  /** Deepest nesting of a request's params (objects and arrays); deeper gets -32602. Default 64. */
  maxJsonDepth?: number;
  /** Longest string anywhere in a request's params, in characters; longer gets -32602. Default 1048576 (1 Mi). */
  maxStringLength?: number;
  /** Most requests of one principal (client IP without auth) in flight at once; more get 429. Default 512. */
  maxConcurrentRequestsPerPrincipal?: number;
  /** Check tools/call arguments against the tool's input schema before the handler runs (-32602 with the path). Default true. */
  validateToolArguments?: boolean;
  /** Liveness `GET /health` and readiness `GET /ready` (unauthenticated, not rate limited), with your own checks; false removes both. Default: on. */
  health?: HealthOptions | boolean;
  /** Prometheus metrics at `GET /metrics` (or on their own port). Default: off (the CLI turns them on). */
  metrics?: MetricsOptions | boolean;
  /** A span per request through @opentelemetry/api (a no-op until you register an OpenTelemetry SDK). Default true. */
  tracing?: boolean;
  /** The operational log (start, stop, warnings, errors), separate from the audit log. Default: level warn, to stderr. */
  log?: LogOptions;
  /** Receives errors that have no client to go to (a factory that throws, a failed write). Default: console.error. */
  onError?: (error: Error) => void;
}

export const DEFAULTS = Object.freeze({
  path: '/mcp',
  maxBodyBytes: 4 * 1024 * 1024, // 4 MiB, the official SDK's bound too
  maxBatchLength: 100,
  responseMode: 'auto' as const,
  keepAliveMs: 15_000, // below common proxy idle timeouts (nginx 60 s)
  maxStreamBufferBytes: 8 * 1024 * 1024,
  requestStateTtlMs: 600_000,
  legacy: true,
  legacySse: true,
  websocket: true,
  maxWebSocketConnections: 10_000,
  webSocketPingIntervalMs: 30_000,
  sessionIdleTimeoutMs: 1_800_000,
  maxSessions: 10_000,
  maxStreams: 10_000,
  maxListensPerConnection: 100,
  maxEventsPerStream: 100,
  maxStreamsPerSession: 16,
  maxIdleLegacyInstances: 64,
  maxEventBytesPerStream: EVENT_BYTE_DEFAULTS.maxEventBytesPerStream,
  maxEventBytesPerSession: EVENT_BYTE_DEFAULTS.maxEventBytesPerSession,
  maxIdleLegacyInstanceBytes: 16 * 1024 * 1024,
  maxInternedIdentityBytes: 16 * 1024 * 1024,
  dnsRebindingProtection: true,
  drainTimeoutMs: 10_000,
  drainRetryMs: 1_000,
  drainDelayMs: 0, // a single process has no proxy to outwait; deploy/ sets 5000 for nginx's 4 s keepalive
  headersTimeoutMs: 10_000, // Node's own default is 60 s: far too long a hold for a slow client
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxJsonDepth: 64,
  maxStringLength: 1_048_576,
  maxConcurrentRequestsPerPrincipal: 512, // above what one client needs, below what lets it starve the others
  validateToolArguments: true,
  securityHeaders: true,
  tracing: true,
});

export type ResolvedOptions = Omit<
  Required<RemoteServerOptions>,
  | 'stdio'
  | 'upstream'
  | 'allowedHosts'
  | 'allowedOrigins'
  | 'requestStateKey'
  | 'redis'
  | 'sessionStore'
  | 'eventStore'
  | 'eventBus'
  | 'auth'
  | 'authorization'
  | 'rateLimits'
  | 'trustProxy'
  | 'audit'
  | 'cors'
  | 'health'
  | 'metrics'
  | 'log'
  | 'onError'
  | 'tasks'
> & {
  tasks: ResolvedTaskOptions;
  health: HealthOptions | boolean | undefined;
  metrics: MetricsOptions | boolean | undefined;
  log: LogOptions | undefined;
  /** Undefined: errors go to the operational log. */
  onError: ((error: Error) => void) | undefined;
  cors: CorsOptions | undefined;
  auth: AuthOptions | undefined;
  authorization: AuthorizationPolicy | undefined;
  rateLimits: RateLimitOptions | undefined;
  trustProxy: TrustProxy | undefined;
  audit: AuditOptions | undefined;
  allowedHosts: string[] | undefined;
  allowedOrigins: string[] | undefined;
  requestStateKey: Buffer;
  redis: ResolvedRedisOptions | undefined;
  sessionStore: SessionStore | undefined;
  eventStore: EventStore | undefined;
  eventBus: EventBus | undefined;
  stdio: ResolvedStdioOptions | undefined;
  upstream: ResolvedUpstreamOptions | undefined;
};

const KNOWN = new Set<string>([
  ...Object.keys(DEFAULTS),
  'server',
  'stdio',
  'upstream',
  'requestStateKey',
  'redis',
  'allowedHosts',
  'allowedOrigins',
  'sessionStore',
  'eventStore',
  'eventBus',
  'onError',
  'auth',
  'authorization',
  'rateLimits',
  'trustProxy',
  'audit',
  'cors',
  'health',
  'metrics',
  'log',
  'tasks',
]);

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function fail(name: string, expected: string, value: unknown, received = describe(value)): never {
  throw new RemoteMcpOptionError(`remote-mcp: option \`${name}\` must be ${expected}; received ${received}.`);
}

function integer(options: Record<string, unknown>, name: keyof typeof DEFAULTS, min: number): number {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    fail(name, `an integer >= ${min}`, value);
  return value;
}

function boolean(options: Record<string, unknown>, name: keyof typeof DEFAULTS): boolean {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== 'boolean') fail(name, 'a boolean', value);
  return value;
}

function stringList(options: Record<string, unknown>, name: string): string[] | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string' || entry.length === 0))
    fail(name, 'an array of non-empty strings', value);
  return value.map((entry: string) => entry.toLowerCase());
}

function store<T>(options: Record<string, unknown>, name: string, methods: string[]): T | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    methods.some((method) => typeof (value as Record<string, unknown>)[method] !== 'function')
  ) {
    fail(name, `an object with methods ${methods.join(', ')}`, value);
  }
  return value as T;
}

const gatewayPlaceholder: ServerFactory = () => {
  throw new Error('remote-mcp: the gateway was not started');
};

/** Validates options and fills defaults; throws RemoteMcpOptionError naming the first bad option. */
export function resolveOptions(input: RemoteServerOptions): ResolvedOptions {
  if (input === null || typeof input !== 'object') fail('options', 'an object', input);
  const options = input as unknown as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      throw new RemoteMcpOptionError(
        `remote-mcp: unknown option \`${key}\`; known options: ${[...KNOWN].sort().join(', ')}.`,
      );
  }
  const stdio = input.stdio === undefined ? undefined : resolveStdioOptions(input.stdio);
  const upstream = input.upstream === undefined ? undefined : resolveUpstreamOptions(input.upstream);
  if ([input.server, stdio, upstream].filter((served) => served !== undefined).length > 1)
    throw new RemoteMcpOptionError(
      'remote-mcp: give one of `server` (a factory), `stdio` (a program to run) or `upstream` (a URL to proxy), not several.',
    );
  // A gateway's factory is built in createRemoteServer (it needs the logger); until then, a placeholder.
  const server: ServerFactory =
    stdio !== undefined || upstream !== undefined ? gatewayPlaceholder : (input.server as ServerFactory);
  if (typeof server !== 'function')
    fail('server', 'a function returning an McpServer or Server (or give `stdio` or `upstream`)', input.server);

  const path = input.path ?? DEFAULTS.path;
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('?') || path.includes('#'))
    fail('path', 'a path starting with "/" without query or fragment', path);

  const responseMode = input.responseMode ?? DEFAULTS.responseMode;
  if (responseMode !== 'auto' && responseMode !== 'json' && responseMode !== 'sse')
    fail('responseMode', '"auto", "json" or "sse"', responseMode);

  const redis = input.redis === undefined ? undefined : resolveRedisOptions(input.redis);
  if (redis !== undefined && input.requestStateKey === undefined)
    throw new RemoteMcpOptionError(
      'remote-mcp: option `redis` needs `requestStateKey` (REMOTE_MCP_REQUEST_STATE_KEY): every instance must seal and open requestState with the same key, or a request that lands on another instance is refused. Generate one with `openssl rand -hex 32` and give it to every instance.',
    );
  let requestStateKey: Buffer;
  if (input.requestStateKey === undefined) requestStateKey = randomBytes(32);
  else if (typeof input.requestStateKey === 'string') requestStateKey = Buffer.from(input.requestStateKey, 'utf8');
  else if (input.requestStateKey instanceof Uint8Array) requestStateKey = Buffer.from(input.requestStateKey);
  else fail('requestStateKey', 'a string or Uint8Array of at least 32 bytes', input.requestStateKey);
  if (requestStateKey.length < 32)
    fail('requestStateKey', 'at least 32 bytes long', undefined, `${requestStateKey.length} bytes`);

  if (input.onError !== undefined && typeof input.onError !== 'function') fail('onError', 'a function', input.onError);

  return Object.freeze({
    server,
    stdio,
    upstream,
    path,
    maxBodyBytes: integer(options, 'maxBodyBytes', 1),
    maxBatchLength: integer(options, 'maxBatchLength', 1),
    responseMode,
    keepAliveMs: integer(options, 'keepAliveMs', 0),
    maxStreamBufferBytes: integer(options, 'maxStreamBufferBytes', 1024),
    requestStateKey,
    redis,
    requestStateTtlMs: integer(options, 'requestStateTtlMs', 1),
    legacy: boolean(options, 'legacy'),
    legacySse: boolean(options, 'legacySse'),
    websocket: boolean(options, 'websocket'),
    maxWebSocketConnections: integer(options, 'maxWebSocketConnections', 1),
    webSocketPingIntervalMs: integer(options, 'webSocketPingIntervalMs', 0),
    sessionIdleTimeoutMs: integer(options, 'sessionIdleTimeoutMs', 1),
    maxSessions: integer(options, 'maxSessions', 1),
    maxStreams: integer(options, 'maxStreams', 1),
    maxListensPerConnection: integer(options, 'maxListensPerConnection', 1),
    maxEventsPerStream: integer(options, 'maxEventsPerStream', 1),
    maxStreamsPerSession: integer(options, 'maxStreamsPerSession', 1),
    maxIdleLegacyInstances: integer(options, 'maxIdleLegacyInstances', 0),
    maxEventBytesPerStream: integer(options, 'maxEventBytesPerStream', 0),
    maxEventBytesPerSession: integer(options, 'maxEventBytesPerSession', 0),
    maxIdleLegacyInstanceBytes: integer(options, 'maxIdleLegacyInstanceBytes', 0),
    maxInternedIdentityBytes: integer(options, 'maxInternedIdentityBytes', 0),
    dnsRebindingProtection: boolean(options, 'dnsRebindingProtection'),
    allowedHosts: stringList(options, 'allowedHosts'),
    allowedOrigins: stringList(options, 'allowedOrigins'),
    drainTimeoutMs: integer(options, 'drainTimeoutMs', 0),
    drainRetryMs: integer(options, 'drainRetryMs', 0),
    drainDelayMs: integer(options, 'drainDelayMs', 0),
    headersTimeoutMs: integer(options, 'headersTimeoutMs', 1),
    requestTimeoutMs: integer(options, 'requestTimeoutMs', 1),
    keepAliveTimeoutMs: integer(options, 'keepAliveTimeoutMs', 1),
    sessionStore: store<SessionStore>(options, 'sessionStore', [
      'create',
      'get',
      'touch',
      'update',
      'delete',
      'count',
      'sweep',
      'close',
    ]),
    eventStore: store<EventStore>(options, 'eventStore', ['append', 'replay', 'dropSession', 'close']),
    eventBus: store<EventBus>(options, 'eventBus', ['publish', 'subscribe', 'close']),
    // Validated by the classes built from them in createRemoteServer (src/security, src/observability).
    auth: input.auth,
    authorization: input.authorization,
    rateLimits: input.rateLimits,
    trustProxy: input.trustProxy,
    audit: input.audit,
    cors: input.cors,
    securityHeaders: boolean(options, 'securityHeaders'),
    maxJsonDepth: integer(options, 'maxJsonDepth', 1),
    maxStringLength: integer(options, 'maxStringLength', 1),
    maxConcurrentRequestsPerPrincipal: integer(options, 'maxConcurrentRequestsPerPrincipal', 1),
    validateToolArguments: boolean(options, 'validateToolArguments'),
    tracing: boolean(options, 'tracing'),
    // Validated where they are used (src/observability).
    health: input.health,
    metrics: input.metrics,
    log: input.log,
    onError: input.onError,
    tasks: resolveTaskOptions(input.tasks),
  });
}
