/**
 * The seam between the closed loop and a transport: a Driver opens Channels (one per connection of the run),
 * and a Channel sends one tools/call at a time and reports its answer through the sink it was opened with.
 * Also what the HTTP drivers share off the hot path: a keep-alive agent and one-off exchanges (handshakes,
 * discovery, DELETE); the calls themselves go over http-connection.ts.
 */
import { type Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as PlainAgent } from 'node:http';

import type { Failure } from './classify.js';

/** Called once per request: `failure` undefined for a success. Never called synchronously from `call`. */
export type AnswerSink = (id: number, failure: Failure | undefined) => void;

export interface Channel {
  /** Sends tools/call with this id. */
  call(id: number): void;
  /** The request in flight timed out: forget it (a late answer with its id is ignored). */
  abandon(id: number): void;
  /** False once the connection is gone: the loop opens a new channel before the next request. */
  readonly open: boolean;
  close(): Promise<void>;
}

export interface Driver {
  /** Checks the target once before any channel opens; rejects when it cannot be reached. */
  prepare(): Promise<void>;
  /** Opens one connection (a session, a stream, a WebSocket): rejects with what went wrong. */
  open(sink: AnswerSink): Promise<Channel>;
  close(): Promise<void>;
}

/** A connection could not be opened: the message says what the server answered or the socket said. */
export class OpenError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export type RequestFunction = typeof httpRequest;

/** How to reach an http(s) URL off the hot path: its request function and a keep-alive agent. */
export interface HttpTarget {
  request: RequestFunction;
  agent: HttpAgent;
}

export function httpTarget(url: URL, connections: number): HttpTarget {
  const https = url.protocol === 'https:';
  const options = { keepAlive: true, maxSockets: connections, maxFreeSockets: connections };
  return {
    request: (https ? httpsRequest : httpRequest) as RequestFunction,
    agent: https ? new HttpsAgent(options) : new PlainAgent(options),
  };
}

export interface Exchanged {
  status: number;
  headers: IncomingMessage['headers'];
  contentType: string;
  body: string;
}

/** One whole request and response, bounded by `timeoutMs` and `maxBytes` (handshakes, discovery, DELETE). */
export function exchange(
  target: HttpTarget,
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
  maxBytes: number,
): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    const req = target.request(url, { method: init.method, headers: init.headers, agent: target.agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > maxBytes) req.destroy(new OpenError(`the answer exceeds ${maxBytes} bytes`));
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          contentType: String(res.headers['content-type'] ?? ''),
          body,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new OpenError(`no answer to ${init.method} ${url.pathname} within ${timeoutMs} ms`, 'ETIMEDOUT')),
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** What a refusal's body says: its JSON-RPC error message, else the start of its text. */
export function refusalText(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the text itself.
  }
  return body.trim().slice(0, 200);
}

/** Reads the start of a refusal's body (at most 4 KiB), for the message that reports it. */
export function readRefusal(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < 4096) body += chunk;
    });
    res.on('end', () => resolve(refusalText(body)));
    res.on('error', () => resolve(refusalText(body)));
  });
}

/** The message of an error a socket or an exchange failed with, with its code when it has one. */
export function openErrorOf(error: unknown): OpenError {
  if (error instanceof OpenError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new OpenError(
    error instanceof Error ? error.message : String(error),
    typeof code === 'string' ? code : undefined,
  );
}
