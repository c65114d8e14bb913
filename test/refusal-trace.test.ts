/**
 * Every refusal leaves a trace: each attempt a transport refuses before it becomes a JSON-RPC request (Host,
 * Origin, framing, sessions, WebSocket upgrades, and what Node's own HTTP parser refuses) gets its exact status,
 * the security headers, the JSON-RPC error body, exactly one audit line with its reason code, and a count in
 * `mcp_requests_total{status="refused"}` and `mcp_refusals_total{reason}`. Raw bytes over net.connect where the
 * point is the bytes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { mintApiKey, writeKeysFile, type RemoteServerOptions } from '../src/index.js';
import {
  connectWebSocket,
  LEGACY_HEADERS,
  modernBody,
  modernHeaders,
  openStream,
  raw,
  start,
  withTimeout,
  type Started,
} from './helpers.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `bytes` on a fresh connection; resolves with the response once it is complete or the server closes. */
function exchange(port: number, bytes: string, ms = 3000): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    const parse = (final: boolean) => {
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (final) reject(new Error(`no complete response head: ${JSON.stringify(received)}`));
        return;
      }
      const [statusLine, ...lines] = received.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = received.slice(end + 4);
      const length = Number(headers['content-length'] ?? Number.NaN);
      if (!final && !(Buffer.byteLength(body) >= length)) return;
      resolve({ status: Number(statusLine!.split(' ')[1]), headers: { 'status-line': statusLine!, ...headers }, body });
      socket.destroy();
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      parse(false);
    });
    socket.on('close', () => parse(true));
    socket.on('error', () => {});
  });
  socket.write(bytes);
  return withTimeout(answer, ms, `an answer to ${JSON.stringify(bytes.slice(0, 60))}`).finally(() => socket.destroy());
}

/** helmet's headers, as every other answer carries them (test/limits.test.ts). */
function assertSecurityHeaders(headers: Record<string, string | string[] | undefined>): void {
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'");
  assert.equal(headers['x-frame-options'], 'SAMEORIGIN');
}

function rpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });
}

/** A server writing its audit log to a temp file, with metrics on its own port's /metrics. */
class Harness {
  started!: Started;
  file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-refusals-')), 'audit.log');
  /** Audit lines the tests expect in all. */
  expected = 0;

  async start(options: Partial<RemoteServerOptions>): Promise<void> {
    this.started = await start({ audit: { destination: this.file }, metrics: { defaultMetrics: false }, ...options });
  }

  get port(): number {
    return this.started.port;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  lines(): any[] {
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line));
  }

  /** Waits (bounded) for a line written after an answer (an admitted request's own), so the next refusal's is next. */
  async lineWritten(): Promise<void> {
    this.expected++;
    for (let attempt = 0; attempt < 200 && this.lines().length < this.expected; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(this.lines().length, this.expected, 'the audit lines written so far');
  }

  /** The audit line a refusal wrote: waits (bounded) for exactly one more line than before. */
  async nextLine(before: number): Promise<any> {
    this.expected++;
    for (let attempt = 0; attempt < 200; attempt++) {
      const lines = this.lines();
      if (lines.length > before) {
        assert.equal(lines.length, before + 1, `one audit line, got ${JSON.stringify(lines.slice(before))}`);
        return lines[before];
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no audit line within 2 s');
  }

  async metric(name: string, labels: Record<string, string>): Promise<number> {
    const text = (await raw(`http://${this.host}/metrics`, { method: 'GET' })).body;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const close = line.lastIndexOf('}');
      const found = Object.fromEntries(
        [...line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
      );
      const wanted = Object.entries(labels);
      if (wanted.length === Object.keys(found).length && wanted.every(([key, value]) => found[key] === value))
        return Number(line.slice(close + 1));
    }
    return 0;
  }

  /**
   * Sends a refused attempt and checks its trace: one audit line (outcome `refused`, the reason, the status),
   * one more `mcp_requests_total{method="unknown",status="refused"}` and `mcp_refusals_total{reason}`.
   */
  async refused<T>(
    send: () => Promise<T>,
    trace: { reason: string; status?: number; transport: string; era?: string; principal?: string },
  ): Promise<{ answer: T; line: any }> {
    const series = {
      method: 'unknown',
      transport: trace.transport,
      era: trace.era ?? 'unknown',
      status: 'refused',
    };
    const requestsBefore = await this.metric('mcp_requests_total', series);
    const reasonBefore = await this.metric('mcp_refusals_total', { reason: trace.reason });
    const before = this.lines().length;
    const answer = await send();
    const line = await this.nextLine(before);
    assert.equal(line.log, 'audit');
    assert.match(line.requestId, /^[0-9a-f]{16}$/);
    assert.equal(line.outcome, 'refused');
    assert.equal(line.reason, trace.reason);
    assert.equal(line.status, trace.status);
    assert.equal(line.transport, trace.transport);
    assert.equal(line.era, trace.era);
    assert.equal(line.clientIp, '127.0.0.1');
    assert.equal(line.principal, trace.principal);
    assert.equal(await this.metric('mcp_requests_total', series), requestsBefore + 1);
    assert.equal(await this.metric('mcp_refusals_total', { reason: trace.reason }), reasonBefore + 1);
    return { answer, line };
  }

  /** Closes the server, then checks no refusal wrote a second line later. */
  async close(): Promise<void> {
    await this.started.close();
    assert.equal(this.lines().length, this.expected);
  }
}

const POST = (host: string, headers: string, body = '') =>
  `POST /mcp HTTP/1.1\r\nHost: ${host}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const JSON_HEADERS = 'Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n';
const UPGRADE = (host: string, extra: string) =>
  `GET /mcp HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

describe('refusals without auth: status, headers, body, one audit line, the refused counter', () => {
  const h = new Harness();
  before(() =>
    h.start({
      maxBodyBytes: 1024,
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      cors: { allowedOrigins: ['https://app.example.com'] },
    }),
  );
  after(() => h.close());

  test('a Host not allowed: 403 FORBIDDEN_HOST, host-not-allowed', async () => {
    const { answer } = await h.refused(() => exchange(h.port, POST(`evil.example:${h.port}`, JSON_HEADERS, '{}')), {
      reason: 'host-not-allowed',
      status: 403,
      transport: 'http',
    });
    assert.equal(answer.status, 403);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Forbidden: Host is not allowed'));
  });

  test('an Origin not allowed: 403 FORBIDDEN_ORIGIN, origin-not-allowed', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, POST(h.host, `${JSON_HEADERS}Origin: http://evil.example\r\n`, '{}')),
      { reason: 'origin-not-allowed', status: 403, transport: 'http' },
    );
    assert.equal(answer.status, 403);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Forbidden: Origin is not allowed'));
  });

  test('a CORS preflight from a foreign origin: 403, cors-origin-refused', async () => {
    const { answer } = await h.refused(
      () =>
        exchange(
          h.port,
          `OPTIONS /mcp HTTP/1.1\r\nHost: ${h.host}\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n`,
        ),
      { reason: 'cors-origin-refused', status: 403, transport: 'http' },
    );
    assert.equal(answer.status, 403);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Forbidden: this Origin is not allowed by the CORS policy'));
  });

  test('a method the endpoint does not serve: 405 with Allow, method-not-allowed', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, `PUT /mcp HTTP/1.1\r\nHost: ${h.host}\r\nContent-Length: 0\r\n\r\n`),
      { reason: 'method-not-allowed', status: 405, transport: 'http' },
    );
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.allow, 'GET, POST, DELETE');
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Method Not Allowed'));
  });

  test('a Content-Type other than JSON: 415, unsupported-media-type', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, POST(h.host, 'Content-Type: text/plain\r\nAccept: application/json\r\n', 'hi')),
      { reason: 'unsupported-media-type', status: 415, transport: 'http' },
    );
    assert.equal(answer.status, 415);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Unsupported Media Type: Content-Type must be application/json'));
  });

  test('an Accept without text/event-stream: 406, not-acceptable', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, POST(h.host, 'Content-Type: application/json\r\nAccept: application/json\r\n', '{}')),
      { reason: 'not-acceptable', status: 406, transport: 'http' },
    );
    assert.equal(answer.status, 406);
    assertSecurityHeaders(answer.headers);
  });

  test('a body over maxBodyBytes: 413, body-too-large', async () => {
    const { answer } = await h.refused(() => exchange(h.port, POST(h.host, JSON_HEADERS, 'x'.repeat(2000))), {
      reason: 'body-too-large',
      status: 413,
      transport: 'http',
    });
    assert.equal(answer.status, 413);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Payload Too Large: the body exceeds maxBodyBytes (1024 bytes)'));
  });

  test('a body that is not JSON: 400 -32700, parse-error; on the HTTP+SSE path too (transport sse)', async () => {
    const { answer } = await h.refused(() => exchange(h.port, POST(h.host, JSON_HEADERS, '{"jsonrpc"')), {
      reason: 'parse-error',
      status: 400,
      transport: 'http',
    });
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32700, 'Parse error: the body is not valid JSON'));
    const sse = await h.refused(
      () =>
        exchange(
          h.port,
          `POST /messages?sessionId=x HTTP/1.1\r\nHost: ${h.host}\r\n${JSON_HEADERS}Content-Length: 3\r\n\r\n{"j`,
        ),
      { reason: 'parse-error', status: 400, transport: 'sse', era: 'legacy' },
    );
    assert.equal(sse.answer.status, 400);
  });

  test('an unknown session id: 404, session-not-found (era legacy); an HTTP+SSE id as Mcp-Session-Id: session-transport-mismatch', async () => {
    const { answer } = await h.refused(
      () =>
        exchange(
          h.port,
          `GET /mcp HTTP/1.1\r\nHost: ${h.host}\r\nAccept: text/event-stream\r\nMcp-Session-Id: no-such-session\r\n\r\n`,
        ),
      { reason: 'session-not-found', status: 404, transport: 'http', era: 'legacy' },
    );
    assert.equal(answer.status, 404);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Session not found'));
    const sse = await h.refused(
      () =>
        exchange(
          h.port,
          `POST /messages?sessionId=nope HTTP/1.1\r\nHost: ${h.host}\r\n${JSON_HEADERS}Content-Length: 2\r\n\r\n{}`,
        ),
      { reason: 'session-not-found', status: 404, transport: 'sse', era: 'legacy' },
    );
    assert.equal(sse.answer.body, answer.body);
    const stream = await openStream(`http://${h.host}/sse`, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    });
    try {
      const endpoint = await stream.waitFor((event) => event.event === 'endpoint');
      const sseSession = new URLSearchParams(endpoint.data.split('?')[1]).get('sessionId')!;
      const mismatch = await h.refused(
        () =>
          exchange(
            h.port,
            `GET /mcp HTTP/1.1\r\nHost: ${h.host}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${sseSession}\r\n\r\n`,
          ),
        { reason: 'session-transport-mismatch', status: 404, transport: 'http', era: 'legacy' },
      );
      assert.equal(mismatch.answer.body, answer.body);
    } finally {
      stream.destroy();
    }
  });

  test('bodies that are not the request they claim: the classifier and the 2025-era framing refusals are traced (invalid-message)', async () => {
    const headers = { ...modernHeaders('tools/call', 'echo'), host: h.host };
    const { answer } = await h.refused(
      () => raw(`http://${h.host}/mcp`, { headers, body: modernBody(1, 'tools/list') }),
      { reason: 'invalid-message', status: 400, transport: 'http' },
    );
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    const notJsonRpc = await h.refused(() => exchange(h.port, POST(h.host, JSON_HEADERS, '{"foo":1}')), {
      reason: 'invalid-message',
      status: 400,
      transport: 'http',
    });
    assert.equal(
      notJsonRpc.answer.body,
      rpcError(-32600, 'Bad Request: the request body is not a valid JSON-RPC message'),
    );
    const batch = JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }]);
    const legacy = await h.refused(() => exchange(h.port, POST(h.host, JSON_HEADERS, batch)), {
      reason: 'invalid-message',
      status: 400,
      transport: 'http',
      era: 'legacy',
    });
    assert.equal(legacy.answer.body, rpcError(-32600, 'Invalid Request: initialize must not be part of a batch'));
  });

  test('two Host lines: 400 BAD_HOST, host-duplicate', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, POST(h.host, `Host: evil.example\r\n${JSON_HEADERS}`, '{}')),
      { reason: 'host-duplicate', status: 400, transport: 'http' },
    );
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    assert.equal(
      answer.body,
      rpcError(-32600, 'Bad Request: the Host header must be one name[:port] (missing, repeated or malformed)'),
    );
  });

  test('a Host with userinfo is refused, not split at its first colon: 400, host-invalid', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, POST('localhost:1@evil.example', JSON_HEADERS, modernBody(1, 'tools/list'))),
      { reason: 'host-invalid', status: 400, transport: 'http' },
    );
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body.includes('evil.example'), false);
  });

  test('an HTTP/1.1 request without Host: 400 with headers and body (not Node bare 400), host-missing', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, `POST /mcp HTTP/1.1\r\n${JSON_HEADERS}Content-Length: 2\r\n\r\n{}`),
      { reason: 'host-missing', status: 400, transport: 'http' },
    );
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    assert.equal(JSON.parse(answer.body).error.code, -32600);
  });

  test("a malformed request line: Node's parser refusal answered 400 with headers and a JSON-RPC body, bad-request", async () => {
    const { answer } = await h.refused(() => exchange(h.port, 'GARBAGE\r\n\r\n'), {
      reason: 'bad-request',
      status: 400,
      transport: 'http',
    });
    assert.equal(answer.headers['status-line'], 'HTTP/1.1 400 Bad Request');
    assert.equal(answer.headers.connection, 'close');
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.equal(answer.body, rpcError(-32600, 'Bad Request: the request is not valid HTTP'));
  });

  test('headers over maxHeaderSize: 431 with headers and body, headers-too-large', async () => {
    const { answer } = await h.refused(
      () => exchange(h.port, `GET /mcp HTTP/1.1\r\nHost: ${h.host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      { reason: 'headers-too-large', status: 431, transport: 'http' },
    );
    assert.equal(answer.headers['status-line'], 'HTTP/1.1 431 Request Header Fields Too Large');
    assertSecurityHeaders(answer.headers);
    assert.equal(JSON.parse(answer.body).error.code, -32600);
  });

  test('a request slower than requestTimeoutMs: 408 with headers and body, request-timeout; a slow body too', async () => {
    const { answer } = await h.refused(() => exchange(h.port, `POST /mcp HTTP/1.1\r\nHost: ${h.host}\r\n`), {
      reason: 'request-timeout',
      status: 408,
      transport: 'http',
    });
    assert.equal(answer.headers['status-line'], 'HTTP/1.1 408 Request Timeout');
    assertSecurityHeaders(answer.headers);
    assert.equal(
      answer.body,
      rpcError(-32600, 'Request Timeout: the request did not arrive within headersTimeoutMs / requestTimeoutMs'),
    );
    const slowBody = await h.refused(
      () => exchange(h.port, `POST /mcp HTTP/1.1\r\nHost: ${h.host}\r\n${JSON_HEADERS}Content-Length: 100\r\n\r\n{"j`),
      { reason: 'request-timeout', status: 408, transport: 'http' },
    );
    assert.equal(slowBody.answer.status, 408);
    assertSecurityHeaders(slowBody.answer.headers);
  });

  test('a WebSocket upgrade from a foreign Origin: 403 with headers and body, origin-not-allowed (transport websocket)', async () => {
    const { answer } = await h.refused(() => exchange(h.port, UPGRADE(h.host, 'Origin: http://evil.example\r\n')), {
      reason: 'origin-not-allowed',
      status: 403,
      transport: 'websocket',
    });
    assert.equal(answer.status, 403);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Forbidden: Origin is not allowed'));
  });

  test('a WebSocket subprotocol other than mcp: 400, subprotocol-refused', async () => {
    const { answer } = await h.refused(() => exchange(h.port, UPGRADE(h.host, 'Sec-WebSocket-Protocol: chat\r\n')), {
      reason: 'subprotocol-refused',
      status: 400,
      transport: 'websocket',
    });
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Bad Request: the WebSocket subprotocol must be "mcp"'));
  });

  test("an invalid WebSocket handshake (ws's own refusal): 400 JSON with headers, not text/html; upgrade-invalid", async () => {
    const bytes = `GET /mcp HTTP/1.1\r\nHost: ${h.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const { answer } = await h.refused(() => exchange(h.port, bytes), {
      reason: 'upgrade-invalid',
      status: 400,
      transport: 'websocket',
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['content-type'], 'application/json');
    assertSecurityHeaders(answer.headers);
    assert.equal(
      answer.body,
      rpcError(-32600, 'Bad Request: Missing or invalid Sec-WebSocket-Key header (WebSocket handshake)'),
    );
  });

  test('a WebSocket frame that is not JSON: -32700 on the socket, which stays open; parse-error (transport websocket)', async () => {
    const socket = await connectWebSocket(`http://${h.host}/mcp`);
    try {
      const { answer } = await h.refused(
        async () => {
          socket.send('not json');
          return socket.waitFor((message) => message.error !== undefined, 'the parse error');
        },
        { reason: 'parse-error', transport: 'websocket' },
      );
      assert.deepEqual(answer, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'Parse error: the body is not valid JSON' },
      });
      assert.equal(socket.ws.readyState, socket.ws.OPEN);
    } finally {
      socket.ws.close();
    }
  });
});

describe('refusals with auth: the resource metadata never reflects a bad Host; another principal gets a plain 404', () => {
  const h = new Harness();
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-refusal-keys-'));
  const alice = mintApiKey('alice', []);
  const mallory = mintApiKey('mallory', []);
  before(async () => {
    const keys = join(dir, 'keys.json');
    writeKeysFile(keys, { version: 1, keys: [alice.entry, mallory.entry] });
    await h.start({
      auth: { apiKeys: { file: keys }, resourceMetadata: { authorizationServers: ['https://auth.example.com'] } },
      websocket: false,
    });
  });
  after(() => h.close());

  test('Host: localhost:1@evil.example → 400 host-invalid; the metadata document does not contain evil.example', async () => {
    const metadata = (host: string) =>
      `GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    const good = await exchange(h.port, metadata(`localhost:${h.port}`));
    assert.equal(good.status, 200);
    assert.equal(JSON.parse(good.body).resource, `http://localhost:${h.port}/mcp`);
    const { answer } = await h.refused(() => exchange(h.port, metadata('localhost:1@evil.example')), {
      reason: 'host-invalid',
      status: 400,
      transport: 'http',
    });
    assert.equal(answer.status, 400);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body.includes('evil.example'), false);
    assert.equal(JSON.stringify(answer.headers).includes('evil.example'), false);
  });

  test("another principal's session id: the same 404 as an unknown one; the audit line says session-principal-mismatch", async () => {
    const init = await raw(`http://${h.host}/mcp`, {
      headers: { ...LEGACY_HEADERS, 'x-api-key': alice.key },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    assert.equal(init.status, 200);
    await h.lineWritten(); // the initialize's own audit line, written when its answer is done
    const session = init.headers['mcp-session-id'] as string;
    const get = (id: string, key: string) => () =>
      exchange(
        h.port,
        `GET /mcp HTTP/1.1\r\nHost: ${h.host}\r\nAccept: text/event-stream\r\nX-API-Key: ${key}\r\nMcp-Session-Id: ${id}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n`,
      );
    const unknown = await h.refused(get('no-such-session', mallory.key), {
      reason: 'session-not-found',
      status: 404,
      transport: 'http',
      era: 'legacy',
      principal: `key:${mallory.entry.id}`,
    });
    const foreign = await h.refused(get(session, mallory.key), {
      reason: 'session-principal-mismatch',
      status: 404,
      transport: 'http',
      era: 'legacy',
      principal: `key:${mallory.entry.id}`,
    });
    assert.equal(foreign.answer.status, 404);
    assert.equal(foreign.answer.body, unknown.answer.body);
    const { date: _a, ...foreignHeaders } = foreign.answer.headers;
    const { date: _b, ...unknownHeaders } = unknown.answer.headers;
    assert.deepEqual(foreignHeaders, unknownHeaders);
    assertSecurityHeaders(foreign.answer.headers);
    assert.equal(JSON.stringify(foreign.line).includes(session), false);
  });

  test('a WebSocket upgrade where WebSocket is off: 404 with headers and body, websocket-disabled', async () => {
    const { answer } = await h.refused(() => exchange(h.port, UPGRADE(h.host, '')), {
      reason: 'websocket-disabled',
      status: 404,
      transport: 'websocket',
    });
    assert.equal(answer.status, 404);
    assertSecurityHeaders(answer.headers);
    assert.equal(answer.body, rpcError(-32600, 'Not Found: WebSocket is not enabled on this server'));
  });
});
