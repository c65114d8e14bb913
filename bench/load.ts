/**
 * The load generator, run in its own process so it does not share an event loop with the server it measures.
 * Modes (argv[2] is a JSON config):
 *   calls     autocannon: tools/call echo at fixed concurrency for a fixed time (or a fixed `amount` of
 *             requests); optional session ids, one per connection, for 2025-era load; optional body and headers
 *   sessions  opens `count` 2025-era sessions (initialize + notifications/initialized), `concurrency` at a time
 *   ws-calls  2026-07-28 tools/call echo over `connections` WebSockets, each keeping `inFlight` requests pending
 *   ws-idle   opens `count` WebSockets, prints `ready`, and holds them until stdin closes
 * Prints one JSON line with the result.
 */
import { request, Agent } from 'node:http';

import autocannon from 'autocannon';
import WebSocket from 'ws';

export interface CallsConfig {
  mode: 'calls';
  url: string;
  era: 'modern' | 'legacy';
  connections: number;
  durationSeconds: number;
  /** Stop after this many requests instead of after durationSeconds. */
  amount?: number;
  sessionIds?: string[];
  /** A body and headers to send instead of the built-in echo call (the loadgen section sends bench's own bytes). */
  body?: string;
  headers?: Record<string, string>;
}

export interface SessionsConfig {
  mode: 'sessions';
  url: string;
  count: number;
  concurrency: number;
  protocolVersion: string;
}

export interface WsCallsConfig {
  mode: 'ws-calls';
  url: string;
  connections: number;
  inFlight: number;
  durationSeconds: number;
}

export interface WsIdleConfig {
  mode: 'ws-idle';
  url: string;
  count: number;
}

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function callBody(era: 'modern' | 'legacy'): string {
  const params: Record<string, unknown> = { name: 'echo', arguments: { text: 'hello' } };
  if (era === 'modern') params._meta = ENVELOPE;
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params });
}

function callHeaders(era: 'modern' | 'legacy'): Record<string, string> {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  return era === 'modern'
    ? { ...base, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' }
    : { ...base, 'mcp-protocol-version': '2025-11-25' };
}

async function calls(config: CallsConfig) {
  const headers = config.headers ?? callHeaders(config.era);
  let next = 0;
  const result = await autocannon({
    url: config.url,
    method: 'POST',
    connections: config.connections,
    duration: config.durationSeconds,
    ...(config.amount !== undefined && { amount: config.amount }),
    headers,
    body: config.body ?? callBody(config.era),
    setupClient: config.sessionIds
      ? (client: { setHeaders(headers: Record<string, string>): void }) => {
          client.setHeaders({ ...headers, 'mcp-session-id': config.sessionIds![next++ % config.sessionIds!.length]! });
        }
      : undefined,
  } as autocannon.Options);
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; sessionId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, sessionId: res.headers['mcp-session-id'] as string | undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function sessions(config: SessionsConfig) {
  const ids: string[] = [];
  let created = 0;
  const worker = async () => {
    while (created < config.count) {
      created++;
      const init = await post(
        config.url,
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: config.protocolVersion,
            capabilities: {},
            clientInfo: { name: 'bench', version: '1.0.0' },
          },
        },
        {},
      );
      if (init.status !== 200 || init.sessionId === undefined) throw new Error(`initialize answered ${init.status}`);
      await post(
        config.url,
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { 'mcp-session-id': init.sessionId, 'mcp-protocol-version': config.protocolVersion },
      );
      ids.push(init.sessionId);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  return { sessionIds: ids };
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws'), ['mcp'], { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function wsCalls(config: WsCallsConfig) {
  const sockets = await Promise.all(Array.from({ length: config.connections }, () => openSocket(config.url)));
  const latencies = new Float64Array(5_000_000); // bounded: the run stops recording past it
  let recorded = 0;
  let completed = 0;
  const deadline = performance.now() + config.durationSeconds * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          const sentAt = new Map<number, number>();
          let nextId = 0;
          const send = () => {
            const id = nextId++;
            sentAt.set(id, performance.now());
            ws.send(
              `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"},"_meta":${JSON.stringify(ENVELOPE)}}}`,
            );
          };
          ws.on('message', (data) => {
            const id = (JSON.parse(data.toString()) as { id: number }).id;
            const started = sentAt.get(id);
            sentAt.delete(id);
            if (started === undefined) return;
            completed++;
            if (recorded < latencies.length) latencies[recorded++] = performance.now() - started;
            if (performance.now() < deadline) send();
            else if (sentAt.size === 0) resolve();
          });
          ws.on('close', () => resolve()); // a dropped connection ends its share of the run instead of hanging it
          for (let i = 0; i < config.inFlight; i++) send();
        }),
    ),
  );
  for (const ws of sockets) ws.close();
  const sorted = latencies.subarray(0, recorded).sort();
  const at = (q: number) => Number(sorted[Math.min(recorded - 1, Math.floor(recorded * q))]!.toFixed(2));
  return { messagesPerSecond: completed / config.durationSeconds, p50: at(0.5), p99: at(0.99), total: completed };
}

async function wsIdle(config: WsIdleConfig) {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < config.count; i += 200) {
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(200, config.count - i) }, () => openSocket(config.url)))),
    );
  }
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.on('close', resolve).resume());
  for (const ws of sockets) ws.terminate();
  return { open: sockets.length };
}

const config = JSON.parse(process.argv[2]!) as CallsConfig | SessionsConfig | WsCallsConfig | WsIdleConfig;
const output =
  config.mode === 'calls'
    ? await calls(config)
    : config.mode === 'sessions'
      ? await sessions(config)
      : config.mode === 'ws-calls'
        ? await wsCalls(config)
        : await wsIdle(config);
process.stdout.write(`${JSON.stringify(output)}\n`);
agent.destroy();
