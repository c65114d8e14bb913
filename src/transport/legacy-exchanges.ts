/**
 * The HTTP side of 2025-era requests: a POST's exchange (one JSON answer, an array for a batch, or an SSE stream
 * once the handler streams; or, on an HTTP+SSE session, the session's stream) and each request's part of it.
 */
import type { ServerResponse } from 'node:http';

import type { JSONRPCMessage } from '@modelcontextprotocol/server';

import type { Exchange, ExchangeRouter, ResponseMessage } from '../server/exchange-router.js';
import { logLevelPasses, type LegacyStream, type LiveSession } from '../server/legacy-session.js';
import { writeJson } from './http-io.js';
import type { SseStream } from './sse-stream.js';

/** What a POST exchange needs from the endpoint: SSE responses for a session. */
export interface StreamOpener {
  openSse(res: ServerResponse, session: LiveSession): SseStream;
  primes(session: LiveSession): boolean;
}

export type Message = {
  jsonrpc?: unknown;
  id?: string | number | null;
  method?: unknown;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
};

export function isMessage(value: unknown): value is Message {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const m = value as Message;
  if (m.jsonrpc !== '2.0') return false;
  if (typeof m.method === 'string') return m.id === undefined || typeof m.id === 'string' || typeof m.id === 'number';
  return (typeof m.id === 'string' || typeof m.id === 'number') && ('result' in m || 'error' in m);
}

export const isRequest = (m: Message) => typeof m.method === 'string' && m.id !== undefined;
export const isNotification = (m: Message) => typeof m.method === 'string' && m.id === undefined;

/**
 * One POST's requests; answered with one JSON body (an array for a batch) or an SSE stream once the handler
 * streams. On a stream-bound session (`sessionStream` given: HTTP+SSE, WebSocket) a POST, if any, is answered
 * 202 at once and everything travels on the session's stream instead.
 */
export class PostExchange {
  private remaining: number;
  private readonly answers: ResponseMessage[] = [];
  private stream: LegacyStream | undefined;

  constructor(
    private readonly endpoint: StreamOpener,
    private readonly session: LiveSession,
    private readonly res: ServerResponse | undefined,
    count: number,
    private readonly batch: boolean,
    private readonly sessionStream?: LegacyStream,
  ) {
    this.remaining = count;
    session.activePosts.add(this);
    if (sessionStream !== undefined) {
      this.stream = sessionStream;
      res?.writeHead(202).end();
    }
  }

  related(message: JSONRPCMessage): void {
    if (!logLevelPasses(message, this.session.record.logLevel)) return;
    const m = message as { id?: number | string; method?: string };
    const request = m.method !== undefined && m.id !== undefined;
    this.streamOf().send(message, request ? this.session.sendingServerRequest(m.id!) : undefined);
  }

  answer(message: ResponseMessage | undefined): void {
    if (message !== undefined) {
      if (this.stream !== undefined) this.stream.send(message as unknown as JSONRPCMessage);
      else this.answers.push(message);
    }
    if (--this.remaining > 0) return;
    this.session.activePosts.delete(this);
    if (this.sessionStream !== undefined) return; // the session's stream outlives its POSTs
    if (this.stream !== undefined) this.stream.end();
    else if (this.answers.length === 0) this.res!.writeHead(202).end();
    else writeJson(this.res!, 200, this.batch ? this.answers : this.answers[0], { 'mcp-session-id': this.session.id });
  }

  private streamOf(): LegacyStream {
    if (this.stream === undefined) {
      const stream = this.session.newStream();
      stream.attach(this.endpoint.openSse(this.res!, this.session), this.endpoint.primes(this.session));
      // Answers that arrived before the first streamed message go first on the stream.
      for (const answer of this.answers.splice(0)) stream.send(answer as unknown as JSONRPCMessage);
      this.stream = stream;
    }
    return this.stream;
  }
}

/** The exchange of one request of a POST: ends with its answer, or without one when the client cancels it. */
export class RequestExchange implements Exchange {
  internalId = 0;
  private finished = false;

  constructor(
    private readonly post: PostExchange,
    private readonly session: LiveSession,
    private readonly key: string,
    private readonly router: ExchangeRouter,
    private readonly drainEnd: () => void,
  ) {}

  related(message: JSONRPCMessage): void {
    if (!this.finished) this.post.related(message);
  }

  respond(message: ResponseMessage): void {
    this.finish(message);
  }

  /** notifications/cancelled from the client: the handler is aborted and, as the protocol says, not answered. */
  cancel(reason: string): void {
    if (this.finished) return;
    this.router.cancel(this.internalId, reason);
    this.finish(undefined);
  }

  private finish(message: ResponseMessage | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.session.inflight.get(this.key) === this) this.session.inflight.delete(this.key);
    this.drainEnd();
    this.post.answer(message);
    this.session.done();
  }
}
