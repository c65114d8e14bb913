/**
 * The change-event bus across instances: an event published on one instance reaches the listeners of every
 * instance once. publish() delivers to this process's listeners at once (they do not wait for Redis) and
 * PUBLISHes `{ origin, event }` on `<p>events`; each bus delivers what arrives from other origins and skips its
 * own, so a local listener hears each event exactly once. Redis pub/sub is at-most-once: an event published
 * while an instance's subscriber is disconnected does not reach that instance (check() reports it).
 */
import { randomUUID } from 'node:crypto';

import type { EventBus, ServerEvent } from '../event-bus.js';
import type { RedisConnection } from './connection.js';
import { StateUnavailableError } from '../state-unavailable.js';

const KINDS = new Set<string>(['tools_list_changed', 'prompts_list_changed', 'resources_list_changed']);

export class RedisEventBus implements EventBus {
  private readonly listeners = new Set<(event: ServerEvent) => void>();
  /** Tells this bus's own messages apart when Redis delivers them back. */
  private readonly origin = randomUUID();
  private readonly channel: string;
  private readonly onMessage = (message: string) => this.receive(message);
  /** Settles when the first SUBSCRIBE is answered; when it failed, the connection subscribes once Redis is back. */
  readonly subscribed: Promise<void>;

  /**
   * @param connection borrowed, not owned: close() ends this bus's subscription, not the connection
   * @param onError receives errors thrown by listeners, messages that are not events, and a first subscription
   *   that could not be made
   */
  constructor(
    private readonly connection: RedisConnection,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.channel = `${connection.prefix}events`;
    this.subscribed = connection.subscribe(this.channel, this.onMessage).then(
      () => {},
      (error: unknown) => this.onError(error),
    );
  }

  /** Rejects with StateUnavailableError when events of other instances cannot arrive now. */
  async check(): Promise<unknown> {
    const details = await this.connection.check();
    if (!this.connection.isSubscribed(this.channel))
      throw new StateUnavailableError(`Redis at ${this.connection.url}: the event subscription is not established`);
    return { ...details, listeners: this.listeners.size };
  }

  /**
   * Delivers to this process's listeners, then to the other instances. Rejects with StateUnavailableError when
   * Redis is away: the local listeners have had the event all the same.
   */
  async publish(event: ServerEvent): Promise<void> {
    this.deliver(event);
    await this.connection.publish(this.channel, JSON.stringify({ origin: this.origin, event }));
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.connection.unsubscribe(this.channel, this.onMessage);
  }

  private receive(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = undefined;
    }
    const { origin, event } = (parsed ?? {}) as { origin?: unknown; event?: unknown };
    if (typeof origin !== 'string' || !isEvent(event)) {
      this.onError(
        new Error(`event bus: dropped a message on ${this.channel} that is not an event: ${message.slice(0, 200)}`),
      );
      return;
    }
    // Rebuilt from its known fields: whatever else a message carries does not reach the listeners.
    if (origin !== this.origin)
      this.deliver(event.kind === 'resource_updated' ? { kind: event.kind, uri: event.uri } : { kind: event.kind });
  }

  private deliver(event: ServerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // One broken subscriber must not keep the event from the others.
        this.onError(error);
      }
    }
  }
}

function isEvent(value: unknown): value is ServerEvent {
  if (value === null || typeof value !== 'object') return false;
  const { kind, uri } = value as { kind?: unknown; uri?: unknown };
  if (kind === 'resource_updated') return typeof uri === 'string';
  return typeof kind === 'string' && KINDS.has(kind);
}
