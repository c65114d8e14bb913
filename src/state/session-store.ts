/**
 * The registry of 2025-era sessions. A record is plain JSON — everything needed to serve the session's next
 * request on any instance — so a later implementation can keep it in Redis for several instances behind a load
 * balancer. What only one process can hold (open streams, in-flight requests) is not stored here.
 */
export interface SessionRecord {
  /** The Mcp-Session-Id: 128 random bits, base64url. */
  readonly id: string;
  /** The protocol version initialize negotiated ('' until then). */
  readonly protocolVersion: string;
  /**
   * How the client reaches the session: Streamable HTTP (absent), or bound to one stream that carries every
   * answer and whose end ends the session: the 2024-11-05 HTTP+SSE transport (`sse`) or a WebSocket.
   */
  readonly transport?: 'sse' | 'websocket';
  /**
   * The initialize request's params as JSON, exactly as needed to seed a server instance for this client
   * ('' until initialize). Sessions of identical clients share one string (interned by the caller).
   */
  readonly identity: string;
  /**
   * The key of the principal that opened the session (see src/security/principal.ts), when auth is on. Requests
   * of any other principal are answered 404, as if the session did not exist.
   */
  readonly principal?: string;
  /**
   * With several instances (Redis): the instance holding the stream of a stream-bound session. POSTs to an
   * HTTP+SSE session that land elsewhere are relayed to it (src/cluster/cluster-link.ts).
   */
  readonly owner?: string;
  /** The level set by logging/setLevel; notifications/message below it are not delivered. */
  logLevel?: string;
  /** Resource URIs subscribed with resources/subscribe. */
  subscriptions?: string[];
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface SessionStore {
  /** Adds a record unless `limit` records exist already; returns whether it was added. */
  create(record: SessionRecord, limit: number): Promise<boolean>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** Records activity; returns false when the session does not exist. */
  touch(id: string, now: number): Promise<boolean>;
  update(record: SessionRecord): Promise<void>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
  /** Deletes the sessions idle since before `cutoff`; returns their ids. */
  sweep(cutoff: number): Promise<string[]>;
  /**
   * Optional, for a store several instances share: which of `ids` still exist. A shared store's sweep returns
   * an expired id to one instance only, so each instance asks this of the sessions it opened and forgets those
   * that are gone (an in-memory store's sweep sees every expiry, and needs no such method).
   */
  alive?(ids: string[]): Promise<boolean[]>;
  /** Optional: get() and touch() at once (one round trip for a remote store); the record, or undefined. */
  getAndTouch?(id: string, now: number): Promise<SessionRecord | undefined>;
  close(): Promise<void>;
  /** Optional: the store's health for /health and /ready; resolves with details, rejects when it is unreachable. */
  check?(): Promise<unknown>;
}

export class InMemorySessionStore implements SessionStore {
  private readonly records = new Map<string, SessionRecord>();

  async check(): Promise<unknown> {
    return { kind: 'memory', sessions: this.records.size };
  }

  async create(record: SessionRecord, limit: number): Promise<boolean> {
    if (this.records.size >= limit) return false;
    this.records.set(record.id, record);
    return true;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.records.get(id);
  }

  async touch(id: string, now: number): Promise<boolean> {
    const record = this.records.get(id);
    if (record === undefined) return false;
    record.lastSeenAt = now;
    return true;
  }

  async update(record: SessionRecord): Promise<void> {
    if (this.records.has(record.id)) this.records.set(record.id, record);
  }

  async delete(id: string): Promise<boolean> {
    return this.records.delete(id);
  }

  async count(): Promise<number> {
    return this.records.size;
  }

  async sweep(cutoff: number): Promise<string[]> {
    const expired: string[] = [];
    for (const [id, record] of this.records) {
      if (record.lastSeenAt < cutoff) {
        this.records.delete(id);
        expired.push(id);
      }
    }
    return expired;
  }

  async close(): Promise<void> {
    this.records.clear();
  }
}
