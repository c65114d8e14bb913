/**
 * The upstream gateway (`upstream` option, `serve --upstream`): remote-mcp in front of a plain official-SDK
 * server (test/fixtures/sdk-server.ts: 2026-07-28 through createMcpHandler, 2025-era sessions through
 * NodeStreamableHTTPServerTransport) and in front of another remote-mcp on each of its transports, reached by the
 * SDK v2 client (through remote-mcp/client) on every transport and by the v1 client; then upstream failures:
 * refused connections, 401 without its credential, 502s, and an upstream that never answers.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { connect, type RemoteClient } from '../src/client/index.js';
import type { UpstreamOptions } from '../src/gateway/upstream-options.js';
import {
  createRemoteServer,
  mintApiKey,
  type RemoteServer,
  type RemoteServerOptions,
  writeKeysFile,
} from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import { untilServing } from './helpers.js';
import { startSdkServer, type SdkServer } from './fixtures/sdk-server.js';
import { freePort } from './support/ports.js';

const CLI = 'build/src/cli/main.js';
const EVERYTHING = 'node_modules/@modelcontextprotocol/server-everything/dist/index.js';
const servers: Array<{ close(): Promise<void> }> = [];
const clients: RemoteClient[] = [];
after(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  for (const server of servers.reverse()) await server.close();
});

async function remote(
  options: Partial<RemoteServerOptions>,
): Promise<{ url: string; base: string; server: RemoteServer }> {
  const server = createRemoteServer({ log: { level: 'silent' }, onError: () => {}, ...options } as RemoteServerOptions);
  const { url } = await server.listen({ port: 0 });
  servers.push(server);
  return { url, base: url.slice(0, -'/mcp'.length), server };
}

const gateway = (upstream: UpstreamOptions, extra: Partial<RemoteServerOptions> = {}) => remote({ upstream, ...extra });

async function sdk(): Promise<SdkServer> {
  const started = await startSdkServer(() => createDemoServer());
  servers.push(started);
  return started;
}

type Wire = 'modern' | 'legacy' | 'sse' | 'ws';

async function client(url: string, wire: Wire, options: Parameters<typeof connect>[1] = {}): Promise<RemoteClient> {
  const target = wire === 'sse' ? `${url}/events` : wire === 'ws' ? url.replace(/^http/, 'ws') : url;
  const protocol = wire === 'modern' ? 'modern' : wire === 'legacy' ? 'legacy' : 'auto';
  const connected = await connect(target, {
    protocol,
    retry: { attempts: 1 },
    capabilities: { elicitation: { form: {} } },
    ...options,
  } as Parameters<typeof connect>[1]);
  connected.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }));
  clients.push(connected);
  return connected;
}

const textOf = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string; data?: any }> {
  return call.then(
    () => assert.fail('the call succeeded'),
    (reason: unknown) => reason as { code: number; message: string },
  );
}

async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every client transport through the gateway: tools, progress, and elicitation where the eras allow it. */
async function exercise(url: string, wires: Wire[]): Promise<void> {
  for (const wire of wires) {
    const c = await client(url, wire);
    const { tools } = await c.listTools();
    assert.ok(
      tools.some((tool) => tool.name === 'echo'),
      `${wire}: echo is listed`,
    );
    assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: `via ${wire}` } })), `via ${wire}`);
    const progress: number[] = [];
    await c.callTool(
      { name: 'slow_count', arguments: { to: 3, delayMs: 5 } },
      { onprogress: (update) => progress.push(update.progress) },
    );
    assert.deepEqual(progress, [1, 2, 3], `${wire}: progress travels back`);
    assert.equal(textOf(await c.callTool({ name: 'ask_name', arguments: {} })), 'Hello, Ada!', `${wire}: elicitation`);
    const read = await c.readResource({ uri: 'demo://greeting/Bo' });
    assert.equal((read.contents[0] as { text: string }).text, 'Hello, Bo!');
    await c.close();
  }
}

describe('in front of the SDK’s own server', () => {
  test('the SDK v2 client on every transport: tools, progress, resources, elicitation', async () => {
    const upstream = await sdk();
    const { url } = await gateway({ url: upstream.url });
    await exercise(url, ['modern', 'legacy', 'sse', 'ws']);
  });

  test('the SDK v1 client', async () => {
    const upstream = await sdk();
    const { url } = await gateway({ url: upstream.url });
    const v1 = new V1Client({ name: 'v1', version: '1.0.0' });
    await v1.connect(new StreamableHTTPClientTransport(new URL(url)));
    assert.equal(v1.getServerVersion()?.name, 'remote-mcp-demo');
    assert.equal(textOf(await v1.callTool({ name: 'add', arguments: { a: 2, b: 3 } })), '5');
    await v1.close();
  });

  test('session isolation: one upstream session per client session, ended (DELETE) with it; shared: one for all', async () => {
    const upstream = await sdk();
    const isolated = await gateway({ url: upstream.url, isolation: 'session' });
    const before = upstream.sessions();
    const [a, b] = [await client(isolated.url, 'legacy'), await client(isolated.url, 'legacy')];
    await a.callTool({ name: 'echo', arguments: { text: 'a' } });
    await b.callTool({ name: 'echo', arguments: { text: 'b' } });
    assert.equal(upstream.sessions(), before + 2);
    const sessionId = (a.transport as { sessionId?: string }).sessionId!;
    const ended = await fetch(isolated.url, {
      method: 'DELETE',
      headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    });
    assert.equal(ended.status, 200);
    await until(() => upstream.sessions() === before + 1, 'the upstream session to be ended');

    const sharedUpstream = await sdk();
    const shared = await gateway({ url: sharedUpstream.url, isolation: 'shared' });
    for (let i = 0; i < 3; i++) {
      const c = await client(shared.url, 'legacy');
      await c.callTool({ name: 'echo', arguments: { text: String(i) } });
    }
    // One upstream session for these clients' capability set, plus the one the gateway opened to learn the
    // server's identity with no client capabilities (which clients that declare none would share).
    assert.equal(sharedUpstream.sessions(), 2);
  });
});

/** server-everything's own HTTP modes (the v1 SDK: 2025-era only), on a free port; resolves once it listens. */
async function everythingOver(mode: 'streamableHttp' | 'sse'): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, mode], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PORT: String(port) },
  });
  servers.push({
    close: async () => {
      child.kill('SIGKILL');
    },
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server-everything ${mode} did not start: ${output}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/port \d+/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`;
}

describe('in front of server-everything’s own HTTP servers (the v1 SDK, 2025-era only)', () => {
  for (const mode of ['streamableHttp', 'sse'] as const) {
    test(`${mode}: served to 2026-07-28 and 2025-era clients on every transport`, async () => {
      const { url } = await gateway({ url: await everythingOver(mode) });
      for (const wire of ['modern', 'legacy', 'sse', 'ws'] as const) {
        const c = await client(url, wire);
        assert.equal(
          textOf(await c.callTool({ name: 'echo', arguments: { message: wire } })),
          `Echo: ${wire}`,
          `${mode} upstream, ${wire} client`,
        );
        const progress: number[] = [];
        await c.callTool(
          { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } },
          { onprogress: (update) => progress.push(update.progress) },
        );
        assert.deepEqual(progress, [1, 2], `${mode} upstream, ${wire} client: progress`);
        await c.close();
      }
    });
  }
});

describe('in front of another remote-mcp, on each of its transports', () => {
  for (const [name, path] of [
    ['Streamable HTTP', ''],
    ['HTTP+SSE', '/events'],
    ['WebSocket', 'ws'],
  ] as const) {
    test(`upstream over ${name}`, async () => {
      const origin = await remote({ server: createDemoServer });
      const target = path === 'ws' ? origin.url.replace(/^http/, 'ws') : `${origin.url}${path}`;
      const { url } = await gateway({ url: target });
      // A 2025-era upstream (HTTP+SSE) cannot ask a 2026-07-28 client for input: those clients are left out there
      // (a ws:// client negotiates 2026-07-28 first).
      await exercise(url, path === '/events' ? ['legacy', 'sse'] : ['modern', 'legacy', 'sse', 'ws']);
    });
  }

  test('--upstream-header carries the upstream’s credential; without it every request gets -32050 naming the 401', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gateway-keys-')), 'keys.json');
    const minted = mintApiKey('gateway', []);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    const key = minted.key;
    const origin = await remote({ server: createDemoServer, auth: { apiKeys: { file } } });
    const refused = await gateway({ url: origin.url });
    for (const wire of ['modern', 'legacy'] as const) {
      const c = await client(refused.url, wire);
      const error = await refusal(c.callTool({ name: 'echo', arguments: { text: 'x' } }));
      assert.equal(error.code, -32050);
      assert.match(error.message, /401|Unauthorized/);
    }
    const cli = spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--upstream', origin.url, '--upstream-header', `x-api-key: ${key}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const { url } = await untilServing(cli, 20_000, 'serve --upstream');
      for (const wire of ['modern', 'legacy'] as const) {
        const c = await client(url, wire);
        assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: wire } })), wire);
      }
    } finally {
      cli.kill('SIGTERM');
    }
  });
});

describe('upstream failures: clear errors, never a hang', () => {
  test('nothing listening: -32050 "could not be reached", /ready 503, the gateway serves on', async () => {
    const port = await freePort();
    const served = await gateway({ url: `http://127.0.0.1:${port}/mcp`, restartDelayMs: 50 });
    for (const wire of ['modern', 'legacy'] as const) {
      const c = await client(served.url, wire);
      const error = await refusal(c.callTool({ name: 'echo', arguments: { text: 'x' } }));
      assert.equal(error.code, -32050);
      assert.match(error.message, /could not be reached|ECONNREFUSED|fetch failed/);
    }
    assert.equal((await fetch(`${served.base}/ready`)).status, 503);
    assert.equal((await fetch(`${served.base}/health`)).status, 200);
  });

  test('an upstream answering 502: -32050 with the status; one that never answers: -32054 after requestTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const bad: Server = createServer((req, res) => {
      if (req.url?.startsWith('/hang')) return; // accepted, never answered
      res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
    });
    bad.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    servers.push({
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          bad.close(() => resolve());
        }),
    });
    const origin = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`;
    const failing = await gateway({ url: `${origin}/mcp`, restartDelayMs: 50 });
    const c = await client(failing.url, 'modern');
    const error = await refusal(c.callTool({ name: 'echo', arguments: { text: 'x' } }));
    assert.equal(error.code, -32050);
    assert.match(error.message, /502/);

    const hanging = await gateway({ url: `${origin}/hang`, startTimeoutMs: 300, requestTimeoutMs: 300 });
    const h = await client(hanging.url, 'modern');
    const timedOut = await refusal(h.callTool({ name: 'echo', arguments: { text: 'x' } }));
    assert.ok([-32050, -32054].includes(timedOut.code), `code ${timedOut.code}`);
    assert.match(timedOut.message, /did not answer .* within 300 ms/);
  });
});
