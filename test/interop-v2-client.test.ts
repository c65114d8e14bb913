/**
 * The official v2 client (@modelcontextprotocol/client) against the demo server, in both eras: version
 * negotiation `auto` reaches 2026-07-28; the default (`legacy`) negotiation opens a 2025-era session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { start, type Started, withTimeout } from './helpers.js';

type Mode = 'auto' | 'legacy';

async function connect(url: string, mode: Mode): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client(
    { name: 'interop-v2', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } }, ...(mode === 'auto' && { versionNegotiation: { mode: 'auto' as const } }) },
  );
  client.setRequestHandler('elicitation/create', async (request: any) => {
    assert.equal(request.params.message, 'What is your name?');
    return { action: 'accept', content: { name: 'Ada' } };
  });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await withTimeout(client.connect(transport), 5000, `connect (${mode})`);
  return { client, transport };
}

for (const mode of ['auto', 'legacy'] as const) {
  describe(`v2 client, negotiation ${mode}`, () => {
    let server: Started;
    let client: Client;
    let transport: StreamableHTTPClientTransport;

    before(async () => {
      server = await start();
      ({ client, transport } = await connect(server.url, mode));
    });
    after(async () => {
      await client?.close();
      await server?.close();
    });

    test('negotiates the expected era', () => {
      if (mode === 'auto') {
        assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
        assert.equal(transport.sessionId, undefined);
      } else {
        assert.equal(client.getNegotiatedProtocolVersion(), '2025-11-25');
        assert.match(transport.sessionId ?? '', /^[A-Za-z0-9_-]{22}$/);
      }
    });

    test('lists and calls tools', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'ask_name', 'echo', 'slow_count']);
      const echo = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'hello' }]);
      const add = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
      assert.deepEqual(add.structuredContent, { sum: 42 });
    });

    test('receives progress notifications during a call', async () => {
      const progress: number[] = [];
      const result = await withTimeout(
        client.callTool({ name: 'slow_count', arguments: { to: 3, delayMs: 10 } }, { onprogress: (p: { progress: number }) => progress.push(p.progress) }),
        5000,
        'slow_count',
      );
      assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 3' }]);
      assert.deepEqual(progress, [1, 2, 3]);
    });

    test('reads a resource and a resource template, gets a prompt', async () => {
      const clock = await client.readResource({ uri: 'demo://clock' });
      assert.match((clock.contents[0] as { text: string }).text, /^tick \d+$/);
      const greeting = await client.readResource({ uri: 'demo://greeting/Ada' });
      assert.equal((greeting.contents[0] as { text: string }).text, 'Hello, Ada!');
      const prompt = await client.getPrompt({ name: 'review_code', arguments: { code: 'x = 1' } });
      assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Please review this code:\n\nx = 1' });
    });

    test('answers an input request from the server', async () => {
      const result = await withTimeout(client.callTool({ name: 'ask_name', arguments: {} }), 5000, 'ask_name');
      assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
    });

    test('receives resource-updated and tool-list-changed notifications', async () => {
      const updated = new Promise<string>((resolve) => client.setNotificationHandler('notifications/resources/updated', (n: any) => resolve(n.params.uri)));
      const changed = new Promise<string>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', (n: any) => resolve(n.method)));
      const publish = () => {
        server.server.notify.resourceUpdated('demo://clock');
        server.server.notify.toolsListChanged();
      };
      if (mode === 'auto') {
        const subscription = await client.listen({ resourceSubscriptions: ['demo://clock'], toolsListChanged: true });
        assert.deepEqual(subscription.honoredFilter, { toolsListChanged: true, resourceSubscriptions: ['demo://clock'] });
        publish();
        assert.equal(await withTimeout(updated, 5000, 'resources/updated over listen'), 'demo://clock');
        assert.equal(await withTimeout(changed, 5000, 'tools/list_changed over listen'), 'notifications/tools/list_changed');
        await subscription.close();
      } else {
        await client.subscribeResource({ uri: 'demo://clock' });
        // The 2025-era client opens its GET stream in the background after initialize; publish until it is there.
        const timer = setInterval(publish, 50);
        try {
          assert.equal(await withTimeout(updated, 5000, 'resources/updated over the session stream'), 'demo://clock');
          assert.equal(await withTimeout(changed, 5000, 'tools/list_changed over the session stream'), 'notifications/tools/list_changed');
        } finally {
          clearInterval(timer);
        }
      }
    });
  });
}
