/**
 * MCP over WebSocket at the endpoint path (`ws://host:port/mcp`), on the same HTTP server, with the `ws` library
 * attached by handleUpgrade so it also mounts on a user's own http.Server. Subprotocol `mcp`; one JSON-RPC
 * message per text frame (the wire format of the v1 SDK's WebSocketClientTransport).
 *
 * The first message decides what the connection is. `initialize` makes it a 2025-era session bound to the
 * socket (server-to-client requests allowed; the session ends with the socket). A request carrying the
 * 2026-07-28 `_meta` envelope makes it a stream of independent 2026-07-28 requests served by the shared
 * instance, with `subscriptions/listen` notifications delivered on the socket and `notifications/cancelled`
 * (or closing the socket) as cancellation.
 *
 * Close codes: 1000 session ended; 1001 server shutting down; 1003 binary frame; 1008 the client reads too
 * slowly (more than maxStreamBufferBytes unsent), or the upgrade's credential expired or was revoked; 1009 frame
 * over maxBodyBytes; 1006 (no close frame) a peer that missed a ping interval. Bad JSON and refused messages get JSON-RPC errors and the socket stays open; a
 * refused notification is dropped (with its audit line), as nothing answers a notification.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import {
  classifyInboundRequest,
  UnsupportedProtocolVersionError,
  type JSONRPCMessage,
  type MessageExtraInfo,
} from '@modelcontextprotocol/server';
import { WebSocketServer, WebSocket, type RawData } from 'ws';

import { ERRORS, JsonRpcCode, type ErrorName } from '../errors.js';
import { isStateUnavailable, storeFailure } from '../state/state-unavailable.js';
import type { LiveSession, StreamSink } from '../server/legacy-session.js';
import type { RuntimeContext } from '../server/runtime-context.js';
import type { Identity } from '../security/request-principal.js';
import { CREDENTIAL_ENDED } from '../security/credential-watch.js';
import { isRefusal, type GateContext, type GateRefusal, type Ticket } from '../security/request-gate.js';
import { MODERN_EXTRA, MODERN_REVISION } from '../server/sdk-bridge.js';
import type { LegacyEndpoint } from './legacy-http.js';
import {
  filterAccepts,
  honoredFilter,
  INVALID_FILTER,
  listenAck,
  listenResult,
  parseFilter,
  honoredTaskFilter,
  watchTasks,
  type ListenFilter,
  stampSubscription,
} from './listen-stream.js';
import { eventNotification } from '../state/event-bus.js';
import { plainModernMessage } from './fast-classify.js';
import { publishBytes } from '../observability/channels.js';
import { rawErrorResponse } from './http-io.js';
import { refuseUpgradeAttempt } from './refusals.js';
import { openRequestState, sealRequestState, type ModernRequest } from './modern-http.js';

export const WS_CLOSE = { normal: 1000, goingAway: 1001, unsupportedData: 1003, policy: 1008, tooBig: 1009 } as const;

export interface WebSocketOptions {
  maxConnections: number;
  pingIntervalMs: number;
}

/** The envelope a cancellation notification needs to pass the shared instance's era checks. */
const CANCEL_META = {
  'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
  'io.modelcontextprotocol/clientCapabilities': {},
};

type Refusal = { name: ErrorName; id: string | number | null; message?: string; data?: unknown };

class Connection {
  private mode: 'unknown' | 'modern' | 'legacy' = 'unknown';
  private session: LiveSession | undefined;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  /** 2026-07-28 requests in flight by client id (as JSON): the instance's id, to cancel them. */
  private readonly inflight = new Map<string, { internalId: number; done: () => void }>();
  /** Open subscriptions by listen request id (as JSON). */
  private readonly listens = new Map<string, () => void>();
  alive = true;
  private corked = false;
  /** The server is draining: requests are refused, and the socket closes (1001) once nothing is in flight. */
  private draining = false;
  /** What the connection's 2026-07-28 messages are delivered with: the era, and the principal when auth is on. */
  private readonly extra: MessageExtraInfo;
  private readonly context: GateContext;

  constructor(
    private readonly endpoint: WebSocketEndpoint,
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly identity: Identity | undefined,
    clientIp: string,
  ) {
    this.context = { identity, clientIp, transport: 'websocket', era: 'modern' };
    this.extra = identity === undefined ? MODERN_EXTRA : { ...MODERN_EXTRA, authInfo: identity.authInfo };
    // The credential was checked at the upgrade; the connection must not outlive it (expiry or revocation).
    const release = endpoint.runtime.credentials.watch(
      identity,
      { kind: 'websocket', transport: 'websocket', clientIp },
      (reason) => ws.close(WS_CLOSE.policy, CREDENTIAL_ENDED[reason].closeReason),
    );
    ws.once('close', release);
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', () => this.closed());
    ws.on('error', () => {}); // 'close' follows every error
  }

  /** Sends one message (`text`: already serialized), unless the client has fallen too far behind reading. */
  send(message: unknown, text?: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.endpoint.runtime.options.maxStreamBufferBytes) {
      this.ws.close(WS_CLOSE.policy, 'The client reads too slowly');
      return;
    }
    // Answers produced in one turn of the event loop leave in one write: a syscall per frame would cost the
    // server a third of its time when many requests are in flight on one connection.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    text ??= JSON.stringify(message);
    publishBytes(this.endpoint.runtime.source, 'out', text);
    this.ws.send(text);
    if (this.draining) this.closeWhenIdle();
  }

  private refuse(refusal: Refusal): void {
    const spec = ERRORS[refusal.name];
    const error = {
      code: spec.rpcCode,
      message: refusal.message ?? spec.message,
      ...(refusal.data !== undefined && { data: refusal.data }),
    };
    this.send({ jsonrpc: '2.0', id: refusal.id, error });
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.ws.close(WS_CLOSE.unsupportedData, 'Binary frames are not supported: send JSON-RPC as text');
      return;
    }
    let body: unknown;
    const text = data.toString();
    publishBytes(this.endpoint.runtime.source, 'in', Buffer.isBuffer(data) ? data.length : text);
    try {
      body = JSON.parse(text);
    } catch {
      this.traceParseError();
      this.refuse({ name: 'PARSE_ERROR', id: null });
      return;
    }
    if (this.draining && isRequest(body)) {
      // Answered, not dropped: the client knows to send it to another instance.
      this.refuse({ name: 'SERVER_CLOSING', id: idOf(body) });
      return;
    }
    // 2026-07-28 requests are independent and handled synchronously, so once the connection is known to be
    // modern and nothing is queued they skip the queue (two promises a message on the hot path).
    if (this.mode === 'modern' && this.queued === 0) {
      try {
        if (this.handleStateless(body)) return;
      } catch (error) {
        this.failed(error, idOf(body));
        return;
      }
    }
    // Otherwise messages are handled in arrival order: a session's initialize completes before what follows it.
    this.queued++;
    this.queue = this.queue
      .then(() => this.handle(body))
      .catch((error: unknown) => this.failed(error, idOf(body)))
      .finally(() => this.queued--);
  }

  /** A frame that is not JSON leaves an audit line like a POST body that is not (the socket stays open). */
  private traceParseError(): void {
    const identity = this.identity;
    this.endpoint.runtime.gate.recordRefusedAttempt({
      ...(identity !== undefined && { principal: identity.key, subject: identity.principal.subject }),
      clientIp: this.context.clientIp,
      transport: 'websocket',
      ...(this.mode !== 'unknown' && { era: this.mode }),
      outcome: 'refused',
      reason: 'parse-error',
    });
  }

  /** Answers a message whose handling failed; `id` is the request's, so the client can tell which one failed. */
  private failed(error: unknown, id: string | number | null): void {
    // Redis away: a JSON-RPC error the client may retry (nothing ran); the connection logs the outage itself.
    if (isStateUnavailable(error)) return this.refuse({ name: 'STATE_UNAVAILABLE', id });
    this.endpoint.runtime.options.onError(error as Error);
    this.refuse({ name: 'INTERNAL', id });
  }

  /** Serves a 2026-07-28 message (or answers a malformed one) synchronously; false when it is neither. */
  private handleStateless(body: unknown): boolean {
    const plain = plainModernMessage(body);
    if (plain !== undefined) {
      // The same fast path as HTTP: the instance validates the envelope again on delivery.
      if (this.mode === 'unknown') this.mode = 'modern';
      this.modernRequest(plain as unknown as ModernRequest);
      return true;
    }
    const outcome = classifyInboundRequest({ httpMethod: 'POST', body });
    if (outcome.kind === 'reject') {
      this.send({
        jsonrpc: '2.0',
        id: idOf(body),
        error: {
          code: outcome.code,
          message: outcome.message,
          ...(outcome.data !== undefined && { data: outcome.data }),
        },
      });
      return true;
    }
    if (outcome.kind === 'modern') {
      if (this.mode === 'unknown') this.mode = 'modern';
      const requested = outcome.classification.revision;
      if (requested !== MODERN_REVISION) {
        const error = new UnsupportedProtocolVersionError({
          supported: [MODERN_REVISION],
          requested: requested ?? 'unknown',
        });
        this.send({
          jsonrpc: '2.0',
          id: idOf(body),
          error: { code: error.code, message: error.message, data: error.data },
        });
        return true;
      }
      if (outcome.messageKind === 'request') this.modernRequest(outcome.message as unknown as ModernRequest);
      else this.modernNotification(outcome.message as { method: string; params?: Record<string, unknown> });
      return true;
    }
    return false;
  }

  private async handle(body: unknown): Promise<void> {
    const legacy = this.endpoint.legacy;
    if (this.mode === 'legacy' && this.session !== undefined && legacy !== undefined) {
      const refusal = await legacy.boundMessages(this.session, body);
      if (refusal !== undefined) this.refuse(refusal);
      return;
    }
    if (this.handleStateless(body)) return;
    const isInitialize = (body as { method?: unknown }).method === 'initialize';
    if (this.mode === 'unknown' && isInitialize && legacy !== undefined) {
      const session = await legacy.openBoundSession(
        'websocket',
        new SocketSink(this),
        this.identity,
        this.context.clientIp,
      );
      if (session === undefined) {
        this.refuse({ name: 'SESSION_LIMIT', id: idOf(body) });
        return;
      }
      this.mode = 'legacy';
      this.session = session;
      const refusal = await legacy.boundMessages(session, body);
      if (refusal !== undefined) this.refuse(refusal);
      return;
    }
    const reason =
      this.mode === 'modern'
        ? 'Invalid Request: this connection serves 2026-07-28 requests; every request carries the _meta envelope'
        : legacy === undefined
          ? 'Invalid Request: send 2026-07-28 requests with the _meta envelope (2025-era sessions are disabled)'
          : 'Invalid Request: the first message must be initialize (2025-era) or carry the 2026-07-28 _meta envelope';
    this.refuse({ name: 'INVALID_MESSAGE', id: idOf(body), message: reason });
  }

  private modernRequest(request: ModernRequest): void {
    const runtime = this.endpoint.runtime;
    const key = JSON.stringify(request.id);
    if (this.inflight.has(key) || this.listens.has(key)) {
      this.refuse({
        name: 'INVALID_MESSAGE',
        id: request.id,
        message: 'Invalid Request: a request with this id is still in flight on this connection',
      });
      return;
    }
    const admitted = runtime.gate.admit(this.context, request);
    if (admitted instanceof Promise) {
      admitted.then(
        (outcome) => this.modernAdmitted(request, key, outcome),
        (error: unknown) => this.failed(error, request.id),
      );
    } else {
      this.modernAdmitted(request, key, admitted);
    }
  }

  private modernAdmitted(request: ModernRequest, key: string, admitted: Ticket | GateRefusal): void {
    const runtime = this.endpoint.runtime;
    if (isRefusal(admitted)) {
      // Over a rate limit or refused by policy: the JSON-RPC error only; the socket stays open.
      this.refuse({
        name: admitted.name,
        id: request.id,
        ...(admitted.message !== undefined && { message: admitted.message }),
        data: admitted.data,
      });
      return;
    }
    const ticket = admitted;
    if (request.method === 'subscriptions/listen') {
      this.listen(request, ticket);
      return;
    }
    const opened = openRequestState(runtime, request, this.identity?.key);
    if (opened === undefined) {
      ticket.finish({
        jsonrpc: '2.0',
        id: request.id,
        error: { code: ERRORS.INVALID_REQUEST_STATE.rpcCode, message: ERRORS.INVALID_REQUEST_STATE.message },
      });
      this.refuse({ name: 'INVALID_REQUEST_STATE', id: request.id });
      return;
    }
    const entry = { internalId: 0, done: () => {} };
    runtime.drain.begin();
    let finished = false;
    entry.done = () => {
      if (finished) return;
      finished = true;
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
      runtime.drain.end();
      ticket.finish();
    };
    // Registered before delivery: a gate error is answered synchronously, during request().
    this.inflight.set(key, entry);
    const exchange = ticket.wrap({
      related: (message) => this.send(message),
      respond: (message) => {
        entry.done();
        this.send(sealRequestState(runtime, request, message, this.identity?.key));
      },
    });
    entry.internalId = ticket.run(() => runtime.modern.router.request(opened, exchange, this.extra));
  }

  /**
   * A 2026-07-28 notification passes the gate like a request (rate limits, input limits). A refused one is
   * dropped with its audit line: nothing answers a notification (JSON-RPC forbids it).
   */
  private modernNotification(message: { method: string; params?: Record<string, unknown> }): void {
    const admitted = this.endpoint.runtime.gate.admitMessage(this.context, message);
    if (admitted instanceof Promise)
      admitted.then(
        (outcome) => isRefusal(outcome) || this.modernNotificationAdmitted(message),
        (error: unknown) => this.failed(error, null),
      );
    else if (!isRefusal(admitted)) this.modernNotificationAdmitted(message);
  }

  private modernNotificationAdmitted(message: { method: string; params?: Record<string, unknown> }): void {
    if (message.method !== 'notifications/cancelled') {
      this.endpoint.runtime.modern.router.forward(message as unknown as JSONRPCMessage, this.extra);
      return;
    }
    // Ids are the client's own on this connection, so they can be mapped (unlike stateless HTTP). Only a string
    // or number names a request; anything else cancels nothing.
    const requestId = message.params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const key = JSON.stringify(requestId);
    const reason = typeof message.params?.reason === 'string' ? message.params.reason : 'Cancelled by the client';
    this.cancel(key, reason);
    this.listens.get(key)?.();
  }

  private cancel(key: string, reason: string): void {
    const entry = this.inflight.get(key);
    if (entry === undefined) return;
    entry.done();
    this.endpoint.runtime.modern.router.cancel(entry.internalId, reason, MODERN_EXTRA, CANCEL_META);
  }

  /**
   * A subscription on this socket: it counts against maxStreams like an HTTP one, and at most
   * maxListensPerConnection are open on one connection. The ticket ends with the acknowledgement (or refusal).
   */
  private listen(request: ModernRequest, ticket: Ticket): void {
    const runtime = this.endpoint.runtime;
    const refuse = (code: number, message: string) => {
      const answer = { jsonrpc: '2.0' as const, id: request.id, error: { code, message } };
      ticket.finish(answer);
      this.send(answer);
    };
    const requested = parseFilter(request.params);
    if (requested === undefined) return refuse(JsonRpcCode.InvalidParams, INVALID_FILTER);
    if ((requested.taskIds ?? []).length > 0 && runtime.tasks !== undefined) {
      honoredTaskFilter(runtime, request, this.identity?.key, requested).then(
        (honored) => {
          if ('error' in honored) {
            ticket.finish(honored);
            this.send(honored);
          } else this.openListen(request, ticket, honored);
        },
        (error: unknown) => {
          const spec = ERRORS[storeFailure(error, runtime.options.onError)];
          refuse(spec.rpcCode, spec.message);
        },
      );
      return;
    }
    this.openListen(request, ticket, honoredFilter(requested, runtime.modern.capabilities));
  }

  private openListen(request: ModernRequest, ticket: Ticket, honored: ListenFilter): void {
    const runtime = this.endpoint.runtime;
    const refuse = (code: number, message: string) => {
      const answer = { jsonrpc: '2.0' as const, id: request.id, error: { code, message } };
      ticket.finish(answer);
      this.send(answer);
    };
    if (Object.keys(honored).length === 0) {
      // Nothing to deliver: acknowledged and ended at once, holding no stream.
      ticket.finish({ jsonrpc: '2.0', id: request.id, result: {} });
      this.send(listenAck(honored, request.id));
      this.send(listenResult(runtime, request.id));
      return;
    }
    const { maxListensPerConnection, maxStreams } = runtime.options;
    if (this.listens.size >= maxListensPerConnection)
      return refuse(
        ERRORS.LISTEN_LIMIT.rpcCode,
        `Too Many Requests: ${maxListensPerConnection} subscriptions are open on this connection (maxListensPerConnection)`,
      );
    const key = JSON.stringify(request.id);
    let unsubscribe = () => {};
    let unwatchTasks = () => {};
    const stop = () => {
      unsubscribe();
      unwatchTasks();
      runtime.streams.delete(end);
      this.listens.delete(key);
    };
    // Ended by the server (draining): the listen request's result closes the subscription.
    const end = () => {
      if (!this.listens.has(key)) return;
      stop();
      this.send(listenResult(runtime, request.id));
    };
    if (!runtime.streams.add(end, 'listen'))
      return refuse(
        ERRORS.STREAM_LIMIT.rpcCode,
        `Service Unavailable: the open stream limit (maxStreams ${maxStreams}) is reached`,
      );
    ticket.finish({ jsonrpc: '2.0', id: request.id, result: {} });
    this.send(listenAck(honored, request.id));
    unsubscribe = runtime.bus.subscribe((event) => {
      if (filterAccepts(honored, event)) this.send(stampSubscription(eventNotification(event), request.id));
    });
    unwatchTasks = watchTasks(runtime, honored, this.identity?.key, (notification) =>
      this.send(stampSubscription(notification, request.id)),
    );
    this.listens.set(key, stop);
  }

  /**
   * The server starts draining: subscriptions end with their result, new requests are refused, and the socket
   * closes with 1001 as soon as the requests in flight have been answered.
   */
  drain(): void {
    this.draining = true;
    for (const key of [...this.listens.keys()]) {
      this.listens.get(key)?.();
      this.send(listenResult(this.endpoint.runtime, JSON.parse(key) as string | number));
    }
    this.closeWhenIdle();
  }

  /** Drain time is over: close now, whatever is still in flight. */
  shutdown(): void {
    this.ws.close(WS_CLOSE.goingAway, 'The server is shutting down');
  }

  private busy(): boolean {
    return this.queued > 0 || this.inflight.size > 0 || (this.session?.inflight.size ?? 0) > 0;
  }

  /** Closes with 1001 once idle; checked after the current turn, when the answer being sent has left its request. */
  private closeWhenIdle(): void {
    setImmediate(() => {
      if (!this.busy() && this.ws.readyState === WebSocket.OPEN) this.shutdown();
    });
  }

  private closed(): void {
    this.endpoint.forget(this);
    for (const key of [...this.inflight.keys()]) this.cancel(key, 'The client closed the WebSocket');
    for (const stop of [...this.listens.values()]) stop();
    const session = this.session;
    if (session !== undefined)
      void this.endpoint.legacy?.endBoundSession(session.id).catch(this.endpoint.runtime.options.onError);
  }
}

/** A 2025-era session's stream writing to its socket; the session ending closes the socket. */
class SocketSink implements StreamSink {
  constructor(private readonly connection: Connection) {}
  send(message: unknown, _eventId?: string, json?: string): void {
    this.connection.send(message, json);
  }
  writeRaw(): void {}
  end(): void {
    this.connection.ws.close(WS_CLOSE.normal, 'The session ended');
  }
  get closed(): boolean {
    return this.connection.ws.readyState !== WebSocket.OPEN;
  }
}

function isRequest(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(isRequest);
  const message = body as { id?: unknown; method?: unknown } | null;
  return (
    message !== null && typeof message === 'object' && typeof message.method === 'string' && message.id !== undefined
  );
}

function idOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** Answers an upgrade request with an HTTP error (the security headers, a JSON-RPC body) and closes the socket. */
export function refuseUpgrade(
  socket: Duplex,
  name: ErrorName,
  message?: string,
  headers: Record<string, string | string[]> = {},
  securityHeaders: ReadonlyArray<readonly [string, string]> = [],
): void {
  socket.end(rawErrorResponse(name, { ...(message !== undefined && { message }), headers, securityHeaders }));
}

export class WebSocketEndpoint {
  private readonly server: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly runtime: RuntimeContext,
    readonly legacy: LegacyEndpoint | undefined,
    private readonly options: WebSocketOptions,
  ) {
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: runtime.options.maxBodyBytes,
      handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
    });
    // ws's own handshake refusals (not GET, no valid Sec-WebSocket-Key or -Version...) would be plain text
    // without the security headers or a trace; with a listener, ws leaves the answer to it.
    this.server.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
      const method = req.method !== 'GET';
      refuseUpgradeAttempt(runtime, req, socket, {
        name: method ? 'METHOD_NOT_ALLOWED' : 'UPGRADE_INVALID',
        reason: 'upgrade-invalid',
        message: `${method ? 'Method Not Allowed' : 'Bad Request'}: ${error.message} (WebSocket handshake)`,
        headers: method
          ? { allow: 'GET' }
          : /Sec-WebSocket-Version/.test(error.message)
            ? { 'sec-websocket-version': '13, 8' }
            : {},
      });
    });
    if (options.pingIntervalMs > 0) {
      this.heartbeat = setInterval(() => this.ping(), options.pingIntervalMs);
      this.heartbeat.unref();
    }
  }

  get size(): number {
    return this.connections.size;
  }

  /** Completes a WebSocket upgrade for the endpoint (path, Host/Origin and shutdown were checked by the caller). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, identity: Identity | undefined): void {
    if (this.connections.size >= this.options.maxConnections) {
      refuseUpgradeAttempt(this.runtime, req, socket, {
        name: 'STREAM_LIMIT',
        reason: 'connection-limit',
        message: `Service Unavailable: the WebSocket connection limit (maxWebSocketConnections ${this.options.maxConnections}) is reached`,
      });
      return;
    }
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((protocol) => protocol.trim() === 'mcp')) {
      refuseUpgradeAttempt(this.runtime, req, socket, {
        name: 'INVALID_MESSAGE',
        reason: 'subprotocol-refused',
        message: 'Bad Request: the WebSocket subprotocol must be "mcp"',
      });
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) =>
      this.connections.add(new Connection(this, ws, socket, identity, this.runtime.clientIp(req))),
    );
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** Starts draining every connection: each closes with 1001 once its requests in flight are answered. */
  drain(): void {
    for (const connection of [...this.connections]) connection.drain();
  }

  /** Closes every connection with 1001 now (after drain, or when the drain time is over). */
  close(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const connection of [...this.connections]) connection.shutdown();
  }

  private ping(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.ws.terminate(); // missed a whole interval: the peer is gone
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }
}
