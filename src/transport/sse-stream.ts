/**
 * One Server-Sent Events response: headers that stop proxies from buffering, `event: message` frames with
 * optional ids (2025-era resumability), keep-alive comment lines on a timer, and a bound on bytes the client
 * has not read yet — a reader that falls further behind than that is disconnected rather than allowed to grow
 * the server's memory.
 */
import type { ServerResponse } from 'node:http';

import { publishResponseBytes } from '../observability/channels.js';

export interface SseStreamOptions {
  /** Interval of `: keepalive` comment lines; 0 disables. */
  keepAliveMs: number;
  /** Unread bytes after which the stream is destroyed. */
  maxBufferedBytes: number;
  /** Extra response headers (e.g. Mcp-Session-Id). */
  headers?: Record<string, string>;
}

export class SseStream {
  private closedFlag = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private readonly closeListeners: Array<() => void> = [];

  /** `open: false` defers the response headers to {@link writeHead} (when the stream may still be refused). */
  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseStreamOptions,
    open = true,
  ) {
    if (open) this.writeHead();
  }

  /** Writes the response headers and starts the keep-alive timer. */
  writeHead(): void {
    const { res, options } = this;
    if (res.headersSent) return;
    res.writeHead(200, {
      ...options.headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told not to; a buffered stream delivers progress late.
      'x-accel-buffering': 'no',
    });
    // Send the headers now: clients wait for them before they treat the stream as open.
    res.flushHeaders();
    res.on('close', () => this.markClosed());
    if (options.keepAliveMs > 0) {
      this.keepAliveTimer = setInterval(() => this.writeRaw(': keepalive\n\n'), options.keepAliveMs);
      this.keepAliveTimer.unref();
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs `listener` once when the stream closes for any reason (end, client gone, destroyed). */
  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** Writes one JSON-RPC message as an `event: message` frame, with an event id when given. */
  send(message: unknown, eventId?: string, json: string = JSON.stringify(message)): void {
    publishResponseBytes(this.res, 'out', json);
    this.writeRaw(frame(json, eventId));
  }

  /** Writes a pre-serialized frame (see {@link frame}). */
  writeRaw(text: string): void {
    if (this.closedFlag || !this.res.headersSent) return;
    this.res.write(text);
    if (this.res.writableLength > this.options.maxBufferedBytes) {
      // The client reads slower than we produce: cut it off instead of buffering without bound.
      this.res.destroy();
      this.markClosed();
    }
  }

  /**
   * Ends the stream after what is already written. With `retryMs` (the server is draining) it first sets the
   * client's reconnection delay, so an EventSource-style client comes back soon, to whichever instance is up.
   */
  end(retryMs?: number): void {
    if (this.closedFlag) return;
    if (retryMs !== undefined && this.res.headersSent) this.res.write(`retry: ${retryMs}\n\n`);
    this.res.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

/** An SSE frame for one JSON text; `id:` first so a client records it before dispatching the data. */
export function frame(json: string, eventId?: string): string {
  return eventId === undefined
    ? `event: message\ndata: ${json}\n\n`
    : `id: ${eventId}\nevent: message\ndata: ${json}\n\n`;
}
