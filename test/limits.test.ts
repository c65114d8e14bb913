/**
 * Abuse limits and hardening against real servers: rate limits (HTTP 429 with Retry-After and RateLimit-*,
 * WebSocket errors that keep the socket), per-principal concurrency, spoofed X-Forwarded-For, input limits at
 * and past each bound, tool-name format, the audit log, CORS, security headers, TLS and slow clients.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer } from '@modelcontextprotocol/server';
import WebSocket from 'ws';
import { z } from 'zod';

import { createRemoteServer, mintApiKey, writeKeysFile, type RemoteServerOptions } from '../src/index.js';
import { ENVELOPE, modernBody, modernHeaders, openStream, raw, withServer, withTimeout } from './helpers.js';

function factory(): McpServer {
  const server = new McpServer({ name: 'limits-test', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('search', { inputSchema: z.object({ q: z.string() }) }, async ({ q }) => ({
    content: [{ type: 'text', text: q }],
  }));
  server.registerTool('nested', { inputSchema: z.object({ value: z.unknown() }) }, async () => ({
    content: [{ type: 'text', text: 'ok' }],
  }));
  server.registerTool('wait', { inputSchema: z.object({ ms: z.number().int().min(0).max(5000) }) }, async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { content: [{ type: 'text', text: 'waited' }] };
  });
  return server;
}

const serve = (options: Partial<RemoteServerOptions>, body: Parameters<typeof withServer>[1]) =>
  withServer({ server: factory, ...options }, body);

function call(
  url: string,
  name: string,
  args: Record<string, unknown>,
  headers: Record<string, string> = {},
  id: number | string = 1,
) {
  return raw(url, {
    headers: { ...modernHeaders('tools/call', name), ...headers },
    body: modernBody(id, 'tools/call', { name, arguments: args }),
  });
}

describe('rate limits', () => {
  test('a burst past the per-client limit gets 429 with Retry-After and RateLimit-*; another client is unaffected', async () => {
    await serve(
      { rateLimits: { perPrincipal: { points: 3, durationSeconds: 60 } }, trustProxy: ['127.0.0.1'] },
      async (s) => {
        const first = { 'x-forwarded-for': '203.0.113.1' };
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await call(s.url, 'echo', { text: 'x' }, first);
          statuses.push(res.status);
          assert.equal(res.headers['ratelimit-limit'], '3');
          assert.equal(res.headers['ratelimit-remaining'], String(2 - i));
          assert.equal(res.headers['ratelimit-policy'], '3;w=60');
        }
        assert.deepEqual(statuses, [200, 200, 200]);
        const limited = await call(s.url, 'echo', { text: 'x' }, first, 7);
        assert.equal(limited.status, 429);
        assert.deepEqual(limited.json().error.code, -32029);
        assert.equal(limited.json().id, 7);
        assert.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60);
        assert.equal(limited.headers['ratelimit-remaining'], '0');
        // A different client (by the trusted proxy's word) still has its whole budget.
        assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '203.0.113.2' })).status, 200);
      },
    );
  });

  test('without trustProxy a spoofed X-Forwarded-For does not buy a fresh budget', async () => {
    await serve({ rateLimits: { perPrincipal: { points: 2, durationSeconds: 60 } } }, async (s) => {
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '198.51.100.1' })).status, 200);
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '198.51.100.2' })).status, 200);
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '198.51.100.3' })).status, 429);
    });
  });

  test('tool costs: a costly tool drains the budget faster; a free one never does', async () => {
    await serve(
      { rateLimits: { perPrincipal: { points: 10, durationSeconds: 60 }, toolCosts: { search: 4, echo: 0 } } },
      async (s) => {
        assert.equal((await call(s.url, 'search', { q: 'a' })).status, 200);
        assert.equal((await call(s.url, 'search', { q: 'b' })).status, 200);
        assert.equal((await call(s.url, 'search', { q: 'c' })).status, 429);
        for (let i = 0; i < 5; i++) assert.equal((await call(s.url, 'echo', { text: 'free' })).status, 200);
      },
    );
  });

  test('the global window refuses everyone once spent, and says so', async () => {
    await serve({ rateLimits: { global: { points: 2, durationSeconds: 60 } }, trustProxy: true }, async (s) => {
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '192.0.2.1' })).status, 200);
      assert.equal((await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '192.0.2.2' })).status, 200);
      const limited = await call(s.url, 'echo', { text: 'x' }, { 'x-forwarded-for': '192.0.2.3' });
      assert.equal(limited.status, 429);
      assert.match(limited.json().error.message, /server-wide rate limit/);
    });
  });

  test('over WebSocket the request past the limit gets -32029 and the socket stays open', async () => {
    await serve({ rateLimits: { perPrincipal: { points: 2, durationSeconds: 60 } } }, async (s) => {
      const ws = new WebSocket(s.url.replace('http', 'ws'), ['mcp']);
      await withTimeout(new Promise((resolve) => ws.on('open', resolve)), 2000, 'open');
      const answers = new Map<number, any>();
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        answers.set(message.id, message);
      });
      for (const id of [1, 2, 3])
        ws.send(
          JSON.stringify({
            jsonrpc: '2.0',
            id,
            method: 'tools/call',
            params: { name: 'echo', arguments: { text: `m${id}` }, _meta: ENVELOPE },
          }),
        );
      await withTimeout(
        new Promise<void>((resolve) => {
          const poll = setInterval(() => answers.size === 3 && (clearInterval(poll), resolve()), 10);
        }),
        2000,
        'three answers',
      );
      assert.equal(answers.get(1).result.content[0].text, 'm1');
      assert.equal(answers.get(2).result.content[0].text, 'm2');
      assert.equal(answers.get(3).error.code, -32029);
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
    });
  });

  test('bad rate-limit options are refused at construction, naming the option', () => {
    assert.throws(
      () => createRemoteServer({ server: factory, rateLimits: { perPrincipal: { points: 0, durationSeconds: 1 } } }),
      /option `rateLimits.perPrincipal.points` must be an integer >= 1; received 0/,
    );
    assert.throws(
      () => createRemoteServer({ server: factory, rateLimits: { toolCosts: { x: 1 } } }),
      /option `rateLimits.perPrincipal` must be set/,
    );
    assert.throws(
      () => createRemoteServer({ server: factory, trustProxy: ['not-an-ip'] }),
      /option `trustProxy` entries must be IP addresses or CIDR blocks/,
    );
  });
});

describe('concurrency per principal', () => {
  test('past maxConcurrentRequestsPerPrincipal in flight: 429; the slot frees when a request ends', async () => {
    await serve({ maxConcurrentRequestsPerPrincipal: 2 }, async (s) => {
      const slow = [call(s.url, 'wait', { ms: 400 }, {}, 1), call(s.url, 'wait', { ms: 400 }, {}, 2)];
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await call(s.url, 'echo', { text: 'x' }, {}, 3);
      assert.equal(refused.status, 429);
      assert.equal(refused.json().error.code, -32029);
      assert.equal(refused.headers['retry-after'], '1');
      assert.deepEqual(
        (await Promise.all(slow)).map((res) => res.status),
        [200, 200],
      );
      assert.equal((await call(s.url, 'echo', { text: 'after' }, {}, 4)).status, 200);
    });
  });
});

describe('input limits', () => {
  const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : [nest(depth - 1)]);

  test('params nesting: at maxJsonDepth passes, one deeper is 400 / -32602 with the path', async () => {
    await serve({ maxJsonDepth: 8 }, async (s) => {
      // params and arguments are two levels; the value's arrays are the rest.
      assert.equal((await call(s.url, 'nested', { value: nest(6) })).status, 200);
      const deep = await call(s.url, 'nested', { value: nest(7) });
      assert.equal(deep.status, 400);
      assert.equal(deep.json().error.code, -32602);
      assert.equal(
        deep.json().error.message,
        'Invalid params: nested deeper than maxJsonDepth (8) at /arguments/value/0/0/0/0/0/0',
      );
      assert.deepEqual(deep.json().error.data, { path: '/arguments/value/0/0/0/0/0/0', limit: 8 });
    });
  });

  test('a 100,000-deep body is refused without harming the server', async () => {
    await serve({}, async (s) => {
      const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nested","arguments":{"value":${'['.repeat(100_000)}${']'.repeat(100_000)}},"_meta":${JSON.stringify(ENVELOPE)}}}`;
      const res = await raw(s.url, { headers: modernHeaders('tools/call', 'nested'), body });
      assert.equal(res.status, 400);
      assert.equal(res.json().error.code, -32602);
      assert.equal((await call(s.url, 'echo', { text: 'alive' })).status, 200);
    });
  });

  test('strings: maxStringLength passes, one character more is 400 / -32602 with the path', async () => {
    await serve({ maxStringLength: 1000 }, async (s) => {
      assert.equal((await call(s.url, 'echo', { text: 'x'.repeat(1000) })).status, 200);
      const long = await call(s.url, 'echo', { text: 'x'.repeat(1001) });
      assert.equal(long.status, 400);
      assert.deepEqual(long.json().error.data, { path: '/arguments/text', limit: 1000 });
    });
  });

  test('tool names outside ^[A-Za-z0-9_.-]{1,128}$ are 400 / -32602 before any lookup', async () => {
    await serve({}, async (s) => {
      for (const name of ['', 'a b', '../etc', 'a/b', 'ä', 'x'.repeat(129), 'tool;rm']) {
        const res = await raw(s.url, {
          headers: modernHeaders('tools/call'),
          body: modernBody(1, 'tools/call', { name, arguments: {} }),
        });
        // The SDK's header checks run first for names that cannot go in a header; either way it is a 400.
        assert.equal(res.status, 400, name);
        assert.ok([-32602, -32020].includes(res.json().error.code), `${name}: ${res.body}`);
      }
      const odd = await raw(s.url, {
        headers: { ...modernHeaders('tools/call', 'a b') },
        body: modernBody(2, 'tools/call', { name: 'a b', arguments: {} }),
      });
      assert.equal(odd.status, 400);
      assert.equal(
        odd.json().error.message,
        'Invalid params: a tool name is 1 to 128 characters of A-Z, a-z, 0-9, _, - and .',
      );
      assert.equal((await call(s.url, `${'x'.repeat(128)}`, {})).status, 200); // a valid name that is unknown: the SDK's in-band answer
    });
  });

  test('a batch over maxBatchLength is 413; over maxBodyBytes is 413', async () => {
    await serve({ maxBatchLength: 2, maxBodyBytes: 2048 }, async (s) => {
      const big = await call(s.url, 'echo', { text: 'x'.repeat(4096) });
      assert.equal(big.status, 413);
      const init = await raw(s.url, {
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      const session = init.headers['mcp-session-id'] as string;
      const batch = JSON.stringify([1, 2, 3].map((id) => ({ jsonrpc: '2.0', id, method: 'ping' })));
      const res = await raw(s.url, {
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': session,
          'mcp-protocol-version': '2025-03-26',
        },
        body: batch,
      });
      assert.equal(res.status, 413);
    });
  });
});

describe('audit log', () => {
  test('one JSON line per request and per refused attempt; credentials never, arguments redacted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-audit-'));
    const file = join(dir, 'audit.log');
    const keys = join(dir, 'keys.json');
    const minted = mintApiKey('ci', []);
    writeKeysFile(keys, { version: 1, keys: [minted.entry] });
    const server = createRemoteServer({
      server: factory,
      auth: { apiKeys: { file: keys } },
      audit: { destination: file, includeArguments: true, sensitiveArguments: ['text'] },
      onError: () => {},
    });
    const { url } = await server.listen({ port: 0 });
    await call(url, 'echo', { text: 'secret words' }, { 'x-api-key': minted.key }, 1);
    await call(url, 'echo', { text: 5 }, { 'x-api-key': minted.key }, 2);
    await call(url, 'echo', { text: 'x' }, {}, 3);
    await server.close();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 3);
    const [ok, invalid, refused] = lines;
    for (const line of lines) {
      assert.equal(line.log, 'audit');
      assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(line.requestId, /^[0-9a-f]{16}$/);
      assert.equal(line.clientIp, '127.0.0.1');
      assert.equal(line.transport, 'http');
    }
    assert.equal(ok.outcome, 'ok');
    assert.equal(ok.principal, `key:${minted.entry.id}`);
    assert.equal(ok.method, 'tools/call');
    assert.equal(ok.name, 'echo');
    assert.equal(ok.era, 'modern');
    assert.equal(ok.rpcId, 1);
    assert.equal(typeof ok.durationMs, 'number');
    assert.deepEqual(ok.arguments, { text: '[redacted]' });
    assert.equal(invalid.outcome, 'invalid');
    assert.equal(invalid.reason, 'arguments');
    assert.equal(invalid.status, 400);
    assert.equal(refused.outcome, 'unauthenticated');
    assert.equal(refused.reason, 'missing');
    assert.equal(refused.status, 401);
    assert.equal(readFileSync(file, 'utf8').includes(minted.key), false);
  });
});

describe('CORS and security headers', () => {
  test('an allowed origin: preflight 204 and Mcp-Session-Id exposed; a foreign origin: 403 and no CORS headers', async () => {
    await serve({ cors: { allowedOrigins: ['https://app.example.com'] } }, async (s) => {
      const preflight = await raw(s.url, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, mcp-session-id, mcp-param-region',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(preflight.headers['access-control-allow-methods'], 'GET, POST, DELETE, OPTIONS');
      assert.match(String(preflight.headers['access-control-allow-headers']), /mcp-session-id/);
      assert.match(String(preflight.headers['access-control-allow-headers']), /mcp-param-region/);
      assert.equal(preflight.headers['access-control-max-age'], '600');

      const init = await raw(s.url, {
        headers: {
          origin: 'https://app.example.com',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      assert.equal(init.status, 200);
      assert.equal(init.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.match(String(init.headers['access-control-expose-headers']), /Mcp-Session-Id/);
      assert.match(String(init.headers['access-control-expose-headers']), /WWW-Authenticate/);
      assert.match(String(init.headers['access-control-expose-headers']), /Retry-After/);

      const foreignPreflight = await raw(s.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(foreignPreflight.status, 403);
      assert.equal(foreignPreflight.json().error.message, 'Forbidden: this Origin is not allowed by the CORS policy');
      assert.equal(foreignPreflight.headers['access-control-allow-origin'], undefined);
      const foreign = await call(s.url, 'echo', { text: 'x' }, { origin: 'https://evil.example' });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    });
    assert.throws(
      () => createRemoteServer({ server: factory, cors: { allowedOrigins: ['*'], allowCredentials: true } }),
      /option `cors.allowedOrigins` must be explicit origins when allowCredentials is true/,
    );
    await serve({}, async (s) => {
      const res = await call(s.url, 'echo', { text: 'x' }, { origin: 'http://localhost:3000' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    });
  });

  test("helmet's headers on JSON answers, errors and streams; none with securityHeaders: false", async () => {
    await serve({}, async (s) => {
      const responses = [
        await call(s.url, 'echo', { text: 'x' }),
        await raw(s.url.replace('/mcp', '/elsewhere'), { method: 'GET' }),
      ];
      const stream = await openStream(s.url.replace('/mcp', '/sse'), {
        method: 'GET',
        headers: { accept: 'text/event-stream' },
      });
      stream.destroy();
      for (const res of [...responses, stream]) {
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'");
        assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      }
    });
    await serve({ securityHeaders: false }, async (s) => {
      assert.equal((await call(s.url, 'echo', { text: 'x' })).headers['x-content-type-options'], undefined);
    });
  });
});

describe('TLS and slow clients', () => {
  test('self-signed TLS: https and wss work for a client that trusts the certificate, and fail for one that does not', async () => {
    const server = createRemoteServer({ server: factory, onError: () => {} });
    const listening = await server.listen({ port: 0, tls: { selfSigned: true } });
    try {
      assert.match(listening.url, /^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
      assert.equal(listening.fingerprint256, new X509Certificate(listening.certPem!).fingerprint256);
      const post = (ca?: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpsRequest(
            listening.url,
            { method: 'POST', headers: modernHeaders('tools/call', 'echo'), ...(ca !== undefined && { ca }) },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end(modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'tls' } }));
        });
      assert.equal(await post(listening.certPem), 200);
      await assert.rejects(post(), /self[- ]signed certificate/);
      const ws = new WebSocket(listening.url.replace('https', 'wss'), ['mcp'], { ca: listening.certPem });
      await withTimeout(
        new Promise((resolve, reject) => (ws.on('open', resolve), ws.on('error', reject))),
        3000,
        'wss open',
      );
      const answer = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'wss' }, _meta: ENVELOPE },
        }),
      );
      assert.equal((await withTimeout(answer, 3000, 'wss answer')).result.content[0].text, 'wss');
      ws.close();
    } finally {
      await server.close();
    }
    await assert.rejects(
      createRemoteServer({ server: factory }).listen({ port: 0, tls: { cert: 'not a certificate', key: 'nope' } }),
      /option `tls.cert` must be a PEM certificate/,
    );
  });

  test('slowloris: unfinished headers get 408 and the connection closes; others are served meanwhile; streams outlive requestTimeoutMs', async () => {
    await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 }, async (s) => {
      const { port } = new URL(s.url);
      const slow = connect(Number(port), '127.0.0.1');
      let received = '';
      slow.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      const closed = new Promise<void>((resolve) => slow.on('close', () => resolve()));
      slow.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      assert.equal((await call(s.url, 'echo', { text: 'meanwhile' })).status, 200);
      await withTimeout(closed, 3000, 'the slow connection to be closed');
      assert.match(received, /^HTTP\/1\.1 408 Request Timeout\r\n/);

      const slowBody = connect(Number(port), '127.0.0.1');
      let bodyAnswer = '';
      slowBody.setEncoding('utf8').on('data', (chunk: string) => (bodyAnswer += chunk));
      const bodyClosed = new Promise<void>((resolve) => slowBody.on('close', () => resolve()));
      slowBody.write(
        'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"jsonrpc"',
      );
      await withTimeout(bodyClosed, 3000, 'the slow-body connection to be closed');
      assert.match(bodyAnswer, /^HTTP\/1\.1 408 Request Timeout\r\n/);

      const stream = await openStream(s.url.replace('/mcp', '/sse'), {
        method: 'GET',
        headers: { accept: 'text/event-stream' },
      });
      let ended = false;
      void stream.ended.then(() => (ended = true));
      const ws = new WebSocket(s.url.replace('http', 'ws'), ['mcp']);
      await withTimeout(new Promise((resolve) => ws.on('open', resolve)), 2000, 'open');
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.equal(ended, false);
      stream.destroy();
      // The WebSocket, open past both timeouts, still answers.
      const answer = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'late' }, _meta: ENVELOPE },
        }),
      );
      assert.equal((await withTimeout(answer, 2000, 'the late answer')).result.content[0].text, 'late');
      ws.close();
    });
  });
});
