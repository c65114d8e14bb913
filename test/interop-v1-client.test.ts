/**
 * Interop with the v1 SDK client (@modelcontextprotocol/sdk 1.x Client + StreamableHTTPClientTransport), a
 * 2025-era client, against the demo server: a session opened by initialize, tools with progress, resources,
 * a prompt, an elicitation request answered by the client, resources/updated and tools/list_changed on the
 * session's GET stream, and session termination. Every request goes through a recording fetch, so the tests
 * check the wire as well as what the client reports.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

import {
  raw,
  recordingFetch,
  sessionHeaders,
  start,
  withTimeout,
  type RecordedExchange,
  type RecordingFetch,
  type Started,
} from './helpers.js';

const LEGACY = '2025-11-25';
const WAIT_MS = 5000;
const NAME_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', description: 'Your name' } },
  required: ['name'],
};

/** The POSTs whose body is a request for `method` (and tool/prompt `name`, when given). */
function posts(wire: RecordingFetch, method: string, name?: string): RecordedExchange[] {
  return wire.exchanges.filter(
    (e) => e.method === 'POST' && e.body?.method === method && (name === undefined || e.body?.params?.name === name),
  );
}

/** Waits until the response of a request POST has been recorded in full (the recorder parses it asynchronously). */
async function answerOf(wire: RecordingFetch, exchange: RecordedExchange): Promise<any> {
  const id = exchange.body.id;
  const isAnswer = (m: any) => m.id === id && m.method === undefined;
  await wire.waitFor(
    (e) => e === exchange && e.responseMessages.some(isAnswer),
    WAIT_MS,
    `the recorded answer to ${exchange.body.method} ${JSON.stringify(id)}`,
  );
  return exchange.responseMessages.find(isAnswer);
}

describe('v1 client (@modelcontextprotocol/sdk), a 2025-era session', () => {
  let started: Started;
  let client: Client;
  let transport: StreamableHTTPClientTransport;
  const wire = recordingFetch();
  const elicitations: Array<{ message: unknown; requestedSchema: unknown }> = [];
  const logs: unknown[] = [];

  before(async () => {
    started = await start();
    client = new Client({ name: 'interop-v1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      const params = request.params as { message: unknown; requestedSchema?: unknown };
      elicitations.push({ message: params.message, requestedSchema: params.requestedSchema });
      return { action: 'accept', content: { name: 'Ada' } };
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logs.push(notification.params.data);
    });
    transport = new StreamableHTTPClientTransport(new URL(started.url), { fetch: wire.fetch });
    await withTimeout(client.connect(transport), WAIT_MS, 'connect');
  });

  after(async () => {
    try {
      await client?.close();
    } finally {
      await started?.close();
    }
  });

  test('initialize opens a 2025-11-25 session', () => {
    const sessionId = transport.sessionId;
    assert.equal(typeof sessionId, 'string');
    assert.match(sessionId!, /^[\x21-\x7e]+$/, 'a session id is visible ASCII');
    assert.equal(transport.protocolVersion, LEGACY);
    assert.deepEqual(client.getServerVersion(), { name: 'remote-mcp-demo', version: '0.1.0' });
    assert.deepEqual(client.getServerCapabilities(), {
      logging: {},
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      tools: { listChanged: true },
    });

    const [initialize, initialized] = wire.exchanges;
    assert.equal(initialize?.body.method, 'initialize');
    assert.equal(initialize?.body.params.protocolVersion, LEGACY);
    assert.deepEqual(initialize?.body.params.capabilities, { elicitation: {} });
    assert.equal(initialize?.status, 200);
    assert.equal(initialize?.responseHeaders?.['mcp-session-id'], sessionId);
    assert.equal(initialized?.body.method, 'notifications/initialized');
    assert.equal(initialized?.headers['mcp-session-id'], sessionId);
    assert.equal(initialized?.headers['mcp-protocol-version'], LEGACY);
    assert.equal(initialized?.status, 202);
  });

  test('lists the tools and calls echo and add', async () => {
    const { tools } = await withTimeout(client.listTools(), WAIT_MS, 'tools/list');
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'ask_name', 'echo', 'slow_count']);

    const echo = await withTimeout(
      client.callTool({ name: 'echo', arguments: { text: 'hello from v1' } }),
      WAIT_MS,
      'echo',
    );
    assert.deepEqual(echo.content, [{ type: 'text', text: 'hello from v1' }]);
    assert.equal(echo.isError, undefined);
    assert.equal(echo.structuredContent, undefined);

    const add = await withTimeout(client.callTool({ name: 'add', arguments: { a: -5, b: 12.5 } }), WAIT_MS, 'add');
    assert.deepEqual(add.content, [{ type: 'text', text: '7.5' }]);
    assert.deepEqual(add.structuredContent, { sum: 7.5 });
    assert.equal(add.isError, undefined);
  });

  test('slow_count reports progress (and logs) while it runs', async () => {
    const progress: unknown[] = [];
    const logsBefore = logs.length;
    const result = await withTimeout(
      client.callTool({ name: 'slow_count', arguments: { to: 4, delayMs: 10 } }, undefined, {
        onprogress: (p) => progress.push({ ...p }),
      }),
      WAIT_MS,
      'slow_count',
    );
    assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 4' }]);
    assert.deepEqual(progress, [
      { progress: 1, total: 4, message: 'step 1' },
      { progress: 2, total: 4, message: 'step 2' },
      { progress: 3, total: 4, message: 'step 3' },
      { progress: 4, total: 4, message: 'step 4' },
    ]);
    assert.deepEqual(logs.slice(logsBefore), ['step 1 of 4', 'step 2 of 4', 'step 3 of 4', 'step 4 of 4']);

    // Progress travelled on the call's own SSE response, before its answer.
    const [call] = posts(wire, 'tools/call', 'slow_count');
    assert.equal(call?.status, 200);
    assert.equal(call?.responseHeaders?.['content-type'], 'text/event-stream');
    assert.equal(call?.responseHeaders?.['mcp-session-id'], transport.sessionId);
    await answerOf(wire, call!);
    const token = call!.body.params._meta.progressToken;
    assert.deepEqual(
      call!.responseMessages
        .filter((m) => m.method === 'notifications/progress')
        .map((m) => [m.params.progressToken, m.params.progress]),
      [
        [token, 1],
        [token, 2],
        [token, 3],
        [token, 4],
      ],
    );
    assert.equal(call!.responseMessages.at(-1)?.id, call!.body.id);
  });

  test("logging/setLevel filters the session's log lines but not its progress", async () => {
    assert.deepEqual(await withTimeout(client.setLoggingLevel('warning'), WAIT_MS, 'logging/setLevel'), {});
    const progress: number[] = [];
    const logsBefore = logs.length;
    const result = await withTimeout(
      client.callTool({ name: 'slow_count', arguments: { to: 2, delayMs: 5 } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      }),
      WAIT_MS,
      'slow_count at level warning',
    );
    assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 2' }]);
    assert.deepEqual(progress, [1, 2]);
    assert.deepEqual(logs.slice(logsBefore), []);
  });

  test('reads demo://clock and the demo://greeting/{name} template', async () => {
    const { resources } = await withTimeout(client.listResources(), WAIT_MS, 'resources/list');
    assert.deepEqual(
      resources.map((r) => ({ uri: r.uri, name: r.name, mimeType: r.mimeType })),
      [{ uri: 'demo://clock', name: 'clock', mimeType: 'text/plain' }],
    );
    const { resourceTemplates } = await withTimeout(
      client.listResourceTemplates(),
      WAIT_MS,
      'resources/templates/list',
    );
    assert.deepEqual(
      resourceTemplates.map((t) => ({ uriTemplate: t.uriTemplate, name: t.name })),
      [{ uriTemplate: 'demo://greeting/{name}', name: 'greeting' }],
    );

    const clock = await withTimeout(client.readResource({ uri: 'demo://clock' }), WAIT_MS, 'read demo://clock');
    assert.equal(clock.contents.length, 1);
    const [tick] = clock.contents as Array<{ uri: string; mimeType?: string; text: string }>;
    assert.equal(tick?.uri, 'demo://clock');
    assert.equal(tick?.mimeType, 'text/plain');
    // The counter's value depends on how long the process has run (it ticks every 5 s); its shape does not.
    assert.match(tick?.text ?? '', /^tick \d+$/);

    const ada = await withTimeout(
      client.readResource({ uri: 'demo://greeting/Ada' }),
      WAIT_MS,
      'read demo://greeting/Ada',
    );
    assert.deepEqual(ada.contents, [{ uri: 'demo://greeting/Ada', mimeType: 'text/plain', text: 'Hello, Ada!' }]);
  });

  test('gets the review_code prompt', async () => {
    const { prompts } = await withTimeout(client.listPrompts(), WAIT_MS, 'prompts/list');
    assert.deepEqual(
      prompts.map((p) => p.name),
      ['review_code'],
    );
    const prompt = await withTimeout(
      client.getPrompt({ name: 'review_code', arguments: { code: 'y = 2' } }),
      WAIT_MS,
      'prompts/get',
    );
    assert.deepEqual(prompt.messages, [
      { role: 'user', content: { type: 'text', text: 'Please review this code:\n\ny = 2' } },
    ]);
  });

  test('answers the elicitation request the server sends during ask_name', async () => {
    const result = await withTimeout(client.callTool({ name: 'ask_name', arguments: {} }), WAIT_MS, 'ask_name');
    assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
    assert.equal(result.isError, undefined);
    assert.deepEqual(elicitations, [{ message: 'What is your name?', requestedSchema: NAME_SCHEMA }]);

    // The server's elicitation/create request came on an SSE stream; the client POSTed its answer to the session.
    const [call] = posts(wire, 'tools/call', 'ask_name');
    await answerOf(wire, call!);
    const asked = wire.exchanges.flatMap((e) => e.responseMessages).filter((m) => m.method === 'elicitation/create');
    assert.equal(asked.length, 1);
    assert.notEqual(asked[0].id, undefined);
    const answer = wire.exchanges.find(
      (e) => e.method === 'POST' && e.body?.id === asked[0].id && e.body?.method === undefined,
    );
    assert.deepEqual(answer?.body.result, { action: 'accept', content: { name: 'Ada' } });
    assert.equal(answer?.headers['mcp-session-id'], transport.sessionId);
    assert.equal(answer?.status, 202);
  });

  test('receives resources/updated after resources/subscribe, and tools/list_changed', async () => {
    const updated: string[] = [];
    const toolsChanged: string[] = [];
    let toolsChangedArrived: () => void = () => {};
    const toolsChangedPromise = new Promise<void>((resolve) => (toolsChangedArrived = resolve));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, (n) => {
      toolsChanged.push(n.method);
      toolsChangedArrived();
    });

    assert.deepEqual(
      await withTimeout(client.subscribeResource({ uri: 'demo://clock' }), WAIT_MS, 'resources/subscribe'),
      {},
    );
    // The client opens the session's GET stream in the background after initialize; once its response head has
    // arrived the server has attached the stream, so what is published from now on must reach it.
    const stream = await wire.waitFor(
      (e) => e.method === 'GET' && e.status !== undefined,
      WAIT_MS,
      'the session GET stream',
    );
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['mcp-session-id'], transport.sessionId);

    // Published in this order on one stream: anything wrongly delivered for the unsubscribed URI arrives before
    // tools/list_changed, so once that has arrived the list of updates is final.
    started.server.notify.resourceUpdated('demo://greeting/Ada');
    started.server.notify.resourceUpdated('demo://clock');
    started.server.notify.toolsListChanged();
    await withTimeout(toolsChangedPromise, WAIT_MS, 'tools/list_changed on the session stream');
    assert.deepEqual(updated, ['demo://clock']);
    assert.deepEqual(toolsChanged, ['notifications/tools/list_changed']);
    await wire.waitFor((e) => e === stream && e.responseMessages.length >= 2, WAIT_MS, 'the recorded GET stream');
    assert.deepEqual(
      stream.responseMessages.map((m) => [m.method, m.params]),
      [
        ['notifications/resources/updated', { uri: 'demo://clock' }],
        ['notifications/tools/list_changed', {}],
      ],
    );
  });

  test('terminateSession ends the session: its id then gets 404', async () => {
    const sessionId = transport.sessionId!;
    await withTimeout(transport.terminateSession(), WAIT_MS, 'terminateSession');
    assert.equal(transport.sessionId, undefined);
    const deletes = wire.exchanges.filter((e) => e.method === 'DELETE');
    assert.equal(deletes.length, 1);
    assert.equal(deletes[0]?.headers['mcp-session-id'], sessionId);
    assert.equal(deletes[0]?.status, 200);

    const res = await withTimeout(
      raw(started.url, {
        headers: sessionHeaders(sessionId),
        body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list', params: {} }),
      }),
      WAIT_MS,
      'POST with the terminated session id',
    );
    assert.equal(res.status, 404);
    const body = res.json();
    assert.equal(body.jsonrpc, '2.0');
    assert.deepEqual(body.error, { code: -32600, message: 'Session not found' });
  });
});
