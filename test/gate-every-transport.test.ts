/**
 * One gate for every message, on every transport: initialize over HTTP+SSE and WebSocket is rate limited,
 * input-limited, audited and counted like Streamable HTTP's; notifications are charged and limited like
 * requests; the client's answers pass the input limits; WebSocket subscriptions count against maxStreams and
 * maxListensPerConnection; the HTTP+SSE messages endpoint answers a JSON-RPC-level refusal 202 with the error
 * on the stream (as the official SDK's SSEServerTransport does), so the official v2 client's `auto` probe falls
 * back to initialize.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

import {
  connectWebSocket,
  ENVELOPE,
  modernBody,
  modernHeaders,
  openSession,
  openStream,
  raw,
  sessionHeaders,
  withServer,
  withTimeout,
  type OpenStream,
  type Started,
  type TestSocket,
} from './helpers.js';
import { ERRORS, type RemoteServerOptions } from '../src/index.js';

const JSON_ONLY = { 'content-type': 'application/json' };

const initializeMessage = (id: number | string, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'gate', version: '1' }, ...extra },
});

/** `{ a: { a: ... 'leaf' } }`, `depth` objects deep. */
const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};

/** Opens an HTTP+SSE session (GET /sse); resolves with its stream and messages URL. */
async function openSse(s: Started): Promise<{ stream: OpenStream; messages: string }> {
  const base = s.url.replace('/mcp', '');
  const stream = await openStream(`${base}/sse`, { method: 'GET', headers: { accept: 'text/event-stream' } });
  assert.equal(stream.status, 200);
  const endpoint = await stream.waitFor((e) => e.event === 'endpoint', 2000);
  return { stream, messages: base + endpoint.data };
}

const post = (url: string, message: unknown) => raw(url, { headers: JSON_ONLY, body: JSON.stringify(message) });

function auditFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'remote-mcp-gate-')), 'audit.log');
}

/** The audit lines (read after the server closed, which flushes the log). */
function auditLines(file: string): any[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

/** The value of mcp_requests_total for these labels (0 when the series does not exist). */
async function requestsTotal(s: Started, labels: Record<string, string>): Promise<number> {
  const res = await raw(s.url.replace('/mcp', '/metrics'), { method: 'GET' });
  assert.equal(res.status, 200);
  const family = parsePrometheusTextFormat(res.body).find((f) => f.name === 'mcp_requests_total');
  const found = family?.metrics.find((metric) =>
    Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value),
  );
  return found === undefined ? 0 : Number(found.value);
}

/** Runs `body` against a server, then returns the audit lines it wrote. */
async function audited(
  options: Partial<RemoteServerOptions>,
  body: (s: Started) => Promise<void>,
): Promise<{ lines: any[]; errors: Error[] }> {
  const file = auditFile();
  const errors: Error[] = [];
  await withServer({ audit: { destination: file }, onError: (error) => errors.push(error), ...options }, body);
  return { lines: auditLines(file), errors };
}

describe('initialize on HTTP+SSE and WebSocket passes the request gate', () => {
  test('40 HTTP+SSE initializes against a limit of 20: 20 served, 20 get -32029 on their streams; audited and counted', async () => {
    const sessions: Array<{ stream: OpenStream; messages: string }> = [];
    const { lines } = await audited(
      { rateLimits: { perPrincipal: { points: 20, durationSeconds: 60 } }, metrics: true },
      async (s) => {
        for (let i = 0; i < 40; i++) sessions.push(await openSse(s));
        for (const [index, session] of sessions.entries()) {
          const accepted = await post(session.messages, initializeMessage(index));
          assert.equal(accepted.status, 202, `initialize ${index}`);
        }
        const answers = await Promise.all(
          sessions.map((session, index) => session.stream.waitFor((e) => e.message?.id === index)),
        );
        const served = answers.filter((a) => a.message.result?.protocolVersion === '2024-11-05');
        const refused = answers.filter((a) => a.message.error !== undefined);
        assert.equal(served.length, 20);
        assert.equal(refused.length, 20);
        for (const answer of refused) {
          assert.equal(answer.event, 'message');
          assert.equal(answer.message.error.code, -32029);
          assert.match(answer.message.error.message, /^Too Many Requests: the client's rate limit is reached/);
        }
        // The first 20 were admitted, in order.
        assert.deepEqual(
          served.map((a) => a.message.id),
          Array.from({ length: 20 }, (_, i) => i),
        );
        assert.equal(
          await requestsTotal(s, { method: 'initialize', transport: 'sse', era: 'legacy', status: 'ok' }),
          20,
        );
        assert.equal(
          await requestsTotal(s, { method: 'initialize', transport: 'sse', era: 'legacy', status: 'rate-limited' }),
          20,
        );
        for (const session of sessions) session.stream.destroy();
      },
    );
    const initializes = lines.filter((line) => line.method === 'initialize');
    assert.equal(initializes.length, 40);
    assert.equal(initializes.filter((line) => line.outcome === 'ok').length, 20);
    const limited = initializes.filter((line) => line.outcome === 'rate-limited');
    assert.equal(limited.length, 20);
    for (const line of limited) {
      assert.equal(line.transport, 'sse');
      assert.equal(line.era, 'legacy');
      assert.equal(line.reason, 'principal');
      assert.equal(line.status, 429);
      assert.equal(line.errorCode, -32029);
    }
  });

  test('30 WebSocket initializes against a limit of 10: 10 served, 20 get -32029; audited and counted', async () => {
    const sockets: TestSocket[] = [];
    const { lines } = await audited(
      { rateLimits: { perPrincipal: { points: 10, durationSeconds: 60 } }, metrics: true },
      async (s) => {
        for (let i = 0; i < 30; i++) {
          const socket = await connectWebSocket(s.url);
          sockets.push(socket);
          socket.send(initializeMessage(i));
          // One at a time, so the admitted ones are the first ten.
          await socket.waitFor((m) => m.id === i, `initialize ${i}`);
        }
        const answers = sockets.map((socket, i) => socket.messages.find((m) => m.id === i));
        assert.equal(answers.filter((a) => a.result?.protocolVersion === '2024-11-05').length, 10);
        const refused = answers.filter((a) => a.error !== undefined);
        assert.equal(refused.length, 20);
        for (const answer of refused) assert.equal(answer.error.code, -32029);
        assert.deepEqual(
          answers.slice(0, 10).map((a) => a.result?.protocolVersion),
          Array(10).fill('2024-11-05'),
        );
        // A refused initialize leaves the socket open and its session uninitialized.
        assert.equal(sockets[29]!.ws.readyState, sockets[29]!.ws.OPEN);
        assert.equal(
          await requestsTotal(s, { method: 'initialize', transport: 'websocket', era: 'legacy', status: 'ok' }),
          10,
        );
        assert.equal(
          await requestsTotal(s, {
            method: 'initialize',
            transport: 'websocket',
            era: 'legacy',
            status: 'rate-limited',
          }),
          20,
        );
        for (const socket of sockets) socket.ws.close();
      },
    );
    const initializes = lines.filter((line) => line.method === 'initialize');
    assert.equal(initializes.filter((line) => line.outcome === 'ok').length, 10);
    const limited = initializes.filter((line) => line.outcome === 'rate-limited');
    assert.equal(limited.length, 20);
    for (const line of limited) assert.equal(line.transport, 'websocket');
  });

  test('a 3.9 MB string or a 200-deep object in initialize params is refused -32602 over HTTP+SSE and WebSocket', async () => {
    const long = 'x'.repeat(3_900_000);
    const { lines } = await audited({}, async (s) => {
      // HTTP+SSE: the POST is accepted, the refusal is on the stream, and the session can still initialize.
      const { stream, messages } = await openSse(s);
      assert.equal(
        (await post(messages, initializeMessage(1, { clientInfo: { name: long, version: '1' } }))).status,
        202,
      );
      const tooLong = await stream.waitFor((e) => e.message?.id === 1);
      assert.equal(tooLong.message.error.code, -32602);
      assert.deepEqual(tooLong.message.error.data, { path: '/clientInfo/name', limit: 1_048_576 });
      assert.equal((await post(messages, initializeMessage(2, { deep: nested(200) }))).status, 202);
      const tooDeep = await stream.waitFor((e) => e.message?.id === 2);
      assert.equal(tooDeep.message.error.code, -32602);
      assert.equal(tooDeep.message.error.data.limit, 64);
      assert.match(
        tooDeep.message.error.message,
        /^Invalid params: nested deeper than maxJsonDepth \(64\) at \/deep\/a\//,
      );
      assert.equal((await post(messages, initializeMessage(3))).status, 202);
      assert.equal((await stream.waitFor((e) => e.message?.id === 3)).message.result.protocolVersion, '2024-11-05');
      stream.destroy();

      // WebSocket: the JSON-RPC error on the socket, which stays open; then a good initialize opens the session.
      const socket = await connectWebSocket(s.url);
      socket.send(initializeMessage(11, { clientInfo: { name: long, version: '1' } }));
      const wsLong = await socket.waitFor((m) => m.id === 11, 'the long-string refusal');
      assert.equal(wsLong.error.code, -32602);
      assert.deepEqual(wsLong.error.data, { path: '/clientInfo/name', limit: 1_048_576 });
      socket.send(initializeMessage(12, { deep: nested(200) }));
      assert.equal((await socket.waitFor((m) => m.id === 12, 'the depth refusal')).error.code, -32602);
      socket.send(initializeMessage(13));
      assert.equal((await socket.waitFor((m) => m.id === 13, 'initialize')).result.protocolVersion, '2024-11-05');
      socket.ws.close();
    });
    const invalid = lines.filter((line) => line.method === 'initialize' && line.outcome === 'invalid');
    assert.deepEqual(
      invalid.map((line) => [line.transport, line.reason, line.status, line.errorCode]),
      [
        ['sse', 'input-string', 400, -32602],
        ['sse', 'input-depth', 400, -32602],
        ['websocket', 'input-string', 400, -32602],
        ['websocket', 'input-depth', 400, -32602],
      ],
    );
  });
});

describe('notifications and answers pass the gate', () => {
  test('HTTP POSTs of notifications are charged: past the limit 429 with Retry-After and RateLimit-*, id null', async () => {
    const { lines } = await audited({ rateLimits: { perPrincipal: { points: 4, durationSeconds: 60 } } }, async (s) => {
      const progress = (era: 'modern' | 'legacy') =>
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: 1, progress: 1, ...(era === 'modern' && { _meta: ENVELOPE }) },
        });
      // 2025-era: initialize and notifications/initialized spend 2 points.
      const sessionId = await openSession(s.url);
      const admitted = await raw(s.url, { headers: sessionHeaders(sessionId), body: progress('legacy') });
      assert.equal(admitted.status, 202);
      assert.equal(admitted.headers['ratelimit-remaining'], '1');
      // 2026-07-28: a stateless notification spends the last point, the next is refused.
      const modern = await raw(s.url, { headers: modernHeaders('notifications/progress'), body: progress('modern') });
      assert.equal(modern.status, 202);
      assert.equal(modern.headers['ratelimit-remaining'], '0');
      for (const [headers, body] of [
        [modernHeaders('notifications/progress'), progress('modern')],
        [sessionHeaders(sessionId), progress('legacy')],
      ] as const) {
        const refused = await raw(s.url, { headers, body });
        assert.equal(refused.status, 429);
        assert.equal(refused.headers['retry-after'], '60');
        assert.equal(refused.headers['ratelimit-limit'], '4');
        assert.equal(refused.headers['ratelimit-remaining'], '0');
        assert.equal(refused.json().id, null);
        assert.equal(refused.json().error.code, -32029);
      }
    });
    const limited = lines.filter((line) => line.outcome === 'rate-limited');
    assert.deepEqual(
      limited.map((line) => [line.method, line.era, line.status, line.rpcId]),
      [
        ['notifications/progress', 'modern', 429, undefined],
        ['notifications/progress', 'legacy', 429, undefined],
      ],
    );
  });

  test('a notification past the limit on a WebSocket is dropped with an audit line; the socket keeps serving', async () => {
    const { lines } = await audited({ rateLimits: { perPrincipal: { points: 2, durationSeconds: 60 } } }, async (s) => {
      const socket = await connectWebSocket(s.url);
      const list = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: { _meta: ENVELOPE } });
      socket.send(list(1));
      assert.ok((await socket.waitFor((m) => m.id === 1, 'the first list')).result.tools.length > 0);
      socket.send({
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 1, progress: 1, _meta: ENVELOPE },
      });
      socket.send({
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 1, progress: 2, _meta: ENVELOPE },
      });
      socket.send(list(2));
      assert.equal((await socket.waitFor((m) => m.id === 2, 'the refused list')).error.code, -32029);
      // Nothing answered either notification.
      assert.deepEqual(
        socket.messages.map((m) => m.id),
        [1, 2],
      );
      socket.ws.close();
    });
    assert.deepEqual(
      lines.filter((line) => line.outcome === 'rate-limited').map((line) => [line.method, line.transport]),
      [
        ['notifications/progress', 'websocket'],
        ['tools/list', 'websocket'],
      ],
    );
  });

  test('a deeply nested notifications/cancelled is a clean 400 / -32602 (not 500) on every transport; the server keeps serving', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const { lines, errors } = await audited({}, async (s) => {
      const sessionId = await openSession(s.url);
      const legacy = await raw(s.url, {
        headers: sessionHeaders(sessionId),
        body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${deep}}}`,
      });
      assert.equal(legacy.status, 400);
      assert.equal(legacy.json().id, null);
      assert.equal(legacy.json().error.code, -32602);
      assert.equal(legacy.json().error.data.path.startsWith('/requestId/0/0/'), true);
      const modern = await raw(s.url, {
        headers: modernHeaders('notifications/cancelled'),
        body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${deep},"_meta":${JSON.stringify(ENVELOPE)}}}`,
      });
      assert.equal(modern.status, 400);
      assert.equal(modern.json().error.code, -32602);
      // HTTP+SSE: a notification has no JSON-RPC answer, so its POST carries the refusal.
      const { stream, messages } = await openSse(s);
      assert.equal((await post(messages, initializeMessage(1))).status, 202);
      await stream.waitFor((e) => e.message?.id === 1);
      const sse = await raw(messages, {
        headers: JSON_ONLY,
        body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${deep}}}`,
      });
      assert.equal(sse.status, 400);
      assert.equal(sse.json().error.code, -32602);
      stream.destroy();
      // WebSocket, both eras: nothing answers the notification, nothing breaks.
      const modernSocket = await connectWebSocket(s.url);
      modernSocket.send(
        `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${deep},"_meta":${JSON.stringify(ENVELOPE)}}}`,
      );
      modernSocket.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: ENVELOPE } });
      assert.ok((await modernSocket.waitFor((m) => m.id === 2, 'the list')).result.tools.length > 0);
      assert.deepEqual(
        modernSocket.messages.map((m) => m.id),
        [2],
      );
      modernSocket.ws.close();
      const legacySocket = await connectWebSocket(s.url);
      legacySocket.send(initializeMessage(1));
      await legacySocket.waitFor((m) => m.id === 1, 'initialize');
      legacySocket.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${deep}}}`);
      legacySocket.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
      assert.deepEqual((await legacySocket.waitFor((m) => m.id === 2, 'the ping')).result, {});
      assert.deepEqual(
        legacySocket.messages.map((m) => m.id),
        [1, 2],
      );
      legacySocket.ws.close();
      // Still serving.
      const echo = await raw(s.url, {
        headers: modernHeaders('tools/call', 'echo'),
        body: modernBody(3, 'tools/call', { name: 'echo', arguments: { text: 'alive' } }),
      });
      assert.equal(echo.json().result.content[0].text, 'alive');
    });
    assert.deepEqual(errors, []);
    const refused = lines.filter((line) => line.method === 'notifications/cancelled');
    assert.deepEqual(
      refused.map((line) => [line.transport, line.era, line.outcome, line.reason]),
      [
        ['http', 'legacy', 'invalid', 'input-depth'],
        ['http', 'modern', 'invalid', 'input-depth'],
        ['sse', 'legacy', 'invalid', 'input-depth'],
        ['websocket', 'modern', 'invalid', 'input-depth'],
        ['websocket', 'legacy', 'invalid', 'input-depth'],
      ],
    );
  });

  test("the client's answer to an elicitation past maxStringLength is refused 400 and the handler hears of it at once", async () => {
    const { lines } = await audited({ maxStringLength: 100 }, async (s) => {
      const sessionId = await openSession(s.url, '2025-11-25', { elicitation: { form: {} } });
      const call = await openStream(s.url, {
        headers: sessionHeaders(sessionId),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 5,
          method: 'tools/call',
          params: { name: 'ask_name', arguments: {} },
        }),
      });
      const asked = await call.waitFor((e) => e.message?.method === 'elicitation/create');
      const answer = await raw(s.url, {
        headers: sessionHeaders(sessionId),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: asked.message.id,
          result: { action: 'accept', content: { name: 'x'.repeat(101) } },
        }),
      });
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.json(), {
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32602,
          message: 'Invalid message: a string longer than maxStringLength (100) at /result/content/name',
          data: { path: '/result/content/name', limit: 100 },
        },
      });
      // The tool call ends now (well before the SDK's request timeout), and not with the refused name.
      const ended = await call.waitFor((e) => e.message?.id === 5, 3000);
      assert.equal(JSON.stringify(ended.message).includes('xxxxxxxxxx'), false);
    });
    const refused = lines.find((line) => line.outcome === 'invalid');
    assert.equal(refused.method, undefined);
    assert.equal(refused.reason, 'input-string');
    assert.equal(typeof refused.rpcId, 'number');
  });
});

describe('WebSocket subscriptions count against maxStreams and maxListensPerConnection', () => {
  const listen = (id: number) => ({
    jsonrpc: '2.0',
    id,
    method: 'subscriptions/listen',
    params: { notifications: { toolsListChanged: true }, _meta: ENVELOPE },
  });
  const acknowledged = (id: number) => (m: any) =>
    m.method === 'notifications/subscriptions/acknowledged' &&
    m.params._meta['io.modelcontextprotocol/subscriptionId'] === id;

  test('past maxListensPerConnection a listen gets -32029 LISTEN_LIMIT; cancelling one frees its place', async () => {
    await withServer({ maxListensPerConnection: 2 }, async (s) => {
      const socket = await connectWebSocket(s.url);
      socket.send(listen(1));
      socket.send(listen(2));
      await socket.waitFor(acknowledged(2), 'the second acknowledgement');
      socket.send(listen(3));
      const refused = await socket.waitFor((m) => m.id === 3, 'the third listen');
      assert.deepEqual(refused.error, {
        code: -32029,
        message: 'Too Many Requests: 2 subscriptions are open on this connection (maxListensPerConnection)',
      });
      // Another connection has its own allowance.
      const other = await connectWebSocket(s.url);
      other.send(listen(1));
      await other.waitFor(acknowledged(1), 'the other connection');
      socket.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: ENVELOPE } });
      socket.send(listen(4));
      await socket.waitFor(acknowledged(4), 'a listen after one was cancelled');
      socket.ws.close();
      other.ws.close();
    });
  });

  test('WebSocket subscriptions are open streams: past maxStreams -32603, freed when the socket closes', async () => {
    await withServer({ maxStreams: 3, metrics: true }, async (s) => {
      const first = await connectWebSocket(s.url);
      first.send(listen(1));
      first.send(listen(2));
      await first.waitFor(acknowledged(2), 'two subscriptions');
      const second = await connectWebSocket(s.url);
      second.send(listen(1));
      await second.waitFor(acknowledged(1), 'the third stream');
      second.send(listen(2));
      const refused = await second.waitFor((m) => m.id === 2, 'the fourth stream');
      assert.deepEqual(refused.error, {
        code: -32603,
        message: 'Service Unavailable: the open stream limit (maxStreams 3) is reached',
      });
      // An HTTP subscription sees the same cap.
      const http = await raw(s.url, {
        headers: modernHeaders('subscriptions/listen'),
        body: modernBody(9, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
      });
      assert.match(http.json().error.message, /maxStreams 3/);
      const gauge = await raw(s.url.replace('/mcp', '/metrics'), { method: 'GET' });
      assert.match(gauge.body, /^mcp_open_streams\{kind="listen"\} 3$/m);
      first.ws.close();
      await first.closed;
      let answer: any;
      for (let attempt = 0; attempt < 50; attempt++) {
        second.send(listen(10 + attempt));
        answer = await Promise.race([
          second.waitFor(acknowledged(10 + attempt), 'a listen after the first socket closed'),
          second.waitFor((m) => m.id === 10 + attempt && m.error !== undefined, 'its refusal'),
        ]);
        if (answer.method !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(answer.method, 'notifications/subscriptions/acknowledged');
      second.ws.close();
    });
  });
});

describe('the HTTP+SSE messages endpoint answers JSON-RPC refusals like the official SSEServerTransport', () => {
  test('refused requests are 202 with the error on the stream; transport refusals stay HTTP errors', async () => {
    await withServer({ rateLimits: { perPrincipal: { points: 3, durationSeconds: 60 } } }, async (s) => {
      const { stream, messages } = await openSse(s);
      // A request before initialize: 202, then the error as a `message` event.
      const early = await post(messages, { jsonrpc: '2.0', id: 'probe', method: 'server/discover', params: {} });
      assert.equal(early.status, 202);
      const refusal = await stream.waitFor((e) => e.message?.id === 'probe');
      assert.equal(refusal.event, 'message');
      assert.equal(refusal.message.error.code, -32600);
      // A notification before initialize has no JSON-RPC answer: its POST is refused.
      const notification = await post(messages, { jsonrpc: '2.0', method: 'notifications/initialized' });
      assert.equal(notification.status, 400);
      assert.equal(notification.json().error.code, -32600);
      // Transport-level refusals: not JSON-RPC, bad JSON, an unknown session.
      assert.equal((await post(messages, { hello: 'world' })).status, 400);
      assert.equal((await raw(messages, { headers: JSON_ONLY, body: '{oops' })).status, 400);
      assert.equal((await post(messages.replace(/sessionId=.*/, 'sessionId=nope'), initializeMessage(1))).status, 404);
      // initialize (1 point), a call (1 point), then rate limited: 202 and -32029 on the stream.
      assert.equal((await post(messages, initializeMessage(1))).status, 202);
      await stream.waitFor((e) => e.message?.id === 1);
      assert.equal((await post(messages, { jsonrpc: '2.0', id: 2, method: 'ping' })).status, 202);
      assert.deepEqual((await stream.waitFor((e) => e.message?.id === 2)).message.result, {});
      assert.equal((await post(messages, { jsonrpc: '2.0', id: 3, method: 'ping' })).status, 202);
      const limited = await post(messages, { jsonrpc: '2.0', id: 4, method: 'ping' });
      assert.equal(limited.status, 202);
      assert.equal(limited.body, '');
      assert.equal((await stream.waitFor((e) => e.message?.id === 4)).message.error.code, -32029);
      stream.destroy();
    });
  });

  test('a policy refusal on the HTTP+SSE messages endpoint is 202 with -32003 on the stream; the session goes on', async () => {
    const options: Partial<RemoteServerOptions> = {
      auth: { authenticate: () => ({ kind: 'custom', subject: 'bob', scopes: ['mcp'] }) },
      authorization: { tools: { echo: ['admin'] } },
    };
    await withServer(options, async (s) => {
      const { stream, messages } = await openSse(s);
      assert.equal((await post(messages, initializeMessage(1))).status, 202);
      await stream.waitFor((e) => e.message?.id === 1);
      const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } };
      const denied = await post(messages, call);
      assert.equal(denied.status, 202);
      assert.equal(denied.body, '');
      const refusal = (await stream.waitFor((e) => e.message?.id === 2)).message;
      assert.equal(refusal.error.code, ERRORS.FORBIDDEN_OPERATION.rpcCode);
      assert.match(refusal.error.message, /^Forbidden/);
      // The session still serves what the policy allows.
      const add = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } };
      assert.equal((await post(messages, add)).status, 202);
      assert.equal((await stream.waitFor((e) => e.message?.id === 3)).message.result.structuredContent.sum, 3);
      stream.destroy();
    });
  });

  test('the official v2 client with versionNegotiation auto over SSEClientTransport falls back to initialize and calls a tool', async () => {
    await withServer({}, async (s) => {
      const client = new Client({ name: 'sse-auto', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
      try {
        await withTimeout(
          client.connect(new SSEClientTransport(new URL(s.url.replace('/mcp', '/sse')))),
          5000,
          'connect with auto negotiation over HTTP+SSE',
        );
        assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
        assert.deepEqual((await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content, [
          { type: 'text', text: '5' },
        ]);
      } finally {
        await client.close();
      }
    });
  });
});
