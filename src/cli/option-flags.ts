/**
 * The `serve` flags that set one server option each: a flag is the kebab-case of the option's path
 * (`maxBodyBytes` → `--max-body-bytes`, `cors.maxAgeSeconds` → `--cors-max-age-seconds`, a boolean that is on by
 * default → `--no-<name>`). Only flags given on the command line set anything, so the precedence is the
 * library's defaults < the config file < REMOTE_MCP_* variables < flags. The README's options table names each
 * option's flags, and test/options-surface.test.ts holds the table, these flags and CONFIG_SCHEMA together.
 *
 * Flags that combine into one structured option (authentication, authorization, rate limits, the audit log,
 * proxies) are in security-flags.ts; `--metrics-port` and `--log-level` are in main.ts (the CLI's own defaults).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';

import { DEFAULTS, type RemoteServerOptions } from '../server/options.js';
import { REDIS_DEFAULTS } from '../state/redis-options.js';
import { STDIO_DEFAULTS } from '../gateway/stdio-options.js';
import { UPSTREAM_DEFAULTS } from '../gateway/upstream-options.js';
import { TASK_DEFAULTS } from '../tasks/task-options.js';

export function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError(`expected a whole number >= 0, received "${value}"`);
  return parsed;
}

export function list(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

export interface OptionFlag {
  /** Where the value goes in RemoteServerOptions: `maxBodyBytes`, `cors.maxAgeSeconds`. */
  readonly option: string;
  /** The commander flag: `--max-body-bytes <n>`, `--no-legacy`, `--cors-allow-credentials`. */
  readonly flag: string;
  readonly description: string;
  readonly parse?: (value: string) => unknown;
  readonly choices?: readonly string[];
  /** Shown in --help; the library applies its own default when the flag is not given. */
  readonly shownDefault?: unknown;
}

const count = (option: keyof typeof DEFAULTS, flag: string, description: string): OptionFlag => ({
  option,
  flag,
  description,
  parse: integer,
  shownDefault: DEFAULTS[option],
});

/** A count in an option group: `stdio.maxChildren` → `--stdio-max-children <n>` (`<ms>` for durations). */
function groupCount<Defaults extends Record<string, unknown>>(group: string, defaults: Defaults) {
  return (name: keyof Defaults & string, description: string): OptionFlag => {
    const kebab = name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    return {
      option: `${group}.${name}`,
      flag: `--${group}-${kebab} <${name.endsWith('Ms') ? 'ms' : 'n'}>`,
      description,
      parse: integer,
      shownDefault: defaults[name],
    };
  };
}

const stdioCount = groupCount('stdio', STDIO_DEFAULTS);
const tasksCount = groupCount('tasks', TASK_DEFAULTS);

export const OPTION_FLAGS: readonly OptionFlag[] = [
  { option: 'path', flag: '--path <path>', description: 'endpoint path', shownDefault: DEFAULTS.path },
  { option: 'legacy', flag: '--no-legacy', description: 'serve 2026-07-28 only: no initialize, no sessions' },
  {
    option: 'legacySse',
    flag: '--no-legacy-sse',
    description: 'do not serve the 2024-11-05 HTTP+SSE transport (<path>/events, /sse)',
  },
  { option: 'websocket', flag: '--no-websocket', description: 'do not serve MCP over WebSocket at the endpoint path' },
  count('maxWebSocketConnections', '--max-websocket-connections <n>', 'most open WebSocket connections'),
  count(
    'webSocketPingIntervalMs',
    '--websocket-ping-interval-ms <ms>',
    'WebSocket ping interval; a peer that missed the previous ping is dropped (0 disables)',
  ),
  count('maxBodyBytes', '--max-body-bytes <n>', 'largest request body'),
  count('maxBatchLength', '--max-batch-length <n>', 'most messages in one JSON-RPC batch (2025-03-26 sessions)'),
  count('maxSessions', '--max-sessions <n>', 'most concurrent 2025-era sessions'),
  count('maxStreams', '--max-streams <n>', 'most open subscription and session streams'),
  count(
    'maxListensPerConnection',
    '--max-listens-per-connection <n>',
    'most open subscriptions/listen on one WebSocket',
  ),
  count(
    'maxIdleLegacyInstanceBytes',
    '--max-idle-legacy-instance-bytes <n>',
    'bytes of initialize params idle pooled 2025-era instances hold in all',
  ),
  count(
    'maxInternedIdentityBytes',
    '--max-interned-identity-bytes <n>',
    'bytes of distinct initialize params shared by identical clients',
  ),
  count('maxEventBytesPerStream', '--max-event-bytes-per-stream <n>', 'bytes of events kept per 2025-era stream'),
  count('maxEventBytesPerSession', '--max-event-bytes-per-session <n>', 'bytes of events kept per 2025-era session'),
  count('maxEventsPerStream', '--max-events-per-stream <n>', 'events kept per 2025-era stream for resumption'),
  count('maxStreamsPerSession', '--max-streams-per-session <n>', 'streams kept per 2025-era session for resumption'),
  count('maxIdleLegacyInstances', '--max-idle-legacy-instances <n>', 'idle pooled 2025-era instances kept for reuse'),
  count('sessionIdleTimeoutMs', '--session-idle-timeout-ms <ms>', 'end 2025-era sessions idle this long'),
  count('keepAliveMs', '--keep-alive-ms <ms>', 'SSE keep-alive comment interval (0 disables)'),
  count(
    'maxStreamBufferBytes',
    '--max-stream-buffer-bytes <n>',
    'unread bytes an SSE stream may buffer before the slow client is cut off',
  ),
  {
    option: 'responseMode',
    flag: '--response-mode <mode>',
    description: '2026-07-28 response framing',
    choices: ['auto', 'json', 'sse'],
    shownDefault: DEFAULTS.responseMode,
  },
  count('requestStateTtlMs', '--request-state-ttl-ms <ms>', 'how long a sealed requestState is accepted'),
  {
    option: 'allowedHosts',
    flag: '--allowed-hosts <list>',
    description: 'comma-separated Host names accepted (DNS-rebinding protection)',
    parse: list,
  },
  {
    option: 'allowedOrigins',
    flag: '--allowed-origins <list>',
    description: 'comma-separated Origins accepted',
    parse: list,
  },
  {
    option: 'dnsRebindingProtection',
    flag: '--no-dns-rebinding-protection',
    description: 'accept any Host and Origin',
  },
  count('drainTimeoutMs', '--drain-timeout-ms <ms>', 'how long Ctrl-C/SIGTERM waits for in-flight requests'),
  count('drainRetryMs', '--drain-retry-ms <ms>', 'the SSE retry: hint on streams a drain ends'),
  count(
    'drainDelayMs',
    '--drain-delay-ms <ms>',
    "the shortest a drain lasts (503 on open connections); above a proxy's upstream keepalive timeout",
  ),
  count(
    'headersTimeoutMs',
    '--headers-timeout-ms <ms>',
    'complete request headers must arrive within this (slow clients get 408)',
  ),
  count(
    'requestTimeoutMs',
    '--request-timeout-ms <ms>',
    'the whole request must arrive within this (responses are not limited)',
  ),
  count('keepAliveTimeoutMs', '--keep-alive-timeout-ms <ms>', 'idle keep-alive connections are closed after this'),
  {
    option: 'cors.allowedOrigins',
    flag: '--cors-allowed-origins <list>',
    description: 'serve CORS to these browser origins (comma-separated; * for any, without credentials)',
    parse: list,
  },
  {
    option: 'cors.allowCredentials',
    flag: '--cors-allow-credentials',
    description: 'let browsers send credentials (not with *)',
  },
  {
    option: 'cors.maxAgeSeconds',
    flag: '--cors-max-age-seconds <s>',
    description: 'how long a browser may cache a preflight',
    parse: integer,
    shownDefault: 600,
  },
  { option: 'securityHeaders', flag: '--no-security-headers', description: "do not send helmet's security headers" },
  count('maxJsonDepth', '--max-json-depth <n>', "deepest nesting in a request's params"),
  count('maxStringLength', '--max-string-length <n>', "longest string in a request's params"),
  count(
    'maxConcurrentRequestsPerPrincipal',
    '--max-concurrent-requests-per-principal <n>',
    'requests of one principal (client IP without auth) in flight',
  ),
  {
    option: 'validateToolArguments',
    flag: '--no-validate-tool-arguments',
    description: "do not check tools/call arguments against the tool's input schema",
  },
  { option: 'health', flag: '--no-health', description: 'do not serve /health and /ready' },
  {
    option: 'health.path',
    flag: '--health-path <path>',
    description: 'liveness endpoint path',
    shownDefault: '/health',
  },
  {
    option: 'health.readyPath',
    flag: '--health-ready-path <path>',
    description: 'readiness endpoint path',
    shownDefault: '/ready',
  },
  {
    option: 'health.requireAuth',
    flag: '--health-require-auth',
    description: 'ask /health and /ready for the MCP credential',
  },
  {
    option: 'redis.url',
    flag: '--redis <url>',
    description:
      'keep sessions, events and rate limits in Redis, so several instances serve any request (needs REMOTE_MCP_REQUEST_STATE_KEY)',
  },
  {
    option: 'redis.keyPrefix',
    flag: '--redis-key-prefix <prefix>',
    description: 'prefix of every Redis key and channel',
    shownDefault: REDIS_DEFAULTS.keyPrefix,
  },
  {
    option: 'redis.connectTimeoutMs',
    flag: '--redis-connect-timeout-ms <ms>',
    description: 'how long connecting to Redis may take',
    parse: integer,
    shownDefault: REDIS_DEFAULTS.connectTimeoutMs,
  },
  {
    option: 'redis.commandTimeoutMs',
    flag: '--redis-command-timeout-ms <ms>',
    description: 'how long a Redis command may go unanswered before the request gets 503',
    parse: integer,
    shownDefault: REDIS_DEFAULTS.commandTimeoutMs,
  },
  {
    option: 'redis.reconnectMaxDelayMs',
    flag: '--redis-reconnect-max-delay-ms <ms>',
    description: 'longest wait between reconnect attempts while Redis is away',
    parse: integer,
    shownDefault: REDIS_DEFAULTS.reconnectMaxDelayMs,
  },
  {
    option: 'stdio.isolation',
    flag: '--stdio-isolation <mode>',
    description: 'with --stdio: shared (one child for every client) or session (a child per 2025-era session)',
    choices: ['shared', 'session'],
    shownDefault: STDIO_DEFAULTS.isolation,
  },
  tasksCount('defaultTtlMs', 'ttlMs of a task whose tool names none: it and its result are kept this long'),
  tasksCount('maxTtlMs', 'the largest ttlMs a task tool may ask for'),
  tasksCount('pollIntervalMs', 'the pollIntervalMs a task suggests when its tool names none'),
  tasksCount('leaseMs', 'a task whose instance stops renewing its lease this long is failed elsewhere'),
  tasksCount('maxTasks', 'most tasks not yet finished, in total (across instances sharing Redis)'),
  tasksCount('maxTasksPerPrincipal', 'most tasks not yet finished per principal'),
  tasksCount('maxResultBytes', 'largest result or error a task may store; a larger one fails the task'),
  tasksCount(
    'maxStoredTasks',
    'in memory (no --redis): most tasks held, finished ones included; then new ones are refused',
  ),
  stdioCount('maxChildren', 'most stdio children running at once'),
  stdioCount('poolSize', 'with session isolation: children serving 2026-07-28 requests, one at a time each'),
  stdioCount('requestTimeoutMs', "how long a request waits for the stdio child's answer"),
  stdioCount('startTimeoutMs', 'how long a new stdio child has to answer its handshake'),
  stdioCount('idleTimeoutMs', 'a session or pool child with nothing in flight this long is stopped'),
  stdioCount('maxLifetimeMs', 'a stdio child older than this is replaced once idle (0: never)'),
  stdioCount('killGraceMs', "between SIGTERM and SIGKILL of a stdio child's process group"),
  stdioCount('maxLineBytes', 'longest message a stdio child may write; longer stops it'),
  stdioCount('restartDelayMs', 'first delay before a crashed shared child is restarted (doubling)'),
  stdioCount('maxRestartDelayMs', 'longest delay between restarts of a crashed shared child'),
  {
    option: 'upstream.isolation',
    flag: '--upstream-isolation <mode>',
    description: 'with --upstream: session (an upstream session per client session) or shared',
    choices: ['shared', 'session'],
    shownDefault: UPSTREAM_DEFAULTS.isolation,
  },
  {
    option: 'upstream.maxSessions',
    flag: '--upstream-max-sessions <n>',
    description: 'most upstream 2025-era sessions open at once',
    parse: integer,
    shownDefault: UPSTREAM_DEFAULTS.maxSessions,
  },
  {
    option: 'upstream.requestTimeoutMs',
    flag: '--upstream-request-timeout-ms <ms>',
    description: "how long a request waits for the upstream's answer",
    parse: integer,
    shownDefault: UPSTREAM_DEFAULTS.requestTimeoutMs,
  },
  {
    option: 'tracing',
    flag: '--no-tracing',
    description: 'do not create OpenTelemetry spans (they are no-ops unless an SDK is registered)',
  },
];

/** Adds the option flags to a command. */
export function addOptionFlags(command: Command): Command {
  for (const spec of OPTION_FLAGS) {
    const option = new Option(spec.flag, spec.description);
    if (spec.parse !== undefined) option.argParser(spec.parse);
    if (spec.choices !== undefined) option.choices(spec.choices);
    if (spec.shownDefault !== undefined) option.default(spec.shownDefault);
    command.addOption(option);
  }
  return command;
}

/** The commander attribute a flag's value is stored under (`--no-legacy` → `legacy`). */
export function attributeOf(spec: OptionFlag): string {
  return new Option(spec.flag).attributeName();
}

/**
 * `base` (the config file's options, or none) with every option flag given on the command line applied at its
 * path: `--cors-max-age-seconds 60` keeps the file's other `cors` settings, `--no-health` replaces its `health`.
 */
export function applyOptionFlags(base: Partial<RemoteServerOptions>, command: Command): Partial<RemoteServerOptions> {
  const options = structuredClone(base) as Record<string, unknown>;
  const values = command.opts();
  for (const spec of OPTION_FLAGS) {
    const attribute = attributeOf(spec);
    if (command.getOptionValueSource(attribute) !== 'cli') continue;
    const path = spec.option.split('.');
    let target = options;
    for (const key of path.slice(0, -1)) {
      const current = target[key];
      target[key] = current !== null && typeof current === 'object' ? { ...current } : {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = values[attribute];
  }
  return options as Partial<RemoteServerOptions>;
}
