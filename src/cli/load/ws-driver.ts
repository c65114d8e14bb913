/**
 * `--transport ws`: MCP over WebSocket (subprotocol `mcp`, one JSON-RPC message per text frame), 2026-07-28
 * requests: the first one carries the `_meta` envelope like all the others, which makes the socket a stream of
 * independent requests (no initialize). A timed-out call is cancelled with notifications/cancelled.
 */
import WebSocket, { type RawData } from 'ws';

import { BENCH_LIMITS, type BenchOptions } from './bench-options.js';
import { CallTemplate, callParams, MODERN_ENVELOPE, type CallBuffer } from './call-template.js';
import { badResponse, classifyMessage, connectionFailure, parseObject } from './classify.js';
import { OpenError, openErrorOf, readRefusal, type AnswerSink, type Channel, type Driver } from './driver.js';

/** Frames go out as text (remote-mcp closes a binary frame with 1003), from this connection's buffer. */
const TEXT = { binary: false } as const;

/** The WebSocket URL of an http(s) or ws(s) URL. */
export function webSocketUrl(url: URL): URL {
  const ws = new URL(url);
  if (ws.protocol === 'http:') ws.protocol = 'ws:';
  else if (ws.protocol === 'https:') ws.protocol = 'wss:';
  return ws;
}

class SocketChannel implements Channel {
  open = true;
  private pending = 0;
  private readonly body: CallBuffer;

  constructor(
    private readonly ws: WebSocket,
    template: CallTemplate,
    private readonly sink: AnswerSink,
  ) {
    this.body = template.buffer();
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => {
      this.open = false;
      const id = this.pending;
      this.pending = 0;
      if (id !== 0)
        this.sink(id, { kind: 'connection closed', message: `WebSocket closed ${code} ${reason.toString()}`.trim() });
    });
    ws.on('error', (error: Error) => {
      const id = this.pending;
      this.pending = 0;
      if (id !== 0) this.sink(id, connectionFailure(error));
    });
  }

  call(id: number): void {
    this.pending = id;
    this.ws.send(this.body.withId(id), TEXT);
  }

  abandon(id: number): void {
    this.pending = 0;
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'timeout', _meta: MODERN_ENVELOPE },
        }),
      );
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.pending === 0) return;
    const message = isBinary ? undefined : parseObject(data.toString());
    if (message === undefined) {
      const id = this.pending;
      this.pending = 0;
      this.sink(id, badResponse(isBinary ? 'a binary frame' : 'a frame that is not a JSON-RPC message'));
      return;
    }
    // Notifications (progress, listen) and anything for another id are not this call's answer.
    if (message.id !== this.pending || 'method' in message) return;
    this.pending = 0;
    this.sink(message.id, classifyMessage(message));
  }

  close(): Promise<void> {
    this.open = false;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), BENCH_LIMITS.closeTimeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000);
    });
  }
}

export class WebSocketDriver implements Driver {
  private readonly url: URL;
  private readonly template: CallTemplate;

  constructor(private readonly options: BenchOptions) {
    this.url = webSocketUrl(options.url);
    this.template = new CallTemplate('tools/call', callParams(options.tool, options.args, true));
  }

  async prepare(): Promise<void> {}

  open(sink: AnswerSink): Promise<Channel> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ['mcp'], {
        headers: this.options.headers,
        perMessageDeflate: false,
        handshakeTimeout: this.options.timeoutMs,
        maxPayload: BENCH_LIMITS.maxResponseBytes,
      });
      const failed = (error: Error) => {
        ws.on('error', () => {}); // terminating a handshake reports once more
        ws.terminate();
        reject(openErrorOf(error));
      };
      ws.once('error', failed);
      ws.once('unexpected-response', (_req, res) => {
        void readRefusal(res).then((said) =>
          failed(new OpenError(`the WebSocket upgrade was answered HTTP ${res.statusCode}${said ? `: ${said}` : ''}`)),
        );
      });
      ws.once('open', () => {
        ws.off('error', failed);
        resolve(new SocketChannel(ws, this.template, sink));
      });
    });
  }

  async close(): Promise<void> {}
}
