/**
 * Graceful drain against real clients: load keeps arriving while the server drains, and no request it
 * accepted is lost; a request that arrives too late is refused cleanly (503, or a refused connection). Open
 * WebSockets get their in-flight answers, then close code 1001; SSE streams end with a `retry` hint; readiness
 * turns 503 at once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { createRemoteServer } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import {
  connectWebSocket,
  ENVELOPE,
  modernBody,
  modernHeaders,
  openSession,
  openStream,
  sessionHeaders,
  withTimeout,
} from './helpers.js';

type Outcome =
  | { kind: 'answered'; text: string }
  | { kind: 'refused'; status: number; code: number }
  | { kind: 'connection-refused' }
  | { kind: 'lost'; error: string };

/** One slow tools/call on the agent's connections, classified by how it ended. */
function call(url: string, agent: Agent, id: number): Promise<Outcome> {
  const body = modernBody(id, 'tools/call', { name: 'slow_count', arguments: { to: 1, delayMs: 100 } });
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...modernHeaders('tools/call', 'slow_count'), 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) {
            const message = JSON.parse(
              text.startsWith('{')
                ? text
                : text
                    .split('\n')
                    .find((line) => line.startsWith('data:') && line.includes('"result"'))!
                    .slice(5),
            );
            resolve({ kind: 'answered', text: message.result.content[0].text });
          } else {
            resolve({ kind: 'refused', status: res.statusCode ?? 0, code: JSON.parse(text).error.code });
          }
        });
        res.on('error', (error) => resolve({ kind: 'lost', error: String(error) }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ECONNREFUSED'
          ? { kind: 'connection-refused' }
          : { kind: 'lost', error: `${error.code}: ${error.message}` },
      ),
    );
    req.end(body);
  });
}

describe('graceful drain', () => {
  test('under load: every request accepted before or during the drain is answered, later ones are refused cleanly', async () => {
    const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, drainTimeoutMs: 5_000 });
    const { url } = await remote.listen({ port: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      // Warm the 8 keep-alive connections, then put a request in flight on each.
      await Promise.all(Array.from({ length: 8 }, (_, i) => call(url, agent, i)));
      const before = Array.from({ length: 8 }, (_, i) => call(url, agent, 100 + i));
      await sleep(30);
      const closing = remote.close();
      // Load keeps coming while the server drains: a request every 10 ms for 300 ms (bounded: 30).
      const during: Array<Promise<Outcome>> = [];
      for (let i = 0; i < 30; i++) {
        during.push(call(url, agent, 200 + i));
        await sleep(10);
      }
      const [settledBefore, settledDuring] = await Promise.all([Promise.all(before), Promise.all(during)]);
      await withTimeout(closing, 6_000, 'close() to resolve');

      // Everything in flight when the drain began was answered in full.
      assert.deepEqual(
        settledBefore.map((outcome) => outcome.kind),
        Array(8).fill('answered'),
      );
      for (const outcome of settledBefore) assert.equal((outcome as { text: string }).text, 'counted to 1');
      // What came later was answered (accepted before the flag turned), or refused with 503 / a refused
      // connection; nothing was cut off.
      const lost = [...settledBefore, ...settledDuring].filter((outcome) => outcome.kind === 'lost');
      assert.deepEqual(lost, []);
      for (const outcome of settledDuring) {
        if (outcome.kind === 'refused') assert.deepEqual([outcome.status, outcome.code], [503, -32603]);
        else assert.ok(outcome.kind === 'answered' || outcome.kind === 'connection-refused', JSON.stringify(outcome));
      }
      assert.ok(
        settledDuring.some((outcome) => outcome.kind !== 'answered'),
        'the drain refused late requests',
      );
    } finally {
      agent.destroy();
      await remote.close();
    }
  });

  test('readiness turns 503 at once on an open connection, while liveness stays 200 (draining)', async () => {
    const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, drainTimeoutMs: 5_000 });
    const { url } = await remote.listen({ port: 0 });
    const base = url.replace('/mcp', '');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        request(`${base}${path}`, { agent }, (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        })
          .on('error', reject)
          .end();
      });
    try {
      assert.equal((await get('/ready')).status, 200);
      const slow = call(url, new Agent(), 1); // keeps the drain going
      await sleep(30);
      const closing = remote.close();
      const ready = await get('/ready');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, { status: 'draining' });
      const health = await get('/health');
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'draining');
      assert.equal((await slow).kind, 'answered');
      await closing;
    } finally {
      agent.destroy();
      await remote.close();
    }
  });

  test('drainDelayMs: with nothing in flight the drain still answers open connections 503 until it has passed', async () => {
    const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, drainDelayMs: 1_500 });
    const { url } = await remote.listen({ port: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await call(url, agent, 1)).kind, 'answered');
      let closed = false;
      const closing = remote.close().then(() => (closed = true));
      await sleep(200);
      // Nothing was in flight, so without the delay the server would have closed this idle connection by now.
      const refused = await call(url, agent, 2);
      assert.deepEqual(refused, { kind: 'refused', status: 503, code: -32603 });
      assert.equal(closed, false);
      await closing;
    } finally {
      agent.destroy();
      await remote.close();
    }
  });

  test('a WebSocket gets its in-flight answer, a refusal for a new request, then close code 1001', async () => {
    const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, drainTimeoutMs: 5_000 });
    const { url } = await remote.listen({ port: 0 });
    const ws = await connectWebSocket(url);
    ws.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'slow_count', arguments: { to: 2, delayMs: 100 }, _meta: ENVELOPE },
    });
    await sleep(30);
    const closing = remote.close();
    await sleep(10);
    ws.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: ENVELOPE } });
    const refused = await ws.waitFor((m) => m.id === 2, 'the refusal');
    assert.equal(refused.error.code, -32603);
    assert.equal(refused.error.message, 'Service Unavailable: the server is shutting down');
    const answer = await ws.waitFor((m) => m.id === 1, 'the in-flight answer');
    assert.equal(answer.result.content[0].text, 'counted to 2');
    const closed = await withTimeout(ws.closed, 3_000, 'the close frame');
    assert.deepEqual(closed, { code: 1001, reason: 'The server is shutting down' });
    await closing;
  });

  test('SSE streams end with a retry hint: a 2025-era GET stream and a 2026-07-28 subscription', async () => {
    const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, drainRetryMs: 2_500 });
    const { url } = await remote.listen({ port: 0 });
    const sessionId = await openSession(url, '2025-11-25');
    const get = await openStream(url, {
      method: 'GET',
      headers: { ...sessionHeaders(sessionId), accept: 'text/event-stream' },
    });
    assert.equal(get.status, 200);
    const listen = await openStream(url, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody(9, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
    });
    await listen.waitFor((event) => event.message?.method === 'notifications/subscriptions/acknowledged');
    await remote.close();
    await withTimeout(Promise.all([get.ended, listen.ended]), 3_000, 'the streams to end');
    assert.match(get.text(), /retry: 2500\n\n$/);
    assert.match(listen.text(), /retry: 2500\n\n$/);
    assert.ok(
      listen.events.some((event) => event.message?.id === 9 && event.message.result !== undefined),
      'the subscription ended with its result',
    );
  });
});
