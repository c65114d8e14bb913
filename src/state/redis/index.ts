/**
 * The Redis implementations of the state stores, for several instances behind one load balancer. This is the
 * only module of src/state/redis/ the rest of the code imports. None of these modules loads the `redis`
 * package at import time (they import its types only): RedisConnection imports it when it is created.
 *
 * @example
 * const state = await createRedisState(resolveRedisOptions({ url: 'redis://127.0.0.1:6379' }), bounds, log);
 * // state.sessionStore, state.eventStore, state.eventBus, state.rateLimitStore, state.taskStore; at shutdown:
 * await state.close();
 */
import { RedisConnection } from './connection.js';
import { RedisEventBus } from './event-bus.js';
import { RedisEventStore } from './event-store.js';
import type { ResolvedRedisOptions } from '../redis-options.js';
import { RedisRateLimitStore } from './rate-limit-store.js';
import { RedisSessionStore } from './session-store.js';
import { RedisTaskStore } from './task-store.js';

export { MAX_PENDING_COMMANDS, type RedisClient, RedisConnection } from './connection.js';
export { StateUnavailableError } from '../state-unavailable.js';
export { RedisEventBus } from './event-bus.js';
export { RedisEventStore, type RedisEventStoreOptions } from './event-store.js';
export {
  REDIS_DEFAULTS,
  type RedisOptions,
  type ResolvedRedisOptions,
  redactUrl,
  resolveRedisOptions,
} from '../redis-options.js';
export { RedisRateLimitStore } from './rate-limit-store.js';
export { RedisSessionStore, SWEEP_BATCH } from './session-store.js';
export { RedisTaskStore } from './task-store.js';

/** The server options the stores are bounded by. */
export interface RedisStateBounds {
  sessionIdleTimeoutMs: number;
  maxEventsPerStream: number;
  maxStreamsPerSession: number;
  maxEventBytesPerStream: number;
  maxEventBytesPerSession: number;
}

export interface RedisState {
  connection: RedisConnection;
  sessionStore: RedisSessionStore;
  eventStore: RedisEventStore;
  eventBus: RedisEventBus;
  rateLimitStore: RedisRateLimitStore;
  taskStore: RedisTaskStore;
  /** Closes the stores, then the connection they share (once). */
  close(): Promise<void>;
}

/**
 * One connection and the five stores on it. Resolves once the `redis` package is loaded (rejects if it cannot
 * be), not once Redis answers: a server may start while Redis is away, its stores reject with
 * StateUnavailableError until Redis is reachable.
 *
 * @param onError client errors (once per change of connection state), bus listener errors, dropped messages
 */
export async function createRedisState(
  options: ResolvedRedisOptions,
  bounds: RedisStateBounds,
  onError: (error: unknown) => void,
): Promise<RedisState> {
  const connection = new RedisConnection(options, onError);
  try {
    await connection.loaded;
  } catch (error) {
    await connection.close();
    throw new Error('remote-mcp: the `redis` option needs the `redis` package, which could not be loaded', {
      cause: error,
    });
  }
  const sessionStore = new RedisSessionStore(connection, bounds.sessionIdleTimeoutMs);
  // Twice the idle timeout: only appends renew the event keys, and a session kept alive by requests that stream
  // nothing must still find its last stream resumable when it next reconnects.
  const eventStore = new RedisEventStore(connection, { ...bounds, ttlMs: 2 * bounds.sessionIdleTimeoutMs });
  const eventBus = new RedisEventBus(connection, onError);
  const rateLimitStore = new RedisRateLimitStore(connection);
  const taskStore = new RedisTaskStore(connection, onError);
  let closing: Promise<void> | undefined;
  return {
    connection,
    sessionStore,
    eventStore,
    eventBus,
    rateLimitStore,
    taskStore,
    close() {
      closing ??= (async () => {
        await Promise.allSettled([
          sessionStore.close(),
          eventStore.close(),
          eventBus.close(),
          rateLimitStore.close(),
          taskStore.close(),
        ]);
        await connection.close();
      })();
      return closing;
    },
  };
}
