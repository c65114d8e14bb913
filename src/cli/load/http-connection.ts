/**
 * One keep-alive HTTP/1.1 connection on a raw socket, for the hot path: a request is one prebuilt buffer
 * (request line, headers and body, only the id's digits rewritten), and the response parser reads just what
 * bench needs (status, Content-Type, Content-Length or chunked, Connection: close). node:http's client costs
 * about twice as much CPU per request (a ClientRequest, header validation, an IncomingMessage, agent queues),
 * which is the load generator's own CPU taken from the server it measures on the same machine.
 * The socket is opened on first use and again after the server closes it; one request at a time.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

import { badResponse, connectionFailure, type Failure } from './classify.js';

/** A response head longer than this is refused (servers cap theirs lower: Node's default is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

export interface HttpAnswer {
  answered(status: number, contentType: string, body: string): void;
  failed(failure: Failure): void;
}

/** The request head every call of a connection sends: `POST <path>` with these headers and a fixed length. */
export function requestHead(url: URL, headers: Record<string, string | number>, contentLength: number): Buffer {
  const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${headers.host ?? url.host}`];
  for (const [name, value] of Object.entries(headers))
    if (name !== 'host' && name !== 'content-length') lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${contentLength}`, '', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

type State = 'idle' | 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'until-close';

export class HttpConnection {
  private socket: Socket | undefined;
  private state: State = 'idle';
  private pending: Buffer | undefined;
  private status = 0;
  private contentType = '';
  private closeAfter = false;
  /** Body bytes still expected (Content-Length, or the current chunk). */
  private remaining = 0;
  private body: Buffer[] = [];
  private bodyBytes = 0;

  constructor(
    private readonly url: URL,
    private readonly answer: HttpAnswer,
    private readonly maxBodyBytes: number,
  ) {
    this.onData = this.onData.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
  }

  /** Sends one request; its answer (or failure) is reported asynchronously. */
  send(request: Buffer): void {
    if (this.socket === undefined) this.socket = this.connect();
    this.state = 'head';
    this.pending = undefined;
    this.body = [];
    this.bodyBytes = 0;
    this.closeAfter = false;
    this.socket.write(request);
  }

  /** Drops the socket (and the request on it, if any) without reporting anything. */
  reset(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.state = 'idle';
    if (socket !== undefined) {
      socket.off('data', this.onData);
      socket.off('error', this.onError);
      socket.off('close', this.onClose);
      socket.on('error', () => {});
      socket.destroy();
    }
  }

  private connect(): Socket {
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const socket =
      this.url.protocol === 'https:'
        ? tlsConnect({
            host,
            port: Number(this.url.port || 443),
            servername: /^[\d.]+$|:/.test(host) ? undefined : host,
            ALPNProtocols: ['http/1.1'],
          })
        : netConnect({ host, port: Number(this.url.port || 80) });
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    return socket;
  }

  private fail(failure: Failure): void {
    const waiting = this.state !== 'idle';
    this.reset();
    if (waiting) this.answer.failed(failure);
  }

  private onError(error: Error): void {
    this.fail(connectionFailure(error));
  }

  private onClose(): void {
    if (this.state === 'until-close') return this.complete();
    this.fail({ kind: 'connection closed', message: 'the server closed the connection before answering' });
  }

  private complete(): void {
    const body =
      this.body.length === 1
        ? this.body[0]!.toString('utf8')
        : Buffer.concat(this.body, this.bodyBytes).toString('utf8');
    this.body = [];
    this.state = 'idle';
    if (this.closeAfter || this.socket?.destroyed === true) this.reset();
    this.answer.answered(this.status, this.contentType, body);
  }

  /** Adds body bytes; false when they pass the limit (the request has failed). */
  private take(chunk: Buffer): boolean {
    this.bodyBytes += chunk.length;
    if (this.bodyBytes > this.maxBodyBytes) {
      this.fail(badResponse(`an answer exceeds ${this.maxBodyBytes} bytes`));
      return false;
    }
    this.body.push(chunk);
    return true;
  }

  private onData(chunk: Buffer): void {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    while (data.length > 0 || this.state === 'trailer') {
      switch (this.state) {
        case 'idle':
          return; // nothing asked: bytes a server sends unprompted are not an answer
        case 'until-close':
          this.take(data);
          return;
        case 'head': {
          const end = data.indexOf(HEAD_END);
          if (end === -1) {
            if (data.length > MAX_HEAD_BYTES)
              return this.fail(badResponse(`a response head over ${MAX_HEAD_BYTES} bytes`));
            this.pending = data;
            return;
          }
          const rest = data.subarray(end + 4);
          if (!this.head(data.toString('latin1', 0, end))) return;
          data = rest;
          if ((this.state as State) === 'idle') return this.complete();
          break;
        }
        case 'body': {
          const part = data.length <= this.remaining ? data : data.subarray(0, this.remaining);
          this.remaining -= part.length;
          if (this.take(part) && this.remaining === 0) this.complete();
          return;
        }
        case 'chunk-size': {
          const end = data.indexOf(CRLF);
          if (end === -1) {
            this.pending = data;
            return;
          }
          const size = Number.parseInt(data.toString('latin1', 0, end).split(';')[0]!.trim(), 16);
          if (!Number.isSafeInteger(size) || size < 0) return this.fail(badResponse('a malformed chunk size'));
          data = data.subarray(end + 2);
          this.remaining = size;
          this.state = size === 0 ? 'trailer' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const part = data.length <= this.remaining ? data : data.subarray(0, this.remaining);
          this.remaining -= part.length;
          if (!this.take(part)) return;
          data = data.subarray(part.length);
          if (this.remaining === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end':
          if (data.length < 2) {
            this.pending = data;
            return;
          }
          data = data.subarray(2);
          this.state = 'chunk-size';
          break;
        case 'trailer': {
          // Trailer fields (rare) end with an empty line; without them the empty line follows the last chunk.
          const end = data.indexOf(CRLF);
          if (end === -1) {
            this.pending = data.length > 0 ? data : undefined;
            return;
          }
          data = data.subarray(end + 2);
          if (end === 0) return this.complete();
          break;
        }
      }
    }
  }

  /** Reads a response head; false when it failed the request. */
  private head(text: string): boolean {
    const lines = text.split('\r\n');
    const status = Number(lines[0]!.slice(9, 12));
    if (!lines[0]!.startsWith('HTTP/1.') || !Number.isInteger(status)) {
      this.fail(badResponse(`not an HTTP/1.1 response: ${lines[0]!.slice(0, 80)}`));
      return false;
    }
    let length: number | undefined;
    let chunked = false;
    this.contentType = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'content-length') length = Number(line.slice(colon + 1));
      else if (name === 'content-type') this.contentType = line.slice(colon + 1).trim();
      else if (name === 'transfer-encoding') chunked = line.toLowerCase().includes('chunked');
      else if (name === 'connection') this.closeAfter = line.toLowerCase().includes('close');
    }
    if (status >= 100 && status < 200) {
      this.state = 'head'; // 100 Continue, 103 Early Hints: the real answer follows
      return true;
    }
    this.status = status;
    if (chunked) this.state = 'chunk-size';
    else if (length !== undefined) {
      if (!Number.isSafeInteger(length) || length < 0) {
        this.fail(badResponse('a malformed Content-Length'));
        return false;
      }
      if (length > this.maxBodyBytes) {
        this.fail(badResponse(`an answer of ${length} bytes exceeds ${this.maxBodyBytes}`));
        return false;
      }
      this.remaining = length;
      this.state = length === 0 ? 'idle' : 'body';
    } else this.state = status === 204 || status === 304 ? 'idle' : 'until-close';
    return true;
  }
}
