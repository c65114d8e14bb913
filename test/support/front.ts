/**
 * A real HTTP intermediary for client tests, standing where a proxy or load balancer would: it forwards every
 * request to the target (streams included) and records what it saw, and a rule can answer a request itself
 * instead, the way a proxy answers 502 or a draining server 503.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  httpMethod: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON-RPC method and id of a POST body (the first message of a batch). */
  rpcMethod?: string;
  id?: string | number;
  toolName?: string;
}

export interface Canned {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Returns a response to send instead of forwarding, or undefined to forward. */
export type FrontRule = (seen: Seen) => Canned | undefined;

export interface Front {
  url: string;
  seen: Seen[];
  rule: FrontRule | undefined;
  close(): Promise<void>;
}

/** `rpc` requests seen, optionally of one method. */
export function rpcSeen(front: Front, method?: string): Seen[] {
  return front.seen.filter((s) => s.rpcMethod !== undefined && (method === undefined || s.rpcMethod === method));
}

/** Starts a front for `target` (an origin such as http://127.0.0.1:1234); paths are kept. */
export async function startFront(target: string): Promise<Front> {
  const origin = new URL(target);
  const front: Front = { url: '', seen: [], rule: undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const seen: Seen = { httpMethod: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
      if (req.method === 'POST' && body.length > 0) {
        try {
          const parsed = JSON.parse(body.toString('utf8'));
          const first = Array.isArray(parsed) ? parsed[0] : parsed;
          if (typeof first?.method === 'string') seen.rpcMethod = first.method;
          if (first?.id !== undefined) seen.id = first.id;
          if (typeof first?.params?.name === 'string') seen.toolName = first.params.name;
        } catch {
          // not JSON: forwarded as is
        }
      }
      front.seen.push(seen);
      const canned = front.rule?.(seen);
      if (canned !== undefined) {
        res.writeHead(canned.status, { 'content-type': 'application/json', ...canned.headers });
        res.end(canned.body ?? '');
        return;
      }
      const upstream = request(
        { host: origin.hostname, port: origin.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return front;
}
