/**
 * Lets one SDK server instance serve many HTTP exchanges at once.
 *
 * The official SDK connects one `Server` to one transport and keys in-flight requests by JSON-RPC id. Clients
 * choose their ids independently, so two clients (or two sessions) may both send id 1. The router gives every
 * inbound request an instance-unique id before the instance sees it, remembers which exchange it belongs to,
 * and maps the id back on the way out. Messages the instance emits while handling a request (progress, logs,
 * server-to-client requests) carry `relatedRequestId` and are routed to that request's exchange; messages with
 * no relation go to `onUnrelated`.
 */
import type {
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';

/** The HTTP side of one in-flight request. */
export interface Exchange {
  /** A notification or server-to-client request the handler emitted for this request. */
  related(message: JSONRPCMessage): void;
  /**
   * The terminal response, with the client's original id restored. `gate` is true when the instance answered
   * synchronously while the request was being delivered — the method registry and envelope checks that run
   * before any handler — which is how a ladder error (404 for unknown method) is told from a handler's error.
   */
  respond(message: ResponseMessage, gate: boolean): void;
}

export interface ResponseMessage {
  jsonrpc: '2.0';
  id: RequestId;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** A client request as the transports hand it over. */
export interface RouterRequest {
  method: string;
  params?: unknown;
  id: RequestId;
}

interface Pending {
  exchange: Exchange;
  clientId: RequestId;
}

type InstanceInbound = NonNullable<Transport['onmessage']>;

export class ExchangeRouter {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** The internal id being delivered right now; answers sent during delivery are gate answers. */
  private delivering = 0;
  /** Called with messages that relate to no in-flight request. */
  onUnrelated: (message: JSONRPCMessage) => void = () => {};
  /**
   * Delivers a request straight to the instance's request dispatch, skipping the three schema-based type
   * guards `Protocol.connect()` puts in front of every inbound message (the router already knows it is a
   * request). Set by sdk-bridge when the SDK has the expected shape; otherwise requests take the public path.
   */
  deliverRequest: ((message: JSONRPCMessage, extra?: MessageExtraInfo) => void) | undefined;
  /**
   * Sees every client request first (the task runtime, when the instance has task tools): answers it through
   * the exchange and returns 0, or delivers it itself with {@link deliverNew} and returns that id, or returns
   * undefined to let it through.
   */
  intercept: ((message: RouterRequest, exchange: Exchange, extra?: MessageExtraInfo) => number | undefined) | undefined;

  constructor(private readonly transport: { onmessage?: InstanceInbound | undefined }) {}

  /** Delivers a client request to the instance; returns the internal id it was given. */
  request(message: RouterRequest, exchange: Exchange, extra?: MessageExtraInfo): number {
    if (this.intercept !== undefined) {
      const handled = this.intercept(message, exchange, extra);
      if (handled !== undefined) return handled;
    }
    return this.deliverNew(message, exchange, extra);
  }

  /** The internal id the next delivered request will get. */
  get nextRequestId(): number {
    return this.nextId + 1;
  }

  /** Delivers a client request to the instance, past any interceptor; returns the internal id it was given. */
  deliverNew(message: RouterRequest, exchange: Exchange, extra?: MessageExtraInfo): number {
    const internalId = ++this.nextId;
    this.pending.set(internalId, { exchange, clientId: message.id });
    this.delivering = internalId;
    try {
      const inbound = {
        jsonrpc: '2.0',
        id: internalId,
        method: message.method,
        params: message.params,
      } as JSONRPCMessage;
      if (this.deliverRequest !== undefined) this.deliverRequest(inbound, extra);
      else this.deliver(inbound, extra);
    } finally {
      this.delivering = 0;
    }
    return internalId;
  }

  /** Delivers a client notification, or a client's response to a server-to-client request. */
  forward(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.deliver(message, extra);
  }

  /**
   * Abandons an in-flight request (its client went away): the exchange gets nothing more, and the instance
   * receives `notifications/cancelled` so the handler's abort signal fires and its work stops.
   */
  cancel(internalId: number, reason: string, extra?: MessageExtraInfo, meta?: Record<string, unknown>): void {
    if (!this.pending.delete(internalId)) return;
    const params =
      meta === undefined ? { requestId: internalId, reason } : { requestId: internalId, reason, _meta: meta };
    this.deliver({ jsonrpc: '2.0', method: 'notifications/cancelled', params } as JSONRPCMessage, extra);
  }

  /** Everything the instance sends goes through here (the transports' `send`). */
  route(message: JSONRPCMessage, options?: TransportSendOptions): void {
    const m = message as { id?: RequestId; method?: string; result?: unknown; error?: unknown };
    if (m.method === undefined && m.id !== undefined) {
      const pending = this.pending.get(m.id as number);
      if (pending === undefined) return; // the exchange was cancelled; the answer has nowhere to go
      this.pending.delete(m.id as number);
      const restored = { ...(message as unknown as ResponseMessage), id: pending.clientId };
      pending.exchange.respond(restored, this.delivering === m.id);
      return;
    }
    const related = options?.relatedRequestId;
    if (related !== undefined) {
      const pending = this.pending.get(related as number);
      if (pending !== undefined) {
        pending.exchange.related(message);
        return;
      }
      if (m.method !== undefined && m.id !== undefined) {
        // A server-to-client request for a request that has ended: fail it now rather than let the handler
        // wait for its timeout.
        this.deliver({
          jsonrpc: '2.0',
          id: m.id,
          error: { code: -32603, message: 'The request this message belongs to has ended' },
        } as JSONRPCMessage);
      }
      return;
    }
    this.onUnrelated(message);
  }

  /** Fails every in-flight exchange (the instance is going away). */
  failAll(message: string): void {
    for (const [internalId, pending] of this.pending) {
      this.pending.delete(internalId);
      pending.exchange.respond({ jsonrpc: '2.0', id: pending.clientId, error: { code: -32603, message } }, false);
    }
  }

  private deliver(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const inbound = this.transport.onmessage;
    if (inbound === undefined) throw new Error('remote-mcp: the server instance is not connected');
    inbound(message, extra);
  }
}
