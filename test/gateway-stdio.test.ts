/**
 * The stdio gateway (`stdio` option, `serve --stdio`) with real stdio servers: the npm packages
 * @modelcontextprotocol/server-everything and server-filesystem, and test/fixtures/stdio-child.ts (the demo
 * server plus tools that name their process and misbehave on request) in both eras. Clients are the official SDK
 * v2 Client (through remote-mcp/client) on every transport and the v1 SDK Client. Child processes are watched
 * through their pids: every test checks that what the gateway stopped is gone.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import WebSocket from 'ws';

import { connect, type RemoteClient } from '../src/client/index.js';
import { createRemoteServer, mintApiKey, type RemoteServer, writeKeysFile } from '../src/index.js';
import type { StdioOptions } from '../src/gateway/stdio-options.js';
import { modernBody, modernHeaders, untilServing } from './helpers.js';
import { runCli } from './support/run-cli.js';

// The v1 SDK's WebSocket client uses the global WebSocket, which Node 20 does not have; ws is API-compatible.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const CHILD = resolve('build/test/fixtures/stdio-child.js');
const EVERYTHING = resolve('node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const CLI = 'build/src/cli/main.js';

interface Gateway {
  remote: RemoteServer;
  url: string;
  base: string;
  close(): Promise<void>;
}

const open: Gateway[] = [];
const clients: RemoteClient[] = [];
after(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  await Promise.all(open.map((gateway) => gateway.close()));
});

async function gateway(stdio: Partial<StdioOptions>, extra: Record<string, unknown> = {}): Promise<Gateway> {
  const remote = createRemoteServer({
    stdio: { command: process.execPath, args: [CHILD, 'legacy'], ...stdio } as StdioOptions,
    log: { level: 'silent' },
    onError: () => {},
    ...extra,
  });
  const { url } = await remote.listen({ port: 0 });
  const started = { remote, url, base: url.slice(0, -'/mcp'.length), close: () => remote.close() };
  open.push(started);
  return started;
}

type Wire = 'modern' | 'legacy' | 'sse' | 'ws';
const WIRES: Wire[] = ['modern', 'legacy', 'sse', 'ws'];

async function client(url: string, wire: Wire, options: Parameters<typeof connect>[1] = {}): Promise<RemoteClient> {
  const target = wire === 'sse' ? `${url}/events` : wire === 'ws' ? url.replace(/^http/, 'ws') : url;
  const protocol = wire === 'modern' ? 'modern' : wire === 'legacy' ? 'legacy' : 'auto';
  const connected = await connect(target, { protocol, retry: { attempts: 1 }, ...options });
  clients.push(connected);
  return connected;
}

const textOf = (result: unknown) =>
  ((result as { content: Array<{ text: string }> }).content[0] as { text: string }).text;

/** Whether a process runs (a zombie, exited but not yet reaped by its parent, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The JSON-RPC error a call was refused with. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await call.then(
    () => assert.fail('the call succeeded'),
    (reason: unknown) => reason as { code: number; message: string },
  );
  return error;
}

/** DELETE ends a 2025-era session (the SDK client's close() only closes its streams). */
async function endSession(url: string, c: RemoteClient): Promise<void> {
  const sessionId = (c.transport as { sessionId?: string }).sessionId;
  assert.ok(sessionId !== undefined, 'the client holds a session');
  const response = await fetch(url, {
    method: 'DELETE',
    headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
  });
  assert.equal(response.status, 200);
}

describe('npm stdio servers, every transport, official clients', () => {
  test('server-everything: tools, progress and resources for the SDK v2 client on every transport', async () => {
    const served = await gateway({ args: [EVERYTHING, 'stdio'] });
    for (const wire of WIRES) {
      const c = await client(served.url, wire);
      const { tools } = await c.listTools();
      assert.ok(
        tools.some((tool) => tool.name === 'echo'),
        `${wire}: echo is listed`,
      );
      assert.equal(
        textOf(await c.callTool({ name: 'echo', arguments: { message: `via ${wire}` } })),
        `Echo: via ${wire}`,
      );
      const progress: number[] = [];
      const long = await c.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        { onprogress: (update) => progress.push(update.progress) },
      );
      assert.match(textOf(long), /Long running operation completed/);
      assert.deepEqual(progress, [1, 2, 3], `${wire}: progress travels back`);
      const { resources } = await c.listResources();
      assert.ok(resources.length > 0, `${wire}: resources are listed`);
      const read = await c.readResource({ uri: resources[0]!.uri });
      assert.equal(read.contents[0]!.uri, resources[0]!.uri);
      await c.close();
    }
  });

  test('server-everything for the SDK v1 client: Streamable HTTP, HTTP+SSE and WebSocket', async () => {
    const served = await gateway({ args: [EVERYTHING, 'stdio'] });
    for (const transport of [
      new StreamableHTTPClientTransport(new URL(served.url)),
      new SSEClientTransport(new URL(`${served.url}/events`)),
      new WebSocketClientTransport(new URL(served.url.replace(/^http/, 'ws'))),
    ]) {
      const v1 = new V1Client({ name: 'v1', version: '1.0.0' });
      await v1.connect(transport);
      assert.equal(v1.getServerVersion()?.name, 'mcp-servers/everything');
      const result = await v1.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      assert.match(textOf(result), /5/);
      await v1.close();
    }
  });

  test('server-filesystem: reads a file in its allowed directory, refuses one outside it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'gateway-fs-'));
    writeFileSync(join(directory, 'note.txt'), 'hello from disk');
    const served = await gateway({ args: [FILESYSTEM, directory] });
    for (const wire of ['modern', 'legacy'] as const) {
      const c = await client(served.url, wire);
      const read = await c.callTool({ name: 'read_text_file', arguments: { path: join(directory, 'note.txt') } });
      assert.equal(textOf(read), 'hello from disk');
      const outside = await c.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
      assert.equal((outside as { isError?: boolean }).isError, true);
      assert.match(textOf(outside), /Access denied|outside allowed/i);
    }
  });
});

describe('the child era: passed through where the child speaks it', () => {
  for (const era of ['legacy', 'modern'] as const) {
    test(`a ${era} child serves both eras, with elicitation where the eras meet`, async () => {
      const served = await gateway({ args: [CHILD, era] });
      for (const wire of ['modern', 'legacy'] as const) {
        const c = await client(served.url, wire, {
          capabilities: { elicitation: { form: {} } },
        } as Parameters<typeof connect>[1]);
        c.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: `Ada ${wire}` } }));
        assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: 'x' } })), 'x');
        const greeting = await c.callTool({ name: 'ask_name', arguments: {} });
        if (era === 'legacy' && wire === 'modern') {
          // A 2025-era child asks by pushing elicitation/create, which nothing could carry to a 2026-07-28 client:
          // children serving those are initialized without the capability, and the child says so in-band.
          assert.match(textOf(greeting), /did not declare the required capability/);
          continue;
        }
        // 2026-07-28 child: input_required passes through to a 2026-07-28 client, and the SDK's legacy shim
        // turns it into elicitation/create for a 2025-era one; 2025-era child and client: a forwarded push.
        assert.equal(textOf(greeting), `Hello, Ada ${wire}!`, `${era} child, ${wire} client`);
      }
    });
  }
});

describe('isolation', () => {
  test('shared: every session reaches one child; session: each 2025-era session has its own, stopped when it ends', async () => {
    const shared = await gateway({ isolation: 'shared' });
    const [a, b] = [await client(shared.url, 'legacy'), await client(shared.url, 'legacy')];
    assert.equal(
      textOf(await a!.callTool({ name: 'pid', arguments: {} })),
      textOf(await b!.callTool({ name: 'pid', arguments: {} })),
    );

    const isolated = await gateway({ isolation: 'session' });
    const one = await client(isolated.url, 'legacy');
    const two = await client(isolated.url, 'legacy');
    await one.callTool({ name: 'remember', arguments: { value: 'one' } });
    await two.callTool({ name: 'remember', arguments: { value: 'two' } });
    assert.equal(textOf(await one.callTool({ name: 'recall', arguments: {} })), 'one');
    assert.equal(textOf(await two.callTool({ name: 'recall', arguments: {} })), 'two');
    const pidOne = Number(textOf(await one.callTool({ name: 'pid', arguments: {} })));
    const pidTwo = Number(textOf(await two.callTool({ name: 'pid', arguments: {} })));
    assert.notEqual(pidOne, pidTwo);
    // 2026-07-28 requests go to the pool, not to a session's child.
    const modern = await client(isolated.url, 'modern');
    const pooled = Number(textOf(await modern.callTool({ name: 'pid', arguments: {} })));
    assert.ok(![pidOne, pidTwo].includes(pooled));
    await endSession(isolated.url, one);
    await until(() => !alive(pidOne), 'the ended session’s child to exit');
    assert.ok(alive(pidTwo), 'the other session’s child keeps running');
    await isolated.close();
    await until(() => !alive(pidTwo) && !alive(pooled), 'every child to exit on close');
  });

  test('session: a WebSocket or HTTP+SSE session’s child stops when its stream closes', async () => {
    const isolated = await gateway({ isolation: 'session' });
    for (const wire of ['ws', 'sse'] as const) {
      const c = await client(isolated.url, wire, { protocol: 'legacy' });
      const pid = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
      assert.ok(alive(pid));
      await c.close();
      await until(() => !alive(pid), `the ${wire} session’s child to exit`);
    }
  });

  test('session: an idle child is stopped after idleTimeoutMs; the session gets a new one', async () => {
    const isolated = await gateway({ isolation: 'session', idleTimeoutMs: 200 });
    const c = await client(isolated.url, 'legacy');
    const first = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
    await until(() => !alive(first), 'the idle child to be stopped');
    const second = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
    assert.notEqual(second, first);
  });

  test('maxLifetimeMs: a shared child past it is replaced once idle', async () => {
    const served = await gateway({ maxLifetimeMs: 300 });
    const c = await client(served.url, 'modern');
    const first = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
    await until(() => !alive(first), 'the old child to be replaced');
    let second: number | undefined;
    for (let attempt = 0; attempt < 100 && second === undefined; attempt++)
      second = await c.callTool({ name: 'pid', arguments: {} }).then(
        (result) => Number(textOf(result)),
        () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50)),
      );
    assert.ok(second !== undefined && second !== first);
  });

  test('the gateway keeps its auth and limits: no key is 401, a key the policy denies a tool gets -32003', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gateway-auth-')), 'keys.json');
    const minted = mintApiKey('reader', []);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    const served = await gateway({}, { auth: { apiKeys: { file } }, authorization: { tools: { crash: ['admin'] } } });
    const anonymous = await fetch(served.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    assert.equal(anonymous.status, 401);
    const c = await client(served.url, 'modern', { auth: { apiKey: minted.key } } as Parameters<typeof connect>[1]);
    assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: 'allowed' } })), 'allowed');
    // The gateway's policy refuses before the child sees the call: HTTP 403 with the JSON-RPC error.
    const denied = await fetch(served.url, {
      method: 'POST',
      headers: {
        ...modernHeaders('tools/call', 'crash'),
        'x-api-key': minted.key,
      },
      body: modernBody(1, 'tools/call', { name: 'crash', arguments: {} }),
    });
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { error: { code: number } }).error.code, -32003);
    assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: 'still' } })), 'still');
  });

  test('session: past maxChildren a new session’s request gets -32050 naming the cap', async () => {
    const isolated = await gateway({ isolation: 'session', maxChildren: 2, poolSize: 1 });
    const c = await client(isolated.url, 'legacy');
    await c.callTool({ name: 'pid', arguments: {} });
    const third = await client(isolated.url, 'legacy');
    const error = await refusal(third.callTool({ name: 'pid', arguments: {} }));
    assert.equal(error.code, -32050);
    assert.match(error.message, /stdio\.maxChildren \(2\)/);
  });
});

describe('failures: a clear error, never a crash or a hang', () => {
  test('the child is killed mid-call: the call gets -32050 at once, and the shared child is restarted', async () => {
    const served = await gateway({ restartDelayMs: 50 });
    const c = await client(served.url, 'modern');
    const pid = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
    const call = refusal(c.callTool({ name: 'sleep', arguments: { ms: 30_000 } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(pid, 'SIGKILL');
    const error = await call;
    assert.equal(error.code, -32050);
    assert.match(error.message, /the stdio server was killed by SIGKILL/);
    let next: number | undefined;
    await until(() => next !== undefined, 'a restarted child', 10_000).catch(() => {});
    for (let attempt = 0; attempt < 100 && next === undefined; attempt++) {
      try {
        next = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    assert.ok(next !== undefined && next !== pid, 'a new child answers');
  });

  test('a child that exits during a call (crash tool) gives -32050 with its exit code', async () => {
    const served = await gateway({ restartDelayMs: 50 });
    const c = await client(served.url, 'legacy');
    const error = await refusal(c.callTool({ name: 'crash', arguments: {} }));
    assert.equal(error.code, -32050);
    assert.match(error.message, /exited with code 3/);
  });

  test('spawn fails (ENOENT, EACCES): every request gets -32050 with the reason, /ready is 503, the gateway serves on', async () => {
    const notExecutable = join(mkdtempSync(join(tmpdir(), 'gateway-x-')), 'server.sh');
    writeFileSync(notExecutable, '#!/bin/sh\n');
    chmodSync(notExecutable, 0o644);
    for (const [command, reason] of [
      ['/nonexistent/mcp-server', /was not found \(ENOENT\)/],
      [notExecutable, /is not executable \(EACCES\)/],
    ] as const) {
      const served = await gateway({ command, args: [] });
      for (const wire of ['modern', 'legacy'] as const) {
        const c = await client(served.url, wire);
        const error = await refusal(c.callTool({ name: 'anything', arguments: {} }));
        assert.equal(error.code, -32050);
        assert.match(error.message, reason);
      }
      const ready = await fetch(`${served.base}/ready`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), reason);
      const health = await fetch(`${served.base}/health`);
      assert.equal(health.status, 200, 'liveness holds: restarting the gateway would not fix the command');
    }
  });

  test('a line longer than maxLineBytes stops the child with -32050; a non-JSON line is skipped', async () => {
    const served = await gateway({ maxLineBytes: 64 * 1024, restartDelayMs: 50 });
    const c = await client(served.url, 'modern');
    assert.equal(textOf(await c.callTool({ name: 'garbage', arguments: {} })), 'wrote garbage');
    const pid = Number(textOf(await c.callTool({ name: 'pid', arguments: {} })));
    const error = await refusal(c.callTool({ name: 'flood', arguments: { bytes: 1024 * 1024 } }));
    assert.equal(error.code, -32050);
    assert.match(error.message, /longer than maxLineBytes \(65536 bytes\)/);
    await until(() => !alive(pid), 'the flooding child to be killed');
  });

  test('a child that does not answer in requestTimeoutMs gives -32054, and the child is told to cancel', async () => {
    const served = await gateway({ requestTimeoutMs: 300 });
    const c = await client(served.url, 'legacy');
    const error = await refusal(c.callTool({ name: 'sleep', arguments: { ms: 5_000 } }));
    assert.equal(error.code, -32054);
    assert.match(error.message, /did not answer tools\/call within 300 ms/);
    assert.equal(textOf(await c.callTool({ name: 'echo', arguments: { text: 'still here' } })), 'still here');
  });
});

test('the README gateway example runs as written: serve --stdio with server-everything, then call prints what it says', async () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Serve a stdio server or a remote one (gateway)'));
  const block = /```sh\n([^`]*?)```/.exec(section)![1]!;
  const [serveLine, callLine] = block.trim().split('\n');
  const stdio = /^npm run serve -- --stdio "([^"]+)"$/.exec(serveLine!)![1]!;
  const serving = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--stdio', stdio], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const { url } = await untilServing(serving, 20_000, 'the README gateway example');
    const call = /^node build\/src\/cli\/main\.js call (\S+) (.*?)\s+# prints: (.*)$/.exec(callLine!)!;
    assert.equal(call[1], 'http://127.0.0.1:8080/mcp');
    const ran = await runCli(['call', url, ...call[2]!.split(' ')]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trim(), call[3]);
  } finally {
    serving.kill('SIGTERM');
  }
});

describe('the gateway process: no child outlives it', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`${signal} of \`remote-mcp serve --stdio\`: every child (shared and per session) exits`, async () => {
      const cli = spawn(
        process.execPath,
        [
          CLI,
          'serve',
          '--port',
          '0',
          '--stdio',
          `"${process.execPath}" "${CHILD}" legacy`,
          '--stdio-isolation',
          'session',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const { url } = await untilServing(cli, 20_000, 'serve --stdio');
      const pids: number[] = [];
      for (const wire of ['legacy', 'legacy', 'modern'] as const) {
        const c = await client(url, wire);
        pids.push(Number(textOf(await c.callTool({ name: 'pid', arguments: {} }))));
      }
      assert.equal(new Set(pids).size, 3);
      cli.kill(signal);
      await until(() => pids.every((pid) => !alive(pid)), `every child to exit after ${signal}`);
    });
  }
});
