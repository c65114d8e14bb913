/**
 * Small helpers over node:http that every HTTP route uses: reading a bounded body, writing JSON-RPC errors,
 * and reading header values. They work on Node's own objects: converting to web Request/Response is most of
 * the official SDK's HTTP cost, so remote-mcp never does it.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';

import { ERRORS, type ErrorName } from '../errors.js';
import { publishResponseBytes } from '../observability/channels.js';

export type JsonRpcId = string | number | null;

/** The value of a header that may arrive repeated; a repeated header is read as its first value. */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Media type without parameters, lower-cased: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** Whether an Accept header admits a media type (exact, `type/*` or `*\/*`). A missing Accept admits nothing. */
export function accepts(accept: string | undefined, type: string): boolean {
  if (accept === undefined) return false;
  const major = type.slice(0, type.indexOf('/'));
  for (const part of accept.split(',')) {
    const range = mediaType(part);
    if (range === type || range === '*/*' || range === `${major}/*`) return true;
  }
  return false;
}

export type BodyReadResult = { kind: 'ok'; text: string; bytes: number } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads the request body as UTF-8, stopping as soon as it exceeds `limit` bytes so an oversized body costs no
 * more memory than the limit. A declared Content-Length over the limit is refused before reading.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyReadResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyReadResult) => {
      if (settled) return;
      settled = true;
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onAbort);
      req.removeListener('aborted', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading but keep the socket: the 413 still has to be written. Draining the rest is left to
        // Node, which discards unread data once the response ends.
        req.pause();
        finish({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish({
        kind: 'ok',
        text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        bytes: size,
      });
    const onAbort = () => finish({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('aborted', onAbort);
  });
}

/** Writes a JSON body with an exact Content-Length. */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string | string[]>,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  publishResponseBytes(res, 'out', text);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes a registered error (see src/errors.ts) as a JSON-RPC error response with its HTTP status. */
export function writeError(
  res: ServerResponse,
  name: ErrorName,
  options: { id?: JsonRpcId; message?: string; data?: unknown; headers?: Record<string, string | string[]> } = {},
): void {
  const spec = ERRORS[name];
  writeRpcError(
    res,
    spec.status,
    spec.rpcCode,
    options.message ?? spec.message,
    options.id ?? null,
    options.data,
    options.headers,
  );
}

export function writeRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: JsonRpcId,
  data?: unknown,
  headers?: Record<string, string | string[]>,
): void {
  const error = data === undefined ? { code, message } : { code, message, data };
  writeJson(res, status, { jsonrpc: '2.0', id, error }, headers);
}

/** The id of a parsed body when it is a single request whose id can be echoed; null otherwise. */
export function echoableId(body: unknown): JsonRpcId {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { id, method } = body as { id?: unknown; method?: unknown };
  if (typeof method !== 'string') return null;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/**
 * A whole HTTP/1.1 error response as bytes, for the places that answer on the raw socket because Node gives no
 * ServerResponse there (a refused WebSocket upgrade, a request Node's parser refused): the same JSON-RPC error
 * body and security headers as every other refusal, and `Connection: close`.
 */
export function rawErrorResponse(
  name: ErrorName,
  options: {
    message?: string;
    headers?: Record<string, string | string[]>;
    securityHeaders?: ReadonlyArray<readonly [string, string]>;
  } = {},
): string {
  const spec = ERRORS[name];
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code: spec.rpcCode, message: options.message ?? spec.message },
  });
  let head = `HTTP/1.1 ${spec.status} ${STATUS_CODES[spec.status]}\r\nConnection: close\r\n`;
  for (const [header, value] of options.securityHeaders ?? []) head += `${header}: ${value}\r\n`;
  for (const [header, value] of Object.entries(options.headers ?? {}))
    for (const one of Array.isArray(value) ? value : [value]) head += `${header}: ${one}\r\n`;
  return `${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
