/** The v1 SDK client (@modelcontextprotocol/sdk StreamableHTTPClientTransport), a 2025-era client, against the demo. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

import { raw, sessionHeaders, start, type Started, withTimeout } from './helpers.js';

let server: Started;
let client: Client;
let transport: StreamableHTTPClientTransport;
const elicitations: string[] = [];

before(async () => {
  server = await start();
  client = new Client({ name: 'interop-v1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicitations.push(request.params.message);
    return { action: 'accept', content: { name: 'Grace' } };
  });
  transport = new StreamableHTTPClientTransport(new URL(server.url));
  await withTimeout(client.connect(transport), 5000, 'connect');
});

after(async () => {
  await client?.close();
  await server?.close();
});

test('initialize opens a session at the newest 2025-era revision', () => {
  assert.match(transport.sessionId ?? '', /^[A-Za-z0-9_-]{22}$/);
  assert.equal(transport.protocolVersion, '2025-11-25');
  assert.equal(client.getServerVersion()?.name, 'remote-mcp-demo');
});

test('lists and calls tools, with progress', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'ask_name', 'echo', 'slow_count']);
  assert.deepEqual((await client.callTool({ name: 'echo', arguments: { text: 'v1' } })).content, [{ type: 'text', text: 'v1' }]);
  const progress: number[] = [];
  const counted = await withTimeout(client.callTool({ name: 'slow_count', arguments: { to: 3, delayMs: 10 } }, undefined, { onprogress: (p) => progress.push(p.progress) }), 5000, 'slow_count');
  assert.deepEqual(counted.content, [{ type: 'text', text: 'counted to 3' }]);
  assert.deepEqual(progress, [1, 2, 3]);
});

test('reads resources and gets a prompt', async () => {
  const greeting = await client.readResource({ uri: 'demo://greeting/Grace' });
  assert.equal((greeting.contents[0] as { text: string }).text, 'Hello, Grace!');
  const prompt = await client.getPrompt({ name: 'review_code', arguments: { code: 'y = 2' } });
  assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Please review this code:\n\ny = 2' });
});

test('answers an elicitation request the server sends during a call', async () => {
  const result = await withTimeout(client.callTool({ name: 'ask_name', arguments: {} }), 5000, 'ask_name');
  assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Grace!' }]);
  assert.deepEqual(elicitations, ['What is your name?']);
});

test('receives resources/updated after subscribing, and tools/list_changed', async () => {
  const updated = new Promise<string>((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
  const changed = new Promise<true>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve(true)));
  await client.subscribeResource({ uri: 'demo://clock' });
  // The client opens its standalone GET stream in the background; publish until it has arrived there.
  const timer = setInterval(() => {
    server.server.notify.resourceUpdated('demo://clock');
    server.server.notify.toolsListChanged();
  }, 50);
  try {
    assert.equal(await withTimeout(updated, 5000, 'resources/updated'), 'demo://clock');
    assert.equal(await withTimeout(changed, 5000, 'tools/list_changed'), true);
  } finally {
    clearInterval(timer);
  }
});

test('terminating the session makes its id unknown (404)', async () => {
  const id = transport.sessionId!;
  await transport.terminateSession();
  const res = await raw(server.url, { headers: sessionHeaders(id), body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }) });
  assert.equal(res.status, 404);
  assert.equal(res.json().error.message, 'Session not found');
});
