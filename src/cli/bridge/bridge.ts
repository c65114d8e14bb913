/**
 * The bridge between one stdio MCP client and one remote MCP server. It forwards every message as it is, both
 * ways (requests, responses, notifications, so the remote's elicitation, sampling and roots requests, progress and
 * logs reach the stdio client); it is not an MCP Client and negotiates nothing itself.
 *
 * The stdio client's messages decide the era: `initialize` makes the remote connection a 2025-era session (and
 * after its result the transport sends `MCP-Protocol-Version`, as the SDK Client does); a request with the
 * 2026-07-28 `_meta` envelope is sent as such (the SDK transport derives its headers from the body).
 *
 * When the connection breaks or the 2025-era session ends on the server (404), the bridge opens a new one and
 * replays the stdio client's `initialize` and `notifications/initialized`, so the stdio client never notices a
 * new session. A request that provably never ran (404 for the session, connection refused) is sent once more on
 * the new connection; one that may have run (the connection broke while it waited) gets a -32603 error rather
 * than hanging. Everything the bridge does on its own is logged to stderr; stdout carries only the protocol.
 */
import {
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
  SseError,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/client';

import { wiresFor } from '../../client/connect.js';
import {
  type AuthOption,
  classifyFailure,
  createTransport,
  isRetryable,
  retryDelay,
  type TransportKind,
  type WireKind,
} from '../../client/index.js';
import type { ResolvedRetry } from '../../client/options.js';
import { describeFailure } from '../client-flags.js';
import { BRIDGE_ERRORS, type Classified, envelopeVersion, errorResponse, idKey } from './messages.js';
import { NOT_STREAMABLE, sendFailure, statusOf } from './send-failure.js';

export interface BridgeOptions {
  url: URL;
  transport: TransportKind;
  headers: Record<string, string>;
  auth: AuthOption | undefined;
  /** Bound on the WebSocket handshake and on the replayed `initialize`. */
  connectTimeoutMs: number;
  /** Tries to (re)open the connection, with backoff, before the waiting requests get an error. */
  reconnect: ResolvedRetry;
  /** One message to the stdio client (stdout). */
  write: (message: JSONRPCMessage) => void;
  /** One line for the user (stderr). */
  log: (line: string) => void;
}

/** One connection to the remote server; a new one (a new generation) replaces it when it is lost. */
interface Link {
  generation: number;
  wire: WireKind;
  transport: Transport;
  lost: boolean;
  /** Set while the stdio client's initialize is being replayed on this link. */
  replay?: { id: string; settle: (result: unknown, error?: Error) => void };
}

/** A request from the stdio client that has no answer yet. */
interface Pending {
  id: RequestId;
  method: string;
  message: JSONRPCMessage;
  generation: number;
  /** Tries refused so far (no server took the connection): retried with backoff up to `reconnect.attempts`. */
  refusals: number;
  /** Sent once more already after a 404 for the session (the server no longer knew it, so it never ran). */
  resentForSession: boolean;
  /** Being sent again right now: a lost link must not answer it. */
  resending: boolean;
  /** Aborts its POST: the 2026-07-28 cancellation on Streamable HTTP. */
  abort?: AbortController;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Bridge {
  readonly #options: BridgeOptions;
  #wires: WireKind[];
  #era: 'unknown' | 'legacy' | 'modern' = 'unknown';
  /** The stdio client's initialize, replayed on every new connection of a 2025-era session. */
  #initialize: JSONRPCMessage | undefined;
  #initialized = false;
  /** The remote answered the stdio client's initialize: a new connection must replay it. */
  #sessionOpened = false;
  #protocolVersion: string | undefined;
  #link: Link | undefined;
  #opening: Promise<Link> | undefined;
  #generation = 0;
  /** Whether the remote ever answered: before that, a refused initialize may mean an HTTP+SSE-only server. */
  #answered = false;
  #closing = false;
  readonly #pending = new Map<string, Pending>();
  /** Requests from the remote awaiting the stdio client's answer, by the generation they came on. */
  readonly #fromRemote = new Map<string, number>();

  constructor(options: BridgeOptions) {
    this.#options = options;
    this.#wires = wiresFor(options.url, options.transport);
  }

  /** One message from the stdio client. */
  handle(classified: Classified): void {
    if (this.#closing) return;
    switch (classified.kind) {
      case 'invalid':
        this.#options.write(errorResponse(classified.id, BRIDGE_ERRORS.invalidRequest, classified.reason));
        return;
      case 'request':
        this.#request(classified.id, classified.method, classified.message);
        return;
      case 'notification':
        this.#notification(classified.method, classified.message);
        return;
      case 'response':
        this.#response(classified.id, classified.message);
        return;
    }
  }

  /** The stdio client is gone: end the remote session (DELETE for a Streamable HTTP session) and close. */
  async close(): Promise<void> {
    this.#closing = true;
    // A connection still opening is left to process exit: the stdio client is gone.
    const link = this.#link;
    this.#link = undefined;
    if (link === undefined) return;
    link.lost = true;
    const transport = link.transport as Transport & { sessionId?: string; terminateSession?: () => Promise<void> };
    const sessionId = transport.sessionId;
    if (sessionId !== undefined) {
      await transport.terminateSession?.().then(
        () => this.#options.log(`ended the remote session ${sessionId}`),
        (error: unknown) => this.#options.log(`could not end the remote session: ${describeFailure(error)}`),
      );
    }
    await transport.close().catch(() => {});
  }

  #request(id: RequestId, method: string, message: JSONRPCMessage): void {
    if (method === 'initialize') {
      this.#era = 'legacy';
      this.#initialize = message;
      this.#initialized = false;
      this.#sessionOpened = false;
    } else if (this.#era === 'unknown' && envelopeVersion(message) !== undefined) this.#era = 'modern';
    const pending: Pending = {
      id,
      method,
      message,
      generation: 0,
      refusals: 0,
      resentForSession: false,
      resending: false,
    };
    this.#pending.set(idKey(id), pending);
    void this.#send(pending);
  }

  #notification(method: string, message: JSONRPCMessage): void {
    if (method === 'notifications/initialized') this.#initialized = true;
    if (method === 'notifications/cancelled') {
      const requestId = (message as { params?: { requestId?: RequestId } }).params?.requestId;
      const pending = requestId === undefined ? undefined : this.#pending.get(idKey(requestId));
      if (pending !== undefined) this.#pending.delete(idKey(pending.id));
      // 2026-07-28 over Streamable HTTP cancels by aborting the request's POST, not with a notification.
      if (pending?.abort !== undefined) {
        pending.abort.abort();
        return;
      }
    }
    void this.#forward(message, 'notification');
  }

  #response(id: RequestId, message: JSONRPCMessage): void {
    const key = idKey(id);
    const generation = this.#fromRemote.get(key);
    this.#fromRemote.delete(key);
    if (generation !== undefined && generation !== this.#link?.generation) {
      this.#options.log(`dropped the answer to request ${String(id)}: it came from a connection that has since closed`);
      return;
    }
    void this.#forward(message, 'answer');
  }

  /** Sends a notification or an answer on the current connection (opening one if needed); failures are logged. */
  async #forward(message: JSONRPCMessage, what: string): Promise<void> {
    try {
      const link = await this.#ready();
      await link.transport.send(message);
    } catch (error) {
      this.#options.log(
        `could not forward a${what === 'answer' ? 'n' : ''} ${what} to the remote: ${describeFailure(error)}`,
      );
    }
  }

  async #send(pending: Pending): Promise<void> {
    const key = idKey(pending.id);
    let link: Link;
    try {
      link = await this.#ready();
    } catch (error) {
      if (this.#pending.get(key) !== pending) return;
      this.#answerError(
        pending,
        `remote-mcp bridge: cannot reach ${this.#options.url.href}: ${describeFailure(error)}`,
      );
      return;
    }
    if (this.#pending.get(key) !== pending) return;
    pending.generation = link.generation;
    pending.resending = false;
    const options: TransportSendOptions = {};
    if (link.wire === 'streamable-http') {
      options.onRequestStreamEnd = () => this.#streamEnded(pending, link);
      if (this.#era === 'modern') {
        pending.abort = new AbortController();
        options.requestSignal = pending.abort.signal;
      }
    }
    try {
      await link.transport.send(pending.message, options);
    } catch (error) {
      if (pending.abort?.signal.aborted === true || this.#pending.get(key) !== pending) return;
      this.#sendFailed(pending, link, error);
    }
  }

  #sendFailed(pending: Pending, link: Link, error: unknown): void {
    const failure = sendFailure(error, { method: pending.method, inSession: this.#sessionOpened, linkLost: link.lost });
    // A server that knows only HTTP+SSE refuses the Streamable HTTP initialize without a JSON-RPC error.
    if (
      pending.method === 'initialize' &&
      !this.#answered &&
      link.wire === 'streamable-http' &&
      this.#wires.includes('sse') &&
      failure.status !== undefined &&
      NOT_STREAMABLE.has(failure.status) &&
      failure.rpc === undefined
    ) {
      this.#wires = ['sse'];
      this.#options.log(`${this.#options.url.href} refused Streamable HTTP (HTTP ${failure.status}); trying HTTP+SSE`);
      pending.resending = true;
      this.#lose(link, undefined);
      void this.#send(pending);
      return;
    }
    if (failure.sessionGone && !pending.resentForSession) {
      pending.resentForSession = true;
      pending.resending = true;
      this.#lose(link, 'the remote session ended');
      void this.#send(pending);
      return;
    }
    if (failure.refused && pending.refusals + 1 < this.#options.reconnect.attempts) {
      pending.refusals++;
      pending.resending = true;
      this.#lose(link, `the connection was refused (${describeFailure(error)})`);
      const delayMs = retryDelay(pending.refusals, this.#options.reconnect);
      setTimeout(() => void this.#send(pending), delayMs);
      return;
    }
    // Answered before the link is given up, so that giving it up does not answer it a second time.
    if (failure.rpc !== undefined)
      this.#answer(pending, errorResponse(pending.id, failure.rpc.code, failure.rpc.message, failure.rpc.data));
    else if (failure.refused || failure.sessionGone)
      this.#answerError(
        pending,
        `remote-mcp bridge: cannot reach ${this.#options.url.href}: ${describeFailure(error)}`,
      );
    else {
      // A 4xx is a refusal: the server did not run it. Anything else may have happened after it ran.
      const refusedByStatus = failure.status !== undefined && failure.status >= 400 && failure.status < 500;
      const mayHaveRun = refusedByStatus ? '' : '; it may have run';
      this.#answerError(pending, `remote-mcp bridge: ${pending.method} failed${mayHaveRun}: ${describeFailure(error)}`);
    }
    if (failure.linkBroken) this.#lose(link, `the connection broke (${describeFailure(error)})`);
  }

  /** A POST's response stream ended: if it did not carry the answer, none will come. */
  #streamEnded(pending: Pending, link: Link): void {
    // Let an answer delivered just before the end be handled first.
    setImmediate(() => {
      if (this.#pending.get(idKey(pending.id)) !== pending || pending.generation !== link.generation) return;
      if (pending.resending) return;
      this.#answerError(
        pending,
        `remote-mcp bridge: the stream carrying the answer to ${pending.method} ended without it; it may have run`,
      );
    });
  }

  #answer(pending: Pending, message: JSONRPCMessage): void {
    this.#pending.delete(idKey(pending.id));
    this.#options.write(message);
  }

  #answerError(pending: Pending, message: string): void {
    this.#answer(pending, errorResponse(pending.id, BRIDGE_ERRORS.internalError, message));
  }

  /** A message from the remote server on `link`. */
  #received(link: Link, message: JSONRPCMessage): void {
    if (link.lost || this.#closing) return;
    this.#answered = true;
    const record = message as { id?: RequestId; method?: unknown; result?: { protocolVersion?: unknown } };
    if (typeof record.method === 'string') {
      if (record.id !== undefined) this.#fromRemote.set(idKey(record.id), link.generation);
      this.#options.write(message);
      return;
    }
    if (record.id === undefined) return;
    if (link.replay !== undefined && record.id === link.replay.id) {
      const error = (message as { error?: { message?: string; code?: number } }).error;
      link.replay.settle(
        record.result,
        error === undefined ? undefined : new Error(`${error.message ?? 'error'} (JSON-RPC error ${error.code})`),
      );
      return;
    }
    const pending = this.#pending.get(idKey(record.id));
    if (pending === undefined) {
      this.#options.log(`dropped an answer to request ${String(record.id)}, which is answered or cancelled already`);
      return;
    }
    if (pending.method === 'initialize' && isJSONRPCResultResponse(message)) {
      this.#negotiated(link, record.result);
      this.#sessionOpened = true;
    }
    this.#answer(pending, message);
  }

  /** After initialize, every request carries MCP-Protocol-Version, as the SDK Client sets it. */
  #negotiated(link: Link, result: { protocolVersion?: unknown } | undefined): void {
    const version = result?.protocolVersion;
    if (typeof version !== 'string') return;
    link.transport.setProtocolVersion?.(version);
    if (this.#protocolVersion !== undefined && this.#protocolVersion !== version)
      this.#options.log(`the new remote session negotiated ${version}, the stdio client has ${this.#protocolVersion}`);
    this.#protocolVersion ??= version;
  }

  #errored(link: Link, error: Error): void {
    if (link.lost || this.#closing) return;
    const { status } = statusOf(error);
    // A failed POST also reaches onerror before its send() rejects: let #sendFailed decide about it first.
    const lostSession = status === 404 && this.#sessionOpened;
    const brokenStream = error instanceof SseError || /Maximum reconnection attempts/.test(error.message);
    if (!lostSession && !brokenStream) return;
    setImmediate(() => {
      if (this.#closing) return;
      this.#lose(link, lostSession ? 'the remote session ended' : `the event stream broke (${describeFailure(error)})`);
    });
  }

  #closed(link: Link): void {
    if (link.lost || this.#closing) return;
    this.#lose(link, 'the connection closed');
  }

  /**
   * Gives up a connection: the requests waiting on it get an error (they may have run), the transport is closed,
   * and a new connection is opened (in the background, so that server notifications flow again).
   */
  #lose(link: Link, reason: string | undefined): void {
    if (link.lost) return;
    link.lost = true;
    if (this.#link === link) this.#link = undefined;
    if (reason !== undefined) this.#options.log(`${reason}; reconnecting to ${this.#options.url.href}`);
    for (const pending of [...this.#pending.values()]) {
      if (pending.generation !== link.generation || pending.resending) continue;
      this.#answerError(
        pending,
        `remote-mcp bridge: the connection to ${this.#options.url.href} was lost before the answer to ${pending.method} came (${reason ?? 'reconnecting'}); it may have run`,
      );
    }
    for (const [key, generation] of this.#fromRemote) if (generation === link.generation) this.#fromRemote.delete(key);
    link.replay?.settle(undefined, new Error(reason ?? 'the connection was given up'));
    void link.transport.close().catch(() => {});
    if (this.#era !== 'unknown' && !this.#closing)
      void this.#ready().catch((error: unknown) =>
        this.#options.log(`cannot reconnect for now (${describeFailure(error)}); trying again at the next request`),
      );
  }

  /** The open connection, or a new one. */
  #ready(): Promise<Link> {
    if (this.#link !== undefined && !this.#link.lost) return Promise.resolve(this.#link);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<Link> {
    const policy = this.#options.reconnect;
    for (let attempt = 1; ; attempt++) {
      const link = this.#createLink();
      try {
        await link.transport.start();
        if (this.#era === 'legacy' && this.#sessionOpened) await this.#replay(link);
        if (link.lost) throw new Error('the connection closed while opening');
        this.#link = link;
        if (link.generation > 1) this.#options.log(`reconnected to ${this.#options.url.href} (${link.wire})`);
        return link;
      } catch (error) {
        link.lost = true;
        link.replay?.settle(undefined, error as Error);
        await link.transport.close().catch(() => {});
        const failure = classifyFailure(error);
        if (this.#closing || attempt >= policy.attempts || !isRetryable(failure)) throw error;
        const delayMs = retryDelay(attempt, policy, failure.retryAfterMs);
        this.#options.log(`cannot connect (${describeFailure(error)}); trying again in ${Math.round(delayMs)} ms`);
        await sleep(delayMs);
      }
    }
  }

  #createLink(): Link {
    const wire = this.#wires[0]!;
    const transport = createTransport(this.#options.url, wire, {
      headers: this.#options.headers,
      ...(this.#options.auth !== undefined && { auth: this.#options.auth }),
      handshakeTimeoutMs: this.#options.connectTimeoutMs,
    });
    const link: Link = { generation: ++this.#generation, wire, transport, lost: false };
    transport.onmessage = (message) => this.#received(link, message);
    transport.onerror = (error) => this.#errored(link, error);
    transport.onclose = () => this.#closed(link);
    return link;
  }

  /** Opens the 2025-era session again with the stdio client's own initialize (and initialized). */
  async #replay(link: Link): Promise<void> {
    const id = `remote-mcp-bridge-replay-${link.generation}`;
    const params = (this.#initialize as { params?: unknown }).params;
    const answered = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to the replayed initialize within ${this.#options.connectTimeoutMs} ms`)),
        this.#options.connectTimeoutMs,
      );
      link.replay = {
        id,
        settle: (result, error) => {
          clearTimeout(timer);
          link.replay = undefined;
          if (error === undefined) resolve(result);
          else reject(error);
        },
      };
    });
    answered.catch(() => {});
    await link.transport.send({ jsonrpc: '2.0', id, method: 'initialize', params } as JSONRPCMessage);
    this.#negotiated(link, (await answered) as { protocolVersion?: unknown } | undefined);
    if (this.#initialized)
      await link.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' } as JSONRPCMessage);
  }
}
