/**
 * remote-mcp/client's connect(): the wire it picks for each URL and server (remote-mcp on every transport, the
 * official SDK v2's stateless handler, the v1 SDK's HTTP+SSE server), credentials and headers on every request,
 * timeouts, and retries only where repeating is safe, each with a new JSON-RPC id. The proxy failures are made by
 * a real HTTP intermediary in front of the server (test/support/front.ts), as a load balancer would make them.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { z } from 'zod';

import { connect, HttpStatusError, InMemoryResponseCacheStore, type RetryEvent } from '../src/client/index.js';
import { createRemoteServer, type RemoteServer } from '../src/index.js';
import { mintApiKey, writeKeysFile } from '../src/security/api-keys.js';
import createClientFixture from './fixtures/client-server.js';
import { raw } from './helpers.js';
import { rpcSeen, startFront, type Front } from './support/front.js';

const MODERN = '2026-07-28';
const FAST_RETRY = { attempts: 3, initialDelayMs: 5, maxDelayMs: 50 };

const textOf = (result: { content?: unknown }) => (result.content as Array<{ text: string }>)[0]!.text;

async function serve(options: Partial<Parameters<typeof createRemoteServer>[0]> = {}) {
  const server = createRemoteServer({ server: createClientFixture, onError: () => {}, ...options });
  const { url } = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, url, origin: new URL(url).origin };
}

describe('the wire connect() picks', () => {
  let remote: { server: RemoteServer; url: string; origin: string };
  before(async () => {
    remote = await serve();
  });
  after(() => remote.server.close());

  const cases: Array<{ name: string; url: () => string; options?: object; wire: string; version: string }> = [
    {
      name: 'http:// → 2026-07-28 over Streamable HTTP',
      url: () => remote.url,
      wire: 'streamable-http',
      version: MODERN,
    },
    {
      name: 'http:// with protocol legacy → a 2025-era session',
      url: () => remote.url,
      options: { protocol: 'legacy' },
      wire: 'streamable-http',
      version: '2025-11-25',
    },
    {
      name: 'http://…/sse → the HTTP+SSE transport (2024-11-05), a 2025-11-25 session over it',
      url: () => `${remote.origin}/sse`,
      wire: 'sse',
      version: '2025-11-25',
    },
    {
      name: 'ws:// → WebSocket, 2026-07-28',
      url: () => remote.url.replace('http:', 'ws:'),
      wire: 'websocket',
      version: MODERN,
    },
    {
      name: 'ws:// with protocol legacy → WebSocket, a 2025-era session',
      url: () => remote.url.replace('http:', 'ws:'),
      options: { protocol: 'legacy' },
      wire: 'websocket',
      version: '2025-11-25',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const client = await connect(c.url(), c.options);
      try {
        assert.equal(client.wire, c.wire);
        assert.equal(client.getNegotiatedProtocolVersion(), c.version);
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), ['bump', 'count', 'lookup', 'put', 'slow']);
        assert.equal(textOf(await client.callTool({ name: 'lookup', arguments: { key: 'k' } })), 'found k');
      } finally {
        await client.close();
      }
    });
  }

  test('a bad URL or option is refused before anything is sent', async () => {
    await assert.rejects(connect('ftp://127.0.0.1/mcp'), /must be http\(s\):\/\/ or ws\(s\):\/\//);
    await assert.rejects(connect(remote.url, { transport: 'websocket' }), /websocket needs a ws:\/\/ or wss:\/\/ URL/);
    await assert.rejects(connect(remote.url, { timeoutMs: 0 }), /timeoutMs must be a positive number, got 0/);
    await assert.rejects(
      connect(remote.url, { retry: { attempts: 1.5 } }),
      /retry.attempts must be a positive integer/,
    );
    await assert.rejects(connect(remote.url, { auth: { token: '' } as never }), /auth must be/);
  });
});

describe("the official SDK's servers", () => {
  let v2: Server;
  let v1: Server;
  before(async () => {
    const sdkServer = () => {
      const server = new McpServer({ name: 'sdk-v2', version: '1.0.0' });
      server.registerTool('hello', { inputSchema: z.object({ name: z.string() }) }, async ({ name }) => ({
        content: [{ type: 'text', text: `hello ${name}` }],
      }));
      return server;
    };
    v2 = createServer(toNodeHandler(createMcpHandler(sdkServer)) as Parameters<typeof createServer>[1]);
    // The v1 SDK's HTTP+SSE server at /mcp: GET opens the stream, POST to the endpoint it names; a POST to /mcp
    // is refused with 405, which is what tells connect() to fall back to HTTP+SSE.
    const transports = new Map<string, SSEServerTransport>();
    v1 = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/mcp') {
        const transport = new SSEServerTransport('/messages', res);
        transports.set(transport.sessionId, transport);
        const server = new V1McpServer({ name: 'sdk-v1', version: '1.0.0' });
        server.tool('hello', { name: z.string() }, async ({ name }) => ({
          content: [{ type: 'text', text: `hello ${name} (v1)` }],
        }));
        void server.connect(transport);
        return;
      }
      if (req.method === 'POST' && url.pathname === '/messages') {
        const transport = transports.get(url.searchParams.get('sessionId') ?? '');
        if (transport !== undefined) return void transport.handlePostMessage(req, res);
      }
      res.writeHead(req.method === 'POST' ? 405 : 404, { allow: 'GET' }).end();
    });
    await Promise.all([v2, v1].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  });
  after(async () => {
    for (const s of [v2, v1]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  test('the SDK v2 handler: 2026-07-28', async () => {
    const client = await connect(`http://127.0.0.1:${(v2.address() as AddressInfo).port}/mcp`);
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
      assert.equal(textOf(await client.callTool({ name: 'hello', arguments: { name: 'v2' } })), 'hello v2');
    } finally {
      await client.close();
    }
  });

  test('the v1 SDK HTTP+SSE server: POST 405 → HTTP+SSE on the same URL', async () => {
    const client = await connect(`http://127.0.0.1:${(v1.address() as AddressInfo).port}/mcp`);
    try {
      assert.equal(client.wire, 'sse');
      assert.equal(textOf(await client.callTool({ name: 'hello', arguments: { name: 'a' } })), 'hello a (v1)');
    } finally {
      await client.close();
    }
  });
});

describe('credentials and headers', () => {
  const minted = mintApiKey('tester', ['mcp']);
  const key = minted.key;
  let remote: { server: RemoteServer; url: string; origin: string };
  let front: Front;
  before(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-client-keys-')), 'keys.json');
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    remote = await serve({ auth: { apiKeys: { file } } });
    front = await startFront(remote.origin);
  });
  after(async () => {
    await front.close();
    await remote.server.close();
  });

  test('an API key and a header function reach every request; no credential is refused', async () => {
    for (const auth of [
      { apiKey: key },
      { apiKey: `ApiKey ${key}`, header: 'Authorization' },
      () => ({ 'x-api-key': key }),
    ]) {
      front.seen.length = 0;
      const client = await connect(`${front.url}/mcp`, { auth, headers: { 'x-trace': 'abc' }, retry: false });
      await client.callTool({ name: 'lookup', arguments: { key: 'x' } });
      await client.close();
      assert.ok(rpcSeen(front).length >= 2);
      for (const seen of rpcSeen(front)) {
        assert.equal(seen.headers['x-trace'], 'abc');
        assert.ok(seen.headers['x-api-key'] === key || seen.headers.authorization === `ApiKey ${key}`);
      }
    }
    front.seen.length = 0;
    await assert.rejects(connect(`${front.url}/mcp`, { auth: { token: 'jwt' }, retry: false }));
    assert.equal(front.seen[0]?.headers.authorization, 'Bearer jwt');
    await assert.rejects(connect(remote.url, { retry: false }), (error: Error) => {
      assert.match(String(error), /401|Unauthorized/i);
      return true;
    });
  });

  test('a WebSocket handshake carries them too', async () => {
    const client = await connect(remote.url.replace('http:', 'ws:'), { auth: { apiKey: key } });
    assert.equal(textOf(await client.callTool({ name: 'lookup', arguments: { key: 'w' } })), 'found w');
    await client.close();
    await assert.rejects(connect(remote.url.replace('http:', 'ws:'), { retry: false }), (error: unknown) => {
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.status, 401);
      return true;
    });
  });
});

describe('retries: only where repeating is safe, each try a new JSON-RPC id', () => {
  let remote: { server: RemoteServer; url: string; origin: string };
  let front: Front;
  before(async () => {
    remote = await serve();
    front = await startFront(remote.origin);
  });
  after(async () => {
    await front.close();
    await remote.server.close();
  });

  /** Answers the first `times` requests of `method` (and tool) with `status`. */
  function failFirst(times: number, status: number, method: string, tool?: string, headers?: Record<string, string>) {
    let left = times;
    front.rule = (seen) => {
      if (seen.rpcMethod !== method || (tool !== undefined && seen.toolName !== tool) || left === 0) return undefined;
      left--;
      return {
        status,
        headers: { 'retry-after': '1', ...headers },
        body: '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"busy"}}',
      };
    };
  }

  async function bumps(): Promise<number> {
    const client = await connect(remote.url);
    const count = Number(textOf(await client.callTool({ name: 'count', arguments: {} })));
    await client.close();
    return count;
  }

  test('503 with Retry-After: the read is sent again after the wait the server asked for, with a new id', async () => {
    const retries: RetryEvent[] = [];
    const client = await connect(`${front.url}/mcp`, {
      retry: { attempts: 3, initialDelayMs: 1 },
      onRetry: (e) => retries.push(e),
    });
    failFirst(1, 503, 'tools/call', 'lookup');
    front.seen.length = 0;
    assert.equal(textOf(await client.callTool({ name: 'lookup', arguments: { key: 'r' } })), 'found r');
    const tries = rpcSeen(front, 'tools/call');
    assert.equal(tries.length, 2);
    assert.notEqual(tries[0]!.id, tries[1]!.id);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]!.delayMs, 1000, 'Retry-After: 1 is a 1000 ms wait');
    assert.ok(retries[0]!.error instanceof HttpStatusError);
    assert.equal((retries[0]!.error as HttpStatusError).rpcError?.message, 'busy');
    await client.close();
  });

  test('502 on a tool without hints is not repeated (it may have run); with idempotent: true it is', async () => {
    const client = await connect(`${front.url}/mcp`, { retry: FAST_RETRY });
    const before = await bumps();
    failFirst(1, 502, 'tools/call', 'bump');
    front.seen.length = 0;
    await assert.rejects(client.callTool({ name: 'bump', arguments: {} }), (error: unknown) => {
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.status, 502);
      return true;
    });
    assert.equal(rpcSeen(front, 'tools/call').length, 1);
    failFirst(1, 502, 'tools/call', 'bump');
    front.seen.length = 0;
    await client.callTool({ name: 'bump', arguments: {} }, { idempotent: true });
    assert.equal(rpcSeen(front, 'tools/call').length, 2);
    assert.equal(await bumps(), before + 1, 'the canned 502s never reached the server: bump ran once');
    await client.close();
  });

  test('429 on a tool without hints is repeated: the server refused it before running it', async () => {
    const client = await connect(`${front.url}/mcp`, { retry: FAST_RETRY });
    failFirst(1, 429, 'tools/call', 'bump', { 'retry-after': '0' });
    front.seen.length = 0;
    await client.callTool({ name: 'bump', arguments: {} });
    assert.equal(rpcSeen(front, 'tools/call').length, 2);
    await client.close();
  });

  test('annotations decide: readOnlyHint and idempotentHint tools are repeated after a 502, idempotent: false forbids it', async () => {
    const client = await connect(`${front.url}/mcp`, { retry: FAST_RETRY });
    await client.listTools();
    for (const [name, args] of [
      ['lookup', { key: 'a' }],
      ['put', { key: 'a', value: 'b' }],
    ] as const) {
      failFirst(2, 502, 'tools/call', name);
      front.seen.length = 0;
      await client.callTool({ name, arguments: args });
      assert.equal(rpcSeen(front, 'tools/call').length, 3, name);
    }
    failFirst(1, 502, 'tools/call', 'lookup');
    front.seen.length = 0;
    await assert.rejects(client.callTool({ name: 'lookup', arguments: { key: 'a' } }, { idempotent: false }));
    assert.equal(rpcSeen(front, 'tools/call').length, 1);
    await client.close();
  });

  test('attempts bound the tries; a JSON-RPC error is an answer and is never repeated', async () => {
    const client = await connect(`${front.url}/mcp`, { retry: FAST_RETRY });
    failFirst(5, 503, 'tools/list', undefined, { 'retry-after': '0' });
    front.seen.length = 0;
    await assert.rejects(client.listTools(), HttpStatusError);
    assert.equal(rpcSeen(front, 'tools/list').length, 3);
    front.rule = undefined;
    front.seen.length = 0;
    await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /nope/);
    assert.equal(rpcSeen(front, 'tools/call').length, 1);
    await client.close();
  });

  test('a refused connection is retried, for any request, then reported', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const retries: RetryEvent[] = [];
    await assert.rejects(
      connect(`http://127.0.0.1:${port}/mcp`, { retry: FAST_RETRY, onRetry: (e) => retries.push(e) }),
      /fetch failed/,
    );
    assert.equal(retries.length, 2);
  });
});

describe('timeouts', () => {
  let remote: { server: RemoteServer; url: string; origin: string };
  before(async () => {
    remote = await serve();
  });
  after(() => remote.server.close());

  test('timeoutMs bounds a request; resetTimeoutOnProgress lets a tool that reports progress run longer', async () => {
    const client = await connect(remote.url, { timeoutMs: 150, retry: false });
    await assert.rejects(client.callTool({ name: 'slow', arguments: { steps: 1, delayMs: 600 } }), (error: unknown) => {
      assert.ok(error instanceof SdkError);
      assert.equal(error.code, SdkErrorCode.RequestTimeout);
      return true;
    });
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'slow', arguments: { steps: 6, delayMs: 60 } },
      { resetTimeoutOnProgress: true, onprogress: (p) => progress.push(p.progress) },
    );
    assert.equal(textOf(result), 'done');
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
    await client.close();
  });

  test('totalTimeoutMs bounds a call across progress resets', async () => {
    const client = await connect(remote.url, { timeoutMs: 200, totalTimeoutMs: 300, resetTimeoutOnProgress: true });
    await assert.rejects(client.callTool({ name: 'slow', arguments: { steps: 20, delayMs: 50 } }), (error: unknown) => {
      assert.ok(error instanceof SdkError);
      assert.equal(error.code, SdkErrorCode.RequestTimeout);
      return true;
    });
    await client.close();
  });
});

describe('broken connections are made again', () => {
  test('a 2025-era session deleted on the server: the next read opens a new one', async () => {
    const remote = await serve();
    const client = await connect(remote.url, { protocol: 'legacy', retry: FAST_RETRY });
    const first = client.transport?.sessionId;
    assert.ok(first);
    const deleted = await raw(remote.url, {
      method: 'DELETE',
      headers: { 'mcp-session-id': first, 'mcp-protocol-version': '2025-11-25' },
    });
    assert.equal(deleted.status, 200);
    assert.equal(textOf(await client.callTool({ name: 'lookup', arguments: { key: 's' } })), 'found s');
    assert.notEqual(client.transport?.sessionId, first);
    await client.close();
    await remote.server.close();
  });

  test('a WebSocket closed by a server restart: the next read reconnects', async () => {
    const first = await serve();
    const port = new URL(first.url).port;
    const client = await connect(first.url.replace('http:', 'ws:'), { retry: FAST_RETRY });
    assert.equal(textOf(await client.callTool({ name: 'lookup', arguments: { key: '1' } })), 'found 1');
    await first.server.close();
    const second = createRemoteServer({ server: createClientFixture, onError: () => {} });
    await second.listen({ port: Number(port), host: '127.0.0.1' });
    assert.equal(textOf(await client.callTool({ name: 'lookup', arguments: { key: '2' } })), 'found 2');
    await client.close();
    await second.close();
  });
});

test('one response-cache store can back several clients', async () => {
  const remote = await serve();
  const store = new InMemoryResponseCacheStore();
  const a = await connect(remote.url, { cache: { store, partition: 'alice' } });
  const b = await connect(remote.url, { cache: { store, partition: 'bob' } });
  await a.listTools();
  await b.listTools();
  assert.ok(store.size >= 1, 'the tools/list result is kept in the shared store');
  await a.close();
  await b.close();
  await remote.server.close();
});
