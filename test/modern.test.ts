/**
 * 2026-07-28 serving through the one shared instance: clients choosing the same ids, response framing,
 * cancellation on disconnect, requestState sealing, Mcp-Param headers, capability errors, keep-alive.
 */
import { request } from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fromJsonSchema, inputRequired, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { modernBody, modernHeaders, raw, start, withServer, withTimeout } from './helpers.js';

test('server/discover names 2026-07-28, the capabilities and the server, with cache hints', async () => {
  await withServer({}, async (s) => {
    const res = await raw(s.url, { headers: modernHeaders('server/discover'), body: modernBody(1, 'server/discover') });
    assert.equal(res.status, 200);
    const result = res.json().result;
    assert.deepEqual(result.supportedVersions, ['2026-07-28']);
    assert.equal(result.capabilities.tools.listChanged, true);
    assert.equal(result.resultType, 'complete');
    assert.equal(result.ttlMs, 0);
    assert.equal(result.cacheScope, 'private');
    assert.deepEqual(result._meta['io.modelcontextprotocol/serverInfo'], { name: 'remote-mcp-demo', version: '0.1.0' });
  });
});

test('concurrent requests that reuse one id each get their own answer', async () => {
  await withServer({}, async (s) => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        raw(s.url, {
          headers: modernHeaders('tools/call', 'echo'),
          body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: `client ${i}` } }),
        }),
      ),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200);
      assert.equal(answer.json().id, 1);
      assert.equal(answer.json().result.content[0].text, `client ${i}`);
    });
  });
});

test('responseMode: auto answers JSON, streams only when the handler sends first; sse always streams; json never does', async () => {
  const slow = modernBody(2, 'tools/call', {
    name: 'slow_count',
    arguments: { to: 2, delayMs: 5 },
    _meta: { progressToken: 'p' },
  });
  for (const [mode, echoType, slowType] of [
    ['auto', 'application/json', 'text/event-stream'],
    ['sse', 'text/event-stream', 'text/event-stream'],
    ['json', 'application/json', 'application/json'],
  ] as const) {
    await withServer({ responseMode: mode }, async (s) => {
      const echo = await raw(s.url, {
        headers: modernHeaders('tools/call', 'echo'),
        body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
      });
      assert.equal(echo.headers['content-type'], echoType, `${mode}: echo`);
      const counted = await raw(s.url, { headers: modernHeaders('tools/call', 'slow_count'), body: slow });
      assert.equal(counted.headers['content-type'], slowType, `${mode}: slow_count`);
      const messages =
        slowType === 'text/event-stream'
          ? counted.body
              .split('\n\n')
              .filter((f) => f.includes('data:'))
              .map((f) => JSON.parse(f.slice(f.indexOf('data:') + 5)))
          : [counted.json()];
      assert.equal(messages.at(-1).result.content[0].text, 'counted to 2');
      assert.equal(messages.filter((m: any) => m.method === 'notifications/progress').length, mode === 'json' ? 0 : 2);
      if (slowType === 'text/event-stream') assert.equal(counted.headers['x-accel-buffering'], 'no');
    });
  }
});

test('closing the response cancels the handler: its abort signal fires and the server keeps serving', async () => {
  let aborted: (reason: unknown) => void;
  const abortedWith = new Promise<unknown>((resolve) => (aborted = resolve));
  const factory = () => {
    const server = new McpServer({ name: 'cancel', version: '1' });
    server.registerTool('wait', { inputSchema: z.object({}) }, async (_args, ctx) => {
      await new Promise<void>((resolve) =>
        ctx.mcpReq.signal.addEventListener('abort', () => (aborted(ctx.mcpReq.signal.reason), resolve())),
      );
      return { content: [{ type: 'text', text: 'never sent' }] };
    });
    server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
      content: [{ type: 'text', text }],
    }));
    return server;
  };
  await withServer({ server: factory }, async (s) => {
    const req = request(s.url, { method: 'POST', headers: modernHeaders('tools/call', 'wait') });
    req.on('error', () => {});
    req.end(modernBody(1, 'tools/call', { name: 'wait', arguments: {} }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    assert.equal(
      await withTimeout(abortedWith, 2000, 'the handler to be aborted'),
      'The client closed the response stream',
    );
    const after = await raw(s.url, {
      headers: modernHeaders('tools/call', 'echo'),
      body: modernBody(2, 'tools/call', { name: 'echo', arguments: { text: 'still serving' } }),
    });
    assert.equal(after.json().result.content[0].text, 'still serving');
  });
});

test('requestState is sealed on the way out, opened on the way in, and refused when altered or moved', async () => {
  const seen: unknown[] = [];
  const factory = () => {
    const server = new McpServer({ name: 'state', version: '1' });
    const step = async (_args: unknown, ctx: any) => {
      if (ctx.mcpReq.inputResponses?.ok) {
        seen.push(ctx.mcpReq.requestState?.());
        return { content: [{ type: 'text' as const, text: 'done' }] };
      }
      return inputRequired({
        inputRequests: {
          ok: inputRequired.elicit({ message: 'ok?', requestedSchema: { type: 'object', properties: {} } }),
        },
        requestState: 'state-42',
      });
    };
    server.registerTool('first', { inputSchema: z.object({}) }, step);
    server.registerTool('second', { inputSchema: z.object({}) }, step);
    return server;
  };
  const s = await start({ server: factory });
  const call = (id: number, name: string, extra: Record<string, unknown> = {}) =>
    raw(s.url, {
      headers: modernHeaders('tools/call', name),
      body: modernBody(id, 'tools/call', {
        name,
        arguments: {},
        _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } },
        ...extra,
      }),
    });
  try {
    const round1 = await call(1, 'first');
    assert.equal(round1.status, 200);
    const sealed = round1.json().result.requestState;
    assert.equal(round1.json().result.resultType, 'input_required');
    assert.match(sealed, /^rmcp1\./);
    assert.ok(!sealed.includes('state-42'));
    const answers = { inputResponses: { ok: { action: 'accept', content: {} } } };
    const round2 = await call(2, 'first', { ...answers, requestState: sealed });
    assert.equal(round2.json().result.content[0].text, 'done');
    assert.deepEqual(seen, ['state-42']);

    const altered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA');
    for (const [name, state] of [
      ['first', altered],
      ['second', sealed],
      ['first', 'state-42'],
    ] as const) {
      const refused = await call(3, name, { ...answers, requestState: state });
      assert.equal(refused.status, 400, `${name} with ${state}`);
      assert.equal(refused.json().error.code, -32602);
      assert.equal(refused.json().id, 3);
    }
    assert.equal(seen.length, 1);
  } finally {
    await s.close();
  }
});

test('Mcp-Param headers must mirror x-mcp-header arguments; -32021 answers 400', async () => {
  const factory = () => {
    const server = new McpServer({ name: 'params', version: '1' });
    server.registerTool(
      'regional',
      {
        inputSchema: fromJsonSchema({
          type: 'object',
          properties: { region: { type: 'string', 'x-mcp-header': 'Region' } },
          required: ['region'],
        } as never),
      },
      async (args: any) => ({ content: [{ type: 'text', text: `region=${args.region}` }] }),
    );
    server.registerTool('needs_sampling', { inputSchema: z.object({}) }, async () =>
      inputRequired({
        inputRequests: {
          s: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
            maxTokens: 5,
          }),
        },
      }),
    );
    return server;
  };
  const s = await start({ server: factory });
  const body = modernBody(1, 'tools/call', { name: 'regional', arguments: { region: 'Zürich' } });
  try {
    const missing = await raw(s.url, { headers: modernHeaders('tools/call', 'regional'), body });
    assert.equal(missing.status, 400);
    assert.equal(missing.json().error.code, -32020);
    assert.equal(missing.json().error.data.header, 'Mcp-Param-Region');
    const wrong = await raw(s.url, {
      headers: { ...modernHeaders('tools/call', 'regional'), 'mcp-param-region': 'Bern' },
      body,
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json().error.code, -32020);
    const encoded = `=?base64?${Buffer.from('Zürich').toString('base64')}?=`;
    const right = await raw(s.url, {
      headers: { ...modernHeaders('tools/call', 'regional'), 'mcp-param-region': encoded },
      body,
    });
    assert.equal(right.status, 200);
    assert.equal(right.json().result.content[0].text, 'region=Zürich');

    const capability = await raw(s.url, {
      headers: modernHeaders('tools/call', 'needs_sampling'),
      body: modernBody(2, 'tools/call', { name: 'needs_sampling', arguments: {} }),
    });
    assert.equal(capability.status, 400);
    assert.equal(capability.json().error.code, -32021);
    assert.deepEqual(capability.json().error.data.requiredCapabilities, { sampling: {} });
  } finally {
    await s.close();
  }
});

test('long streams carry keep-alive comments at keepAliveMs', async () => {
  await withServer({ keepAliveMs: 30 }, async (s) => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(s.url, { method: 'POST', headers: modernHeaders('subscriptions/listen') }, (res) => {
        let seen = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          seen += chunk;
          if (seen.split(': keepalive\n\n').length > 2) {
            req.destroy();
            resolve(seen);
          }
        });
      });
      req.on('error', reject);
      req.end(modernBody(1, 'subscriptions/listen', { notifications: { toolsListChanged: true } }));
    });
    assert.match(text, /^event: message\ndata: .*notifications\/subscriptions\/acknowledged/);
    assert.equal(text.split(': keepalive\n\n').length - 1 >= 2, true);
  });
});

test('an unknown method is 404 / -32601 and a notification is 202 with no body', async () => {
  await withServer({}, async (s) => {
    const unknown = await raw(s.url, { headers: modernHeaders('no/such'), body: modernBody(9, 'no/such') });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { jsonrpc: '2.0', id: 9, error: { code: -32601, message: 'Method not found' } });
    const note = await raw(s.url, {
      headers: modernHeaders('notifications/roots/list_changed'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/roots/list_changed',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    assert.equal(note.status, 202);
    assert.equal(note.body, '');
  });
});
