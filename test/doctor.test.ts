/**
 * `remote-mcp doctor`, run as the built CLI against real servers on 127.0.0.1: a healthy remote-mcp, a closed
 * port, self-signed and broken TLS, a server that answers 401 (JWT and API keys, with RFC 9728 metadata),
 * remote-mcp without WebSocket, the official SDK v2's sessionful server, CORS with and without a policy, a
 * server that accepts connections and never answers, and bad usage.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer } from '@modelcontextprotocol/server';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { SignJWT } from 'jose';
import { generate } from 'selfsigned';

import { createRemoteServer, mintApiKey, type RemoteServerOptions, writeKeysFile } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import { start, type Started } from './helpers.js';
import { freePort as closedPort } from './support/ports.js';
import { CLI, type CliRun, runCli } from './support/run-cli.js';

/** Every check, in the order doctor prints them. */
const CHECK_NAMES = [
  'url',
  'dns',
  'tcp',
  'tls',
  'http',
  'health',
  'ready',
  'cors',
  'auth',
  'modern',
  'legacy',
  'sse',
  'websocket',
  'latency',
];
const LABELS = [
  'URL',
  'DNS',
  'TCP connect',
  'TLS',
  'HTTP status',
  '/health',
  '/ready',
  'CORS',
  'authentication',
  '2026-07-28',
  '2025-era session',
  'HTTP+SSE',
  'WebSocket',
  'latency',
];

/** The environment without the credential variables doctor falls back to. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REMOTE_MCP_TOKEN;
  delete env.REMOTE_MCP_API_KEY;
  return env;
}

interface Run extends CliRun {
  /** The line of a check, by its label. */
  line(label: string): string;
}

/** Runs `remote-mcp doctor ...args` as a child, without the credential variables doctor falls back to. */
async function doctor(...args: string[]): Promise<Run> {
  const run = await runCli(['doctor', ...args], {
    env: { REMOTE_MCP_TOKEN: undefined, REMOTE_MCP_API_KEY: undefined },
  });
  return {
    ...run,
    line(label) {
      const found = run.stdout.split('\n').find((line) => line.slice(2).startsWith(`${label}: `));
      assert.ok(found !== undefined, `no "${label}" line in:\n${run.stdout}`);
      return found;
    },
  };
}

function json(run: Run): { url: string; ok: boolean; checks: Array<Record<string, unknown>> } {
  try {
    return JSON.parse(run.stdout);
  } catch {
    assert.fail(`--json printed no JSON:\n${run.stdout}\n${run.stderr}`);
  }
}

const statuses = (run: Run) => Object.fromEntries(json(run).checks.map((check) => [check.name, check.status]));

describe('a healthy remote-mcp server', () => {
  let s: Started;
  before(async () => {
    s = await start();
  });
  after(() => s.close());

  test('every check passes (TLS is not used on http, CORS is not asked for), exit 0', async () => {
    const run = await doctor(s.url);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.slice(0, -1).map((line) => line.slice(2, line.indexOf(': '))),
      LABELS,
      'one line per check, in order',
    );
    assert.equal(lines.at(-1), '12 passed, 0 failed, 0 skipped, 2 notes');
    assert.equal(run.line('URL'), `✓ URL: http, host 127.0.0.1, port ${s.port}, path /mcp`);
    assert.equal(run.line('DNS'), '✓ DNS: 127.0.0.1 is an IP address (nothing to resolve)');
    assert.equal(run.line('TCP connect'), `✓ TCP connect: connected to 127.0.0.1:${s.port}`);
    assert.equal(run.line('TLS'), '• TLS: not used (http://)');
    assert.equal(run.line('HTTP status'), '✓ HTTP status: 200 OK application/json: server/discover answered');
    assert.equal(run.line('/health'), '✓ /health: 200 OK, status ok');
    assert.equal(run.line('/ready'), '✓ /ready: 200 OK, status ready');
    assert.match(run.line('CORS'), /^• CORS: not checked — hint: give --origin /);
    assert.equal(
      run.line('authentication'),
      '✓ authentication: not required: the endpoint answers 200 OK without a credential',
    );
    assert.equal(
      run.line('2026-07-28'),
      '✓ 2026-07-28: server/discover answers: remote-mcp-demo 0.1.0, versions 2026-07-28, capabilities logging, resources, tools, prompts',
    );
    assert.equal(
      run.line('2025-era session'),
      '✓ 2025-era session: initialize answers: remote-mcp-demo 0.1.0, protocol 2025-11-25; its session ended with DELETE (200)',
    );
    assert.equal(run.line('HTTP+SSE'), '✓ HTTP+SSE: GET /mcp/events streams; its endpoint event names /mcp/messages');
    assert.equal(run.line('WebSocket'), '✓ WebSocket: subprotocol mcp; server/discover answered over the socket');
    assert.match(
      run.line('latency'),
      /^✓ latency: min \d+\.\d+ ms, median \d+\.\d+ ms, max \d+\.\d+ ms over 5 server\/discover \(2026-07-28 has no ping\)$/,
    );
    assert.equal(run.stderr, '');
  });

  test('--json names every check with ok, status, detail and fix; --pings 2 times two round trips', async () => {
    const run = await doctor(s.url, '--json', '--pings', '2');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const report = json(run);
    assert.equal(report.url, s.url);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((check) => check.name),
      CHECK_NAMES,
    );
    for (const check of report.checks) {
      assert.deepEqual(Object.keys(check), ['name', 'label', 'ok', 'status', 'detail', 'fix']);
      assert.equal(check.ok, true);
      assert.equal(typeof check.detail, 'string');
    }
    assert.deepEqual(statuses(run), {
      ...Object.fromEntries(CHECK_NAMES.map((name) => [name, 'pass'])),
      tls: 'note',
      cors: 'note',
    });
    assert.equal(report.checks.find((check) => check.name === 'http')!.fix, null);
    assert.match(String(report.checks.at(-1)!.detail), / over 2 server\/discover /);
  });

  test('a host name is resolved and the address that answered is the one probed', async () => {
    const run = await doctor(`http://localhost:${s.port}/mcp`, '--pings', '1');
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.line('DNS'), /^✓ DNS: localhost → (.+, )?127\.0\.0\.1(, .+)?$/);
    // Where localhost is ::1 first, the refusal there is reported and 127.0.0.1 is used.
    assert.match(
      run.line('TCP connect'),
      new RegExp(
        `^✓ TCP connect: connected to 127\\.0\\.0\\.1:${s.port}( \\(before it, \\[::1\\]:${s.port}: ECONNREFUSED\\))?$`,
      ),
    );
  });

  test('a wrong path fails the HTTP check with the fix; what needs the endpoint is skipped', async () => {
    const run = await doctor(s.url.replace('/mcp', '/api'));
    assert.equal(run.code, 1);
    assert.equal(
      run.line('HTTP status'),
      '✗ HTTP status: 404 Not Found at /api — fix: there is no MCP endpoint at this path: check the path (remote-mcp serves /mcp unless told otherwise, and prints its URL at start)',
    );
    assert.equal(run.line('/health'), '✓ /health: 200 OK, status ok', 'the probes at the origin still run');
    for (const label of ['authentication', '2026-07-28', '2025-era session', 'HTTP+SSE', 'WebSocket', 'latency'])
      assert.equal(run.line(label), `- ${label}: skipped (the endpoint does not answer: see HTTP status)`);
  });

  test('https:// to a plain http port: the TLS handshake fails and says to try http://', async () => {
    const run = await doctor(s.url.replace('http:', 'https:'));
    assert.equal(run.code, 1);
    assert.equal(
      run.line('TLS'),
      "✗ TLS: the handshake failed: wrong version number — fix: the port may speak plain HTTP (try http://), or the server's TLS setup is broken: check its certificate and key",
    );
    assert.equal(run.line('HTTP status'), '- HTTP status: skipped (no TLS connection: see TLS)');
  });

  test('an HTTP+SSE URL: POST 405 is a note, the stream answers, and the Streamable HTTP lines are notes', async () => {
    const run = await doctor(s.url.replace('/mcp', '/sse'));
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.line('HTTP status'),
      '• HTTP status: 405 Method Not Allowed to POST: this looks like an HTTP+SSE URL (see HTTP+SSE)',
    );
    assert.equal(
      run.line('authentication'),
      '✓ authentication: not required: the endpoint answers 200 OK without a credential',
    );
    assert.equal(run.line('HTTP+SSE'), '✓ HTTP+SSE: GET /sse streams; its endpoint event names /messages');
    assert.equal(
      run.line('latency'),
      '• latency: not measured: it times Streamable HTTP requests, and only HTTP+SSE or WebSocket answered',
    );
  });

  test('--origin on a server without a CORS policy: the preflight is refused, with the flag that allows it', async () => {
    const run = await doctor(s.url, '--origin', 'https://app.example');
    assert.equal(run.code, 1);
    assert.equal(
      run.line('CORS'),
      '✗ CORS: the preflight got 403 Forbidden: Origin is not allowed (JSON-RPC -32600), no Access-Control-Allow-Origin — fix: allow https://app.example in the server’s CORS policy (remote-mcp: cors.allowedOrigins, serve --cors-allowed-origins https://app.example)',
    );
    assert.equal(statuses(await doctor(s.url, '--origin', 'https://app.example', '--json')).cors, 'fail');
  });
});

test('--origin on a server with a CORS policy: preflight, allowed headers and the exposed session id pass', async () => {
  const s = await start({ cors: { allowedOrigins: ['https://app.example'] } });
  try {
    const run = await doctor(s.url, '--origin', 'https://app.example');
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.line('CORS'),
      '✓ CORS: https://app.example allowed: preflight 204 No Content allows GET, POST, DELETE, OPTIONS and the MCP headers; the POST answer exposes Mcp-Session-Id',
    );
    const other = await doctor(s.url, '--origin', 'https://evil.example');
    assert.equal(other.code, 1);
    assert.equal(
      other.line('CORS'),
      '✗ CORS: the preflight got 403 Forbidden: this Origin is not allowed by the CORS policy (JSON-RPC -32600), no Access-Control-Allow-Origin — fix: allow https://evil.example in the server’s CORS policy (remote-mcp: cors.allowedOrigins, serve --cors-allowed-origins https://evil.example)',
    );
  } finally {
    await s.close();
  }
});

test('a closed port: TCP connect fails naming the port, everything after is skipped, exit 1', async () => {
  const port = await closedPort();
  const run = await doctor(`http://127.0.0.1:${port}/mcp`);
  assert.equal(run.code, 1);
  assert.equal(
    run.line('TCP connect'),
    `✗ TCP connect: connection refused at 127.0.0.1:${port} — fix: nothing listens on port ${port} at 127.0.0.1: start the server, check the port number, and check that the server binds an address this machine can reach (one bound to 127.0.0.1 is not reachable from other machines: serve --host 0.0.0.0)`,
  );
  for (const label of LABELS.slice(3)) assert.equal(run.line(label), `- ${label}: skipped (no TCP connection)`);
  assert.equal(run.stdout.trimEnd().split('\n').at(-1), '2 passed, 1 failed, 11 skipped, 0 notes');
  const report = json(await doctor(`http://127.0.0.1:${port}/mcp`, '--json'));
  assert.equal(report.ok, false);
  const tcp = report.checks.find((check) => check.name === 'tcp')!;
  assert.equal(tcp.status, 'fail');
  assert.equal(tcp.ok, false);
  assert.match(String(tcp.fix), new RegExp(`nothing listens on port ${port}`));
});

test('a server that accepts connections and never answers: the HTTP check times out at --timeout', async () => {
  const held: Socket[] = [];
  const silent = createNetServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  try {
    const run = await doctor(`http://127.0.0.1:${port}/mcp`, '--timeout', '300');
    assert.equal(run.code, 1);
    assert.equal(run.line('TCP connect'), `✓ TCP connect: connected to 127.0.0.1:${port}`);
    assert.equal(
      run.line('HTTP status'),
      '✗ HTTP status: no answer within 300 ms — fix: the server accepted the connection but did not answer: it may be overloaded or stuck, or a proxy in front waits on a backend that is down',
    );
    assert.equal(run.line('latency'), '- latency: skipped (the endpoint does not answer: see HTTP status)');
  } finally {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

describe('TLS', () => {
  let selfSigned: { server: ReturnType<typeof createRemoteServer>; url: string };
  before(async () => {
    const server = createRemoteServer({ server: createDemoServer, onError: () => {} });
    const { url } = await server.listen({ port: 0, host: '127.0.0.1', tls: { selfSigned: true } });
    selfSigned = { server, url };
  });
  after(() => selfSigned.server.close());

  test('a self-signed certificate fails the TLS check, naming it, its subject, issuer and validity', async () => {
    const run = await doctor(selfSigned.url);
    assert.equal(run.code, 1);
    assert.match(
      run.line('TLS'),
      /^✗ TLS: self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\) — TLSv1\.3, subject CN=localhost \(localhost, 127\.0\.0\.1, 0:0:0:0:0:0:0:1\), issuer CN=localhost, valid \d{4}-\d\d-\d\dT[\d:.]+Z to \d{4}-\d\d-\d\dT[\d:.]+Z, SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2} — fix: serve a certificate from a CA clients trust .* \(doctor --insecure runs the other checks despite it\)$/,
    );
    assert.equal(
      run.line('HTTP status'),
      '- HTTP status: skipped (the certificate was not accepted: see TLS, or run with --insecure)',
    );
  });

  test('with --insecure the certificate is still reported, as a note, and every other check runs and passes', async () => {
    const run = await doctor(selfSigned.url, '--insecure', '--json');
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(statuses(run), {
      ...Object.fromEntries(CHECK_NAMES.map((name) => [name, 'pass'])),
      tls: 'note',
      cors: 'note',
    });
    const tls = json(run).checks.find((check) => check.name === 'tls')!;
    assert.match(
      String(tls.detail),
      /^self-signed \(DEPTH_ZERO_SELF_SIGNED_CERT\) — .*; accepted because of --insecure$/,
    );
    const websocket = json(run).checks.find((check) => check.name === 'websocket')!;
    assert.equal(websocket.detail, 'subprotocol mcp; server/discover answered over the socket', 'over wss');
  });

  test('an expired certificate for another host name: both problems, each with its fix', async () => {
    const pems = await generate([{ name: 'commonName', value: 'mcp.example.test' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date('2020-01-01T00:00:00Z'),
      notAfterDate: new Date('2021-01-01T00:00:00Z'),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'mcp.example.test' }] }],
    });
    const server = createRemoteServer({ server: createDemoServer, onError: () => {} });
    const { url } = await server.listen({ port: 0, host: '127.0.0.1', tls: { cert: pems.cert, key: pems.private } });
    try {
      const run = await doctor(url);
      assert.equal(run.code, 1);
      const tls = run.line('TLS');
      assert.match(
        tls,
        /^✗ TLS: expired on 2021-01-01T00:00:00\.000Z; issued for mcp\.example\.test, not 127\.0\.0\.1; self-signed — TLSv1\.3, subject CN=mcp\.example\.test \(mcp\.example\.test\), issuer CN=mcp\.example\.test, valid 2020-01-01T00:00:00\.000Z to 2021-01-01T00:00:00\.000Z, /,
      );
      assert.match(
        tls,
        / — fix: renew the certificate .*; use a URL whose host the certificate covers \(mcp\.example\.test\), or issue one whose subjectAltName includes 127\.0\.0\.1; /,
      );
    } finally {
      await server.close();
    }
  });
});

describe('a server that answers 401 (JWT and API keys, with protected-resource metadata)', () => {
  const SECRET = 'a-test-secret-that-is-long-enough-32b';
  const ISSUER = 'https://issuer.test';
  let s: Started;
  let apiKey: string;
  let metadataUrl: string;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-doctor-'));
    const file = join(dir, 'keys.json');
    const minted = mintApiKey('doctor-test', []);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    apiKey = minted.key;
    const options: Partial<RemoteServerOptions> = {
      auth: { jwt: { secret: SECRET, issuer: ISSUER, audience: 'https://mcp.test/mcp' }, apiKeys: { file } },
    };
    s = await start(options);
    metadataUrl = `http://127.0.0.1:${s.port}/.well-known/oauth-protected-resource/mcp`;
  });
  after(() => s.close());

  test('without a credential: the challenge, the metadata and its authorization servers, and how to authenticate', async () => {
    const run = await doctor(s.url);
    assert.equal(run.code, 1);
    assert.equal(
      run.line('HTTP status'),
      '✓ HTTP status: 401 Unauthorized: authentication required (see authentication)',
    );
    assert.equal(
      run.line('authentication'),
      `✗ authentication: a credential is required: 401 Unauthorized with Bearer resource_metadata="${metadataUrl}"; ApiKey realm="mcp"; resource metadata ${metadataUrl}: resource ${s.url}, authorization servers ${ISSUER} — fix: get a token from ${ISSUER} and pass --token <token>, or pass an API key with --api-key <key>`,
    );
    for (const label of ['2026-07-28', '2025-era session', 'HTTP+SSE', 'WebSocket', 'latency'])
      assert.equal(run.line(label), `- ${label}: skipped (a credential is required: see authentication)`);
  });

  test('with the right API key the credential is accepted and every check passes', async () => {
    const run = await doctor(s.url, '--api-key', apiKey);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.line('authentication'),
      `✓ authentication: the credential is accepted (200 OK); without one: 401 Unauthorized with Bearer resource_metadata="${metadataUrl}"; ApiKey realm="mcp"; resource metadata ${metadataUrl}: resource ${s.url}, authorization servers ${ISSUER}`,
    );
    assert.equal(run.line('WebSocket'), '✓ WebSocket: subprotocol mcp; server/discover answered over the socket');
    assert.match(run.line('latency'), /^✓ latency: /);
  });

  test('a bearer token is accepted the same way, from --token or from --header', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience('https://mcp.test/mcp')
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    for (const args of [
      ['--token', token],
      ['--header', `Authorization: Bearer ${token}`],
    ]) {
      const run = await doctor(s.url, ...args, '--json');
      assert.equal(run.code, 0, run.stdout);
      assert.equal(statuses(run).auth, 'pass');
      assert.equal(statuses(run).legacy, 'pass');
    }
  });

  test('a wrong key or an expired token is refused, with the server’s reason and what to do', async () => {
    const wrongKey = await doctor(s.url, '--api-key', `${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`);
    assert.equal(wrongKey.code, 1);
    assert.match(
      wrongKey.line('authentication'),
      /^✗ authentication: the credential is refused \(401 Unauthorized: The API key is unknown or revoked\); without one: 401 Unauthorized with .* — fix: the API key is unknown or revoked: check it \(remote-mcp keys list\) or create one \(remote-mcp keys create\)$/,
    );
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience('https://mcp.test/mcp')
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(SECRET));
    const run = await doctor(s.url, '--token', expired);
    assert.equal(run.code, 1);
    assert.match(
      run.line('authentication'),
      /^✗ authentication: the credential is refused \(401 Unauthorized: .*expired.*\); .* — fix: the token has expired: get a new one$/,
    );
    assert.equal(run.line('WebSocket'), '- WebSocket: skipped (the credential was refused: see authentication)');
  });
});

describe('a server without WebSocket', () => {
  let s: Started;
  before(async () => {
    s = await start({ websocket: false });
  });
  after(() => s.close());

  test('remote-mcp with websocket: false: the WebSocket line says it does not answer, as a note (exit 0)', async () => {
    const run = await doctor(s.url, '--pings', '1');
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.line('WebSocket'),
      '• WebSocket: does not answer: the upgrade at /mcp got 404 Not Found — hint: WebSocket clients cannot connect: serve MCP over WebSocket at /mcp if they matter (remote-mcp does unless --no-websocket)',
    );
  });

  test('given a ws:// URL, WebSocket not answering is a failure', async () => {
    const run = await doctor(s.url.replace('http:', 'ws:'), '--pings', '1');
    assert.equal(run.code, 1);
    assert.match(
      run.line('WebSocket'),
      /^✗ WebSocket: does not answer: the upgrade at \/mcp got 404 Not Found — fix: /,
    );
  });
});

/** The official SDK v2's sessionful serving (2025-era only, no WebSocket, no HTTP+SSE), as its docs wire it. */
function sdkSessionServer(): Server {
  const transports = new Map<string, NodeStreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport = sessionId === undefined ? undefined : transports.get(sessionId);
    if (transport === undefined) {
      if (sessionId !== undefined) return void res.writeHead(404).end();
      const created = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, created),
        onsessionclosed: (id) => void transports.delete(id),
      });
      transport = created;
      const server = new McpServer({ name: 'sdk-sessions', version: '2.0.0' });
      await server.connect(transport);
    }
    await transport.handleRequest(req, res);
  };
  return createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
}

test('the official SDK v2 sessionful server: 2025-era answers, the rest are notes, latency pings in a session', async () => {
  const server = sdkSessionServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  try {
    const run = await doctor(url, '--pings', '3');
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.line('2026-07-28'),
      '• 2026-07-28: does not answer (400 Bad Request: Server not initialized (JSON-RPC -32000)) — hint: 2026-07-28 clients fall back to a 2025-era session when they negotiate (versionNegotiation auto)',
    );
    assert.match(
      run.line('2025-era session'),
      /^✓ 2025-era session: initialize answers: sdk-sessions 2\.0\.0, protocol 2025-11-25; its session ended with DELETE \(200\)$/,
    );
    assert.match(
      run.line('HTTP+SSE'),
      /^• HTTP\+SSE: no stream answers \(GET \/mcp\/events: 400, \/sse: 400\) — hint: /,
    );
    // Node hands an upgrade nobody listens for to the request handler: the SDK answers it as a GET.
    assert.equal(
      run.line('WebSocket'),
      '• WebSocket: does not answer: the upgrade at /mcp got 406 Not Acceptable — hint: WebSocket clients cannot connect: serve MCP over WebSocket at /mcp if they matter (remote-mcp does unless --no-websocket)',
    );
    assert.match(run.line('latency'), /^✓ latency: min .* over 3 ping in a 2025-era session$/);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('usage', () => {
  const usage = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'doctor', ...args], { encoding: 'utf8', env: cleanEnv() });

  test('bad usage exits 2 with a message; --help exits 0 and names the checks document', () => {
    for (const [args, message] of [
      [[], /missing required argument 'url'/],
      [['http://127.0.0.1:1/mcp', '--pings', 'many'], /expected a whole number from 0 to 1000, received "many"/],
      [['http://127.0.0.1:1/mcp', '--pings', '1001'], /expected a whole number from 0 to 1000/],
      [['http://127.0.0.1:1/mcp', '--timeout', '0'], /expected a whole number from 1 to 600000/],
      [['http://127.0.0.1:1/mcp', '--origin', 'https://app.example/path'], /expected an origin such as/],
      [['http://127.0.0.1:1/mcp', '--header', 'no-colon'], /expected "name: value"/],
      [['http://127.0.0.1:1/mcp', '--token', 't', '--api-key', 'k'], /give --token or --api-key, not both/],
      [['http://127.0.0.1:1/mcp', '--frobnicate'], /unknown option '--frobnicate'/],
    ] as const) {
      const run = usage(...args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    const help = usage('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /docs\/troubleshooting\.md/);
    for (const flag of ['--origin', '--header', '--token', '--api-key', '--insecure', '--pings', '--timeout', '--json'])
      assert.ok(help.stdout.includes(flag), `--help does not mention ${flag}`);
  });

  test('a URL doctor cannot use is the URL check failing (exit 1), not a usage error', () => {
    const run = usage('ftp://127.0.0.1/mcp');
    assert.equal(run.status, 1);
    assert.match(
      run.stdout,
      /^✗ URL: the scheme "ftp:" is not http, https, ws or wss — fix: give the full URL of the MCP endpoint with its scheme/m,
    );
    assert.match(run.stdout, /^- DNS: skipped \(no URL to resolve\)$/m);
    const bare = usage('127.0.0.1:8080/mcp');
    assert.equal(bare.status, 1);
    assert.match(bare.stdout, /^✗ URL: /m);
  });
});

test('WWW-Authenticate: several challenges in one header, quoted commas, escapes and token68 are told apart', async () => {
  const { parseWwwAuthenticate } = await import('../src/cli/doctor/www-authenticate.js');
  assert.deepEqual(
    parseWwwAuthenticate([
      'Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource", scope="mcp read", ApiKey realm="mcp"',
      'Basic realm="a \\"quoted\\", realm", charset=UTF-8, Negotiate abc123==',
    ]),
    [
      {
        scheme: 'Bearer',
        params: { resource_metadata: 'https://a.example/.well-known/oauth-protected-resource', scope: 'mcp read' },
      },
      { scheme: 'ApiKey', params: { realm: 'mcp' } },
      { scheme: 'Basic', params: { realm: 'a "quoted", realm', charset: 'UTF-8' } },
      { scheme: 'Negotiate', params: {}, token68: 'abc123==' },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate(['Bearer']), [{ scheme: 'Bearer', params: {} }]);
  assert.deepEqual(parseWwwAuthenticate(['', ' , ']), []);
});
