/**
 * Recent SSE events of 2025-era streams, so a client that lost a stream can resume it with Last-Event-ID.
 * Bounded twice: each stream keeps its newest `maxEventsPerStream` events and each session its newest
 * `maxStreamsPerSession` streams. An event id names its stream (`<stream>.<sequence>`), and a replay only ever
 * reads the stream of the same session the id names — never another stream's or session's events.
 */
export interface StoredEvent {
  id: string;
  message: unknown;
}

export interface EventStore {
  /** Stores a message sent on a stream; returns its event id. */
  append(sessionId: string, streamId: string, message: unknown): Promise<string>;
  /**
   * The events of the stream `lastEventId` names that came after it, or undefined when that stream is not
   * known for this session (never existed, evicted, or another session's).
   */
  replay(sessionId: string, lastEventId: string): Promise<{ streamId: string; events: StoredEvent[] } | undefined>;
  /** Forgets a session's streams (the session ended). */
  dropSession(sessionId: string): Promise<void>;
  close(): Promise<void>;
  /** Optional: the store's health for /health and /ready; resolves with details, rejects when it is unreachable. */
  check?(): Promise<unknown>;
}

interface StreamLog {
  next: number;
  events: StoredEvent[];
}

export class InMemoryEventStore implements EventStore {
  /** sessionId → streamId → log; Map order is insertion order, which gives the eviction order. */
  private readonly sessions = new Map<string, Map<string, StreamLog>>();

  async check(): Promise<unknown> {
    return { kind: 'memory', sessions: this.sessions.size };
  }

  constructor(
    private readonly maxEventsPerStream: number,
    private readonly maxStreamsPerSession: number,
  ) {}

  async append(sessionId: string, streamId: string, message: unknown): Promise<string> {
    let streams = this.sessions.get(sessionId);
    if (streams === undefined) {
      streams = new Map();
      this.sessions.set(sessionId, streams);
    }
    let log = streams.get(streamId);
    if (log === undefined) {
      log = { next: 1, events: [] };
      streams.set(streamId, log);
      if (streams.size > this.maxStreamsPerSession) streams.delete(streams.keys().next().value as string);
    }
    const id = `${streamId}.${log.next++}`;
    log.events.push({ id, message });
    if (log.events.length > this.maxEventsPerStream) log.events.shift();
    return id;
  }

  async replay(
    sessionId: string,
    lastEventId: string,
  ): Promise<{ streamId: string; events: StoredEvent[] } | undefined> {
    const dot = lastEventId.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const streamId = lastEventId.slice(0, dot);
    const sequence = Number(lastEventId.slice(dot + 1));
    if (!Number.isSafeInteger(sequence)) return undefined;
    const log = this.sessions.get(sessionId)?.get(streamId);
    if (log === undefined) return undefined;
    const events = log.events.filter((event) => Number(event.id.slice(dot + 1)) > sequence);
    return { streamId, events };
  }

  async dropSession(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
