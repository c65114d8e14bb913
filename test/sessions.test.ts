/** 2025-era sessions: cap, idle expiry, DELETE, the standalone stream, resumption, and pooled instances. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { FactoryContext } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import { LEGACY_HEADERS, openSession, openStream, raw, sessionHeaders, withServer, withTimeout } from './helpers.js';

const call = (id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args, ...(meta && { _meta: meta }) },
  });

describe('session lifecycle', () => {
  test('initialize answers with a 128-bit session id and the negotiated version', async () => {
    await withServer({}, async (s) => {
      const res = await raw(s.url, {
        headers: LEGACY_HEADERS,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers['mcp-session-id'] as string, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(res.json().id, 7);
      assert.equal(res.json().result.protocolVersion, '2025-06-18');
      assert.equal(res.json().result.serverInfo.name, 'remote-mcp-demo');
    });
  });

  test('initialize beyond maxSessions gets 503 and existing sessions keep working', async () => {
    await withServer({ maxSessions: 2 }, async (s) => {
      const first = await openSession(s.url);
      await openSession(s.url);
      const third = await raw(s.url, {
        headers: LEGACY_HEADERS,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
      assert.equal(third.status, 503);
      assert.equal(third.json().error.code, -32603);
      assert.equal(third.json().id, 1);
      const ok = await raw(s.url, { headers: sessionHeaders(first), body: call(2, 'echo', { text: 'still here' }) });
      assert.equal(ok.status, 200);
      assert.equal(ok.json().result.content[0].text, 'still here');
    });
  });

  test('an idle session expires and then answers 404', async () => {
    await withServer({ sessionIdleTimeoutMs: 100 }, async (s) => {
      const id = await openSession(s.url);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const res = await raw(s.url, { headers: sessionHeaders(id), body: call(2, 'echo', { text: 'x' }) });
      assert.equal(res.status, 404);
      assert.equal(res.json().error.code, -32600);
      assert.equal(res.json().error.message, 'Session not found');
    });
  });

  test('DELETE ends the session; then it is 404 for every method', async () => {
    await withServer({}, async (s) => {
      const id = await openSession(s.url);
      const deleted = await raw(s.url, { method: 'DELETE', headers: { 'mcp-session-id': id } });
      assert.equal(deleted.status, 200);
      assert.equal(
        (await raw(s.url, { headers: sessionHeaders(id), body: call(2, 'echo', { text: 'x' }) })).status,
        404,
      );
      assert.equal(
        (await raw(s.url, { method: 'GET', headers: { 'mcp-session-id': id, accept: 'text/event-stream' } })).status,
        404,
      );
      assert.equal((await raw(s.url, { method: 'DELETE', headers: { 'mcp-session-id': id } })).status, 404);
    });
  });
});

describe('standalone GET stream', () => {
  test('delivers list-changed to every session and resource updates only to subscribers; a second GET is 409', async () => {
    await withServer({}, async (s) => {
      const subscriber = await openSession(s.url);
      const other = await openSession(s.url);
      const sub = await raw(s.url, {
        headers: sessionHeaders(subscriber),
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'demo://clock' } }),
      });
      assert.equal(sub.status, 200);
      assert.deepEqual(sub.json().result, {});
      const a = await openStream(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': subscriber, accept: 'text/event-stream' },
      });
      const b = await openStream(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': other, accept: 'text/event-stream' },
      });
      assert.equal(a.status, 200);
      assert.equal(a.headers['x-accel-buffering'], 'no');
      assert.equal(a.headers['mcp-session-id'], subscriber);
      const second = await raw(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': subscriber, accept: 'text/event-stream' },
      });
      assert.equal(second.status, 409);

      s.server.notify.resourceUpdated('demo://clock');
      const updated = await a.waitFor((e) => e.message?.method === 'notifications/resources/updated');
      assert.deepEqual(updated.message.params, { uri: 'demo://clock' });
      s.server.notify.toolsListChanged();
      await a.waitFor((e) => e.message?.method === 'notifications/tools/list_changed');
      await b.waitFor((e) => e.message?.method === 'notifications/tools/list_changed');
      assert.equal(b.events.filter((e) => e.message?.method === 'notifications/resources/updated').length, 0);
      a.destroy();
      b.destroy();
    });
  });

  test('GET without text/event-stream in Accept is 406', async () => {
    await withServer({}, async (s) => {
      const id = await openSession(s.url);
      const res = await raw(s.url, { method: 'GET', headers: { 'mcp-session-id': id, accept: 'application/json' } });
      assert.equal(res.status, 406);
    });
  });
});

describe('resumption', () => {
  test('a POST stream lost mid-way is resumed with Last-Event-ID and delivers the rest, including the answer', async () => {
    await withServer({}, async (s) => {
      const id = await openSession(s.url);
      const stream = await openStream(s.url, {
        headers: sessionHeaders(id),
        body: call(5, 'slow_count', { to: 6, delayMs: 40 }, { progressToken: 'p' }),
      });
      assert.equal(stream.status, 200);
      assert.equal(stream.headers['content-type'], 'text/event-stream');
      const firstProgress = await stream.waitFor((e) => e.message?.method === 'notifications/progress');
      stream.destroy();
      const resumed = await openStream(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': id, accept: 'text/event-stream', 'last-event-id': firstProgress.id! },
      });
      assert.equal(resumed.status, 200);
      const answer = await resumed.waitFor((e) => e.message?.id === 5);
      assert.equal(answer.message.result.content[0].text, 'counted to 6');
      const progress = [...stream.events, ...resumed.events]
        .filter((e) => e.message?.method === 'notifications/progress')
        .map((e) => e.message.params.progress);
      assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
      await withTimeout(resumed.ended, 2000, 'the resumed stream to end after the answer');
    });
  });

  test('a Last-Event-ID of another session is refused', async () => {
    await withServer({}, async (s) => {
      const owner = await openSession(s.url);
      const stranger = await openSession(s.url);
      const stream = await openStream(s.url, {
        headers: sessionHeaders(owner),
        body: call(5, 'slow_count', { to: 2, delayMs: 5 }, { progressToken: 'p' }),
      });
      const event = await stream.waitFor((e) => e.id !== undefined);
      await stream.ended;
      const res = await raw(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': stranger, accept: 'text/event-stream', 'last-event-id': event.id! },
      });
      assert.equal(res.status, 400);
      assert.equal(res.json().error.code, -32600);
    });
  });
});

describe('pooled instances', () => {
  test('sessions of identical clients reuse one instance; a different client gets its own', async () => {
    const eras: string[] = [];
    const factory = (context: FactoryContext) => {
      eras.push(context.era);
      return createDemoServer(context);
    };
    await withServer({ server: factory }, async (s) => {
      for (let i = 0; i < 5; i++) {
        const id = await openSession(s.url);
        const res = await raw(s.url, { headers: sessionHeaders(id), body: call(2, 'echo', { text: `n${i}` }) });
        assert.equal(res.json().result.content[0].text, `n${i}`);
      }
      assert.deepEqual(eras, ['modern', 'legacy']);
      await openSession(s.url, '2025-03-26');
      assert.deepEqual(eras, ['modern', 'legacy', 'legacy']);
    });
  });

  test('a 2025-03-26 session answers a batch with an array of responses', async () => {
    await withServer({}, async (s) => {
      const id = await openSession(s.url, '2025-03-26');
      const res = await raw(s.url, {
        headers: sessionHeaders(id, '2025-03-26'),
        body: JSON.stringify([
          JSON.parse(call(1, 'echo', { text: 'a' })),
          JSON.parse(call(2, 'add', { a: 1, b: 2 })),
          { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'x', progress: 1 } },
        ]),
      });
      assert.equal(res.status, 200);
      const answers = res.json();
      assert.ok(Array.isArray(answers));
      assert.deepEqual(answers.map((a: any) => a.id).sort(), [1, 2]);
      assert.equal(answers.find((a: any) => a.id === 2).result.structuredContent.sum, 3);
    });
  });
});

describe('cancellation', () => {
  test('notifications/cancelled aborts the handler, ends its POST without an answer, and the session goes on', async () => {
    await withServer({}, async (s) => {
      const id = await openSession(s.url);
      const stream = await openStream(s.url, {
        headers: sessionHeaders(id),
        body: call(21, 'slow_count', { to: 100, delayMs: 20 }, { progressToken: 'c' }),
      });
      await stream.waitFor((e) => e.message?.method === 'notifications/progress');
      const cancel = await raw(s.url, {
        headers: sessionHeaders(id),
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: 21, reason: 'user stopped it' },
        }),
      });
      assert.equal(cancel.status, 202);
      await withTimeout(stream.ended, 2000, 'the cancelled POST stream to end');
      assert.equal(stream.events.filter((e) => e.message?.id === 21).length, 0);
      assert.ok(stream.events.filter((e) => e.message?.method === 'notifications/progress').length < 100);

      // An unknown method is answered during delivery; the same id can then be used and cancelled again.
      const unknown = await raw(s.url, {
        headers: sessionHeaders(id),
        body: JSON.stringify({ jsonrpc: '2.0', id: 22, method: 'no/such' }),
      });
      assert.equal(unknown.json().error.code, -32601);
      const again = await raw(s.url, { headers: sessionHeaders(id), body: call(22, 'echo', { text: 'after cancel' }) });
      assert.equal(again.json().result.content[0].text, 'after cancel');
    });
  });
});
