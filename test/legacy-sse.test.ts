/**
 * The 2024-11-05 HTTP+SSE transport: GET <path>/events (alias /sse) opens a session stream and names the POST
 * URL in an `endpoint` event; POSTs answer 202 and every answer travels on the stream.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client as V2Client, SSEClientTransport as V2SSEClientTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import { LEGACY_HEADERS, openStream, raw, withServer, withTimeout, type OpenStream } from './helpers.js';

const initialize = (id: number) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });

/** Opens a raw SSE session; resolves with the stream and its messages URL. */
async function openSseSession(base: string, path: string): Promise<{ stream: OpenStream; messages: string }> {
  const stream = await openStream(base + path, { method: 'GET', headers: { accept: 'text/event-stream' } });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers['x-accel-buffering'], 'no');
  const endpoint = await withTimeout(
    new Promise<string>((resolve) => {
      const poll = setInterval(() => {
        const first = stream.events[0];
        const match = first?.event === 'endpoint' ? /^\/\S+\?sessionId=[A-Za-z0-9_-]{22}$/.exec(first.data) : null;
        if (match) {
          clearInterval(poll);
          resolve(match[0]);
        }
      }, 5);
    }),
    2000,
    'the endpoint event',
  );
  return { stream, messages: base + endpoint };
}

describe('official clients over HTTP+SSE', () => {
  for (const path of ['/mcp/events', '/sse']) {
    test(`v1 SSEClientTransport at ${path}: tools with progress, resources, prompts, elicitation, notifications`, async () => {
      await withServer({}, async (s) => {
        const client = new Client({ name: 'sse-v1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
        client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Lin' } }));
        const transport = new SSEClientTransport(new URL(s.url.replace('/mcp', path)));
        try {
          await withTimeout(client.connect(transport), 5000, 'connect');
          assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), [
            'add',
            'ask_name',
            'echo',
            'slow_count',
          ]);
          assert.deepEqual((await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).structuredContent, {
            sum: 3,
          });
          const progress: number[] = [];
          const counted = await client.callTool({ name: 'slow_count', arguments: { to: 3, delayMs: 10 } }, undefined, {
            onprogress: (p) => progress.push(p.progress),
          });
          assert.deepEqual(counted.content, [{ type: 'text', text: 'counted to 3' }]);
          // The server sends 1, 2, 3 and then the result (test/sessions.test.ts reads the raw order). This client
          // dispatches a whole chunk synchronously but runs notification handlers a microtask later, so a last
          // progress that shares a chunk with the result can reach it after the result removed its handler.
          assert.deepEqual(progress.slice(0, 2), [1, 2]);
          assert.deepEqual(progress, [1, 2, 3].slice(0, progress.length));
          const greeting = await client.readResource({ uri: 'demo://greeting/Lin' });
          assert.equal((greeting.contents[0] as { text: string }).text, 'Hello, Lin!');
          const prompt = await client.getPrompt({ name: 'review_code', arguments: { code: 'z' } });
          assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Please review this code:\n\nz' });
          assert.deepEqual(
            (await withTimeout(client.callTool({ name: 'ask_name', arguments: {} }), 5000, 'ask_name')).content,
            [{ type: 'text', text: 'Hello, Lin!' }],
          );

          const updated = new Promise<string>((resolve) =>
            client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
          );
          const changed = new Promise<true>((resolve) =>
            client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve(true)),
          );
          await client.subscribeResource({ uri: 'demo://clock' });
          s.server.notify.resourceUpdated('demo://clock');
          s.server.notify.toolsListChanged();
          assert.equal(await withTimeout(updated, 3000, 'resources/updated'), 'demo://clock');
          assert.equal(await withTimeout(changed, 3000, 'tools/list_changed'), true);
        } finally {
          await client.close();
        }
      });
    });
  }

  test('v2 SSEClientTransport: tools, resources and an input request', async () => {
    await withServer({}, async (s) => {
      const client = new V2Client(
        { name: 'sse-v2', version: '1.0.0' },
        { capabilities: { elicitation: { form: {} } } },
      );
      client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Kai' } }));
      try {
        await withTimeout(
          client.connect(new V2SSEClientTransport(new URL(s.url.replace('/mcp', '/sse')))),
          5000,
          'connect',
        );
        assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
        assert.deepEqual((await client.callTool({ name: 'echo', arguments: { text: 'over sse' } })).content, [
          { type: 'text', text: 'over sse' },
        ]);
        const clock = await client.readResource({ uri: 'demo://clock' });
        assert.match((clock.contents[0] as { text: string }).text, /^tick \d+$/);
        assert.deepEqual(
          (await withTimeout(client.callTool({ name: 'ask_name', arguments: {} }), 5000, 'ask_name')).content,
          [{ type: 'text', text: 'Hello, Kai!' }],
        );
      } finally {
        await client.close();
      }
    });
  });
});

describe('HTTP+SSE raw', () => {
  test('the endpoint event names the messages URL of the path used; answers travel on the stream', async () => {
    await withServer({}, async (s) => {
      const base = s.url.replace('/mcp', '');
      for (const [path, prefix] of [
        ['/mcp/events', '/mcp/messages?sessionId='],
        ['/sse', '/messages?sessionId='],
      ] as const) {
        const { stream, messages } = await openSseSession(base, path);
        assert.equal(stream.events[0]!.data.startsWith(prefix), true);
        const accepted = await raw(messages, { headers: { 'content-type': 'application/json' }, body: initialize(1) });
        assert.equal(accepted.status, 202);
        assert.equal(accepted.body, '');
        const answer = await stream.waitFor((e) => e.message?.id === 1);
        assert.equal(answer.message.result.protocolVersion, '2024-11-05');
        stream.destroy();
      }
    });
  });

  test('bad requests: sessionId missing 400, unknown 404, before initialize 202 + error on the stream, wrong methods 405, wrong Accept 406', async () => {
    await withServer({}, async (s) => {
      const base = s.url.replace('/mcp', '');
      const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      assert.equal(
        (await raw(`${base}/messages`, { headers: { 'content-type': 'application/json' }, body: list })).status,
        400,
      );
      const unknown = await raw(`${base}/messages?sessionId=nope`, {
        headers: { 'content-type': 'application/json' },
        body: list,
      });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json().error.message, 'Session not found');
      const { stream, messages } = await openSseSession(base, '/sse');
      // As the official SDK's SSEServerTransport answers: the POST is accepted, the JSON-RPC error is on the stream.
      const early = await raw(messages, { headers: { 'content-type': 'application/json' }, body: list });
      assert.equal(early.status, 202);
      assert.equal(early.body, '');
      const refusal = await stream.waitFor((e) => e.message?.id === 2);
      assert.equal(refusal.event, 'message');
      assert.deepEqual(refusal.message.error, {
        code: -32600,
        message: 'Invalid Request: the first message of a session must be initialize',
      });
      assert.equal((await raw(messages, { headers: { 'content-type': 'text/plain' }, body: list })).status, 415);
      const get = await raw(messages, { method: 'GET', headers: { accept: 'text/event-stream' } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      const post = await raw(`${base}/sse`, { headers: LEGACY_HEADERS, body: list });
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET');
      assert.equal((await raw(`${base}/sse`, { method: 'GET', headers: { accept: 'application/json' } })).status, 406);
      // The session id is not a Streamable HTTP session.
      const sessionId = new URL(messages).searchParams.get('sessionId')!;
      const streamable = await raw(s.url, { headers: { ...LEGACY_HEADERS, 'mcp-session-id': sessionId }, body: list });
      assert.equal(streamable.status, 404);
      stream.destroy();
    });
  });

  test('the session ends with its stream', async () => {
    await withServer({}, async (s) => {
      const { stream, messages } = await openSseSession(s.url.replace('/mcp', ''), '/mcp/events');
      assert.equal(
        (await raw(messages, { headers: { 'content-type': 'application/json' }, body: initialize(1) })).status,
        202,
      );
      await stream.waitFor((e) => e.message?.id === 1);
      stream.destroy();
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 404; attempt++) {
        status = (
          await raw(messages, {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
          })
        ).status;
        if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(status, 404);
    });
  });

  test('a session whose client posts nothing for sessionIdleTimeoutMs expires: its stream ends, then 404', async () => {
    await withServer({ sessionIdleTimeoutMs: 150 }, async (s) => {
      const { stream, messages } = await openSseSession(s.url.replace('/mcp', ''), '/sse');
      const post = (body: string) => raw(messages, { headers: { 'content-type': 'application/json' }, body });
      assert.equal((await post(initialize(1))).status, 202);
      await stream.waitFor((e) => e.message?.id === 1);
      // POSTs keep it alive past the timeout, although the stream stays open throughout.
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal((await post(JSON.stringify({ jsonrpc: '2.0', id: 10 + i, method: 'ping' }))).status, 202);
      }
      await withTimeout(stream.ended, 2000, 'the expired session ending its stream');
      const late = await post(JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'ping' }));
      assert.equal(late.status, 404);
      assert.equal(late.json().error.message, 'Session not found');
    });
  });

  test('HTTP+SSE sessions count against maxSessions; legacySse: false turns the paths off', async () => {
    await withServer({ maxSessions: 1 }, async (s) => {
      const base = s.url.replace('/mcp', '');
      const { stream } = await openSseSession(base, '/sse');
      const second = await raw(`${base}/sse`, { method: 'GET', headers: { accept: 'text/event-stream' } });
      assert.equal(second.status, 503);
      assert.equal(second.json().error.code, -32603);
      stream.destroy();
    });
    await withServer({ legacySse: false }, async (s) => {
      assert.equal(
        (await raw(s.url.replace('/mcp', '/sse'), { method: 'GET', headers: { accept: 'text/event-stream' } })).status,
        404,
      );
      assert.equal(
        (await raw(`${s.url}/events`, { method: 'GET', headers: { accept: 'text/event-stream' } })).status,
        404,
      );
    });
  });
});
