/**
 * MCP over WebSocket at the endpoint path: the v1 SDK's WebSocketClientTransport (2025-era session bound to the
 * socket), raw 2026-07-28 frames, and the documented errors and close codes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer } from '@modelcontextprotocol/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import WebSocket from 'ws';
import { z } from 'zod';

import { connectWebSocket as connect, ENVELOPE, withServer, withTimeout } from './helpers.js';

// The v1 transport uses the WHATWG WebSocket global, which Node 20 does not have; `ws` implements that API.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/** The HTTP status a refused upgrade gets. */
function refusedStatus(url: string, protocols: string[], headers?: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws'), protocols, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => {});
  });
}

const modern = (id: number | string, method: string, params: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method,
  params: { ...params, _meta: { ...ENVELOPE, ...(params._meta as object) } },
});

describe('official v1 WebSocketClientTransport', () => {
  test('a 2025-era session over one socket: tools with progress, resources, elicitation, notifications', async () => {
    await withServer({}, async (s) => {
      const client = new Client({ name: 'ws-v1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Wes' } }));
      try {
        await withTimeout(
          client.connect(new WebSocketClientTransport(new URL(s.url.replace('http', 'ws')))),
          5000,
          'connect',
        );
        assert.equal(client.getServerVersion()?.name, 'remote-mcp-demo');
        assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), [
          'add',
          'ask_name',
          'echo',
          'slow_count',
        ]);
        const progress: number[] = [];
        const counted = await client.callTool({ name: 'slow_count', arguments: { to: 3, delayMs: 10 } }, undefined, {
          onprogress: (p) => progress.push(p.progress),
        });
        assert.deepEqual(counted.content, [{ type: 'text', text: 'counted to 3' }]);
        // The server sends 1, 2, 3, then the result, in order; this client handles a response at once but a
        // notification a microtask later, so the last progress can lose the race with the result.
        assert.deepEqual(progress.slice(0, 2), [1, 2]);
        assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
        assert.equal(
          ((await client.readResource({ uri: 'demo://greeting/Wes' })).contents[0] as { text: string }).text,
          'Hello, Wes!',
        );
        assert.deepEqual(
          (await withTimeout(client.callTool({ name: 'ask_name', arguments: {} }), 5000, 'ask_name')).content,
          [{ type: 'text', text: 'Hello, Wes!' }],
        );
        const updated = new Promise<string>((resolve) =>
          client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
        );
        await client.subscribeResource({ uri: 'demo://clock' });
        s.server.notify.resourceUpdated('demo://clock');
        assert.equal(await withTimeout(updated, 3000, 'resources/updated'), 'demo://clock');
      } finally {
        await client.close();
      }
    });
  });
});

describe('2026-07-28 over WebSocket', () => {
  test('requests, progress, listen notifications, and shutdown with 1001', async () => {
    await withServer({}, async (s) => {
      const socket = await connect(s.url);
      assert.equal(socket.ws.protocol, 'mcp');
      socket.send(modern(1, 'tools/call', { name: 'echo', arguments: { text: 'over ws' } }));
      const echo = await socket.waitFor((m) => m.id === 1, 'the echo answer');
      assert.deepEqual(echo.result.content, [{ type: 'text', text: 'over ws' }]);
      socket.send(
        modern(2, 'tools/call', {
          name: 'slow_count',
          arguments: { to: 2, delayMs: 5 },
          _meta: { progressToken: 'w' },
        }),
      );
      await socket.waitFor((m) => m.id === 2, 'the slow_count answer');
      assert.deepEqual(
        socket.messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress),
        [1, 2],
      );
      socket.send(modern(3, 'subscriptions/listen', { notifications: { toolsListChanged: true } }));
      const ack = await socket.waitFor(
        (m) => m.method === 'notifications/subscriptions/acknowledged',
        'the listen ack',
      );
      assert.equal(ack.params._meta['io.modelcontextprotocol/subscriptionId'], 3);
      s.server.notify.toolsListChanged();
      const changed = await socket.waitFor((m) => m.method === 'notifications/tools/list_changed', 'list_changed');
      assert.equal(changed.params._meta['io.modelcontextprotocol/subscriptionId'], 3);
      await s.close();
      assert.deepEqual(await withTimeout(socket.closed, 3000, 'the close'), {
        code: 1001,
        reason: 'The server is shutting down',
      });
      assert.equal(socket.messages.at(-1).id, 3);
      assert.equal(socket.messages.at(-1).result.resultType, 'complete');
    });
  });

  test('notifications/cancelled aborts the handler of that request', async () => {
    let aborted: () => void;
    const abortedNow = new Promise<void>((resolve) => (aborted = resolve));
    const factory = () => {
      const server = new McpServer({ name: 'ws-cancel', version: '1' });
      server.registerTool('wait', { inputSchema: z.object({}) }, async (_args, ctx) => {
        await new Promise<void>((resolve) => ctx.mcpReq.signal.addEventListener('abort', () => (aborted(), resolve())));
        return { content: [{ type: 'text', text: 'never' }] };
      });
      return server;
    };
    await withServer({ server: factory }, async (s) => {
      const socket = await connect(s.url);
      socket.send(modern(7, 'tools/call', { name: 'wait', arguments: {} }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.send({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 7, reason: 'stop', _meta: ENVELOPE },
      });
      await withTimeout(abortedNow, 3000, 'the handler to be aborted');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(socket.messages.filter((m) => m.id === 7).length, 0);
      socket.ws.close();
    });
  });
});

describe('WebSocket errors and limits', () => {
  test('bad JSON and refused messages get JSON-RPC errors and the socket stays open', async () => {
    await withServer({}, async (s) => {
      const socket = await connect(s.url);
      socket.send('{not json');
      assert.equal((await socket.waitFor((m) => m.error?.code === -32700, 'the parse error')).id, null);
      socket.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const first = await socket.waitFor((m) => m.id === 1, 'the refusal of a first message that is neither');
      assert.equal(first.error.code, -32600);
      socket.send(modern(2, 'no/such'));
      assert.equal((await socket.waitFor((m) => m.id === 2, 'unknown method')).error.code, -32601);
      const old = {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      };
      socket.send(old);
      const version = await socket.waitFor((m) => m.id === 3, 'the version error');
      assert.equal(version.error.code, -32022);
      assert.deepEqual(version.error.data.supported, ['2026-07-28']);
      socket.send(modern(4, 'tools/call', { name: 'echo', arguments: { text: 'still open' } }));
      assert.equal(
        (await socket.waitFor((m) => m.id === 4, 'the echo after errors')).result.content[0].text,
        'still open',
      );
      socket.ws.close();
    });
  });

  test('a 2025-era socket session takes batches only on 2025-03-26, like Streamable HTTP', async () => {
    await withServer({}, async (s) => {
      for (const [version, batchAnswered] of [
        ['2025-11-25', false],
        ['2025-03-26', true],
      ] as const) {
        const socket = await connect(s.url);
        socket.send({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'ws', version: '1' } },
        });
        assert.equal((await socket.waitFor((m) => m.id === 1, 'initialize')).result.protocolVersion, version);
        socket.send([
          { jsonrpc: '2.0', id: 2, method: 'tools/list' },
          { jsonrpc: '2.0', id: 3, method: 'tools/list' },
        ]);
        if (batchAnswered) {
          await socket.waitFor((m) => m.id === 3, 'the batch answers');
          assert.equal(
            socket.messages.filter((m) => m.id === 2 || m.id === 3).every((m) => Array.isArray(m.result.tools)),
            true,
          );
        } else {
          const refused = await socket.waitFor((m) => m.error !== undefined, 'the batch refusal');
          assert.equal(refused.error.code, -32600);
          assert.match(refused.error.message, /only accepted on 2025-03-26 sessions/);
        }
        socket.ws.close();
      }
    });
  });

  test('a binary frame closes with 1003, an oversized frame with 1009', async () => {
    await withServer({ maxBodyBytes: 1024 }, async (s) => {
      const binary = await connect(s.url);
      binary.ws.send(Buffer.from('{}'));
      assert.equal((await withTimeout(binary.closed, 3000, 'close after binary')).code, 1003);
      const big = await connect(s.url);
      big.send(modern(1, 'tools/call', { name: 'echo', arguments: { text: 'x'.repeat(2000) } }));
      assert.equal((await withTimeout(big.closed, 3000, 'close after oversize')).code, 1009);
      const fine = await connect(s.url);
      fine.send(modern(1, 'tools/call', { name: 'echo', arguments: { text: 'ok' } }));
      assert.equal((await fine.waitFor((m) => m.id === 1, 'echo')).result.content[0].text, 'ok');
      fine.ws.close();
    });
  });

  test('upgrades: connection cap 503, wrong subprotocol 400, foreign Origin 403, other path 404; none offered is accepted', async () => {
    await withServer({ maxWebSocketConnections: 1 }, async (s) => {
      const first = await connect(s.url, []);
      assert.equal(first.ws.protocol, '');
      assert.equal(await refusedStatus(s.url, ['mcp']), 503);
      first.ws.close();
      await first.closed;
      assert.equal(await refusedStatus(s.url, ['graphql-ws']), 400);
      assert.equal(await refusedStatus(s.url, ['mcp'], { origin: 'http://evil.example' }), 403);
      assert.equal(await refusedStatus(s.url.replace('/mcp', '/other'), ['mcp']), 404);
    });
  });

  test('a reader that falls maxStreamBufferBytes behind is closed with 1008', async () => {
    await withServer({ maxStreamBufferBytes: 64 * 1024 }, async (s) => {
      const socket = await connect(s.url);
      const tcp = (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      tcp.pause(); // stop reading; the kernel buffers fill, then the server's send buffer grows
      const text = 'x'.repeat(64 * 1024);
      // Bounded: 400 answers of 64 KiB (25 MiB) is far beyond what loopback socket buffers hold.
      for (let i = 0; i < 400; i++) {
        socket.send(modern(i, 'tools/call', { name: 'echo', arguments: { text } }));
        if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      tcp.resume();
      assert.equal((await withTimeout(socket.closed, 10_000, 'the slow reader to be closed')).code, 1008);
    });
  });

  test('a peer that stops answering pings is dropped; one that answers stays', async () => {
    await withServer({ webSocketPingIntervalMs: 40 }, async (s) => {
      const silent = new WebSocket(s.url.replace('http', 'ws'), ['mcp'], { autoPong: false });
      const silentOpen = new Promise((resolve) => silent.once('open', resolve));
      const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
      const healthy = await connect(s.url);
      await withTimeout(silentOpen, 3000, 'the silent socket to open');
      assert.equal(await withTimeout(silentClosed, 3000, 'the silent peer to be dropped'), 1006);
      healthy.send(modern(1, 'tools/call', { name: 'echo', arguments: { text: 'alive' } }));
      assert.equal(
        (await healthy.waitFor((m) => m.id === 1, 'the healthy socket to answer')).result.content[0].text,
        'alive',
      );
      healthy.ws.close();
    });
  });
});
