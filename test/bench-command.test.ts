import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { AuthenticationError, createRemoteServer } from '../src/index.js';
import createBenchServer from './fixtures/bench-server.js';
import { start, type Started } from './helpers.js';
import { freePort as closedPort } from './support/ports.js';
import { type CliRun, runCli } from './support/run-cli.js';

const TRANSPORTS = ['http', 'legacy', 'sse', 'ws'] as const;

interface Ran extends CliRun {
  json(): any;
}

/** Runs `remote-mcp bench ...args` to its end (killed after `ms`, which fails the test). */
async function bench(args: string[], env: Record<string, string> = {}, ms = 30_000): Promise<Ran> {
  const run = await runCli(['bench', ...args], { env, timeoutMs: ms });
  return { ...run, json: () => JSON.parse(run.stdout) };
}

function assertLatency(latency: { p50: number; p90: number; p99: number; max: number }) {
  assert.ok(latency.p50 > 0, `p50 ${latency.p50}`);
  assert.ok(latency.p50 <= latency.p90 && latency.p90 <= latency.p99 && latency.p99 <= latency.max);
}

describe('remote-mcp bench against remote-mcp', () => {
  let s: Started;
  before(async () => {
    s = await start({
      server: createBenchServer,
      // A credential is needed only when one is offered wrongly or the test asks for it (x-require-auth).
      auth: {
        authenticate: (req: IncomingMessage) => {
          const offered = req.headers.authorization ?? req.headers['x-api-key'] ?? req.headers['x-team'];
          if (offered === undefined) return { kind: 'custom' as const, subject: 'anyone', scopes: ['mcp'] };
          if (['Bearer s3cret', 'k3y', 'blue'].includes(String(offered)))
            return { kind: 'custom' as const, subject: 'known', scopes: ['mcp'] };
          throw new AuthenticationError('unknown credential');
        },
      },
    });
  });
  after(() => s.close());

  for (const transport of TRANSPORTS) {
    test(`${transport}: --requests 300 over 4 connections, all answered, JSON report`, async () => {
      const ran = await bench([
        s.url,
        '--tool',
        'echo',
        '--args',
        '{"text":"hi"}',
        '--transport',
        transport,
        '-c',
        '4',
        '--requests',
        '300',
        '--json',
      ]);
      assert.equal(ran.code, 0, ran.stderr);
      const result = ran.json();
      assert.equal(result.transport, transport);
      assert.equal(result.tool, 'echo');
      assert.equal(result.connections, 4);
      assert.equal(result.requests, 300);
      assert.equal(result.ok, 300);
      assert.equal(result.failed, 0);
      assert.deepEqual(result.errors, {});
      assert.ok(result.requestsPerSecond > 0);
      assertLatency(result.latencyMs);
      assert.equal(ran.stderr, '');
    });
  }

  test('http: --duration 1 runs for about a second and prints the human report', async () => {
    const ran = await bench([s.url, '--tool', 'echo', '--args', '{"text":"hi"}', '-c', '2', '--duration', '1']);
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `remote-mcp bench ${s.url}`);
    assert.match(lines[1]!, /^ {2}tool echo over Streamable HTTP, 2026-07-28 \(stateless\), 2 connections, 1\.\d\d s$/);
    assert.match(lines[2]!, /^ {2}requests {3}[\d,]+ \([\d,]+\/s\)$/);
    assert.match(lines[3]!, /^ {2}latency {4}p50 [\d.]+ ms {3}p90 [\d.]+ ms {3}p99 [\d.]+ ms {3}max [\d.]+ ms$/);
    assert.equal(lines[4], '  errors     none');
    assert.equal(lines.length, 5);
  });

  test('--progress prints a progress line a second on stderr even when it is not a terminal', async () => {
    const ran = await bench([s.url, '--tool', 'echo', '--args', '{"text":"hi"}', '-c', '1', '-d', '1.5', '--progress']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /^bench +\d+ s +[\d,]+ requests +[\d,]+\/s {2}0 errors$/m);
  });

  test('--warmup runs first and is not counted: --requests still bounds the measured run', async () => {
    const ran = await bench([
      s.url,
      '--tool',
      'echo',
      '--args',
      '{"text":"hi"}',
      '--warmup',
      '0.3',
      '-n',
      '50',
      '--json',
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.json().requests, 50);
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: a tool that returns isError or throws counts "tool isError"; all failed exits 1`, async () => {
      for (const [tool, message] of [
        ['fails', 'refused'],
        ['throws', 'boom'],
      ] as const) {
        const ran = await bench([s.url, '--tool', tool, '--transport', transport, '-c', '2', '-n', '20', '--json']);
        assert.equal(ran.code, 1, ran.stderr);
        const result = ran.json();
        assert.equal(result.requests, 20);
        assert.equal(result.ok, 0);
        assert.deepEqual(result.errors, { 'tool isError': 20 });
        assert.deepEqual(result.errorMessages, { 'tool isError': message });
        assert.equal(ran.stderr, `remote-mcp: every request failed (first: tool isError: ${message})\n`);
      }
    });
  }

  test('errors are reported, not fatal: every second call failing exits 0 with the count', async () => {
    const ran = await bench([s.url, '--tool', 'flaky', '-c', '1', '-n', '20']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /\n {2}requests {3}20 \(/);
    assert.match(ran.stdout, /\n {2}errors {5}10 of 20\n {4}tool isError +10 {2}flaked\n$/);
  });

  test('JSON-RPC errors and HTTP statuses are counted by code', async () => {
    const unknown = await bench([s.url, '--tool', 'nope', '-n', '10', '--json']);
    assert.equal(unknown.code, 1);
    assert.deepEqual(unknown.json().errors, { 'jsonrpc -32602': 10 });
    assert.equal(unknown.json().errorMessages['jsonrpc -32602'], 'Tool nope not found');
    assert.match(
      unknown.stderr,
      /^remote-mcp bench: warning: tools\/list does not name "nope" \(it lists echo, fails, throws, flaky, wait, route\)\n/,
    );
    // Arguments the schema refuses: 2026-07-28 answers 400 with the JSON-RPC error, WebSocket the error alone.
    const invalid = await bench([s.url, '--tool', 'echo', '--args', '{}', '-n', '5', '--json']);
    assert.equal(invalid.code, 1);
    assert.deepEqual(invalid.json().errors, { 'http 400': 5 });
    assert.match(invalid.json().errorMessages['http 400'], /must have required property 'text' \(JSON-RPC -32602\)$/);
    const overWs = await bench([s.url, '--tool', 'echo', '--args', '{}', '--transport', 'ws', '-n', '5', '--json']);
    assert.deepEqual(overWs.json().errors, { 'jsonrpc -32602': 5 });
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: a request unanswered within --timeout counts "timeout"`, async () => {
      const ran = await bench([
        s.url,
        '--tool',
        'wait',
        '--args',
        '{"ms":5000}',
        '--transport',
        transport,
        '--timeout',
        '150',
        '-c',
        '2',
        '-n',
        '4',
        '--json',
      ]);
      assert.equal(ran.code, 1, ran.stderr);
      assert.equal(ran.json().requests, 4);
      assert.deepEqual(ran.json().errors, { timeout: 4 });
      assert.equal(ran.json().errorMessages.timeout, 'no answer within 150 ms');
    });
  }

  test('the tool schema decides the Mcp-Param-* headers of 2026-07-28 calls (non-ASCII values base64)', async () => {
    const ran = await bench([s.url, '--tool', 'route', '--args', '{"region":"Zürich"}', '-n', '10', '--json']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(ran.json().errors, {});
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: --token, --api-key and --header reach the server; a wrong one is refused`, async () => {
      for (const credential of [
        ['--token', 's3cret'],
        ['--api-key', 'k3y'],
        ['--header', 'X-Team: blue'],
      ]) {
        const ran = await bench([
          s.url,
          '--tool',
          'echo',
          '--args',
          '{"text":"a"}',
          '--transport',
          transport,
          '-n',
          '5',
          '--json',
          ...credential,
        ]);
        assert.equal(ran.code, 0, `${credential.join(' ')}: ${ran.stderr}`);
        assert.equal(ran.json().ok, 5);
      }
      const wrong = await bench([
        s.url,
        '--tool',
        'echo',
        '--args',
        '{"text":"a"}',
        '--transport',
        transport,
        '-n',
        '5',
        '--json',
        '--token',
        'nope',
      ]);
      assert.equal(wrong.code, 1);
      if (transport === 'http') {
        assert.deepEqual(wrong.json().errors, { 'http 401': 5 });
        assert.match(wrong.json().errorMessages['http 401'], /^Unauthorized: unknown credential \(JSON-RPC -32001\)$/);
      } else {
        // Sessions, streams and sockets are refused when they open: nothing to run.
        assert.equal(wrong.stdout, '');
        const refusal = {
          legacy: 'initialize answered HTTP 401: Unauthorized: unknown credential',
          sse: 'GET /mcp/events answered HTTP 401: Unauthorized: unknown credential',
          ws: 'the WebSocket upgrade was answered HTTP 401: Unauthorized: unknown credential',
        }[transport];
        assert.equal(
          wrong.stderr,
          `remote-mcp: cannot open a connection to ${s.url} (${label(transport)}): ${refusal}\n`,
        );
      }
    });
  }
});

const label = (transport: string) =>
  ({
    http: 'Streamable HTTP, 2026-07-28 (stateless)',
    legacy: 'Streamable HTTP, 2025-11-25 sessions',
    sse: 'HTTP+SSE, 2024-11-05',
    ws: 'WebSocket, 2026-07-28',
  })[transport];

describe('remote-mcp bench over TLS (a self-signed certificate)', () => {
  const server = createRemoteServer({ server: createBenchServer, onError: () => {} });
  let url = '';
  let ca = '';
  before(async () => {
    const listening = await server.listen({ port: 0, host: '127.0.0.1', tls: { selfSigned: true } });
    url = listening.url;
    ca = join(mkdtempSync(join(tmpdir(), 'remote-mcp-bench-')), 'ca.pem');
    writeFileSync(ca, listening.certPem!);
  });
  after(async () => {
    await server.close();
    rmSync(join(ca, '..'), { recursive: true, force: true });
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: https/wss with the certificate trusted (NODE_EXTRA_CA_CERTS); refused without`, async () => {
      const args = [url, '--tool', 'echo', '--args', '{"text":"tls"}', '--transport', transport, '-n', '20', '--json'];
      const trusted = await bench(args, { NODE_EXTRA_CA_CERTS: ca });
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal(trusted.json().ok, 20);
      const untrusted = await bench(args, { NODE_EXTRA_CA_CERTS: '' });
      assert.equal(untrusted.code, 1);
      assert.equal(
        untrusted.stderr,
        `remote-mcp: cannot reach ${url} (${label(transport)}): self-signed certificate\n`,
      );
    });
  }
});

describe('remote-mcp bench against a closed port', () => {
  for (const transport of TRANSPORTS) {
    test(`${transport}: exit 1 and a message naming the URL and the refusal`, async () => {
      const url = `http://127.0.0.1:${await closedPort()}/mcp`;
      const ran = await bench([url, '--tool', 'echo', '--transport', transport, '-d', '5']);
      assert.equal(ran.code, 1);
      assert.equal(ran.stdout, '');
      assert.equal(
        ran.stderr,
        `remote-mcp: cannot reach ${url} (${label(transport)}): connect ECONNREFUSED ${url.slice(7, url.lastIndexOf('/'))}\n`,
      );
    });
  }
});

describe('remote-mcp bench against raw HTTP peers', () => {
  const peers: Server[] = [];
  after(() => Promise.all(peers.map((peer) => new Promise((resolve) => peer.close(resolve)))));

  /** A peer that answers tools/list plainly and each tools/call through `answer`. */
  async function peer(answer: (id: number, res: ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const message = JSON.parse(body) as { id: number; method: string };
        if (message.method !== 'tools/call') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              jsonrpc: '2.0',
              id: message.id,
              result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] },
            }),
          );
          return;
        }
        answer(message.id, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  }

  test('an SSE answer in many chunks (chunked encoding, a notification first) is read to its end', async () => {
    const url = await peer((id, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n');
      const answer = `event: message\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [] } })}\r\n\r\n`;
      res.write(answer.slice(0, 20));
      setImmediate(() => res.end(answer.slice(20)));
    });
    const ran = await bench([url, '--tool', 'echo', '-c', '3', '-n', '60', '--json']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.json().ok, 60);
  });

  test('Connection: close after every answer: each call opens a new socket, none fails', async () => {
    const url = await peer((id, res) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { content: [] } }));
    });
    const ran = await bench([url, '--tool', 'echo', '-c', '2', '-n', '40', '--json']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.json().ok, 40);
  });

  test('an answer with another id, or not JSON, is a "bad response"', async () => {
    let n = 0;
    const url = await peer((id, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(n++ % 2 === 0 ? JSON.stringify({ jsonrpc: '2.0', id: id + 1, result: {} }) : 'not json');
    });
    const ran = await bench([url, '--tool', 'echo', '-c', '1', '-n', '4', '--json']);
    assert.equal(ran.code, 1);
    assert.deepEqual(ran.json().errors, { 'bad response': 4 });
  });

  test('legacy: a session the server forgets (404) is opened again; every session ends with a DELETE', async () => {
    const seen = { initialize: 0, initialized: 0, deleted: [] as string[], calls: 0 };
    const live = new Set<string>();
    const server = createServer((req, res) => {
      const session = req.headers['mcp-session-id'] as string | undefined;
      if (req.method === 'DELETE') {
        seen.deleted.push(session!);
        res.writeHead(204).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const message = JSON.parse(body) as { id?: number; method: string };
        if (message.method === 'initialize') {
          const id = `s${++seen.initialize}`;
          live.add(id);
          res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': id });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-06-18' } }));
        } else if (message.method === 'notifications/initialized') {
          seen.initialized++;
          assert.equal(req.headers['mcp-protocol-version'], '2025-06-18');
          res.writeHead(202).end();
        } else if (!live.has(session!) || ++seen.calls % 5 === 0) {
          live.delete(session!); // every fifth call: the session is gone from then on
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { content: [] } }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    const ran = await bench([url, '--tool', 'echo', '--transport', 'legacy', '-c', '2', '-n', '40', '--json']);
    assert.equal(ran.code, 0, ran.stderr);
    const result = ran.json();
    assert.equal(result.requests, 40);
    assert.deepEqual(result.errors, { 'http 404': 8 });
    assert.equal(result.errorMessages['http 404'], 'Session not found (JSON-RPC -32001)');
    // Each 404 but the last (the 40th call: by then the budget is spent) is followed by a new session.
    assert.equal(seen.initialize, 2 + 7);
    assert.equal(seen.initialized, seen.initialize);
    assert.deepEqual(seen.deleted.sort(), [...live].sort());
  });

  test('a server that drops the connection mid-answer counts "connection closed"', async () => {
    const url = await peer((_id, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"jsonrpc"');
      setImmediate(() => res.socket?.destroy());
    });
    const ran = await bench([url, '--tool', 'echo', '-c', '1', '-n', '3', '--json']);
    assert.equal(ran.code, 1);
    assert.deepEqual(ran.json().errors, { 'connection closed': 3 });
  });
});

describe('remote-mcp bench usage errors exit 2 with a message', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no --tool', ['http://127.0.0.1:1/mcp'], /error: required option '--tool <name>' not specified/],
    ['no URL', ['--tool', 'echo'], /error: missing required argument 'url'/],
    [
      '--connections 0',
      ['http://127.0.0.1:1/mcp', '--tool', 'x', '-c', '0'],
      /expected a whole number from 1 to 10000, received "0"/,
    ],
    [
      '--duration 0',
      ['http://127.0.0.1:1/mcp', '--tool', 'x', '-d', '0'],
      /expected seconds > 0 and <= 86400, received "0"/,
    ],
    ['--requests 1.5', ['http://127.0.0.1:1/mcp', '--tool', 'x', '-n', '1.5'], /expected a whole number from 1 to/],
    [
      '--args not JSON',
      ['http://127.0.0.1:1/mcp', '--tool', 'x', '--args', '{text}'],
      /argument '\{text\}' is invalid\. not JSON/,
    ],
    ['--args an array', ['http://127.0.0.1:1/mcp', '--tool', 'x', '--args', '[1]'], /expected a JSON object like/],
    [
      '--transport foo',
      ['http://127.0.0.1:1/mcp', '--tool', 'x', '--transport', 'foo'],
      /Allowed choices are http, legacy, sse, ws/,
    ],
    [
      '--header without a colon',
      ['http://127.0.0.1:1/mcp', '--tool', 'x', '--header', 'nocolon'],
      /expected name:value/,
    ],
    [
      '--header with a line break',
      ['http://127.0.0.1:1/mcp', '--tool', 'x', '--header', 'a: b\r\nc: d'],
      /a header value cannot hold line breaks or control characters/,
    ],
    ['an unknown option', ['http://127.0.0.1:1/mcp', '--tool', 'x', '--bogus'], /error: unknown option '--bogus'/],
    [
      'not a URL',
      ['localhost:8080', '--tool', 'x'],
      /error: bench speaks http\(s\) and ws\(s\), not localhost: \(localhost:8080\)/,
    ],
    ['a relative URL', ['/mcp', '--tool', 'x'], /error: "\/mcp" is not a URL/],
    [
      'a ws:// URL with --transport legacy',
      ['ws://127.0.0.1:1/mcp', '--tool', 'x', '--transport', 'legacy'],
      /error: --transport legacy needs an http\(s\) URL/,
    ],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const ran = await bench(args);
      assert.equal(ran.code, 2, ran.stderr);
      assert.match(ran.stderr, message);
      assert.equal(ran.stdout, '');
    });
  }
});
