/**
 * Raw HTTP probes for doctor, on node:http/https rather than fetch or the SDK: each probe connects to the
 * address the TCP check reached, says exactly what came back (status, headers, the bytes), and stops when the
 * check's signal aborts. Bodies are read up to MAX_PROBE_BODY_BYTES; an SSE stream is read until the event
 * looked for arrives.
 */
import type { LookupAddress } from 'node:dns';
import { type Agent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

import type { DoctorContext } from './check.js';

/** The most of a response body a probe reads; an endpoint's answers are far smaller. */
export const MAX_PROBE_BODY_BYTES = 1024 * 1024;

export interface ProbeResponse {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  /** Every header line as sent (WWW-Authenticate may come as several). */
  rawHeaders: string[];
  body: string;
  /** The body went past MAX_PROBE_BODY_BYTES and was cut there. */
  truncated: boolean;
}

export interface ProbeRequest {
  url: URL;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Default: a connection of its own (agent: false). The latency check reuses one. */
  agent?: Agent;
}

/**
 * The connection options every probe shares: the address TCP reached (through `lookup`, so the Host header and
 * the TLS server name stay the URL's), and certificate checking unless --insecure.
 */
export function connectOptions(context: DoctorContext): RequestOptions {
  const target = context.target!;
  const connected = context.connected;
  const options: RequestOptions = {};
  if (connected !== undefined && !target.isIp) {
    options.lookup = ((_host: string, lookupOptions: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      if (lookupOptions.all === true) callback(null, [connected] satisfies LookupAddress[]);
      else callback(null, connected.address, connected.family);
    }) as RequestOptions['lookup'];
  }
  if (target.secure) {
    options.rejectUnauthorized = !context.options.insecure;
    if (!target.isIp) options.servername = target.host;
  }
  return options;
}

function start(
  context: DoctorContext,
  init: Omit<ProbeRequest, 'signal'> & { signal?: AbortSignal },
  onResponse: (res: IncomingMessage) => void,
) {
  const send = init.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const req = send(
    init.url,
    {
      ...connectOptions(context),
      method: init.method,
      headers: {
        'user-agent': 'remote-mcp-doctor',
        ...init.headers,
        ...(body !== undefined && { 'content-length': String(body.length) }),
      },
      agent: init.agent ?? false,
      ...(init.signal !== undefined && { signal: init.signal }),
    },
    onResponse,
  );
  return { req, body };
}

/** Sends one request and reads the whole response (up to MAX_PROBE_BODY_BYTES). */
export function probe(context: DoctorContext, init: ProbeRequest): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const { req, body } = start(context, init, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
          truncated,
        });
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        size += chunk.length;
        if (size > MAX_PROBE_BODY_BYTES) {
          truncated = true;
          chunks.push(chunk.subarray(0, chunk.length - (size - MAX_PROBE_BODY_BYTES)));
          finish();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', finish);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface SseEvent {
  event: string;
  data: string;
}

export interface StreamProbe {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** The event looked for, when it arrived before the stream ended. */
  found?: SseEvent;
  /** The body read (for an answer that is not a stream, its text). */
  body: string;
}

/** Parses complete SSE frames out of `buffer`; returns the events and what is left of an unfinished frame. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const text = buffer.replace(/\r\n?/g, '\n');
  let rest = text;
  for (let end = rest.indexOf('\n\n'); end !== -1; end = rest.indexOf('\n\n')) {
    const lines = rest.slice(0, end).split('\n');
    rest = rest.slice(end + 2);
    if (lines.every((line) => line.startsWith(':') || line === '')) continue;
    const field = (name: string) =>
      lines.filter((line) => line.startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).replace(/^ /, ''));
    events.push({ event: field('event')[0] ?? 'message', data: field('data').join('\n') });
  }
  return { events, rest };
}

/**
 * Opens a request whose answer is an SSE stream and reads it until an event satisfies `until` (then drops the
 * connection), the stream ends, or the signal aborts: a stream that opened but never sent the event resolves
 * without `found`; no answer at all rejects.
 */
export function probeStream(
  context: DoctorContext,
  init: ProbeRequest,
  until: (event: SseEvent) => boolean,
): Promise<StreamProbe> {
  return new Promise((resolve, reject) => {
    let answer: ((found?: SseEvent) => void) | undefined;
    const aborted = () => {
      if (answer !== undefined) answer();
      else {
        req.destroy();
        reject(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
      }
    };
    const { req, body } = start(context, { ...init, signal: undefined }, (res) => {
      let buffer = '';
      let read = '';
      let settled = false;
      answer = (found?: SseEvent) => {
        if (settled) return;
        settled = true;
        init.signal.removeEventListener('abort', aborted);
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: read,
          ...(found !== undefined && { found }),
        });
        req.destroy();
      };
      const stream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (read.length + chunk.length > MAX_PROBE_BODY_BYTES) return answer!();
        read += chunk;
        if (!stream) return;
        const parsed = parseSse(buffer + chunk);
        buffer = parsed.rest;
        const found = parsed.events.find(until);
        if (found !== undefined) answer!(found);
      });
      res.on('end', () => answer!());
      res.on('close', () => answer!());
    });
    if (init.signal.aborted) return aborted();
    init.signal.addEventListener('abort', aborted, { once: true });
    req.on('error', (error) => {
      init.signal.removeEventListener('abort', aborted);
      if (answer === undefined) reject(error);
    });
    req.end(body);
  });
}

/** A JSON-RPC message as doctor reads it. */
export interface RpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code?: number; message?: string; data?: unknown };
}

/** The JSON-RPC messages of a response: its JSON body, or the data of its SSE events. Empty when it has none. */
export function rpcMessages(response: { headers: IncomingHttpHeaders; body: string }): RpcMessage[] {
  const type = String(response.headers['content-type'] ?? '');
  const texts = type.startsWith('text/event-stream')
    ? parseSse(`${response.body}\n\n`).events.map((event) => event.data)
    : [response.body];
  return texts.flatMap((text) => {
    try {
      const parsed = JSON.parse(text) as unknown;
      const all = Array.isArray(parsed) ? parsed : [parsed];
      return all.filter(
        (message): message is RpcMessage =>
          message !== null && typeof message === 'object' && (message as RpcMessage).jsonrpc === '2.0',
      );
    } catch {
      return [];
    }
  });
}

/** The answer to request `id` among a response's messages. */
export function answerTo(response: { headers: IncomingHttpHeaders; body: string }, id: string | number) {
  return rpcMessages(response).find((message) => message.id === id && message.method === undefined);
}

/** One header's values as sent, in order (a header may be repeated, as WWW-Authenticate is). */
export function headerValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2)
    if (rawHeaders[index]!.toLowerCase() === name) values.push(rawHeaders[index + 1]!);
  return values;
}

/** The error code Node gives a failed connection or request (ECONNREFUSED, HPE_INVALID_CONSTANT, ...). */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** What went wrong with a probe, in one phrase: the cause, not the wrapping. */
export function describeProbeError(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no answer within ${timeoutMs} ms`;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || message === 'socket hang up')
    return 'the server closed the connection without answering';
  if (code?.startsWith('HPE_')) return `the answer is not HTTP (${code})`;
  if (code === 'EPROTO' || code?.startsWith('ERR_SSL_')) return `TLS failed (${message})`;
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`;
}

/** A status line as people read it: `404 Not Found`. */
export function statusText(response: { status: number; statusMessage?: string }): string {
  return response.statusMessage ? `${response.status} ${response.statusMessage}` : String(response.status);
}

/** The status line and the refusal's message, said once (`403 Forbidden: Origin is not allowed (JSON-RPC -32600)`). */
export function statusAndMessage(response: ProbeResponse): string {
  const error = rpcMessages(response).find((entry) => entry.error !== undefined)?.error;
  if (error === undefined) return statusText(response);
  const code = typeof error.code === 'number' ? ` (JSON-RPC ${error.code})` : '';
  const reason = refusalReason(response);
  return reason === undefined || reason === response.statusMessage
    ? `${statusText(response)}${code}`
    : `${statusText(response)}: ${reason}${code}`;
}

/** The reason a refusal gives in its JSON-RPC error, without the status words it repeats or its code. */
export function refusalReason(response: {
  statusMessage: string;
  headers: IncomingHttpHeaders;
  body: string;
}): string | undefined {
  const message = rpcMessages(response).find((entry) => entry.error !== undefined)?.error?.message;
  if (message === undefined) return undefined;
  const reason = response.statusMessage;
  return reason !== '' && message.startsWith(`${reason}: `) ? message.slice(reason.length + 2) : message;
}

/** The JSON-RPC error message a refusal carries (remote-mcp and the SDK send one), for the detail line. */
export function refusalMessage(response: { headers: IncomingHttpHeaders; body: string }): string | undefined {
  const error = rpcMessages(response).find((message) => message.error !== undefined)?.error;
  if (error === undefined) return undefined;
  return `${error.message ?? 'error'}${typeof error.code === 'number' ? ` (JSON-RPC ${error.code})` : ''}`;
}
