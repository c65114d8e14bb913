/**
 * Recent SSE events of 2025-era streams, so a client that lost a stream can resume it with Last-Event-ID.
 * Bounded by count and by bytes: each stream keeps its newest `maxEventsPerStream` events and at most
 * `maxEventBytesPerStream` bytes of them, each session its newest `maxStreamsPerSession` streams and at most
 * `maxEventBytesPerSession` bytes of events (the session's oldest events go first, whichever stream they are
 * on). An event id names its stream (`<stream>.<sequence>`), and a replay only ever reads the stream of the same
 * session the id names — never another stream's or session's events.
 *
 * An event evicted for size is gone exactly as one evicted for count: its stream stays known, and a replay after
 * an id returns the events of that stream still kept after it.
 */
export interface StoredEvent {
  id: string;
  message: unknown;
}

export interface EventStore {
  /**
   * Stores a message sent on a stream; returns its event id. `bytes` is the size of the message as sent (its
   * JSON, UTF-8), which the caller has measured already: the store bounds what it keeps by it.
   */
  append(sessionId: string, streamId: string, message: unknown, bytes: number): Promise<string>;
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

/** The byte bounds of the in-memory store when none are given (also the options' defaults). */
export const EVENT_BYTE_DEFAULTS = Object.freeze({
  maxEventBytesPerStream: 8 * 1024 * 1024,
  maxEventBytesPerSession: 16 * 1024 * 1024,
});

/** The stream and sequence an event id (`<stream>.<sequence>`) names; undefined when it names none. */
export function parseEventId(id: string): { streamId: string; sequence: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const sequence = Number(id.slice(dot + 1));
  if (!Number.isSafeInteger(sequence)) return undefined;
  return { streamId: id.slice(0, dot), sequence };
}

interface KeptEvent extends StoredEvent {
  /** Its sequence number within its stream (the part of the id after the dot). */
  sequence: number;
  /** Its place among all events of its session: the lowest is the oldest. */
  order: number;
  bytes: number;
}

interface StreamLog {
  next: number;
  bytes: number;
  events: KeptEvent[];
}

interface SessionLog {
  /** streamId → log; Map order is insertion order, which gives the stream eviction order. */
  streams: Map<string, StreamLog>;
  nextOrder: number;
  bytes: number;
}

export class InMemoryEventStore implements EventStore {
  private readonly sessions = new Map<string, SessionLog>();
  /** Events and their bytes over every session (the health report shows them). */
  private events = 0;
  private bytes = 0;

  async check(): Promise<unknown> {
    return { kind: 'memory', sessions: this.sessions.size, events: this.events, bytes: this.bytes };
  }

  constructor(
    private readonly maxEventsPerStream: number,
    private readonly maxStreamsPerSession: number,
    private readonly maxEventBytesPerStream: number = EVENT_BYTE_DEFAULTS.maxEventBytesPerStream,
    private readonly maxEventBytesPerSession: number = EVENT_BYTE_DEFAULTS.maxEventBytesPerSession,
  ) {}

  async append(sessionId: string, streamId: string, message: unknown, bytes?: number): Promise<string> {
    // A caller written against the older three-argument interface: measure here.
    const size = bytes ?? Buffer.byteLength(JSON.stringify(message) ?? '');
    let session = this.sessions.get(sessionId);
    if (session === undefined) {
      session = { streams: new Map(), nextOrder: 0, bytes: 0 };
      this.sessions.set(sessionId, session);
    }
    let log = session.streams.get(streamId);
    if (log === undefined) {
      log = { next: 1, bytes: 0, events: [] };
      session.streams.set(streamId, log);
      if (session.streams.size > this.maxStreamsPerSession) {
        const oldest = session.streams.keys().next().value as string;
        this.forget(session, session.streams.get(oldest)!, Number.POSITIVE_INFINITY);
        session.streams.delete(oldest);
      }
    }
    const sequence = log.next++;
    const id = `${streamId}.${sequence}`;
    log.events.push({ id, message, sequence, order: session.nextOrder++, bytes: size });
    log.bytes += size;
    session.bytes += size;
    this.events++;
    this.bytes += size;
    // An event larger than a bound on its own is not kept either: the bound holds, the event was written live.
    while (log.events.length > this.maxEventsPerStream || log.bytes > this.maxEventBytesPerStream)
      this.forget(session, log, 1);
    while (session.bytes > this.maxEventBytesPerSession) this.forget(session, oldestLog(session)!, 1);
    return id;
  }

  async replay(
    sessionId: string,
    lastEventId: string,
  ): Promise<{ streamId: string; events: StoredEvent[] } | undefined> {
    const parsed = parseEventId(lastEventId);
    if (parsed === undefined) return undefined;
    const { streamId, sequence } = parsed;
    const log = this.sessions.get(sessionId)?.streams.get(streamId);
    if (log === undefined) return undefined;
    const events = log.events
      .filter((event) => event.sequence > sequence)
      .map((event) => ({ id: event.id, message: event.message }));
    return { streamId, events };
  }

  async dropSession(sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return;
    for (const log of session.streams.values()) this.forget(session, log, Number.POSITIVE_INFINITY);
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    this.sessions.clear();
    this.events = 0;
    this.bytes = 0;
  }

  /** Drops the oldest `count` events of a stream (all of them with Infinity), keeping the tallies right. */
  private forget(session: SessionLog, log: StreamLog, count: number): void {
    const dropped = log.events.splice(0, Math.min(count, log.events.length));
    for (const event of dropped) {
      log.bytes -= event.bytes;
      session.bytes -= event.bytes;
      this.bytes -= event.bytes;
    }
    this.events -= dropped.length;
  }
}

/** The stream holding the session's oldest kept event (at most maxStreamsPerSession to look at). */
function oldestLog(session: SessionLog): StreamLog | undefined {
  let oldest: StreamLog | undefined;
  for (const log of session.streams.values()) {
    const first = log.events[0];
    if (first !== undefined && (oldest === undefined || first.order < oldest.events[0]!.order)) oldest = log;
  }
  return oldest;
}
