/**
 * How instances that share one Redis reach each other: a channel per instance (`<prefix>instance:<id>`) for
 * messages with one addressee, and one broadcast channel (`<prefix>cluster`) for those whose addressee nobody
 * knows without a lookup that would cost more than asking everyone. Only JSON-RPC messages and small notices
 * cross; never an HTTP request. What each costs in Redis round trips is tabled in docs/scaling.md.
 *
 * Pub/sub is fire-and-forget: a message to an instance that has died is received by nobody, which `send`
 * reports (PUBLISH answers the number of receivers) so the caller can answer the client at once.
 */
import { randomBytes } from 'node:crypto';

/** What the link needs of the Redis connection (src/state/redis/connection.ts). */
export interface PubSubConnection {
  readonly prefix: string;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis's client type is generic over its modules; the link uses SET and GET only.
  run<T>(command: (client: any) => Promise<T>): Promise<T>;
}

export type ClusterMessage =
  /** A client's answer to a server-to-client request, for the instance whose handler sent the request. */
  | { kind: 'answer'; session: string; message: unknown }
  /** The messages of a POST to an HTTP+SSE session, for the instance holding the session's stream. */
  | { kind: 'bound'; session: string; body: unknown }
  /** notifications/cancelled for a request of the session (broadcast: whichever instance runs it stops it). */
  | { kind: 'cancel'; session: string; requestId: string | number; reason: string }
  /** The session's record changed (subscriptions, log level): instances holding it live re-read it. */
  | { kind: 'session-changed'; session: string }
  /** The session ended (DELETE, revocation): instances holding its streams end them. */
  | { kind: 'session-ended'; session: string };

interface Envelope {
  from: string;
  message: ClusterMessage;
}

export class ClusterLink {
  /** 48 random bits, base64url: unique among the instances of one cluster. */
  readonly instanceId = randomBytes(6).toString('base64url');
  /** Delivers messages from other instances (set by the 2025-era endpoint). */
  onMessage: (message: ClusterMessage, from: string) => void = () => {};
  private readonly unsubscribes: Array<() => Promise<void>> = [];
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly connection: PubSubConnection,
    private readonly onError: (error: Error) => void,
  ) {}

  /**
   * Joins the cluster: subscribes to this instance's channel and to the broadcast channel. Never fails the
   * start: while Redis is away the instance is unready (its store checks fail) and keeps trying every
   * `retryMs` until it is subscribed (node-redis resubscribes by itself after later reconnects).
   */
  static async open(
    connection: PubSubConnection,
    onError: (error: Error) => void,
    retryMs: number,
  ): Promise<ClusterLink> {
    const link = new ClusterLink(connection, onError);
    await link.join(retryMs);
    return link;
  }

  private async join(retryMs: number): Promise<void> {
    const receive = (raw: string) => this.receive(raw);
    try {
      for (const channel of [this.channelOf(this.instanceId), this.broadcastChannel])
        this.unsubscribes.push(await this.connection.subscribe(channel, receive));
    } catch (error) {
      if (this.closed) return;
      await Promise.allSettled(this.unsubscribes.splice(0).map((unsubscribe) => unsubscribe()));
      this.onError(
        new Error(`remote-mcp: joining the cluster channels failed (${(error as Error).message}); retrying`),
      );
      this.retry = setTimeout(() => void this.join(retryMs), retryMs);
      this.retry.unref();
    }
  }

  /** Sends to one instance; resolves false when no instance received it (that one is gone). 1 PUBLISH. */
  async send(instance: string, message: ClusterMessage): Promise<boolean> {
    const envelope: Envelope = { from: this.instanceId, message };
    return (await this.connection.publish(this.channelOf(instance), JSON.stringify(envelope))) > 0;
  }

  /** Sends to every other instance. 1 PUBLISH, delivered to each subscriber. */
  async broadcast(message: ClusterMessage): Promise<void> {
    const envelope: Envelope = { from: this.instanceId, message };
    await this.connection.publish(this.broadcastChannel, JSON.stringify(envelope));
  }

  /**
   * Records that this instance sent server-to-client request `id` to `session`, so that the client's answer,
   * wherever it lands, is sent here. 1 SET with a TTL (nothing to clean up: an answer after it is dropped).
   */
  async claimServerRequest(session: string, id: string | number, ttlMs: number): Promise<void> {
    await this.connection.run((client) =>
      client.set(this.serverRequestKey(session, id), this.instanceId, { expiration: { type: 'PX', value: ttlMs } }),
    );
  }

  /** The instance that sent server-to-client request `id` to `session`, if one did lately. 1 GET. */
  async serverRequestOwner(session: string, id: string | number): Promise<string | undefined> {
    const owner: unknown = await this.connection.run((client) => client.get(this.serverRequestKey(session, id)));
    return typeof owner === 'string' ? owner : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await Promise.allSettled(this.unsubscribes.splice(0).map((unsubscribe) => unsubscribe()));
  }

  private get broadcastChannel(): string {
    return `${this.connection.prefix}cluster`;
  }

  private channelOf(instance: string): string {
    return `${this.connection.prefix}instance:${instance}`;
  }

  /** Keys of one session share its hash tag (Redis Cluster keeps them in one slot). */
  private serverRequestKey(session: string, id: string | number): string {
    return `${this.connection.prefix}reply:{${session}}:${JSON.stringify(id)}`;
  }

  private receive(raw: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch (error) {
      this.onError(new Error(`remote-mcp: a cluster message is not JSON (${(error as Error).message}); dropped`));
      return;
    }
    if (envelope?.from === this.instanceId || typeof envelope?.message?.kind !== 'string') return;
    try {
      this.onMessage(envelope.message, envelope.from);
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
