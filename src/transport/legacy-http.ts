/**
 * 2025-era Streamable HTTP (protocol revisions 2025-03-26, 2025-06-18, 2025-11-25) on the same endpoint as
 * 2026-07-28: initialize opens a session (Mcp-Session-Id), POST carries requests, notifications and the client's
 * answers to server requests, GET opens the session's standalone SSE stream or resumes a stream with
 * Last-Event-ID, DELETE ends the session. Sessions idle longer than sessionIdleTimeoutMs are ended.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type MessageExtraInfo } from '@modelcontextprotocol/server';

import { requestIdentity, type Identity } from '../security/request-principal.js';
import {
  isRefusal,
  type GateContext,
  type GateRefusal,
  type GateRequest,
  type Ticket,
} from '../security/request-gate.js';
import type { Principal } from '../security/principal.js';
import { NO_LEASE, type Release } from '../security/credential-watch.js';

import { ERRORS, JsonRpcCode, type ErrorName } from '../errors.js';
import type { Exchange, ResponseMessage } from '../server/exchange-router.js';
import { IdentityInterner } from '../server/identity-interner.js';
import type { LegacyPool } from '../server/legacy-pool.js';
import {
  isStandaloneStreamId,
  LiveSession,
  newSessionId,
  type LegacyStream,
  type StreamSink,
} from '../server/legacy-session.js';
import type { ClusterMessage } from '../cluster/cluster-link.js';
import { isStateUnavailable } from '../state/state-unavailable.js';
import type { RuntimeContext } from '../server/runtime-context.js';
import { eventNotification, type ServerEvent } from '../state/event-bus.js';
import type { EventStore } from '../state/event-store.js';
import type { SessionRecord, SessionStore } from '../state/session-store.js';
import { accepts, headerValue, writeError, writeJson, writeRpcError } from './http-io.js';
import {
  isMessage,
  isNotification,
  isRequest,
  PostExchange,
  RequestExchange,
  type Message,
} from './legacy-exchanges.js';
import { SseStream } from './sse-stream.js';
import type { RefusalReason } from '../observability/refusal-reasons.js';
import { refuseRequest, traceRefusal, type RefusalSite } from './refusals.js';

/** Where this file's refusals are traced: 2025-era Streamable HTTP, and the 2024-11-05 HTTP+SSE paths. */
const LEGACY_HTTP: RefusalSite = { transport: 'http', era: 'legacy' };
const LEGACY_SSE: RefusalSite = { transport: 'sse', era: 'legacy' };
/** The framing refusals of boundMessages() an HTTP+SSE POST is answered with, and their reason codes. */
const BOUND_REFUSALS: Partial<Record<ErrorName, RefusalReason>> = {
  INVALID_MESSAGE: 'invalid-message',
  BATCH_TOO_LARGE: 'batch-too-large',
  BATCH_NOT_ALLOWED: 'batch-not-allowed',
  SESSION_NOT_FOUND: 'session-not-found',
};

const LEGACY_VERSIONS: readonly string[] = SUPPORTED_PROTOCOL_VERSIONS;
/** Session ids one liveness check of a shared store asks about (see forgetExpiredElsewhere). */
const ALIVE_BATCH = 1000;
/** Distinct client identities interned so that sessions of one client share one string (bytes: an option). */
const MAX_INTERNED_IDENTITIES = 1024;

/** What 2025-era sessions hold in this process, for the health report. */
export interface LegacyMemory {
  /** Sessions with something in process (work in flight, an open stream). */
  liveSessions: number;
  internedIdentities: number;
  internedIdentityBytes: number;
  idleInstances: number;
  idleInstanceBytes: number;
}

export class LegacyEndpoint {
  private readonly live = new Map<string, LiveSession>();
  /** `<protocol version> <transport>` of every session this process opened (the sessions gauge). */
  private readonly eras = new Map<string, string>();
  /** Releases of the credential leases of Streamable HTTP sessions this process opened, by session id. */
  private readonly leases = new Map<string, Release>();
  private readonly interner: IdentityInterner;
  private readonly touchIntervalMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly deps;

  constructor(
    private readonly runtime: RuntimeContext,
    readonly pool: LegacyPool,
    private readonly store: SessionStore,
    private readonly events: EventStore,
  ) {
    this.interner = new IdentityInterner(MAX_INTERNED_IDENTITIES, runtime.options.maxInternedIdentityBytes);
    this.touchIntervalMs = Math.min(Math.floor(runtime.options.sessionIdleTimeoutMs / 10), 1_000);
    this.deps = {
      pool,
      store,
      events,
      publish: runtime.publish,
      onError: runtime.options.onError,
      onIdle: (session: LiveSession) => {
        if (this.live.get(session.id) === session) this.live.delete(session.id);
      },
      ...(runtime.cluster !== undefined && {
        claimServerRequest: (sessionId: string, id: number | string) =>
          runtime.cluster!.claimServerRequest(sessionId, id, runtime.options.sessionIdleTimeoutMs),
      }),
    };
    this.unsubscribe = runtime.bus.subscribe((event) => this.deliver(event));
    if (runtime.cluster !== undefined)
      runtime.cluster.onMessage = (message) =>
        void this.clusterMessage(message).catch((error: unknown) => {
          if (!isStateUnavailable(error)) runtime.options.onError(error as Error);
        });
    const interval = Math.min(Math.max(Math.floor(runtime.options.sessionIdleTimeoutMs / 2), 10), 60_000);
    this.sweeper = setInterval(() => void this.expire().catch(runtime.options.onError), interval);
    this.sweeper.unref();
  }

  async post(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const batch = Array.isArray(body);
    const messages = (batch ? body : [body]) as unknown[];
    if (messages.length === 0 || !messages.every(isMessage))
      return refuseRequest(this.runtime, req, res, LEGACY_HTTP, { name: 'INVALID_MESSAGE', reason: 'invalid-message' });
    if (messages.length > this.runtime.options.maxBatchLength)
      return refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
        name: 'BATCH_TOO_LARGE',
        reason: 'batch-too-large',
        message: `${ERRORS.BATCH_TOO_LARGE.message} (${this.runtime.options.maxBatchLength})`,
      });
    const list = messages as Message[];
    if (list.some((m) => m.method === 'initialize')) {
      if (batch)
        return refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
          name: 'INVALID_MESSAGE',
          reason: 'invalid-message',
          message: 'Invalid Request: initialize must not be part of a batch',
        });
      if (
        headerValue(req, 'mcp-session-id') !== undefined &&
        (await this.session(headerValue(req, 'mcp-session-id')!)) !== undefined
      ) {
        return refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
          name: 'INVALID_MESSAGE',
          reason: 'invalid-message',
          id: list[0]!.id ?? null,
          message: 'Invalid Request: this session is already initialized',
        });
      }
      const identity = requestIdentity(req);
      const admitted = await this.runtime.gate.admit(
        { identity, clientIp: this.runtime.clientIp(req), transport: 'http', era: 'legacy' },
        list[0]! as GateRequest,
      );
      if (isRefusal(admitted)) {
        return writeError(res, admitted.name, {
          id: list[0]!.id ?? null,
          ...(admitted.message !== undefined && { message: admitted.message }),
          data: admitted.data,
          ...(admitted.headers !== undefined && { headers: admitted.headers }),
        });
      }
      if (admitted.headers !== undefined)
        for (const [name, value] of Object.entries(admitted.headers)) res.setHeader(name, value);
      return this.initialize(res, list[0]!, identity, this.runtime.clientIp(req), admitted);
    }
    const session = await this.sessionFor(req, res);
    if (session === undefined) return;
    try {
      if (batch && session.record.protocolVersion !== '2025-03-26')
        return refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
          name: 'BATCH_NOT_ALLOWED',
          reason: 'batch-not-allowed',
        });
      await this.messages(session, res, list, batch, undefined, req);
    } finally {
      this.settle(session);
    }
  }

  /**
   * Delivers a POST's messages: notifications and answers to server requests first, then the requests. Every
   * message passes the gate; a refused notification or answer is not delivered. Over HTTP (Streamable HTTP and
   * the HTTP+SSE messages endpoint) a POST that carries no request is answered with the first refusal's status
   * (429 with Retry-After, 400 for an input limit) and id null; one that carries requests answers them, and its
   * refused notifications are dropped with their audit line. On a WebSocket nothing answers a notification
   * (JSON-RPC forbids it), so a refused one is dropped with its audit line.
   */
  private async messages(
    session: LiveSession,
    res: ServerResponse | undefined,
    list: Message[],
    batch: boolean,
    sessionStream: LegacyStream | undefined,
    req?: IncomingMessage,
  ): Promise<void> {
    await this.touch(session);
    const context: GateContext = {
      identity: this.identityOf(session),
      clientIp: session.clientIp,
      transport: session.record.transport ?? 'http',
      era: 'legacy',
      ...(req !== undefined && { req }),
    };
    const requests = list.filter(isRequest);
    let refused: GateRefusal | undefined;
    let headers: Record<string, string> | undefined;
    for (const m of list) {
      if (isRequest(m)) continue;
      const outcome = await this.runtime.gate.admitMessage(context, m);
      if (isRefusal(outcome)) {
        refused ??= outcome;
        if (!isNotification(m)) await this.refusedAnswer(session, m, outcome);
        continue;
      }
      if (outcome.headers !== undefined) headers = outcome.headers;
      if (isNotification(m)) await this.notification(session, m);
      else await this.clientAnswer(session, m);
    }
    if (requests.length === 0) {
      if (res === undefined) return;
      if (refused !== undefined)
        return writeError(res, refused.name, {
          id: null,
          ...(refused.message !== undefined && { message: refused.message }),
          data: refused.data,
          ...(refused.headers !== undefined && { headers: refused.headers }),
        });
      res.writeHead(202, headers).end();
      return;
    }
    const admitted: Array<Ticket | GateRefusal> = [];
    for (const request of requests) admitted.push(await this.runtime.gate.admit(context, request as GateRequest));
    const first = admitted[0]!;
    if (!batch && res !== undefined && sessionStream === undefined && isRefusal(first)) {
      // A single refused request over Streamable HTTP gets the refusal's own status (429 with Retry-After,
      // 403...). On the HTTP+SSE messages endpoint the POST is accepted and the refusal travels on the stream.
      return writeError(res, first.name, {
        id: requests[0]!.id ?? null,
        ...(first.message !== undefined && { message: first.message }),
        data: first.data,
        ...(first.headers !== undefined && { headers: first.headers }),
      });
    }
    for (const outcome of admitted) {
      if (!isRefusal(outcome) && outcome.headers !== undefined && res !== undefined && !res.headersSent) {
        for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
      }
    }
    const post = new PostExchange(this, session, res, requests.length, batch, sessionStream);
    for (const [index, request] of requests.entries()) {
      const outcome = admitted[index]!;
      if (isRefusal(outcome)) {
        const spec = ERRORS[outcome.name];
        post.answer({
          jsonrpc: '2.0',
          id: request.id!,
          error: {
            code: spec.rpcCode,
            message: outcome.message ?? spec.message,
            ...(outcome.data !== undefined && { data: outcome.data }),
          },
        });
      } else {
        await this.request(session, post, request, outcome);
      }
    }
  }

  /** The session's principal as the gate sees it (the latest credential), or undefined when auth is off. */
  private identityOf(session: LiveSession): Identity | undefined {
    const principal = (session.authInfo?.extra as { principal?: Principal } | undefined)?.principal;
    return principal === undefined
      ? undefined
      : { principal, key: session.record.principal!, authInfo: session.authInfo! };
  }

  /**
   * GET of the 2024-11-05 HTTP+SSE transport: opens a session whose one SSE stream carries every answer,
   * announces where to POST with an `endpoint` event, and ends the session when the stream closes.
   */
  async openSseSession(req: IncomingMessage, res: ServerResponse, messagesPath: string): Promise<void> {
    if (!accepts(headerValue(req, 'accept'), 'text/event-stream'))
      return refuseRequest(this.runtime, req, res, LEGACY_SSE, {
        name: 'NOT_ACCEPTABLE_GET',
        reason: 'not-acceptable',
      });
    let stream: LegacyStream | undefined;
    const end = (retryMs?: number) => stream?.end(retryMs);
    if (!this.runtime.streams.add(end, 'http-sse')) return writeError(res, 'STREAM_LIMIT');
    const sse = new SseStream(
      res,
      { keepAliveMs: this.runtime.options.keepAliveMs, maxBufferedBytes: this.runtime.options.maxStreamBufferBytes },
      false,
    );
    const session = await this.openBoundSession('sse', sse, requestIdentity(req), this.runtime.clientIp(req));
    if (session === undefined) {
      this.runtime.streams.delete(end);
      return writeError(res, 'SESSION_LIMIT');
    }
    stream = session.standalone;
    sse.writeHead();
    sse.writeRaw(`event: endpoint\ndata: ${messagesPath}?sessionId=${session.id}\n\n`);
    // The stream is the session: when the GET's credential expires or is revoked, both end.
    const release = this.runtime.credentials.watch(
      requestIdentity(req),
      { kind: 'http-sse', transport: 'sse', era: 'legacy', clientIp: session.clientIp },
      () => sse.end(),
    );
    sse.onClose(() => {
      this.runtime.streams.delete(end);
      release();
      void this.endBoundSession(session.id).catch(this.runtime.options.onError);
    });
  }

  /** POST of the 2024-11-05 HTTP+SSE transport: answered 202, the answers travel on the session's stream. */
  async postToSseSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const sessionId = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('sessionId');
    if (sessionId === null || sessionId === '')
      return refuseRequest(this.runtime, req, res, LEGACY_SSE, {
        name: 'SESSION_ID_REQUIRED',
        reason: 'session-id-required',
        message: 'Bad Request: the sessionId query parameter is required',
      });
    const session = await this.session(sessionId);
    const missing = this.sessionMismatch(session, 'sse', req);
    if (missing !== undefined || session === undefined) {
      if (session !== undefined) this.settle(session);
      return refuseRequest(this.runtime, req, res, LEGACY_SSE, {
        name: 'SESSION_NOT_FOUND',
        reason: missing ?? 'session-not-found',
      });
    }
    if (session.standalone === undefined && session.record.owner !== undefined && this.runtime.cluster !== undefined)
      return this.relayToBoundSession(req, res, session, body);
    const refused = await this.boundMessages(session, body, res, req);
    if (refused === undefined) return;
    if (refused.level === 'transport' || session.standalone === undefined || session.standalone.finished) {
      const reason = BOUND_REFUSALS[refused.name];
      const answer = {
        id: refused.id,
        ...(refused.message !== undefined && { message: refused.message }),
        ...(refused.data !== undefined && { data: refused.data }),
      };
      if (reason === undefined) return writeError(res, refused.name, answer);
      return refuseRequest(this.runtime, req, res, LEGACY_SSE, { name: refused.name, reason, ...answer });
    }
    // As the official SDK's SSEServerTransport does: the POST is accepted, and the request's JSON-RPC error is
    // a `message` event on the stream. A client that probes with a request the session refuses (server/discover
    // before initialize) reads the error and falls back. The gate audited its own refusals; the session's
    // framing refusal (a request before initialize, a second initialize) is traced here.
    if (refused.name === 'INVALID_MESSAGE') traceRefusal(this.runtime, req, LEGACY_SSE, 'invalid-message', 202);
    res.writeHead(202).end();
    session.standalone.send(rpcErrorOf(refused) as unknown as JSONRPCMessage);
  }

  /**
   * A POST to an HTTP+SSE session whose stream another instance holds: its messages go to that instance
   * (1 PUBLISH), which handles them as if they had been posted there, answers on the stream, and audits them.
   * The framing is checked here, so a malformed POST is still refused with its HTTP status. When no instance
   * receives them, the one that held the stream is gone, and the session with it: 404, so the client reconnects.
   */
  private async relayToBoundSession(
    req: IncomingMessage,
    res: ServerResponse,
    session: LiveSession,
    body: unknown,
  ): Promise<void> {
    try {
      const list = (Array.isArray(body) ? body : [body]) as unknown[];
      if (list.length === 0 || !list.every(isMessage))
        return refuseRequest(this.runtime, req, res, LEGACY_SSE, {
          name: 'INVALID_MESSAGE',
          reason: 'invalid-message',
        });
      if (list.length > this.runtime.options.maxBatchLength)
        return refuseRequest(this.runtime, req, res, LEGACY_SSE, {
          name: 'BATCH_TOO_LARGE',
          reason: 'batch-too-large',
          message: `${ERRORS.BATCH_TOO_LARGE.message} (${this.runtime.options.maxBatchLength})`,
        });
      const owner = session.record.owner!;
      if (await this.runtime.cluster!.send(owner, { kind: 'bound', session: session.id, body })) {
        res.writeHead(202).end();
        return;
      }
      await this.store.delete(session.id);
      return refuseRequest(this.runtime, req, res, LEGACY_SSE, {
        name: 'SESSION_NOT_FOUND',
        reason: 'session-not-found',
      });
    } finally {
      this.settle(session);
    }
  }

  /** The messages of a POST another instance relayed to the HTTP+SSE session whose stream is here. */
  private async relayedToBoundSession(session: LiveSession | undefined, body: unknown): Promise<void> {
    const stream = session?.standalone;
    if (session === undefined || stream === undefined || stream.finished) return;
    const refused = await this.boundMessages(session, body);
    // What the relaying instance could not check (the session's own rules) travels on the stream, as here.
    if (refused !== undefined && refused.id !== null) stream.send(rpcErrorOf(refused) as unknown as JSONRPCMessage);
  }

  /**
   * A session bound to one stream (HTTP+SSE, WebSocket): every answer travels on `sink`, and the session ends
   * with it (call endBoundSession). undefined when maxSessions sessions exist.
   */
  async openBoundSession(
    transport: 'sse' | 'websocket',
    sink: StreamSink,
    identity: Identity | undefined,
    clientIp: string,
  ): Promise<LiveSession | undefined> {
    const now = Date.now();
    const record: SessionRecord = {
      id: newSessionId(),
      protocolVersion: '',
      identity: '',
      transport,
      ...(this.runtime.cluster !== undefined && { owner: this.runtime.cluster.instanceId }),
      ...(identity !== undefined && { principal: identity.key }),
      createdAt: now,
      lastSeenAt: now,
    };
    if (!(await this.store.create(record, this.runtime.options.maxSessions))) return undefined;
    this.eras.set(record.id, `initializing ${transport}`);
    const session = new LiveSession(record, this.deps);
    session.authInfo = identity?.authInfo;
    session.clientIp = clientIp;
    const stream = session.newStream();
    this.live.set(record.id, session);
    session.standalone = stream;
    stream.attach(sink, false);
    return session;
  }

  /**
   * Messages for a stream-bound session (one message or a batch). The first must be initialize, sent alone
   * and once. Answers travel on the session's stream; a refusal is returned for the caller to frame: a
   * `transport` one refuses the POST itself (HTTP status on the messages endpoint), an `rpc` one answers one
   * request (on the stream).
   */
  async boundMessages(
    session: LiveSession,
    body: unknown,
    res?: ServerResponse,
    req?: IncomingMessage,
  ): Promise<BoundRefusal | undefined> {
    const stream = session.standalone;
    if (stream === undefined || stream.finished) return { level: 'transport', name: 'SESSION_NOT_FOUND', id: null };
    const batch = Array.isArray(body);
    const list = (batch ? body : [body]) as unknown[];
    if (list.length === 0 || !list.every(isMessage)) return { level: 'transport', name: 'INVALID_MESSAGE', id: null };
    if (list.length > this.runtime.options.maxBatchLength)
      return {
        level: 'transport',
        name: 'BATCH_TOO_LARGE',
        id: null,
        message: `${ERRORS.BATCH_TOO_LARGE.message} (${this.runtime.options.maxBatchLength})`,
      };
    const messages = list as Message[];
    const initialize = messages.find((m) => m.method === 'initialize');
    if (initialize !== undefined) {
      if (batch || session.record.identity !== '' || initialize.id === undefined)
        return {
          level: batch || initialize.id === undefined ? 'transport' : 'rpc',
          name: 'INVALID_MESSAGE',
          id: initialize.id ?? null,
          message: 'Invalid Request: initialize must be sent once, alone',
        };
      const admitted = await this.runtime.gate.admit(
        {
          identity: this.identityOf(session),
          clientIp: session.clientIp,
          transport: session.record.transport ?? 'http',
          era: 'legacy',
          ...(req !== undefined && { req }),
        },
        initialize as GateRequest,
      );
      if (isRefusal(admitted))
        return {
          level: 'rpc',
          name: admitted.name,
          id: initialize.id,
          ...(admitted.message !== undefined && { message: admitted.message }),
          data: admitted.data,
        };
      res?.writeHead(202, admitted.headers).end();
      await this.initializeBoundSession(session, stream, initialize, admitted);
      return undefined;
    }
    if (session.record.identity === '')
      return {
        // A request is answered on the stream; a notification has no answer, so its POST is refused.
        level: !batch && messages[0]!.id !== undefined ? 'rpc' : 'transport',
        name: 'INVALID_MESSAGE',
        id: (batch ? undefined : messages[0]!.id) ?? null,
        message: 'Invalid Request: the first message of a session must be initialize',
      };
    if (batch && session.record.protocolVersion !== '2025-03-26')
      return { level: 'transport', name: 'BATCH_NOT_ALLOWED', id: null };
    await this.messages(session, res, messages, batch, stream, req);
    return undefined;
  }

  /** Ends a stream-bound session (its stream closed). */
  endBoundSession(id: string): Promise<void> {
    return this.terminate(id);
  }

  private async initializeBoundSession(
    session: LiveSession,
    stream: LegacyStream,
    message: Message,
    ticket: Ticket,
  ): Promise<void> {
    session.record = {
      ...session.record,
      identity: this.interner.acquire(session.id, JSON.stringify(message.params ?? {})),
    };
    let instance: Awaited<ReturnType<typeof session.lease>>;
    try {
      instance = await session.lease(true);
    } catch (error) {
      this.runtime.options.onError(error as Error);
      session.record = { ...session.record, identity: '' };
      this.interner.release(session.id);
      const failure: ResponseMessage = {
        jsonrpc: '2.0',
        id: message.id as string | number,
        error: { code: ERRORS.INTERNAL.rpcCode, message: ERRORS.INTERNAL.message },
      };
      ticket.finish(failure);
      stream.send(failure as unknown as JSONRPCMessage);
      return;
    }
    const drain = this.runtime.drain;
    drain.begin();
    const request = { id: message.id as string | number, method: 'initialize', params: message.params };
    const exchange: Exchange = {
      related: () => {},
      respond: (response) => {
        drain.end();
        ticket.finish(response);
        const version = (response.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        if (response.error === undefined && typeof version === 'string') {
          session.record = { ...session.record, protocolVersion: version };
          if (this.eras.has(session.id)) this.eras.set(session.id, `${version} ${session.record.transport ?? 'http'}`);
          void this.store.update(session.record).catch(this.runtime.options.onError);
        } else {
          session.discardInstance();
          session.record = { ...session.record, identity: '' };
          this.interner.release(session.id);
        }
        stream.send(response as unknown as JSONRPCMessage);
        session.done();
      },
    };
    ticket.run(() => instance.transport.router.request(request, exchange, extraOf(session)));
  }

  /** Forgets the in-process side of a session that holds nothing any more (its record stays in the store). */
  private settle(session: LiveSession): void {
    if (session.idle) this.deps.onIdle(session);
  }

  async get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!accepts(headerValue(req, 'accept'), 'text/event-stream'))
      return refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
        name: 'NOT_ACCEPTABLE_GET',
        reason: 'not-acceptable',
      });
    const session = await this.sessionFor(req, res);
    if (session === undefined) return;
    try {
      await this.openStream(req, res, session);
    } finally {
      this.settle(session);
    }
  }

  private async openStream(req: IncomingMessage, res: ServerResponse, session: LiveSession): Promise<void> {
    await this.touch(session);
    const lastEventId = headerValue(req, 'last-event-id');
    if (lastEventId !== undefined) {
      const replay = await this.events.replay(session.id, lastEventId);
      if (replay === undefined) return writeError(res, 'UNKNOWN_EVENT_ID');
      const stream = session.streams.get(replay.streamId);
      // A stream stays in the session until its end step has run in its write chain; until then resume()
      // orders the replay with whatever it still writes. After that, the store holds all of it.
      if (stream !== undefined) {
        const sse = this.openSse(res, session);
        this.watchStream(req, session, sse);
        stream.resume(lastEventId, sse);
      } else if (isStandaloneStreamId(replay.streamId) && session.standalone === undefined) {
        // The session's standalone stream, whose response (or whose instance) went away: it goes on here, live,
        // after what was missed — the events the session has to hear keep arriving on it from now on.
        return this.serveStandalone(req, res, session, session.adoptStream(replay.streamId), lastEventId);
      } else {
        const sse = this.openSse(res, session);
        for (const event of replay.events) if (event.message !== null) sse.send(event.message, event.id);
        sse.end();
      }
      return;
    }
    if (session.standalone?.attached) return writeError(res, 'STREAM_CONFLICT');
    this.serveStandalone(req, res, session, session.newStream(true), undefined);
  }

  /** Serves the session's standalone stream on this response: from its start, or resumed after an event id. */
  private serveStandalone(
    req: IncomingMessage,
    res: ServerResponse,
    session: LiveSession,
    stream: LegacyStream,
    lastEventId: string | undefined,
  ): void {
    const end = (retryMs?: number) => stream.end(retryMs);
    if (!this.runtime.streams.add(end, 'session-get')) {
      session.streamEnded(stream);
      return writeError(res, 'STREAM_LIMIT');
    }
    session.standalone = stream;
    const sse = this.openSse(res, session);
    this.watchStream(req, session, sse);
    sse.onClose(() => {
      this.runtime.streams.delete(end);
      // A standalone stream lives as long as its response; its events stay resumable in the event store.
      stream.end();
    });
    if (lastEventId === undefined) stream.attach(sse, this.primes(session));
    else stream.resume(lastEventId, sse);
  }

  /**
   * A GET stream ends when the credential of the GET that opened it expires or is revoked; the session stays
   * (a client with a fresh credential opens the stream again, or resumes it with Last-Event-ID).
   */
  private watchStream(req: IncomingMessage, session: LiveSession, sse: SseStream): void {
    const release = this.runtime.credentials.watch(
      requestIdentity(req),
      { kind: 'session-get', transport: 'http', era: 'legacy', clientIp: session.clientIp },
      () => sse.end(),
    );
    sse.onClose(release);
  }

  async delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = await this.sessionFor(req, res);
    if (session === undefined) return;
    await this.terminate(session.id);
    res.writeHead(200).end();
  }

  /** Opens an SSE response for a session. */
  openSse(res: ServerResponse, session: LiveSession): SseStream {
    return new SseStream(res, {
      keepAliveMs: this.runtime.options.keepAliveMs,
      maxBufferedBytes: this.runtime.options.maxStreamBufferBytes,
      headers: { 'mcp-session-id': session.id },
    });
  }

  /** Whether a session's streams start with a priming event (2025-11-25 clients expect one). */
  primes(session: LiveSession): boolean {
    return session.record.protocolVersion >= '2025-11-25';
  }

  /** Open sessions this process opened, by negotiated protocol version and transport (read at metrics scrape time). */
  sessionCounts(): Array<{ era: string; transport: string; count: number }> {
    const counts = new Map<string, number>();
    for (const key of this.eras.values()) counts.set(key, (counts.get(key) ?? 0) + 1);
    return [...counts].map(([key, count]) => {
      const [era, transport] = key.split(' ') as [string, string];
      return { era, transport, count };
    });
  }

  /** What the 2025-era side holds in this process (the `legacySessions` check of /health reports it). */
  memory(): LegacyMemory {
    const interned = this.interner.stats();
    const idle = this.pool.stats();
    return {
      liveSessions: this.live.size,
      internedIdentities: interned.identities,
      internedIdentityBytes: interned.bytes,
      idleInstances: idle.instances,
      idleInstanceBytes: idle.bytes,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.unsubscribe();
    for (const session of this.live.values()) for (const stream of session.streams.values()) stream.end();
    this.interner.clear();
    await this.pool.close();
  }

  private async initialize(
    res: ServerResponse,
    message: Message,
    identity: Identity | undefined,
    clientIp: string,
    ticket: Ticket,
  ): Promise<void> {
    const id = message.id ?? null;
    let count: number;
    try {
      count = await this.store.count();
    } catch (error) {
      // The gate's ticket is settled on every path, or the principal's concurrency slot would leak.
      const name = isStateUnavailable(error) ? 'STATE_UNAVAILABLE' : 'INTERNAL';
      ticket.finish({
        jsonrpc: '2.0',
        id: id ?? 0,
        error: { code: ERRORS[name].rpcCode, message: ERRORS[name].message },
      });
      throw error;
    }
    if (count >= this.runtime.options.maxSessions) {
      ticket.finish({
        jsonrpc: '2.0',
        id: id ?? 0,
        error: { code: ERRORS.SESSION_LIMIT.rpcCode, message: ERRORS.SESSION_LIMIT.message },
      });
      return writeError(res, 'SESSION_LIMIT', { id });
    }
    const now = Date.now();
    const sessionId = newSessionId();
    const record: SessionRecord = {
      id: sessionId,
      protocolVersion: '',
      identity: this.interner.acquire(sessionId, JSON.stringify(message.params ?? {})),
      ...(identity !== undefined && { principal: identity.key }),
      createdAt: now,
      lastSeenAt: now,
    };
    const session = new LiveSession(record, this.deps);
    session.authInfo = identity?.authInfo;
    session.clientIp = clientIp;
    let instance: Awaited<ReturnType<typeof session.lease>>;
    try {
      instance = await session.lease(true);
    } catch (error) {
      this.interner.release(sessionId);
      throw error;
    }
    const drain = this.runtime.drain;
    drain.begin();
    const exchange: Exchange = {
      related: () => {},
      respond: (response) => {
        drain.end();
        ticket.finish(response);
        void this.initialized(session, res, response).catch((error: unknown) => {
          this.interner.release(sessionId);
          session.done();
          if (isStateUnavailable(error)) return writeError(res, 'STATE_UNAVAILABLE', { id });
          this.runtime.options.onError(error as Error);
          writeError(res, 'INTERNAL', { id });
        });
      },
    };
    ticket.run(() =>
      instance.transport.router.request(
        { id: id as string | number, method: 'initialize', params: message.params },
        exchange,
        extraOf(session),
      ),
    );
  }

  private async initialized(session: LiveSession, res: ServerResponse, response: ResponseMessage): Promise<void> {
    const version = (response.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (response.error !== undefined || typeof version !== 'string') {
      this.interner.release(session.id);
      session.discardInstance();
      session.done();
      return writeJson(res, 200, response);
    }
    const record = { ...session.record, protocolVersion: version };
    session.record = record;
    if (!(await this.store.create(record, this.runtime.options.maxSessions))) {
      this.interner.release(session.id);
      session.done();
      return writeError(res, 'SESSION_LIMIT', { id: response.id });
    }
    this.live.set(record.id, session);
    this.eras.set(record.id, `${version} http`);
    this.watchSession(session);
    writeJson(res, 200, response, { 'mcp-session-id': record.id });
    session.done();
  }

  private async request(session: LiveSession, post: PostExchange, request: Message, ticket: Ticket): Promise<void> {
    const key = JSON.stringify(request.id);
    const method = request.method as string;
    const capabilities = this.runtime.modern.capabilities;
    if (method === 'logging/setLevel' && capabilities.logging !== undefined) {
      // Levels are per session, but a pooled instance serves many sessions: the runtime keeps the level and
      // filters notifications/message itself.
      const level = request.params?.level;
      if (
        typeof level !== 'string' ||
        !(level in { debug: 1, info: 1, notice: 1, warning: 1, error: 1, critical: 1, alert: 1, emergency: 1 })
      ) {
        const refusal: ResponseMessage = {
          jsonrpc: '2.0',
          id: request.id!,
          error: { code: JsonRpcCode.InvalidParams, message: 'Invalid params: level must be a logging level' },
        };
        ticket.finish(refusal);
        post.answer(refusal);
        return;
      }
      session.record = { ...session.record, logLevel: level };
      try {
        await this.recordChanged(session);
      } catch (error) {
        return this.failRequest(ticket, post, request, error);
      }
      const done: ResponseMessage = { jsonrpc: '2.0', id: request.id!, result: {} };
      ticket.finish(done);
      post.answer(done);
      return;
    }
    if (
      (method === 'resources/subscribe' || method === 'resources/unsubscribe') &&
      typeof request.params?.uri === 'string'
    ) {
      const uri = request.params.uri;
      const current = session.record.subscriptions ?? [];
      const subscriptions =
        method === 'resources/subscribe' ? [...new Set([...current, uri])] : current.filter((entry) => entry !== uri);
      session.record = { ...session.record, subscriptions };
      try {
        await this.recordChanged(session);
      } catch (error) {
        return this.failRequest(ticket, post, request, error);
      }
    }
    let instance: Awaited<ReturnType<typeof session.lease>>;
    try {
      instance = await session.lease();
    } catch (error) {
      return this.failRequest(ticket, post, request, error);
    }
    const drain = this.runtime.drain;
    drain.begin();
    const exchange = new RequestExchange(post, session, key, instance.transport.router, () => {
      drain.end();
      ticket.finish();
    });
    // Registered before delivery: a gate error is answered synchronously, during request().
    session.inflight.set(key, exchange);
    const wrapped = ticket.wrap(exchange);
    exchange.internalId = ticket.run(() =>
      instance.transport.router.request(
        request as { id: string | number; method: string; params?: unknown },
        wrapped,
        extraOf(session),
      ),
    );
  }

  /**
   * Stores a session's changed record; instances holding the session live (its GET stream, say) re-read it.
   * 1 SET, and with several instances 1 PUBLISH to all.
   */
  private async recordChanged(session: LiveSession): Promise<void> {
    await this.store.update(session.record);
    await this.runtime.cluster?.broadcast({ kind: 'session-changed', session: session.id });
  }

  /** Answers a request that could not be delivered: 503 STATE_UNAVAILABLE when Redis is away, else INTERNAL. */
  private failRequest(ticket: Ticket, post: PostExchange, request: Message, error: unknown): void {
    const name = isStateUnavailable(error) ? 'STATE_UNAVAILABLE' : 'INTERNAL';
    if (name === 'INTERNAL') this.runtime.options.onError(error as Error);
    const failure: ResponseMessage = {
      jsonrpc: '2.0',
      id: request.id!,
      error: { code: ERRORS[name].rpcCode, message: ERRORS[name].message },
    };
    ticket.finish(failure);
    post.answer(failure);
  }

  private async notification(session: LiveSession, message: Message): Promise<void> {
    if (message.method === 'notifications/cancelled') {
      // Only a string or number names a request; anything else cancels nothing (and is never serialized).
      const requestId = message.params?.requestId;
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
      const reason = typeof message.params?.reason === 'string' ? message.params.reason : 'Cancelled by the client';
      const inflight = session.inflight.get(JSON.stringify(requestId));
      // Not running here: whichever instance runs it stops it (1 PUBLISH to all; nobody knows where without one).
      if (inflight !== undefined) inflight.cancel(reason);
      else await this.runtime.cluster?.broadcast({ kind: 'cancel', session: session.id, requestId, reason });
      return;
    }
    try {
      const instance = await session.lease();
      instance.transport.router.forward(message as JSONRPCMessage, extraOf(session));
    } catch (error) {
      this.runtime.options.onError(error as Error);
    } finally {
      session.done();
    }
  }

  /**
   * The client's answer to a server-to-client request: only the session that was asked may answer. When the
   * handler that asked runs on another instance, the answer goes there (1 GET for its owner, 1 PUBLISH).
   */
  private async clientAnswer(session: LiveSession, message: Message): Promise<void> {
    if (deliverAnswer(session, message)) return;
    const cluster = this.runtime.cluster;
    if (cluster === undefined) return;
    const owner = await cluster.serverRequestOwner(session.id, message.id as number | string);
    if (owner !== undefined && owner !== cluster.instanceId)
      await cluster.send(owner, { kind: 'answer', session: session.id, message });
  }

  /**
   * An answer the gate refused (past an input limit) is not delivered; the handler waiting for it gets the
   * refusal as a JSON-RPC error at once instead of waiting for its timeout.
   */
  private refusedAnswer(session: LiveSession, message: Message, refusal: GateRefusal): Promise<void> {
    const spec = ERRORS[refusal.name];
    return this.clientAnswer(session, {
      jsonrpc: '2.0',
      id: message.id as number | string,
      error: { code: spec.rpcCode, message: refusal.message ?? spec.message },
    });
  }

  /** A message from another instance of the cluster (src/cluster/cluster-link.ts). */
  private async clusterMessage(message: ClusterMessage): Promise<void> {
    const session = this.live.get(message.session);
    switch (message.kind) {
      case 'answer':
        if (session !== undefined && isMessage(message.message)) deliverAnswer(session, message.message);
        return;
      case 'cancel':
        session?.inflight.get(JSON.stringify(message.requestId))?.cancel(message.reason);
        return;
      case 'session-changed': {
        if (session === undefined) return;
        const record = await this.store.get(message.session);
        if (record !== undefined) session.record = record;
        return;
      }
      case 'session-ended':
        this.endLocally(message.session);
        return;
      case 'bound':
        return this.relayedToBoundSession(session, message.body);
    }
  }

  /** The session named by Mcp-Session-Id, or an answer (400/404/400 version) and undefined. */
  private async sessionFor(req: IncomingMessage, res: ServerResponse): Promise<LiveSession | undefined> {
    const id = headerValue(req, 'mcp-session-id');
    if (id === undefined) {
      refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
        name: 'SESSION_ID_REQUIRED',
        reason: 'session-id-required',
      });
      return undefined;
    }
    const session = await this.session(id);
    // A session bound to one stream (HTTP+SSE, WebSocket) is reached through that transport only, and any
    // session only by the principal that opened it.
    const missing = this.sessionMismatch(session, undefined, req);
    if (missing !== undefined || session === undefined) {
      if (session !== undefined) this.settle(session);
      refuseRequest(this.runtime, req, res, LEGACY_HTTP, {
        name: 'SESSION_NOT_FOUND',
        reason: missing ?? 'session-not-found',
      });
      return undefined;
    }
    const version = headerValue(req, 'mcp-protocol-version');
    if (version !== undefined && !LEGACY_VERSIONS.includes(version)) {
      traceRefusal(this.runtime, req, LEGACY_HTTP, 'unsupported-protocol-version', 400);
      this.settle(session);
      writeRpcError(
        res,
        400,
        JsonRpcCode.UnsupportedProtocolVersion,
        `Unsupported protocol version: ${version}`,
        null,
        { supported: [...LEGACY_VERSIONS], requested: version },
      );
      return undefined;
    }
    return session;
  }

  /**
   * Why a session id reaches no session for this request, or undefined when it does. The client is answered
   * the same 404 whatever the reason (a leaked id must not confirm that the session exists); the audit line
   * tells them apart.
   */
  private sessionMismatch(
    session: LiveSession | undefined,
    transport: SessionRecord['transport'],
    req: IncomingMessage,
  ): 'session-not-found' | 'session-transport-mismatch' | 'session-principal-mismatch' | undefined {
    if (session === undefined) return 'session-not-found';
    if (session.record.transport !== transport) return 'session-transport-mismatch';
    return this.admits(session, req) ? undefined : 'session-principal-mismatch';
  }

  /** Whether the request's principal is the session's (then its latest credential is used from now on). */
  private admits(session: LiveSession, req: IncomingMessage): boolean {
    const identity = requestIdentity(req);
    if (session.record.principal !== identity?.key) return false;
    if (identity !== undefined) session.authInfo = identity.authInfo;
    session.clientIp = this.runtime.clientIp(req);
    return true;
  }

  private async session(id: string): Promise<LiveSession | undefined> {
    const live = this.live.get(id);
    if (live !== undefined) return live;
    // Whoever asks for a session is about to use it: a remote store reads and touches it in one round trip.
    const now = Date.now();
    const record =
      this.store.getAndTouch !== undefined ? await this.store.getAndTouch(id, now) : await this.store.get(id);
    if (record === undefined) return undefined;
    // Another request may have brought the session live while the store answered.
    const again = this.live.get(id);
    if (again !== undefined) return again;
    const session = new LiveSession(record, this.deps);
    if (this.store.getAndTouch !== undefined) session.touchedAt = now;
    this.live.set(id, session);
    return session;
  }

  /**
   * Records the session's activity, at most once per touch interval (a tenth of the idle timeout, at most a
   * second): the idle timeout is minutes, and a busy session would otherwise cost a store write per message.
   */
  private async touch(session: LiveSession): Promise<void> {
    const now = Date.now();
    if (now - session.touchedAt < this.touchIntervalMs) return;
    session.touchedAt = now;
    await this.store.touch(session.id, now);
  }

  /**
   * A session opened with an API key ends when the key is revoked: its streams end and its id answers 404 from
   * then on, whatever credential presents it. A token's expiry does not end it: the session belongs to the
   * principal, and its next request brings a fresh token (an expired one is refused at authentication).
   */
  private watchSession(session: LiveSession): void {
    const release = this.runtime.credentials.watch(
      this.identityOf(session),
      { kind: 'session', transport: 'http', era: 'legacy', clientIp: session.clientIp, expires: false },
      () => void this.terminate(session.id).catch(this.runtime.options.onError),
    );
    if (release !== NO_LEASE) this.leases.set(session.id, release);
  }

  private forgetLease(id: string): void {
    const release = this.leases.get(id);
    if (release === undefined) return;
    this.leases.delete(id);
    release();
  }

  /** Ends a session everywhere: here, in the stores, and (1 PUBLISH) on the instances holding its streams. */
  private async terminate(id: string): Promise<void> {
    this.endLocally(id);
    await this.store.delete(id);
    await this.events.dropSession(id);
    await this.runtime.cluster?.broadcast({ kind: 'session-ended', session: id });
  }

  /** Forgets what this process holds of a session that has ended, and ends its streams here. */
  private endLocally(id: string): void {
    this.runtime.sessionEnded?.(id);
    this.forgetLease(id);
    this.eras.delete(id);
    this.interner.release(id);
    const session = this.live.get(id);
    if (session !== undefined) {
      this.live.delete(id);
      for (const stream of [...session.streams.values()]) stream.end();
    }
  }

  private async expire(): Promise<void> {
    const now = Date.now();
    for (const session of this.live.values()) if (inUse(session)) await this.store.touch(session.id, now);
    for (const id of await this.store.sweep(now - this.runtime.options.sessionIdleTimeoutMs)) {
      this.endLocally(id);
      await this.events.dropSession(id);
      // The instance that opened it counts it in its sessions gauge until it hears.
      await this.runtime.cluster?.broadcast({ kind: 'session-ended', session: id });
    }
    await this.forgetExpiredElsewhere();
  }

  /**
   * With a shared store an expiry reaches one sweeping instance, or none (the store prunes expired ids as it
   * counts): the sessions this process opened and holds nothing live for are checked in batches of
   * ALIVE_BATCH ids, one round trip each, and those that are gone are forgotten (gauge, credential lease,
   * interned identity).
   */
  private async forgetExpiredElsewhere(): Promise<void> {
    const alive = this.store.alive?.bind(this.store);
    if (alive === undefined) return;
    const idle = [...this.eras.keys()].filter((id) => !this.live.has(id));
    for (let start = 0; start < idle.length; start += ALIVE_BATCH) {
      const batch = idle.slice(start, start + ALIVE_BATCH);
      const answers = await alive(batch);
      batch.forEach((id, index) => {
        if (answers[index] === false) this.endLocally(id);
      });
    }
  }

  /** Delivers a change event to the standalone streams of sessions that should see it. */
  private deliver(event: ServerEvent): void {
    const notification = eventNotification(event) as unknown as JSONRPCMessage;
    for (const session of this.live.values()) {
      const stream = session.standalone;
      if (stream === undefined || stream.finished) continue;
      if (event.kind === 'resource_updated' && !(session.record.subscriptions ?? []).includes(event.uri)) continue;
      stream.send(notification);
    }
  }
}

/**
 * A refusal of a stream-bound session's message. `transport`: the POST itself is refused (on the HTTP+SSE
 * messages endpoint, an HTTP status); `rpc`: one request is refused (a JSON-RPC error with its id, on the
 * session's stream). Over WebSocket both are JSON-RPC errors on the socket.
 */
export interface BoundRefusal {
  level: 'transport' | 'rpc';
  name: ErrorName;
  id: string | number | null;
  message?: string;
  data?: unknown;
}

function rpcErrorOf(refusal: BoundRefusal) {
  const spec = ERRORS[refusal.name];
  return {
    jsonrpc: '2.0' as const,
    id: refusal.id,
    error: {
      code: spec.rpcCode,
      message: refusal.message ?? spec.message,
      ...(refusal.data !== undefined && { data: refusal.data }),
    },
  };
}

/**
 * Whether a session counts as in use even though its client sent nothing lately. Work in flight always does;
 * an open stream does too, except an HTTP+SSE session's: that stream is open for the session's whole life, so
 * its idleness is counted from the client's last POST (a WebSocket's peer is checked by ping instead).
 */
function inUse(session: LiveSession): boolean {
  return session.record.transport === 'sse' ? session.busy : !session.idle;
}

/**
 * Hands the client's answer to the handler waiting for it when that handler runs here, for this session.
 * Returns false when it does not (another instance's, ended, or never asked).
 */
function deliverAnswer(session: LiveSession, message: Message): boolean {
  const id = message.id as number | string;
  const instance = session.leased;
  if (!session.pendingServerRequests.has(id) || instance === undefined) return false;
  instance.transport.router.forward(message as JSONRPCMessage);
  session.answered(id);
  return true;
}

/** The delivery extra of a session's messages: its principal's AuthInfo, when auth is on. */
function extraOf(session: LiveSession): MessageExtraInfo | undefined {
  return session.authInfo === undefined ? undefined : { authInfo: session.authInfo };
}
