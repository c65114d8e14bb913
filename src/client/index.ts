/**
 * remote-mcp/client: reach any remote MCP server reliably. `connect()` returns a connected SDK v2 Client on the
 * right wire (2026-07-28, a 2025-era session, HTTP+SSE or WebSocket) with timeouts and safe retries;
 * `createBalancedClient()` spreads calls over several endpoints with failover and circuit breakers.
 *
 * This module imports nothing from remote-mcp's server side (test/layout.test.ts holds that).
 */
export { connect, MODERN_REVISION } from './connect.js';
export { RemoteClient, type CallOptions } from './remote-client.js';
export {
  CLIENT_DEFAULTS,
  type AuthOption,
  type CacheOption,
  type ConnectOptions,
  type HeaderSource,
  type ProtocolChoice,
  type RetryEvent,
  type RetryOptions,
  type TransportKind,
} from './options.js';
export {
  BALANCED_DEFAULTS,
  BalancedClient,
  createBalancedClient,
  type BalancedClientOptions,
  type BalancedEvent,
  type BalanceStrategy,
} from './balanced-client.js';
export type { BreakerState, EndpointStatus } from './balanced-endpoint.js';
export { HEALTH_CHECK_DEFAULTS, type HealthCheckOptions } from './health-check.js';
export { createTransport, type TransportOptions, type WireKind } from './transports.js';
export {
  WebSocketClientTransport,
  WEBSOCKET_DEFAULTS,
  type WebSocketClientTransportOptions,
} from './websocket-transport.js';
export { HttpStatusError } from './http-status-error.js';
export {
  TASKS_EXTENSION,
  TaskEndedError,
  type ClientTask,
  type ClientTaskStatus,
  type InputRequestsHandler,
  type TaskOrResult,
  type WaitForTaskOptions,
} from './tasks.js';
export {
  classifyFailure,
  isRetryable,
  isSafeToRepeat,
  mayRetry,
  retryDelay,
  type Failure,
  type FailureKind,
} from './retry-policy.js';
export { InMemoryResponseCacheStore, type ResponseCacheStore } from '@modelcontextprotocol/client';
