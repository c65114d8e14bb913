/**
 * Test helpers: start the demo server (or any factory) with remote-mcp on 127.0.0.1 port 0, and send raw
 * HTTP requests whose status, headers and body the tests assert exactly.
 */
import { request } from 'node:http';

import { createRemoteServer, type RemoteServer, type RemoteServerOptions } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';

export const MODERN = '2026-07-28';
export const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

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
export function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
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
  return JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...ENVELOPE, ...(params._meta as object | undefined) } } });
}

/** Parses an SSE body into its JSON messages (frames without data are skipped). */
export function sseMessages(body: string): any[] {
  return body
    .split('\n\n')
    .map((frame) => frame.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join(''))
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data));
}
