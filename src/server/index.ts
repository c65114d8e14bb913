/** remote-mcp/server: serve an MCP server factory over Streamable HTTP for 2026-07-28 and 2025-era clients. */
export { createRemoteServer, type ListenOptions, type RemoteServer } from './remote-server.js';
export { DEFAULTS, type FactoryContext, type Notifier, type RemoteServerOptions, type ServerFactory } from './options.js';
export { InMemoryEventBus, type EventBus, type ServerEvent } from '../state/event-bus.js';
export { InMemoryEventStore, type EventStore, type StoredEvent } from '../state/event-store.js';
export { InMemorySessionStore, type SessionRecord, type SessionStore } from '../state/session-store.js';
export { ERRORS, JsonRpcCode, RemoteMcpOptionError, RemoteMcpSdkError, type ErrorName } from '../errors.js';
