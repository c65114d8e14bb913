/**
 * An MCP client transport over WebSocket (the SDK v2 has none): subprotocol `mcp`, one JSON-RPC message per text
 * frame, the wire remote-mcp serves at `ws(s)://host/mcp` for both eras. Built on `ws`, which Node 20 needs (its
 * global WebSocket is behind a flag) and which lets the handshake carry headers such as Authorization.
 */
import type { IncomingMessage } from 'node:http';

import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import WebSocket from 'ws';

import { HttpStatusError, parseRetryAfter } from './http-status-error.js';

export interface WebSocketClientTransportOptions {
  /** Handshake headers; a function is called on every (re)connect. */
  headers?: Record<string, string> | (() => Promise<Record<string, string>>);
  /** Give up on the handshake after this. Default 10,000 ms. */
  handshakeTimeoutMs?: number;
  /** Largest message accepted from the server. Default 64 MiB (ws's default is 100 MiB). */
  maxPayloadBytes?: number;
  /** TLS options for wss (for example `{ rejectUnauthorized: false }` or `ca`), passed to `ws`. */
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer };
}

export const WEBSOCKET_DEFAULTS = Object.freeze({ handshakeTimeoutMs: 10_000, maxPayloadBytes: 64 * 1024 * 1024 });

const SUBPROTOCOL = 'mcp';
/** The code of the error send() gives on a socket that is not open: nothing was sent. */
export const NOT_OPEN = 'ERR_MCP_WEBSOCKET_NOT_OPEN';
/** Longest handshake refusal body read into the error. */
const MAX_REFUSAL_BYTES = 4096;

export class WebSocketClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #url: URL;
  readonly #options: WebSocketClientTransportOptions;
  #socket: WebSocket | undefined;
  #closed = false;

  constructor(url: string | URL, options: WebSocketClientTransportOptions = {}) {
    this.#url = new URL(url);
    if (this.#url.protocol !== 'ws:' && this.#url.protocol !== 'wss:')
      throw new TypeError(`WebSocketClientTransport needs a ws: or wss: URL, got ${this.#url.protocol}`);
    this.#options = options;
  }

  async start(): Promise<void> {
    if (this.#socket !== undefined) throw new Error('WebSocketClientTransport already started');
    const headers =
      typeof this.#options.headers === 'function' ? await this.#options.headers() : (this.#options.headers ?? {});
    const socket = new WebSocket(this.#url, [SUBPROTOCOL], {
      headers,
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? WEBSOCKET_DEFAULTS.handshakeTimeoutMs,
      maxPayload: this.#options.maxPayloadBytes ?? WEBSOCKET_DEFAULTS.maxPayloadBytes,
      ...this.#options.tls,
    });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        socket.removeAllListeners('open');
        reject(error);
      };
      socket.once('open', () => {
        socket.removeListener('error', fail);
        if (socket.protocol !== SUBPROTOCOL) {
          socket.terminate();
          reject(new Error(`the server did not agree to the "${SUBPROTOCOL}" WebSocket subprotocol`));
          return;
        }
        resolve();
      });
      socket.once('error', fail);
      socket.once('unexpected-response', (_request, response) => {
        readRefusal(response).then(fail, fail);
      });
    });
    socket.on('message', (data, isBinary) => this.#receive(data, isBinary));
    socket.on('error', (error) => this.onerror?.(error));
    socket.on('close', () => this.#ended());
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.onerror?.(new Error('the server sent a binary WebSocket frame; MCP frames are text'));
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = JSON.parse(data.toString()) as JSONRPCMessage;
    } catch {
      this.onerror?.(new Error('the server sent a WebSocket frame that is not JSON'));
      return;
    }
    this.onmessage?.(message);
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN)
      return Promise.reject(Object.assign(new Error('WebSocket is not open'), { code: NOT_OPEN }));
    return new Promise((resolve, reject) => {
      socket.send(JSON.stringify(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) {
      this.#ended();
      return;
    }
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.close(1000);
    // A peer that never answers the close frame must not hold close() open.
    const timer = setTimeout(() => socket.terminate(), 2000);
    await closed;
    clearTimeout(timer);
    this.#ended();
  }
}

/** A refused handshake becomes the same error an HTTP request refused with that status gets. */
async function readRefusal(response: IncomingMessage): Promise<Error> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_REFUSAL_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  const body = Buffer.concat(chunks).toString('utf8').slice(0, MAX_REFUSAL_BYTES);
  const status = response.statusCode ?? 0;
  return new HttpStatusError(
    status,
    response.statusMessage ?? '',
    body,
    parseRetryAfter(response.headers['retry-after'] as string | undefined),
  );
}
