/**
 * remote-mcp: serve an MCP server factory over Streamable HTTP, HTTP+SSE and WebSocket, for every era.
 * The public surface of both `remote-mcp` and `remote-mcp/server`.
 */
export { createRemoteServer, type Listening, type ListenOptions, type RemoteServer } from './remote-server.js';
export {
  DEFAULTS,
  type FactoryContext,
  type Notifier,
  type RemoteServerOptions,
  type ServerFactory,
} from './server/options.js';
export { InMemoryEventBus, type EventBus, type ServerEvent } from './state/event-bus.js';
export { InMemoryEventStore, type EventStore, type StoredEvent } from './state/event-store.js';
export { InMemorySessionStore, type SessionRecord, type SessionStore } from './state/session-store.js';
export { ERRORS, JsonRpcCode, RemoteMcpOptionError, RemoteMcpSdkError, type ErrorName } from './errors.js';
export { AuthenticationError, type AuthOptions } from './security/authenticator.js';
export type { JwtOptions } from './security/jwt-verifier.js';
export type { Principal } from './security/principal.js';
export type { AuthorizationPolicy } from './security/authorization.js';
export {
  InMemoryRateLimitStore,
  type RateLimitDecision,
  type RateLimitOptions,
  type RateLimitStore,
  type RateLimitWindow,
} from './security/rate-limit.js';
export type { TrustProxy } from './security/client-ip.js';
export type { TlsOptions } from './security/tls.js';
export type { AuditEntry, AuditOptions } from './observability/audit-log.js';
export { mintApiKey, readKeysFile, writeKeysFile, type ApiKeyEntry, type ApiKeysFile } from './security/api-keys.js';
export type { CheckResult, HealthCheck, HealthOptions, HealthReport } from './observability/health.js';
export type { MetricsOptions } from './observability/metrics.js';
export type { LogLevel, LogOptions } from './observability/logger.js';
export { CHANNELS, type AuthFailureEvent, type BytesEvent, type RequestEvent } from './observability/channels.js';
export {
  registerTaskTool,
  TaskFailedError,
  type ElicitAnswer,
  type TaskContext,
  type TaskHandler,
  type TaskToolConfig,
} from './tasks/task-tool.js';
export {
  TASKS_EXTENSION,
  type InputRequest,
  type TaskError,
  type TaskRecord,
  type TaskStatus,
  type TaskSupport,
} from './tasks/task-record.js';
export {
  InMemoryTaskStore,
  type CreateOutcome,
  type TaskChange,
  type TaskLimits,
  type TaskStore,
} from './tasks/task-store.js';
export { TASK_DEFAULTS, type TaskOptions } from './tasks/task-options.js';
