/**
 * The JSON Schema (draft 2020-12) of a remote-mcp configuration file (`remote-mcp serve --config <file>`).
 * It mirrors RemoteServerOptions (src/server/options.ts) minus what a file cannot express (the server factory,
 * stores, hooks), plus what the CLI adds: the module to load, where to listen, TLS and the process log.
 * Every property has a one-line `description`: error messages, `remote-mcp config schema` and
 * docs/configuration.md use them. `additionalProperties: false` everywhere, so a misspelt key is an error
 * rather than a silently ignored setting.
 */
import { TASK_DEFAULTS } from '../tasks/task-options.js';
import { DEFAULTS } from '../server/options.js';
import { AUDIT_DEFAULTS } from '../observability/audit-log.js';
import { JWT_DEFAULTS } from '../security/jwt-verifier.js';
import { API_KEY_DEFAULTS } from '../security/api-keys.js';
import { RATE_LIMIT_STORE_FAILURES } from '../security/rate-limit.js';
import { REDIS_DEFAULTS } from '../state/redis-options.js';
import { STDIO_DEFAULTS } from '../gateway/stdio-options.js';
import { UPSTREAM_DEFAULTS } from '../gateway/upstream-options.js';

/** The subset of JSON Schema this file uses. */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
}

const integer = (minimum: number, description: string, defaultValue?: number, maximum?: number): JsonSchema => ({
  type: 'integer',
  description,
  minimum,
  ...(maximum !== undefined && { maximum }),
  ...(defaultValue !== undefined && { default: defaultValue }),
});

const boolean = (description: string, defaultValue?: boolean): JsonSchema => ({
  type: 'boolean',
  description,
  ...(defaultValue !== undefined && { default: defaultValue }),
});

const string = (description: string, extra: Omit<JsonSchema, 'type' | 'description'> = {}): JsonSchema => ({
  type: 'string',
  description,
  minLength: 1,
  ...extra,
});

const stringList = (
  description: string,
  extra: Omit<JsonSchema, 'type' | 'description' | 'items'> = {},
): JsonSchema => ({
  type: 'array',
  description,
  items: { type: 'string', minLength: 1 },
  ...extra,
});

const object = (
  description: string,
  properties: Record<string, JsonSchema>,
  extra: Omit<JsonSchema, 'type' | 'description' | 'properties'> = {},
): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...extra,
});

const stringOrList = (description: string): JsonSchema => ({
  description,
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  ],
});

const PORT_MAX = 65_535;
const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

const rateLimitWindow = (description: string): JsonSchema =>
  object(
    description,
    {
      points: integer(1, 'Requests (points) allowed per window.'),
      durationSeconds: integer(1, 'Length of the window, in seconds.', undefined, 86_400),
    },
    { required: ['points', 'durationSeconds'] },
  );

const policyRules = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
});

const auth = object(
  'Authentication for every transport: bearer JWTs and/or API keys, plus the OAuth protected resource metadata. Default: none.',
  {
    jwt: object(
      'Bearer JWTs, verified with exactly one key source: secret, publicKey or jwksUrl.',
      {
        secret: string(
          'Shared secret for HS256/384/512, at least 32 bytes; use ${VAR} interpolation rather than writing it here.',
          { minLength: 32 },
        ),
        publicKey: string('PEM public key (SPKI) for RS*, PS*, ES* or EdDSA tokens.'),
        jwksUrl: string('JWKS URL of the authorization server (http or https).', { pattern: '^https?://' }),
        issuer: stringOrList('Accepted `iss` value(s). Required.'),
        audience: stringOrList("Accepted `aud` value(s): this server's resource identifier (RFC 8707). Required."),
        algorithms: {
          type: 'array',
          description: 'Allowed `alg` values. Default: HS256/384/512 with secret, else every asymmetric algorithm.',
          items: { type: 'string', enum: JWT_ALGORITHMS },
          minItems: 1,
        },
        clockToleranceSeconds: integer(
          0,
          'Allowed clock skew for exp/nbf/iat, in seconds.',
          JWT_DEFAULTS.clockToleranceSeconds,
          300,
        ),
        jwksCacheMaxAgeMs: integer(
          0,
          'How long fetched JWKS keys are trusted before a refetch, in ms.',
          JWT_DEFAULTS.jwksCacheMaxAgeMs,
        ),
        jwksTimeoutMs: integer(1, 'Timeout of a JWKS fetch, in ms.', JWT_DEFAULTS.jwksTimeoutMs),
      },
      {
        required: ['issuer', 'audience'],
        oneOf: [{ required: ['secret'] }, { required: ['publicKey'] }, { required: ['jwksUrl'] }],
      },
    ),
    apiKeys: object(
      'API keys from a keys file written by `remote-mcp keys create`.',
      {
        file: string("The keys file, relative to the config file's directory."),
        reloadIntervalMs: integer(
          10,
          'How often the keys file is checked for changes, in ms: a revoked key is refused, and what it opened is ended, within this.',
          API_KEY_DEFAULTS.reloadIntervalMs,
          3_600_000,
        ),
      },
      { required: ['file'] },
    ),
    resourceMetadata: object(
      'OAuth 2.0 Protected Resource Metadata (RFC 9728) served at /.well-known/oauth-protected-resource.',
      {
        resource: string("This server's canonical URI (RFC 8707). Default: from the request's Host header."),
        authorizationServers: stringList(
          'Authorization servers that issue tokens for this server. Default: the JWT issuers that are URLs.',
        ),
        scopesSupported: stringList(
          'Scopes clients may request. Default: requiredScopes plus the scopes the authorization policy names.',
        ),
        resourceName: string('A human-readable name for the resource.'),
      },
    ),
    requiredScopes: stringList('Scopes every request needs; advertised in the 401 challenge. Default: none.'),
  },
  { anyOf: [{ required: ['jwt'] }, { required: ['apiKeys'] }] },
);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const CONFIG_SCHEMA: JsonSchema = deepFreeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://remote-mcp.dev/schemas/config.json',
  title: 'remote-mcp configuration file',
  description: 'Configuration of `remote-mcp serve --config <file>`.',
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['module'] }, { required: ['stdio'] }, { required: ['upstream'] }],
  properties: {
    module: string(
      "Path of the ES module exporting the server factory, relative to the config file's directory (or give stdio).",
    ),
    export: string('Which export of the module is the server factory.', { default: 'default' }),
    port: integer(0, 'TCP port to listen on; 0 picks a free one.', 8080, PORT_MAX),
    host: string('Address to bind; 0.0.0.0 accepts remote clients.', { default: '127.0.0.1' }),
    tls: {
      description:
        'Serve https/wss: a PEM certificate and key, or a development certificate generated at start. Default: plain http.',
      oneOf: [
        object(
          'Your certificate and key.',
          {
            certFile: string("PEM certificate file, relative to the config file's directory."),
            keyFile: string("PEM private key file, relative to the config file's directory."),
          },
          { required: ['certFile', 'keyFile'] },
        ),
        object(
          'A self-signed development certificate.',
          {
            selfSigned: {
              type: 'boolean',
              const: true,
              description: 'Generate a self-signed certificate at start (development only).',
            },
          },
          { required: ['selfSigned'] },
        ),
      ],
    },
    stdio: object(
      'Serve a stdio MCP server program instead of a module (docs/gateway.md).',
      {
        command: string('The program to run (looked up on PATH); no shell is involved.'),
        args: { type: 'array', items: { type: 'string' }, description: 'Its arguments.', default: [] },
        env: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: "Variables added to the gateway's environment for the child.",
        },
        cwd: string("The child's working directory, relative to the config file's directory."),
        isolation: {
          type: 'string',
          enum: ['shared', 'session'],
          default: STDIO_DEFAULTS.isolation,
          description:
            'shared: one child serves every client; session: one child per 2025-era session and a pool for 2026-07-28 requests.',
        },
        maxChildren: integer(1, 'Most children running at once.', STDIO_DEFAULTS.maxChildren),
        poolSize: integer(
          1,
          'With session isolation: most children serving 2026-07-28 requests, one request at a time each.',
          STDIO_DEFAULTS.poolSize,
        ),
        requestTimeoutMs: integer(
          1,
          "How long a request waits for the child's answer (or a free child), in ms.",
          STDIO_DEFAULTS.requestTimeoutMs,
        ),
        startTimeoutMs: integer(
          1,
          'How long a new child has to answer the handshake, in ms.',
          STDIO_DEFAULTS.startTimeoutMs,
        ),
        idleTimeoutMs: integer(
          1,
          'A session or pool child with nothing in flight for this long is stopped, in ms.',
          STDIO_DEFAULTS.idleTimeoutMs,
        ),
        maxLifetimeMs: integer(
          0,
          'A child older than this is replaced once idle, in ms; 0: never.',
          STDIO_DEFAULTS.maxLifetimeMs,
        ),
        killGraceMs: integer(
          0,
          "Between SIGTERM and SIGKILL of a child's process group, in ms.",
          STDIO_DEFAULTS.killGraceMs,
        ),
        maxLineBytes: integer(
          1024,
          'Longest message a child may write on stdout, in bytes; longer stops it.',
          STDIO_DEFAULTS.maxLineBytes,
        ),
        restartDelayMs: integer(
          1,
          'First delay before a crashed shared child is started again (doubling per failure), in ms.',
          STDIO_DEFAULTS.restartDelayMs,
        ),
        maxRestartDelayMs: integer(1, 'Longest delay between restarts, in ms.', STDIO_DEFAULTS.maxRestartDelayMs),
      },
      { required: ['command'] },
    ),
    tasks: object(
      'Tasks of the io.modelcontextprotocol/tasks extension, for tools registered with registerTaskTool (docs/tasks.md). The store is the redis one with `redis`, else in memory.',
      {
        defaultTtlMs: integer(
          1000,
          'ttlMs of a task whose tool names none: it and its result are kept this long, in ms.',
          TASK_DEFAULTS.defaultTtlMs,
          604_800_000,
        ),
        maxTtlMs: integer(
          1000,
          'The largest ttlMs a task tool may ask for, in ms.',
          TASK_DEFAULTS.maxTtlMs,
          604_800_000,
        ),
        pollIntervalMs: integer(
          1,
          'The pollIntervalMs a task suggests when its tool names none, in ms.',
          TASK_DEFAULTS.pollIntervalMs,
          3_600_000,
        ),
        leaseMs: integer(
          300,
          "How long a task's record says its instance holds it (renewed every third); a task whose lease ran out is failed, in ms.",
          TASK_DEFAULTS.leaseMs,
          3_600_000,
        ),
        maxTasks: integer(
          1,
          'Most tasks not yet finished, in total (across the instances sharing Redis).',
          TASK_DEFAULTS.maxTasks,
        ),
        maxTasksPerPrincipal: integer(
          1,
          'Most tasks not yet finished per principal.',
          TASK_DEFAULTS.maxTasksPerPrincipal,
        ),
        maxResultBytes: integer(
          1024,
          'The largest result or error a task may store (bytes of JSON); a larger one fails the task.',
          TASK_DEFAULTS.maxResultBytes,
        ),
        maxStoredTasks: integer(
          1,
          'In memory (without redis): most tasks held, finished ones included (kept for their ttlMs); a full store refuses new tasks.',
          TASK_DEFAULTS.maxStoredTasks,
        ),
      },
    ),
    upstream: object(
      'Proxy a remote MCP server of any era or transport instead of serving a module (docs/gateway.md).',
      {
        url: string('The upstream endpoint: http(s):// (…/sse or …/events for HTTP+SSE) or ws(s)://.'),
        headers: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Headers sent with every upstream request, such as its credentials (interpolate secrets).',
        },
        isolation: {
          type: 'string',
          enum: ['shared', 'session'],
          default: UPSTREAM_DEFAULTS.isolation,
          description: 'session: an upstream session per 2025-era client session; shared: clients share them.',
        },
        maxSessions: integer(1, 'Most upstream 2025-era sessions open at once.', UPSTREAM_DEFAULTS.maxSessions),
        requestTimeoutMs: integer(
          1,
          "How long a request waits for the upstream's answer, in ms.",
          UPSTREAM_DEFAULTS.requestTimeoutMs,
        ),
        startTimeoutMs: integer(
          1,
          'How long the upstream has to answer the handshake of a new connection, in ms.',
          UPSTREAM_DEFAULTS.startTimeoutMs,
        ),
        idleTimeoutMs: integer(
          1,
          'An upstream session with nothing in flight this long is ended, in ms.',
          UPSTREAM_DEFAULTS.idleTimeoutMs,
        ),
        restartDelayMs: integer(
          1,
          'First delay before a failed shared connection is opened again (doubling), in ms.',
          UPSTREAM_DEFAULTS.restartDelayMs,
        ),
        maxRestartDelayMs: integer(
          1,
          'Longest delay between reconnection attempts, in ms.',
          UPSTREAM_DEFAULTS.maxRestartDelayMs,
        ),
      },
      { required: ['url'] },
    ),
    path: string('The MCP endpoint path.', { default: DEFAULTS.path, pattern: '^/[^?#]*$' }),
    maxBodyBytes: integer(1, 'Largest request body in bytes; larger bodies get 413.', DEFAULTS.maxBodyBytes),
    maxBatchLength: integer(
      1,
      'Most messages in one JSON-RPC batch (2025-03-26 sessions); more get 413.',
      DEFAULTS.maxBatchLength,
    ),
    responseMode: {
      type: 'string',
      description: 'How 2026-07-28 responses are framed: auto (JSON unless the handler streams first), json or sse.',
      enum: ['auto', 'json', 'sse'],
      default: DEFAULTS.responseMode,
    },
    keepAliveMs: integer(0, 'Interval of keep-alive comments on SSE streams, in ms; 0 disables.', DEFAULTS.keepAliveMs),
    maxStreamBufferBytes: integer(
      1024,
      'Unread bytes an SSE stream may buffer before the slow client is disconnected.',
      DEFAULTS.maxStreamBufferBytes,
    ),
    requestStateKey: string(
      'Key (at least 32 characters) that integrity-protects 2026-07-28 requestState; share it between instances. Default: random per process.',
      { minLength: 32 },
    ),
    requestStateTtlMs: integer(1, 'How long a requestState stays valid, in ms.', DEFAULTS.requestStateTtlMs),
    legacy: boolean('Serve 2025-era clients (initialize, sessions) on the same endpoint.', DEFAULTS.legacy),
    legacySse: boolean(
      'With legacy, also serve the 2024-11-05 HTTP+SSE transport (<path>/events, /sse).',
      DEFAULTS.legacySse,
    ),
    websocket: boolean('Serve MCP over WebSocket (subprotocol mcp) at the endpoint path.', DEFAULTS.websocket),
    maxWebSocketConnections: integer(
      1,
      'Most open WebSocket connections; upgrades beyond it get 503.',
      DEFAULTS.maxWebSocketConnections,
    ),
    webSocketPingIntervalMs: integer(
      0,
      'Interval of WebSocket pings, in ms; 0 disables.',
      DEFAULTS.webSocketPingIntervalMs,
    ),
    sessionIdleTimeoutMs: integer(
      1,
      'A 2025-era session with no activity for this long is ended, in ms.',
      DEFAULTS.sessionIdleTimeoutMs,
    ),
    maxSessions: integer(1, 'Most concurrent 2025-era sessions; initialize beyond it gets 503.', DEFAULTS.maxSessions),
    maxStreams: integer(1, 'Most open long-lived SSE streams; beyond it, 503.', DEFAULTS.maxStreams),
    maxListensPerConnection: integer(
      1,
      'Most open subscriptions/listen on one WebSocket connection (each counts against maxStreams too); beyond it, -32029.',
      DEFAULTS.maxListensPerConnection,
    ),
    maxEventsPerStream: integer(
      1,
      'Events kept per 2025-era stream for Last-Event-ID resumption.',
      DEFAULTS.maxEventsPerStream,
    ),
    maxStreamsPerSession: integer(
      1,
      'Streams kept per 2025-era session for resumption (newest).',
      DEFAULTS.maxStreamsPerSession,
    ),
    maxIdleLegacyInstances: integer(
      0,
      'Idle pooled 2025-era server instances kept for reuse.',
      DEFAULTS.maxIdleLegacyInstances,
    ),
    maxIdleLegacyInstanceBytes: integer(
      0,
      'Bytes of initialize params the idle pooled 2025-era instances hold in all; the oldest idle go first.',
      DEFAULTS.maxIdleLegacyInstanceBytes,
    ),
    maxInternedIdentityBytes: integer(
      0,
      'Bytes of distinct initialize params shared by 2025-era sessions of identical clients; beyond it sessions keep their own copy.',
      DEFAULTS.maxInternedIdentityBytes,
    ),
    maxEventBytesPerStream: integer(
      0,
      'Bytes of events kept per 2025-era stream for Last-Event-ID resumption (the oldest go first).',
      DEFAULTS.maxEventBytesPerStream,
    ),
    maxEventBytesPerSession: integer(
      0,
      'Bytes of events kept per 2025-era session over all its streams (the oldest go first).',
      DEFAULTS.maxEventBytesPerSession,
    ),
    dnsRebindingProtection: boolean(
      'Check Host and Origin against the allowlists (DNS-rebinding protection).',
      DEFAULTS.dnsRebindingProtection,
    ),
    allowedHosts: stringList(
      'Host names (optionally with :port) accepted in the Host header. Default: loopback names, or any when bound to a non-loopback address.',
    ),
    allowedOrigins: stringList(
      'Origins (scheme://host[:port]) accepted in the Origin header. Default: http(s) origins on loopback names.',
    ),
    headersTimeoutMs: integer(
      1,
      'Complete request headers must arrive within this, in ms (slow clients get 408).',
      DEFAULTS.headersTimeoutMs,
    ),
    requestTimeoutMs: integer(
      1,
      'The whole request, body included, must arrive within this, in ms.',
      DEFAULTS.requestTimeoutMs,
    ),
    keepAliveTimeoutMs: integer(
      1,
      'An idle keep-alive connection is closed after this, in ms.',
      DEFAULTS.keepAliveTimeoutMs,
    ),
    drainTimeoutMs: integer(
      0,
      'How long shutdown waits for in-flight requests, in ms, before cutting them off.',
      DEFAULTS.drainTimeoutMs,
    ),
    drainRetryMs: integer(
      0,
      'The SSE `retry` hint (ms) on streams ended by a drain, so clients reconnect soon (to another instance).',
      DEFAULTS.drainRetryMs,
    ),
    drainDelayMs: integer(
      0,
      "The shortest a drain lasts, in ms: requests on open connections get 503 until then. Set it above a proxy's upstream keepalive timeout.",
      DEFAULTS.drainDelayMs,
    ),
    auth,
    authorization: object(
      'Which principals may use which tools, resources and prompts: pattern → scopes, "subject:<sub>" or "principal:<key>". Needs auth.',
      {
        tools: policyRules('Tool name patterns (`*` wildcard) and who may call them.'),
        resources: policyRules('Resource URI patterns (`*` wildcard) and who may read them.'),
        prompts: policyRules('Prompt name patterns (`*` wildcard) and who may get them.'),
      },
    ),
    rateLimits: object(
      'Rate limits per principal (client IP without auth), server-wide, and tool costs. Default: none.',
      {
        perPrincipal: rateLimitWindow('Window per principal (client IP without auth).'),
        global: rateLimitWindow('Server-wide window.'),
        toolCosts: {
          type: 'object',
          description: 'Points a call of each tool costs (default 1; 0 = free).',
          additionalProperties: { type: 'integer', minimum: 0 },
        },
        storeFailure: string(
          'While the shared (Redis) counters do not answer: local (count in each process), open (admit), closed (503).',
          { enum: RATE_LIMIT_STORE_FAILURES, default: 'local' },
        ),
      },
      { anyOf: [{ required: ['perPrincipal'] }, { required: ['global'] }] },
    ),
    redis: object(
      'Keep sessions, stream events, change events and rate-limit counters in Redis, so several instances serve any request (needs requestStateKey). Default: in memory.',
      {
        url: string('redis://[user:password@]host:port[/db], or rediss:// for TLS.', { minLength: 1 }),
        keyPrefix: string('Prefix of every key and channel.', { minLength: 1, default: REDIS_DEFAULTS.keyPrefix }),
        connectTimeoutMs: integer(1, 'How long connecting may take, in ms.', REDIS_DEFAULTS.connectTimeoutMs),
        commandTimeoutMs: integer(
          1,
          'How long a command may go unanswered before the request gets 503, in ms.',
          REDIS_DEFAULTS.commandTimeoutMs,
        ),
        reconnectMaxDelayMs: integer(
          1,
          'Longest wait between reconnect attempts while Redis is away, in ms.',
          REDIS_DEFAULTS.reconnectMaxDelayMs,
        ),
      },
      { required: ['url'] },
    ),
    trustProxy: {
      description:
        "Which proxies' X-Forwarded-For to believe: false, true (all), a hop count, or proxy addresses/CIDRs.",
      default: false,
      oneOf: [
        { type: 'boolean' },
        { type: 'integer', minimum: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      ],
    },
    cors: object(
      'CORS for browser clients. Default: none.',
      {
        allowedOrigins: stringList(
          'Exact origins (https://app.example.com), or ["*"] for any origin without credentials.',
          { minItems: 1 },
        ),
        allowCredentials: boolean(
          'Let browsers send credentials (Access-Control-Allow-Credentials); not with "*".',
          false,
        ),
        maxAgeSeconds: integer(0, 'How long a browser may cache a preflight, in seconds.', 600),
      },
      { required: ['allowedOrigins'] },
    ),
    securityHeaders: boolean("helmet's security headers on every response.", DEFAULTS.securityHeaders),
    audit: object('The audit log: one JSON line per request and per refused attempt. Default: off.', {
      destination: string('"stdout" or a file path (relative to the config file\'s directory; appended to).', {
        default: AUDIT_DEFAULTS.destination,
      }),
      includeArguments: boolean(
        'Include tools/call arguments (sensitive names redacted).',
        AUDIT_DEFAULTS.includeArguments,
      ),
      sensitiveArguments: stringList('Argument names always redacted (any depth, any case).', {
        default: [...AUDIT_DEFAULTS.sensitiveArguments],
      }),
      maxLineBytes: integer(
        1024,
        'Longest audit line in bytes; longer fields are cut with a "…[truncated <n> bytes]" marker.',
        AUDIT_DEFAULTS.maxLineBytes,
      ),
    }),
    maxJsonDepth: integer(1, "Deepest nesting of a request's params; deeper gets -32602.", DEFAULTS.maxJsonDepth),
    maxStringLength: integer(
      1,
      "Longest string anywhere in a request's params, in characters; longer gets -32602.",
      DEFAULTS.maxStringLength,
    ),
    maxConcurrentRequestsPerPrincipal: integer(
      1,
      'Most requests of one principal in flight at once; more get 429.',
      DEFAULTS.maxConcurrentRequestsPerPrincipal,
    ),
    validateToolArguments: boolean(
      "Check tools/call arguments against the tool's input schema before the handler runs.",
      DEFAULTS.validateToolArguments,
    ),
    health: {
      description: 'Liveness and readiness endpoints: true/false, or settings. Default: on, at /health and /ready.',
      oneOf: [
        { type: 'boolean' },
        object('Health endpoint settings.', {
          path: string('Liveness endpoint path.', { default: '/health', pattern: '^/[^?#]*$' }),
          readyPath: string('Readiness endpoint path (503 while starting or draining).', {
            default: '/ready',
            pattern: '^/[^?#]*$',
          }),
          requireAuth: boolean('Require the same authentication as the MCP endpoint.', false),
        }),
      ],
    },
    metrics: {
      description:
        'Prometheus metrics: true/false, or settings. Default: off in the library; `remote-mcp serve` turns them on.',
      oneOf: [
        { type: 'boolean' },
        object('Metrics endpoint settings.', {
          path: string('Metrics endpoint path.', { default: '/metrics', pattern: '^/[^?#]*$' }),
          port: integer(
            0,
            'Serve metrics on a separate listener on this port. Default: the MCP port.',
            undefined,
            PORT_MAX,
          ),
          host: string('Address the separate metrics listener binds.', { default: '127.0.0.1' }),
          requireAuth: boolean('Require the same authentication as the MCP endpoint.', false),
          defaultMetrics: boolean("Include Node process metrics (prom-client's default metrics).", true),
        }),
      ],
    },
    tracing: boolean('OpenTelemetry spans through @opentelemetry/api (no cost without an installed SDK).', true),
    log: object('The operational log (start, stop, warnings, errors; pino), separate from the audit log.', {
      level: { type: 'string', description: 'Least severe level written.', enum: LOG_LEVELS, default: 'info' },
      pretty: boolean(
        'Human-readable lines (pino-pretty) instead of JSON. Default: when the destination is a terminal.',
      ),
      destination: string('"stderr", "stdout" or a file path (relative to the config file\'s directory).', {
        default: 'stderr',
      }),
    }),
  },
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
