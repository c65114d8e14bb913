/**
 * Benchmark targets, each started in its own child process (so its RSS is its own):
 *   remote-mcp            createRemoteServer with an echo tool (both eras)
 *   remote-mcp-metrics    the same with metrics: true
 *   remote-mcp-redis      the same with the Redis stores: `redis: { url: BENCH_REDIS_URL, keyPrefix:
 *                         BENCH_REDIS_PREFIX }` and `requestStateKey: BENCH_REQUEST_STATE_KEY` from the environment
 *                         (the instances of one cluster share a prefix and the key)
 *   sdk-modern            the official SDK v2: createMcpHandler + toNodeHandler (@modelcontextprotocol/node)
 *   sdk-sessions          the official SDK v2 sessionful transport (NodeStreamableHTTPServerTransport) for 2025-era
 *   ceiling               a bare node:http JSON-RPC responder: no MCP at all, the upper bound for HTTP on this machine
 *   ws-ceiling            a bare `ws` JSON-RPC responder: the upper bound for WebSocket on this machine
 * The process prints `ready <url>` and answers IPC messages `{ type: 'memory' }` with its memory usage after a GC.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { WebSocketServer } from 'ws';
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node';
import { z } from 'zod';

import { createRemoteServer } from '../src/index.js';

export type TargetName =
  | 'remote-mcp'
  | 'remote-mcp-metrics'
  | 'remote-mcp-redis'
  | 'sdk-modern'
  | 'sdk-sessions'
  | 'ceiling'
  | 'ws-ceiling';

/** The environment a `remote-mcp-redis` target reads (set by bench/run.ts). */
function redisOptions(): { redis: { url: string; keyPrefix: string }; requestStateKey: string } {
  const { BENCH_REDIS_URL: url, BENCH_REDIS_PREFIX: keyPrefix, BENCH_REQUEST_STATE_KEY: key } = process.env;
  if (url === undefined || keyPrefix === undefined || key === undefined)
    throw new Error('remote-mcp-redis needs BENCH_REDIS_URL, BENCH_REDIS_PREFIX and BENCH_REQUEST_STATE_KEY');
  return { redis: { url, keyPrefix }, requestStateKey: key };
}

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'echo', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/**
 * The ceiling: parse a JSON-RPC request and answer the same bytes an MCP server answers a 2026-07-28 echo call
 * with (resultType and the serverInfo _meta included), so the comparison differs in MCP processing only.
 */
function ceilingHandler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let text: string;
    try {
      text = ceilingAnswer(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}

/** The ceilings' answer to one JSON-RPC echo request. */
function ceilingAnswer(raw: string): string {
  const { id, params } = JSON.parse(raw) as { id: number; params?: { arguments?: { text?: string } } };
  const result = {
    content: [{ type: 'text', text: params?.arguments?.text ?? '' }],
    resultType: 'complete',
    _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'bench', version: '1.0.0' } },
  };
  return JSON.stringify({ result, jsonrpc: '2.0', id });
}

/** The official SDK's sessionful 2025-era serving, as its documentation wires it: one transport and server per session. */
function sdkSessionsHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  return (req, res) => {
    void (async () => {
      const sessionId = req.headers['mcp-session-id'] as string | undefined;
      let transport = sessionId === undefined ? undefined : transports.get(sessionId);
      if (transport === undefined) {
        if (sessionId !== undefined) {
          res.writeHead(404).end();
          return;
        }
        transport = new NodeStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: true, // the SDK's faster mode, so the comparison is generous to it
          onsessioninitialized: (id) => void transports.set(id, transport!),
        });
        await echoServer().connect(transport);
      }
      await transport.handleRequest(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
}

async function start(name: TargetName): Promise<string> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(404).end();
  let attach: ((server: ReturnType<typeof createServer>) => void) | undefined;
  switch (name) {
    case 'remote-mcp':
    case 'remote-mcp-metrics':
    case 'remote-mcp-redis': {
      // The same server with Prometheus metrics on, or with its state in Redis: the difference is what that costs.
      const remote = createRemoteServer({
        server: echoServer,
        maxSessions: 100_000,
        maxWebSocketConnections: 100_000,
        dnsRebindingProtection: false,
        metrics: name === 'remote-mcp-metrics',
        ...(name === 'remote-mcp-redis' && redisOptions()),
      });
      await remote.ready;
      handler = remote.handler;
      attach = (server) =>
        server.on('upgrade', (req, socket, head) => void (remote.upgrade(req, socket, head) || socket.destroy()));
      break;
    }
    case 'ws-ceiling':
      attach = (server) => {
        const wss = new WebSocketServer({ server, perMessageDeflate: false });
        wss.on('connection', (ws) => ws.on('message', (data) => ws.send(ceilingAnswer(data.toString()))));
      };
      break;
    case 'sdk-modern':
      handler = toNodeHandler(createMcpHandler(echoServer)) as (req: IncomingMessage, res: ServerResponse) => void;
      break;
    case 'sdk-sessions':
      handler = sdkSessionsHandler();
      break;
    case 'ceiling':
      handler = ceilingHandler;
      break;
  }
  const server = createServer(handler);
  attach?.(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

const name = process.argv[2] as TargetName;
const url = await start(name);
process.on('message', (message: { type: string }) => {
  if (message.type === 'memory') {
    globalThis.gc?.();
    globalThis.gc?.();
    const usage = process.memoryUsage();
    process.send!({ type: 'memory', heapUsed: usage.heapUsed, rss: usage.rss });
  }
});
process.send!({ type: 'ready', url });
