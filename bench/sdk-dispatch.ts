/**
 * The official SDK's own cost per 2026-07-28 tools/call, with no transport at all: requests are handed to the
 * shared instance through remote-mcp's router in this process, 64 in flight, and answered in memory. Any server
 * that lets the SDK handle each request (remote-mcp's WebSocket endpoint included) pays at least this per call,
 * so the figure bounds what such a server can reach against the bare `ws` ceiling.
 * Prints one JSON line: { callsPerSecond, microsecondsPerCall }.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { connectModern, MODERN_EXTRA } from '../src/server/sdk-bridge.js';

const CALLS = 200_000;
const IN_FLIGHT = 64;
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

const server = new McpServer({ name: 'bench', version: '1.0.0' });
server.registerTool('echo', { description: 'echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
  content: [{ type: 'text', text }],
}));
const { router } = await connectModern(server);

async function run(calls: number): Promise<number> {
  const started = performance.now();
  let sent = 0;
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the SDK answered ${answered} of ${calls} calls within 120 s`)),
      120_000,
    );
    const exchange = {
      related() {},
      respond(message: { error?: unknown }) {
        if (message.error !== undefined) reject(new Error(`tools/call failed: ${JSON.stringify(message.error)}`));
        if (++answered === calls) {
          clearTimeout(timer);
          resolve();
        } else if (sent - answered === IN_FLIGHT / 2) setImmediate(pump);
      },
    };
    const pump = () => {
      for (; sent < calls && sent - answered < IN_FLIGHT; sent++) {
        router.request(
          { id: sent, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' }, _meta: ENVELOPE } },
          exchange,
          MODERN_EXTRA,
        );
      }
    };
    pump();
  });
  return (performance.now() - started) / 1000;
}

await run(CALLS / 10); // warm-up
const seconds = await run(CALLS);
process.stdout.write(
  `${JSON.stringify({ callsPerSecond: Math.round(CALLS / seconds), microsecondsPerCall: Number(((seconds * 1e6) / CALLS).toFixed(1)) })}\n`,
);
