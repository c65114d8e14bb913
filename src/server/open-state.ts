/**
 * The state stores a server runs on: in memory (one process, the default), or in Redis when the `redis` option
 * is set, with the cluster link between instances. Stores given explicitly (sessionStore, eventStore, eventBus,
 * rateLimits.store, tasks.store) are used as they are either way. The Redis module, and node-redis with it, is
 * imported only here and only when `redis` is set.
 */
import { ClusterLink } from '../cluster/cluster-link.js';
import type { RateLimitStore } from '../security/rate-limit.js';
import type { ResolvedOptions } from './options.js';
import { InMemoryEventBus, type EventBus } from '../state/event-bus.js';
import { InMemoryEventStore, type EventStore } from '../state/event-store.js';
import { InMemorySessionStore, type SessionStore } from '../state/session-store.js';
import { InMemoryTaskStore, type TaskStore } from '../tasks/task-store.js';

export interface RuntimeState {
  readonly kind: 'memory' | 'redis';
  readonly sessionStore: SessionStore;
  readonly eventStore: EventStore;
  readonly bus: EventBus;
  /** Tasks of the io.modelcontextprotocol/tasks extension (docs/tasks.md). */
  readonly taskStore: TaskStore;
  /** The shared rate-limit store (Redis); undefined in memory, where the limiter keeps its own. */
  readonly rateLimitStore: RateLimitStore | undefined;
  /** The link to the other instances (Redis only). */
  readonly cluster: ClusterLink | undefined;
  /** Closes the stores, the link and the connection. */
  close(): Promise<void>;
}

export async function openState(options: ResolvedOptions, onError: (error: Error) => void): Promise<RuntimeState> {
  if (options.redis === undefined) {
    const sessionStore = options.sessionStore ?? new InMemorySessionStore();
    const eventStore =
      options.eventStore ??
      new InMemoryEventStore(
        options.maxEventsPerStream,
        options.maxStreamsPerSession,
        options.maxEventBytesPerStream,
        options.maxEventBytesPerSession,
      );
    const bus = options.eventBus ?? new InMemoryEventBus((error) => onError(error as Error));
    const taskStore = options.tasks.store ?? new InMemoryTaskStore(options.tasks.maxStoredTasks);
    return {
      kind: 'memory',
      sessionStore,
      eventStore,
      bus,
      taskStore,
      rateLimitStore: undefined,
      cluster: undefined,
      close: async () => {
        await Promise.all([sessionStore.close(), eventStore.close(), bus.close(), taskStore.close()]);
      },
    };
  }
  // Imported here only: a server without `redis` never loads the Redis stores, nor node-redis with them.
  const module = await import('../state/redis/index.js');
  const redis = await module.createRedisState(options.redis, options, (error) => onError(error as Error));
  const sessionStore = options.sessionStore ?? redis.sessionStore;
  const eventStore = options.eventStore ?? redis.eventStore;
  const bus = options.eventBus ?? redis.eventBus;
  const taskStore = options.tasks.store ?? redis.taskStore;
  const cluster = await ClusterLink.open(redis.connection, onError, options.redis.reconnectMaxDelayMs);
  return {
    kind: 'redis',
    sessionStore,
    eventStore,
    bus,
    taskStore,
    rateLimitStore: redis.rateLimitStore,
    cluster,
    close: async () => {
      await cluster.close();
      // Explicitly given stores are closed too, as in memory; the Redis ones close with their connection.
      await Promise.all([
        sessionStore === redis.sessionStore ? undefined : sessionStore.close(),
        eventStore === redis.eventStore ? undefined : eventStore.close(),
        bus === redis.eventBus ? undefined : bus.close(),
        taskStore === redis.taskStore ? undefined : taskStore.close(),
      ]);
      await redis.close();
    },
  };
}
