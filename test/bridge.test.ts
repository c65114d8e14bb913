/**
 * `remote-mcp bridge <url>` driven the way desktop apps drive it: the official SDK v2 Client on
 * StdioClientTransport spawning `node build/src/cli/main.js bridge <url>` (and the v1 SDK's Client for one call),
 * against real remote-mcp servers on every wire: tools, an elicitation round trip (a server-to-client request
 * answered by the stdio client), progress and log notifications, list_changed on the session's GET stream, the
 * 2026-07-28 era, the remote server killed and restarted under it (recovered for the next call; a request in flight
 * gets -32603 instead of hanging), bad stdin lines, and the session ended with DELETE when stdin ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, type JSONRPCResponse, ProtocolError } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { raw, sessionHeaders, start, type Started, untilServing, withTimeout } from './helpers.js';
import { freePort } from './support/ports.js';

const CLI = resolve('build/src/cli/main.js');
const WAIT_MS = 15_000;

/**
 * The SDK Client runs notification handlers a microtask after a message arrives but handles a response at once,
 * so a progress notification read in the same stdout chunk as its response is dropped (over WebSocket and HTTP+SSE
 * the last progress and the result often arrive together). remote-mcp's RemoteClient defers responses one
 * microtask for that reason; this stdio client does the same, so the test checks what the bridge forwards.
 */
class InOrderClient extends Client {
  protected override _onresponse(response: JSONRPCResponse): void {
    queueMicrotask(() => super._onresponse(response));
  }
}

interface Bridged {
  client: Client;
  /** Everything the bridge wrote on stderr so far. */
  stderr: () => string;
  elicited: string[];
  logs: unknown[];
  listChanged: () => number;
  close: () => Promise<void>;
}

/** The SDK v2 Client on a bridge to `url`, answering elicitations with `blue`. */
async function bridged(url: string, mode: 'legacy' | 'auto' = 'legacy', args: string[] = []): Promise<Bridged> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'bridge', url, ...args],
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const client = new InOrderClient(
    { name: 'bridge-test', version: '1.0.0' },
    {
      capabilities: { elicitation: { form: {} } },
      ...(mode === 'auto' && { versionNegotiation: { mode: 'auto' as const } }),
    },
  );
  const elicited: string[] = [];
  const logs: unknown[] = [];
  let listChanged = 0;
  client.setRequestHandler('elicitation/create', async (request) => {
    elicited.push(String((request.params as { message?: unknown }).message));
    return { action: 'accept', content: { word: 'blue', name: 'Ada' } };
  });
  client.setNotificationHandler('notifications/message', (notification) => {
    logs.push(notification.params.data);
  });
  client.setNotificationHandler('notifications/tools/list_changed', () => {
    listChanged++;
  });
  await withTimeout(client.connect(transport), WAIT_MS, `the stdio client to connect through the bridge to ${url}`);
  return {
    client,
    stderr: () => stderr,
    elicited,
    logs,
    listChanged: () => listChanged,
    close: () => client.close(),
  };
}

const text = (result: { content?: unknown }) => (result.content as Array<{ text?: string }>)[0]?.text;

/** Polls until `predicate` holds (bounded). */
async function until(predicate: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `remote-mcp serve` of the cluster fixture as a child process, so that it can be SIGKILLed and restarted. */
class FixtureServer {
  child!: ChildProcess;
  url!: string;
  output!: () => string;
  port = 0;

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        'build/test/fixtures/cluster-server.js',
        '--port',
        String(this.port),
        '--no-metrics',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const serving = await untilServing(child, 10_000, 'the fixture server to serve');
    this.child = child;
    this.url = serving.url;
    this.output = serving.output;
    this.port = Number(new URL(serving.url).port);
  }

  async kill(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  get pid(): string {
    return String(this.child.pid);
  }
}

const WIRES = [
  { name: 'Streamable HTTP', url: (base: string) => base },
  { name: 'WebSocket', url: (base: string) => base.replace('http:', 'ws:') },
  { name: 'HTTP+SSE', url: (base: string) => `${base}/events` },
];

describe('bridge to a 2025-era session', () => {
  const fixture = new FixtureServer();
  let demo: Started;
  before(async () => {
    await fixture.start();
    demo = await start();
  });
  after(async () => {
    await fixture.kill().catch(() => {});
    await demo?.close();
  });

  for (const wire of WIRES) {
    test(`over ${wire.name}: tools, an elicitation round trip, logs, list_changed, progress`, async () => {
      const b = await bridged(wire.url(fixture.url));
      try {
        assert.equal(b.client.getNegotiatedProtocolVersion(), '2025-11-25');
        const { tools } = await withTimeout(b.client.listTools(), WAIT_MS, 'tools/list');
        assert.deepEqual(
          tools.map((tool) => tool.name),
          ['whoami', 'ask', 'wait', 'stats', 'change', 'greet', 'steps'],
        );
        assert.equal(text(await b.client.callTool({ name: 'whoami' })), fixture.pid);

        // The remote asks the stdio client (elicitation/create) in the middle of the call; the answer goes back.
        const asked = await withTimeout(
          b.client.callTool({ name: 'ask', arguments: { question: 'Favourite colour?' } }),
          WAIT_MS,
          'ask',
        );
        assert.equal(text(asked), `${fixture.pid}:accept:blue`);
        assert.deepEqual(b.elicited, ['Favourite colour?']);

        const stepped = await b.client.callTool({ name: 'steps', arguments: { count: 3, delayMs: 5 } });
        assert.equal(text(stepped), `${fixture.pid}:3 steps`);
        assert.deepEqual(b.logs, ['step 1', 'step 2', 'step 3']);

        // tools/list_changed comes on the session's own stream (the GET stream over Streamable HTTP).
        await b.client.callTool({ name: 'change' });
        await until(() => b.listChanged() === 1, 'notifications/tools/list_changed through the bridge');
      } finally {
        await b.close();
      }

      const progressed = await bridged(wire.url(demo.url));
      try {
        const updates: Array<[number, number | undefined, string | undefined]> = [];
        const counted = await progressed.client.callTool(
          { name: 'slow_count', arguments: { to: 3, delayMs: 10 } },
          { onprogress: (p) => void updates.push([p.progress, p.total, p.message]) },
        );
        assert.equal(text(counted), 'counted to 3');
        assert.deepEqual(updates, [
          [1, 3, 'step 1'],
          [2, 3, 'step 2'],
          [3, 3, 'step 3'],
        ]);
      } finally {
        await progressed.close();
      }
    });
  }

  test('the v1 SDK Client (its StdioClientTransport) calls a tool through the bridge', async () => {
    const transport = new V1StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'bridge', demo.url],
      stderr: 'pipe',
    });
    const client = new V1Client({ name: 'bridge-v1', version: '1.0.0' });
    await withTimeout(client.connect(transport), WAIT_MS, 'the v1 client to connect');
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'from v1' } });
      assert.deepEqual(result.content, [{ type: 'text', text: 'from v1' }]);
    } finally {
      await client.close();
    }
  });
});

describe('bridge to 2026-07-28', () => {
  let demo: Started;
  const fixture = new FixtureServer();
  before(async () => {
    demo = await start();
    await fixture.start();
  });
  after(async () => {
    await demo?.close();
    await fixture.kill().catch(() => {});
  });

  for (const wire of WIRES.slice(0, 2)) {
    test(`over ${wire.name}: the stdio client's server/discover makes every request a 2026-07-28 one`, async () => {
      const b = await bridged(wire.url(demo.url), 'auto');
      try {
        assert.equal(b.client.getNegotiatedProtocolVersion(), '2026-07-28');
        const { tools } = await b.client.listTools();
        assert.deepEqual(
          tools.map((tool) => tool.name),
          ['echo', 'add', 'slow_count', 'ask_name'],
        );
        assert.equal(text(await b.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })), '5');
        // input_required rounds: the remote's elicitation comes back inside the result, the retry carries the answer.
        assert.equal(text(await b.client.callTool({ name: 'ask_name', arguments: {} })), 'Hello, Ada!');
        assert.deepEqual(b.elicited, ['What is your name?']);
      } finally {
        await b.close();
      }
      // requestState sealed by the server travels through the bridge untouched.
      const sealed = await bridged(wire.url(fixture.url), 'auto');
      try {
        assert.equal(
          text(await sealed.client.callTool({ name: 'greet', arguments: {} })),
          `sealed by pid:${fixture.pid}, opened by pid:${fixture.pid}, hello Ada`,
        );
      } finally {
        await sealed.close();
      }
    });
  }
});

describe('cancellation through the bridge', () => {
  const fixture = new FixtureServer();
  before(() => fixture.start());
  after(() => fixture.kill().catch(() => {}));

  const cancelledCount = async (client: Client) =>
    (JSON.parse(text(await client.callTool({ name: 'stats' }))!) as { cancelled: number }).cancelled;

  const cases = [
    {
      name: 'a 2025-era session over Streamable HTTP (notifications/cancelled is forwarded)',
      wire: WIRES[0]!,
      mode: 'legacy' as const,
    },
    { name: '2026-07-28 over Streamable HTTP (the POST is aborted)', wire: WIRES[0]!, mode: 'auto' as const },
    {
      name: '2026-07-28 over WebSocket (notifications/cancelled is forwarded)',
      wire: WIRES[1]!,
      mode: 'auto' as const,
    },
  ];
  for (const [index, { name, wire, mode }] of cases.entries()) {
    test(`the stdio client cancels a call: ${name}`, async () => {
      const b = await bridged(wire.url(fixture.url), mode);
      try {
        const before = await cancelledCount(b.client);
        const abort = new AbortController();
        const call = b.client
          .callTool({ name: 'wait', arguments: { ms: 30_000, tag: `cancel-${index}` } }, { signal: abort.signal })
          .then(
            () => 'finished',
            () => 'rejected',
          );
        await until(() => fixture.output().includes(`ran cancel-${index} `), 'the wait call to reach the server');
        abort.abort();
        assert.equal(await withTimeout(call, WAIT_MS, 'the cancelled call to settle'), 'rejected');
        const deadline = Date.now() + WAIT_MS;
        while ((await cancelledCount(b.client)) !== before + 1) {
          assert.ok(Date.now() < deadline, 'the server never saw the cancellation');
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await b.close();
      }
    });
  }
});

describe('the remote server lost under the bridge', () => {
  for (const wire of WIRES) {
    test(`over ${wire.name}: the next call recovers on a new session; a call in flight gets -32603`, async () => {
      const fixture = new FixtureServer();
      await fixture.start();
      const b = await bridged(wire.url(fixture.url));
      try {
        const first = fixture.pid;
        assert.equal(text(await b.client.callTool({ name: 'whoami' })), first);

        // Killed and restarted between two calls: the next call goes through on a new session, transparently.
        await fixture.kill();
        await fixture.start();
        const second = fixture.pid;
        assert.notEqual(second, first);
        assert.equal(
          text(await withTimeout(b.client.callTool({ name: 'whoami' }), WAIT_MS, 'whoami after restart')),
          second,
        );
        // The new session is a whole one: the remote can ask the stdio client again.
        const asked = await b.client.callTool({ name: 'ask', arguments: { question: 'Again?' } });
        assert.equal(text(asked), `${second}:accept:blue`);

        // Killed while a call runs on it: that call fails with -32603 (it may have run), instead of hanging.
        const inFlight = b.client.callTool(
          { name: 'wait', arguments: { ms: 30_000, tag: 'doomed' } },
          { timeout: WAIT_MS },
        );
        const outcome = inFlight.then(
          () => assert.fail('the call in flight succeeded'),
          (error: unknown) => error,
        );
        await until(() => fixture.output().includes(`ran doomed ${second}`), 'the wait call to reach the server');
        await fixture.kill();
        const error = await withTimeout(outcome, WAIT_MS, 'the call in flight to fail');
        assert.ok(error instanceof ProtocolError, String(error));
        assert.equal(error.code, -32603);
        assert.match(error.message, /remote-mcp bridge: .*may have run/);

        await fixture.start();
        assert.equal(
          text(await withTimeout(b.client.callTool({ name: 'whoami' }), WAIT_MS, 'whoami after the second restart')),
          fixture.pid,
        );
        assert.match(b.stderr(), /reconnecting to /);
        assert.match(b.stderr(), /reconnected to /);
      } finally {
        await b.close();
        await fixture.kill().catch(() => {});
      }
    });
  }
});

/** The bridge as a raw child: lines in, lines out. */
function rawBridge(url: string, args: string[] = []) {
  const child = spawn(process.execPath, [CLI, 'bridge', url, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: unknown[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      out.push(JSON.parse(buffered.slice(0, newline)));
      buffered = buffered.slice(newline + 1);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    out,
    stderr: () => stderr,
    exited,
    send: (line: string) => child.stdin.write(`${line}\n`),
    /** The next message on stdout (waiting for it), by position. */
    nth: async (index: number) => {
      await until(() => out.length > index, `message ${index} from the bridge`);
      return out[index] as { id?: unknown; result?: any; error?: { code: number; message: string } };
    },
  };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('bridge input and lifecycle', () => {
  let demo: Started;
  before(async () => {
    demo = await start();
  });
  after(() => demo?.close());

  test('bad lines get JSON-RPC errors and the bridge goes on; stdin end DELETEs the session and exits 0', async () => {
    const bridge = rawBridge(demo.url);
    bridge.send('this is not json');
    assert.deepEqual(await bridge.nth(0), {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'stdin: a line that is not JSON' },
    });
    bridge.send('{"jsonrpc":"2.0","id":5}');
    assert.deepEqual(await bridge.nth(1), {
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32600, message: 'neither a request, a notification nor a response' },
    });
    bridge.send('[{"jsonrpc":"2.0","id":6,"method":"ping"}]');
    assert.deepEqual((await bridge.nth(2)).error, {
      code: -32600,
      message: 'JSON-RPC batches are not supported over stdio',
    });
    bridge.send('{"jsonrpc":"1.0","id":7,"method":"ping"}');
    assert.deepEqual(await bridge.nth(3), {
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32600, message: 'jsonrpc must be "2.0"' },
    });

    bridge.send(INITIALIZE);
    const initialized = await bridge.nth(4);
    assert.equal(initialized.id, 1);
    assert.equal(initialized.result.protocolVersion, '2025-11-25');
    bridge.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    bridge.send(
      '{"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"echo","arguments":{"text":"raw"}}}',
    );
    const echoed = await bridge.nth(5);
    assert.equal(echoed.id, 'two');
    assert.deepEqual(echoed.result.content, [{ type: 'text', text: 'raw' }]);

    bridge.child.stdin.end();
    assert.equal(await withTimeout(bridge.exited, WAIT_MS, 'the bridge to exit'), 0);
    const ended = /ended the remote session (\S+)/.exec(bridge.stderr());
    assert.ok(ended !== null, bridge.stderr());
    // The session is gone on the server: DELETE reached it.
    const after = await raw(demo.url, {
      headers: sessionHeaders(ended[1]!),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    assert.equal(after.status, 404);
    // stdout carried only protocol messages (each line parsed as JSON above); the log went to stderr.
    assert.match(bridge.stderr(), /^remote-mcp bridge: forwarding stdio to http:\/\/127\.0\.0\.1:\d+\/mcp\n/);
  });

  test('an unreachable server: each request gets -32603 naming the cause, not a hang', async () => {
    const port = await freePort();
    const bridge = rawBridge(`http://127.0.0.1:${port}/mcp`, ['--retries', '1']);
    bridge.send(INITIALIZE);
    const answer = await bridge.nth(0);
    assert.equal(answer.id, 1);
    assert.equal(answer.error?.code, -32603);
    assert.equal(
      answer.error?.message,
      `remote-mcp bridge: cannot reach http://127.0.0.1:${port}/mcp: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    // Tried twice (--retries 1), then answered; nothing else came on stdout.
    assert.equal(bridge.out.length, 1);
    assert.match(bridge.stderr(), /the connection was refused/);
    bridge.child.stdin.end();
    assert.equal(await withTimeout(bridge.exited, WAIT_MS, 'the bridge to exit'), 0);
  });

  test('a server that wants a credential: the 401 comes back as its JSON-RPC error; with --api-key it works', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { mintApiKey, writeKeysFile } = await import('../src/index.js');
    const file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-bridge-keys-')), 'keys.json');
    const minted = mintApiKey('bridge', ['mcp']);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    const keyed = await start({ auth: { apiKeys: { file } } });
    try {
      const refused = rawBridge(keyed.url);
      refused.send(INITIALIZE);
      assert.deepEqual((await refused.nth(0)).error, {
        code: -32001,
        message: 'Unauthorized: a credential is required (see WWW-Authenticate)',
      });
      refused.child.stdin.end();
      await refused.exited;

      const b = await bridged(keyed.url, 'legacy', ['--api-key', minted.key]);
      try {
        assert.equal(text(await b.client.callTool({ name: 'echo', arguments: { text: 'keyed' } })), 'keyed');
      } finally {
        await b.close();
      }
    } finally {
      await keyed.close();
    }
  });
});
