/**
 * Test helpers: start the demo server (or any factory) with remote-mcp on 127.0.0.1 port 0, and send raw
 * HTTP requests whose status, headers and body the tests assert exactly.
 */
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';

import WebSocket from 'ws';

import { createRemoteServer, type RemoteServer, type RemoteServerOptions } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';

export const MODERN = '2026-07-28';
export const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
};

export interface Started {
  server: RemoteServer;
  url: string;
  port: number;
  close: () => Promise<void>;
}

/** Starts remote-mcp on 127.0.0.1:0 serving the demo server unless `server` is given. */
export async function start(options: Partial<RemoteServerOptions> = {}): Promise<Started> {
  const server = createRemoteServer({ server: createDemoServer, onError: () => {}, ...options });
  const { url, port } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, url, port, close: () => server.close() };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any;
}

/** Sends one raw HTTP request and collects the whole response. */
export function raw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Headers of a well-formed 2026-07-28 POST for `method` (and Mcp-Name when given). */
export function modernHeaders(method: string, name?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name !== undefined && { 'mcp-name': name }),
  };
}

/** A well-formed 2026-07-28 request body. */
export function modernBody(id: number | string, method: string, params: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method,
    params: { ...params, _meta: { ...ENVELOPE, ...(params._meta as object | undefined) } },
  });
}

/** Parses an SSE body into its JSON messages (frames without data are skipped). */
export function sseMessages(body: string): any[] {
  return body
    .split('\n\n')
    .map((frame) =>
      frame
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join(''),
    )
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data));
}

export interface SseEvent {
  id?: string;
  /** The `event:` field (`message` for JSON-RPC messages, `endpoint` for the HTTP+SSE POST URL). */
  event?: string;
  data: string;
  /** The data parsed as JSON, when it is JSON. */
  message?: any;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface OpenStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: SseEvent[];
  /** Resolves with the first event (already received or future) that matches, or rejects after `timeoutMs`. */
  waitFor(predicate: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the response. */
  ended: Promise<void>;
  /** Drops the connection from the client side. */
  destroy(): void;
  /** Everything received so far, as text (comments and `retry:` lines included). */
  text(): string;
}

/** Opens a request whose response is read incrementally as SSE (a JSON answer is recorded as one event). */
export function openStream(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers }, (res) => {
      const events: SseEvent[] = [];
      const waiters: Array<{ predicate: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }> = [];
      let buffer = '';
      let all = '';
      const push = (event: SseEvent) => {
        events.push(event);
        for (const waiter of [...waiters]) {
          if (waiter.predicate(event)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(event);
          }
        }
      };
      const json = !String(res.headers['content-type']).startsWith('text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        all += chunk;
        if (json) return;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = frame.split('\n');
          if (lines.every((line) => line.startsWith(':'))) continue;
          const id = lines
            .find((line) => line.startsWith('id:'))
            ?.slice(3)
            .trim();
          const event = lines
            .find((line) => line.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('');
          const message = data.length > 0 ? parseJson(data) : undefined;
          push({
            ...(id !== undefined && { id }),
            ...(event !== undefined && { event }),
            data,
            ...(message !== undefined && { message }),
          });
        }
      });
      const ended = new Promise<void>((done) => {
        res.on('end', () => {
          if (json && buffer.length > 0) push({ data: buffer, message: JSON.parse(buffer) });
          done();
        });
        res.on('close', () => done());
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        ended,
        destroy: () => req.destroy(),
        text: () => all,
        waitFor(predicate, timeoutMs = 5000) {
          const found = events.find(predicate);
          if (found !== undefined) return Promise.resolve(found);
          return new Promise((done, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)),
              timeoutMs,
            );
            waiters.push({ predicate, resolve: (event) => (clearTimeout(timer), done(event)) });
          });
        },
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export const LEGACY_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** The body of a 2025-era initialize request. */
export function initializeBody(
  protocolVersion = '2025-11-25',
  capabilities: Record<string, unknown> = {},
  id: number | string = 1,
): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities, clientInfo: { name: 'test', version: '1.0.0' } },
  });
}

/** Opens a 2025-era session (initialize + notifications/initialized); returns its id. */
export async function openSession(
  url: string,
  protocolVersion = '2025-11-25',
  capabilities: Record<string, unknown> = {},
  /** Sent on both requests: credentials, say. */
  headers: Record<string, string> = {},
): Promise<string> {
  const init = await raw(url, {
    headers: { ...LEGACY_HEADERS, ...headers },
    body: initializeBody(protocolVersion, capabilities),
  });
  if (init.status !== 200) throw new Error(`initialize answered ${init.status}: ${init.body}`);
  const id = init.headers['mcp-session-id'] as string;
  const ack = await raw(url, {
    headers: { ...sessionHeaders(id, protocolVersion), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}`);
  return id;
}

export function sessionHeaders(sessionId: string, protocolVersion = '2025-11-25'): Record<string, string> {
  return { ...LEGACY_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion };
}

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** A `remote-mcp serve` child process once it has printed its URL; `output()` is all it printed so far. */
export interface Serving {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Resolves when `child` (a `remote-mcp serve`) prints its URL; rejects if it exits first or after `ms`. */
export function untilServing(child: ChildProcess, ms: number, what: string): Promise<Serving> {
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  let poll: NodeJS.Timeout | undefined;
  return withTimeout(
    new Promise<Serving>((resolve, reject) => {
      poll = setInterval(() => {
        const match = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(output);
        if (match !== null) resolve({ child, url: match[1]!, output: () => output });
      }, 20);
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    }),
    ms,
    what,
  ).finally(() => clearInterval(poll));
}

/** Runs `body` against a server started with `options`, closing it whatever happens. */
export async function withServer(
  options: Partial<RemoteServerOptions>,
  body: (started: Started) => Promise<void>,
): Promise<void> {
  const started = await start(options);
  try {
    await body(started);
  } finally {
    await started.close();
  }
}

/** One HTTP exchange a client made through {@link recordingFetch}: what it sent and what came back. */
export interface RecordedExchange {
  method: string;
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** The request body parsed as JSON (undefined for GET/DELETE). */
  body: any;
  /** Set once the response head has arrived. */
  status?: number;
  responseHeaders?: Record<string, string>;
  /** JSON-RPC messages of the response body (a JSON answer or SSE frames), appended as they arrive. */
  responseMessages: any[];
}

export interface RecordingFetch {
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  exchanges: RecordedExchange[];
  /** Resolves with the first exchange (past or future) that matches once `predicate` holds for it; rejects after `ms`. */
  waitFor(predicate: (exchange: RecordedExchange) => boolean, ms: number, what: string): Promise<RecordedExchange>;
}

/**
 * A fetch for a client transport's `fetch` option that records every request and, from a clone of the
 * response, every JSON-RPC message the response carries, so tests can assert what went over the wire.
 */
export function recordingFetch(): RecordingFetch {
  const exchanges: RecordedExchange[] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const fetchFn = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const exchange: RecordedExchange = {
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      responseMessages: [],
    };
    exchanges.push(exchange);
    changed();
    const response = await fetch(input, init);
    exchange.status = response.status;
    exchange.responseHeaders = {};
    response.headers.forEach((value, name) => {
      exchange.responseHeaders![name] = value;
    });
    const copy = response.clone();
    const sse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    void (async () => {
      if (copy.body === null) return;
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of copy.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          if (!sse) continue;
          for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
            const data = buffer
              .slice(0, end)
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trim())
              .join('');
            buffer = buffer.slice(end + 2);
            if (data.length > 0) {
              exchange.responseMessages.push(JSON.parse(data));
              changed();
            }
          }
        }
        if (!sse && buffer.trim().length > 0) {
          const parsed = JSON.parse(buffer);
          exchange.responseMessages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
        }
      } catch {
        // The client aborted the stream (closing a subscription or the transport).
      }
      changed();
    })();
    changed();
    return response;
  };
  return {
    fetch: fetchFn,
    exchanges,
    waitFor(predicate, ms, what) {
      let check = () => {};
      const found = new Promise<RecordedExchange>((resolve) => {
        check = () => {
          const match = exchanges.find(predicate);
          if (match === undefined) return;
          waiters.delete(check);
          resolve(match);
        };
        waiters.add(check);
        check();
      });
      return withTimeout(found, ms, what).finally(() => waiters.delete(check));
    },
  };
}

/** A WebSocket client that records every message it receives. */
export interface TestSocket {
  ws: WebSocket;
  messages: any[];
  waitFor(predicate: (message: any) => boolean, what: string): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

/** Opens a WebSocket to an MCP endpoint URL (http → ws) with the `mcp` subprotocol unless told otherwise. */
export async function connectWebSocket(
  url: string,
  protocols: string[] = ['mcp'],
  headers?: Record<string, string>,
): Promise<TestSocket> {
  const ws = new WebSocket(url.replace('http', 'ws'), protocols, { headers });
  const messages: any[] = [];
  const waiters: Array<{ predicate: (m: any) => boolean; resolve: (m: any) => void }> = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    messages.push(message);
    for (const waiter of [...waiters])
      if (waiter.predicate(message)) waiters.splice(waiters.indexOf(waiter), 1), waiter.resolve(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await withTimeout(
    new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))),
    3000,
    'the WebSocket to open',
  );
  return {
    ws,
    messages,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    waitFor: (predicate, what) => {
      const found = messages.find(predicate);
      return withTimeout(
        found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ predicate, resolve })),
        3000,
        what,
      );
    },
  };
}
