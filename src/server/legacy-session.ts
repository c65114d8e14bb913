/**
 * The in-process side of 2025-era sessions: the lease on a pooled server instance while the session has work in
 * flight, its open SSE streams, and the bookkeeping that maps client request ids to the instance's ids. The
 * durable side is the {@link SessionRecord} in the session store; a LiveSession exists only while the session
 * has a request in flight or a stream open, so an idle session costs only its record.
 */
import { randomBytes } from 'node:crypto';

import type { AuthInfo, JSONRPCMessage } from '@modelcontextprotocol/server';

import type { EventStore } from '../state/event-store.js';
import type { SessionRecord, SessionStore } from '../state/session-store.js';
import { eventOfNotification, type ServerEvent } from '../state/event-bus.js';
import type { LegacyPool, PooledInstance } from './legacy-pool.js';

const LOG_SEVERITY: Record<string, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

/** Whether a notifications/message at `level` passes a session's logging/setLevel threshold. */
export function logLevelPasses(message: JSONRPCMessage, threshold: string | undefined): boolean {
  if (threshold === undefined) return true;
  const m = message as { method?: string; params?: { level?: string } };
  if (m.method !== 'notifications/message') return true;
  return (LOG_SEVERITY[m.params?.level ?? ''] ?? 7) >= (LOG_SEVERITY[threshold] ?? 0);
}

/** Where a session stream writes: an SSE response, or a WebSocket. */
export interface StreamSink {
  /**
   * Writes one JSON-RPC message (with its event id, where the sink has ids). `json` is the message serialized
   * already, when the caller has it (it measured the message for the event store).
   */
  send(message: unknown, eventId?: string, json?: string): void;
  /** Writes pre-framed text (SSE only; a sink without framing ignores it). */
  writeRaw(text: string): void;
  /** `retryMs`: the server is draining; tell the client when to reconnect. */
  end(retryMs?: number): void;
  readonly closed: boolean;
}

/** A session's stream whose events are stored for Last-Event-ID resumption; outlives the response it writes to. */
export class LegacyStream {
  private sse: StreamSink | undefined;
  /** Event sequence of a stream that is not stored (see {@link resumable}). */
  private sequence = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** end() was called: no more messages will be produced. */
  private ended = false;
  /** The end step has run in the write chain: the stream is over for good. */
  private closedOut = false;

  /**
   * Whether the stream's events are stored for Last-Event-ID. A stream-bound session's (HTTP+SSE, WebSocket) are
   * not: the session ends with its stream, so nothing could ever resume it, and keeping its answers would only
   * hold memory until it ends.
   */
  readonly resumable: boolean;

  constructor(
    readonly id: string,
    private readonly session: LiveSession,
    private readonly events: EventStore,
    private readonly onError: (error: Error) => void,
  ) {
    this.resumable = session.record.transport === undefined;
  }

  get attached(): boolean {
    return this.sse !== undefined && !this.sse.closed;
  }

  get finished(): boolean {
    return this.ended;
  }

  /** Writes to a (new) HTTP response from now on; the previous one, if still open, is ended. */
  attach(sse: StreamSink, primingEvent: boolean): void {
    if (this.sse !== undefined && this.sse !== sse) this.sse.end();
    this.sse = sse;
    if (primingEvent) {
      // An id before any message lets the client resume even if it loses the stream before the first message.
      this.enqueue(async () => {
        const id = this.resumable
          ? await this.events.append(this.session.id, this.id, null, 0)
          : `${this.id}.${++this.sequence}`;
        sse.writeRaw(`id: ${id}\ndata: \n\n`);
      });
    }
  }

  /**
   * Stores and (when a response is attached) writes a message, in order. `after`: the message waits for it
   * (a server-to-client request waits until the cluster knows where its answer goes).
   */
  send(message: JSONRPCMessage, after?: Promise<unknown>): void {
    this.enqueue(async () => {
      if (after !== undefined) await after.catch((error: unknown) => this.onError(error as Error));
      // Serialized once: measured for the store's byte bounds, then written as is.
      const json = JSON.stringify(message);
      const id = this.resumable
        ? await this.events.append(this.session.id, this.id, message, Buffer.byteLength(json))
        : `${this.id}.${++this.sequence}`;
      this.sse?.send(message, id, json);
    });
  }

  /**
   * Continues the stream on a new response after `lastEventId`: the missed events, then live ones. The store
   * is read inside the write chain, so every event is written exactly once and in order, however the
   * replay and new messages interleave.
   */
  resume(lastEventId: string, sse: StreamSink): void {
    this.enqueue(async () => {
      const replay = await this.events.replay(this.session.id, lastEventId);
      for (const event of replay?.events ?? []) if (event.message !== null) sse.send(event.message, event.id);
      if (this.closedOut) sse.end();
      else {
        if (this.sse !== undefined && this.sse !== sse) this.sse.end();
        this.sse = sse;
      }
    });
  }

  /** Ends the stream after everything queued has been written. */
  end(retryMs?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.enqueue(async () => {
      this.closedOut = true;
      this.sse?.end(retryMs);
      this.session.streamEnded(this);
    });
  }

  private enqueue(step: () => Promise<void>): void {
    this.tail = this.tail.then(step).catch((error: unknown) => this.onError(error as Error));
  }
}

export interface SessionDeps {
  pool: LegacyPool;
  store: SessionStore;
  events: EventStore;
  /** Publishes a change event (coalesced, see remote-server.ts). */
  publish: (event: ServerEvent) => void;
  onError: (error: Error) => void;
  /** Called when the session holds nothing in process any more. */
  onIdle: (session: LiveSession) => void;
  /**
   * With several instances: records that this instance sent server-to-client request `id` to the session, so
   * the client's answer is routed here whichever instance it reaches.
   */
  claimServerRequest?: (sessionId: string, id: number | string) => Promise<void>;
}

export class LiveSession {
  private instance: PooledInstance | undefined;
  private acquiring: Promise<PooledInstance> | undefined;
  private work = 0;
  /** Requests in flight by client request id (as JSON), for notifications/cancelled. */
  readonly inflight = new Map<string, { cancel(reason: string): void }>();
  /** Server-to-client requests sent to this session and not answered yet: their ids on the instance. */
  readonly pendingServerRequests = new Set<number | string>();
  readonly streams = new Map<string, LegacyStream>();
  standalone: LegacyStream | undefined;
  /** The SDK AuthInfo its requests are delivered with: the latest credential of the session's principal. */
  authInfo: AuthInfo | undefined;
  /** The client's IP address as of its latest request (for limits and the audit log). */
  clientIp = 'unknown';
  /** When this process last recorded the session's activity in the store (ms; 0: not yet). */
  touchedAt = 0;
  /** POSTs of this session still waiting for answers, oldest first. */
  readonly activePosts = new Set<{ related(message: JSONRPCMessage): void }>();

  constructor(
    public record: SessionRecord,
    private readonly deps: SessionDeps,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get idle(): boolean {
    return this.streams.size === 0 && !this.busy;
  }

  /** Work in flight (or an instance being leased for it). */
  get busy(): boolean {
    return this.work !== 0 || this.acquiring !== undefined;
  }

  /**
   * The session's instance, leased for one unit of work; call {@link done} when that work ends. A new lease
   * replays initialize unless `initializing` (the caller is sending the real one).
   */
  async lease(initializing = false): Promise<PooledInstance> {
    this.work++;
    if (this.instance !== undefined) return this.instance;
    this.acquiring ??= this.deps.pool.acquire(this.record.identity, !initializing).then(
      (instance) => {
        this.instance = instance;
        this.acquiring = undefined;
        instance.transport.sessionId = this.id;
        instance.transport.router.onUnrelated = (message) => this.unrelated(message);
        return instance;
      },
      (error: unknown) => {
        this.acquiring = undefined;
        throw error;
      },
    );
    try {
      return await this.acquiring;
    } catch (error) {
      this.done();
      throw error;
    }
  }

  /** One unit of work has ended; the instance goes back to the pool when none is left. */
  done(): void {
    this.work--;
    this.releaseIfIdle();
  }

  /**
   * A server-to-client request is being sent to the client: only this session may answer it. Returns what the
   * message must wait for before it is written (the cluster's record of where the answer goes), if anything.
   */
  sendingServerRequest(id: number | string): Promise<void> | undefined {
    this.pendingServerRequests.add(id);
    return this.deps.claimServerRequest?.(this.id, id);
  }

  /** The client answered a server-to-client request sent to it. */
  answered(id: number | string): void {
    this.pendingServerRequests.delete(id);
  }

  private releaseIfIdle(): void {
    if (this.work > 0) return;
    // Server-to-client requests still unanswered belong to handlers that have finished (the SDK timed them out
    // or the handler stopped waiting); an answer arriving later is dropped rather than sent to another session.
    this.pendingServerRequests.clear();
    const instance = this.instance;
    if (instance !== undefined) {
      this.instance = undefined;
      this.deps.pool.release(instance);
    }
    if (this.idle) this.deps.onIdle(this);
  }

  /** The instance must not be reused (initialize failed); it is discarded instead of returned. */
  discardInstance(): void {
    if (this.instance !== undefined) {
      this.deps.pool.discard(this.instance);
      this.instance = undefined;
    }
  }

  /** The leased instance, if any (a client's response to a server request must go to the one that asked). */
  get leased(): PooledInstance | undefined {
    return this.instance;
  }

  /** A new stream of the session; `standalone` marks its id so a resume on any instance can continue it live. */
  newStream(standalone = false): LegacyStream {
    return this.adoptStream(newStreamId(standalone));
  }

  /**
   * Continues a stream by its id (a standalone stream resumed with Last-Event-ID after its response, or its
   * instance, went away): its events keep their sequence, since the event store counts per stream id.
   */
  adoptStream(id: string): LegacyStream {
    const stream = new LegacyStream(id, this, this.deps.events, this.deps.onError);
    this.streams.set(stream.id, stream);
    return stream;
  }

  streamEnded(stream: LegacyStream): void {
    this.streams.delete(stream.id);
    if (this.standalone === stream) this.standalone = undefined;
    if (this.idle) this.deps.onIdle(this);
  }

  /**
   * A message the leased instance sent with no related request id — `ctx.mcpReq.elicitInput()` and
   * `requestSampling()` send that way. Change notifications go to the bus (every subscribed session, every
   * instance). Anything else belongs to this session, since it holds the lease: it travels on the newest POST
   * still waiting for an answer (the request that most likely caused it, and a stream every client reads), or
   * else on the standalone GET stream.
   */
  private unrelated(message: JSONRPCMessage): void {
    const m = message as { method?: string; params?: unknown; id?: number | string };
    const isRequest = m.method !== undefined && m.id !== undefined;
    if (!isRequest) {
      const event = m.method === undefined ? undefined : eventOfNotification(m.method, m.params);
      if (event !== undefined) {
        this.deps.publish(event);
        return;
      }
      if (!logLevelPasses(message, this.record.logLevel)) return;
    }
    let post: { related(message: JSONRPCMessage): void } | undefined;
    for (const active of this.activePosts) post = active;
    if (post !== undefined) {
      post.related(message);
      return;
    }
    if (this.standalone !== undefined && !this.standalone.finished) {
      this.standalone.send(message, isRequest ? this.sendingServerRequest(m.id!) : undefined);
      return;
    }
    if (isRequest) {
      // A server-to-client request with no stream to travel on would wait for its timeout; fail it now.
      this.instance?.transport.router.forward({
        jsonrpc: '2.0',
        id: m.id,
        error: { code: -32603, message: 'The session has no open stream to deliver the request on' },
      } as JSONRPCMessage);
    }
  }
}

/** Random per process, so stream ids of one session made by several processes (a shared store) differ too. */
const STREAM_PREFIX = randomBytes(3).toString('base64url');
let streamCounter = 0;

/**
 * A stream id unique in the event store: a LiveSession lives only while the session has work, so a counter of
 * its own would restart with every incarnation and give each new POST stream the id of an earlier one, whose
 * stored events a resume would then replay. No `.` (it separates the stream from the sequence in event ids).
 */
function newStreamId(standalone: boolean): string {
  const id = `${STREAM_PREFIX}${(++streamCounter).toString(36)}`;
  return standalone ? `${id}${STANDALONE_MARK}` : id;
}

/** Ends the id of a standalone stream: the counter is lower-case base 36, so no other id ends with it. */
const STANDALONE_MARK = 'G';

/** Whether a stream id names a standalone stream (GET), which a resume continues live rather than replays. */
export function isStandaloneStreamId(id: string): boolean {
  return id.length > STREAM_PREFIX.length + 1 && id.endsWith(STANDALONE_MARK);
}

/** A session id: 128 random bits, base64url (visible ASCII, as the spec requires). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}
