/**
 * Interop with the official v2 client (@modelcontextprotocol/client) against the demo server, in both eras:
 *
 *   versionNegotiation `auto`   probes server/discover and must settle on 2026-07-28 (stateless, `_meta` envelope,
 *                               input_required round trips, subscriptions/listen);
 *   default (`legacy`)          initialize + Mcp-Session-Id, a 2025-era session (elicitation/create over SSE,
 *                               resources/subscribe, notifications on the GET stream).
 *
 * Every request the client makes goes through a recording fetch, so the tests check the wire as well as the
 * client-visible results.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import {
  MODERN,
  recordingFetch,
  start,
  withTimeout,
  type RecordedExchange,
  type RecordingFetch,
  type Started,
} from './helpers.js';

const LEGACY = '2025-11-25';
const WAIT_MS = 5000;
const SERVER_INFO = { name: 'remote-mcp-demo', version: '0.1.0' };
const SERVER_CAPABILITIES = {
  logging: {},
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  tools: { listChanged: true },
};
const NAME_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', description: 'Your name' } },
  required: ['name'],
};

type Mode = 'auto' | 'legacy';

interface Connection {
  started: Started;
  client: Client;
  transport: StreamableHTTPClientTransport;
  wire: RecordingFetch;
  /** params of every elicitation/create the client's handler was asked to answer. */
  elicitations: Array<{ message?: unknown; requestedSchema?: unknown; mode?: unknown }>;
  /** params.data of every notifications/message the client received. */
  logs: unknown[];
}

async function connect(mode: Mode): Promise<Connection> {
  const started = await start();
  const wire = recordingFetch();
  const elicitations: Connection['elicitations'] = [];
  const logs: unknown[] = [];
  const client = new Client(
    { name: 'interop-v2', version: '1.0.0' },
    {
      capabilities: { elicitation: { form: {} } },
      ...(mode === 'auto' && { versionNegotiation: { mode: 'auto' as const } }),
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { message?: unknown; requestedSchema?: unknown; mode?: unknown };
    elicitations.push({ message: params.message, requestedSchema: params.requestedSchema, mode: params.mode });
    return { action: 'accept', content: { name: 'Ada' } };
  });
  client.setNotificationHandler('notifications/message', (notification) => {
    logs.push(notification.params.data);
  });
  const transport = new StreamableHTTPClientTransport(new URL(started.url), { fetch: wire.fetch });
  try {
    await withTimeout(client.connect(transport), WAIT_MS, `connect (${mode})`);
  } catch (error) {
    await client.close().catch(() => {});
    await started.close();
    throw error;
  }
  return { started, client, transport, wire, elicitations, logs };
}

/** The POSTs whose body is a request for `method` (and tool/prompt `name`, when given). */
function posts(wire: RecordingFetch, method: string, name?: string): RecordedExchange[] {
  return wire.exchanges.filter(
    (e) => e.method === 'POST' && e.body?.method === method && (name === undefined || e.body?.params?.name === name),
  );
}

/** Waits until the recorded response of `exchange` satisfies `predicate` (the recorder parses it asynchronously). */
function recorded(
  wire: RecordingFetch,
  exchange: RecordedExchange,
  predicate: (e: RecordedExchange) => boolean,
  what: string,
): Promise<RecordedExchange> {
  return wire.waitFor((e) => e === exchange && predicate(e), WAIT_MS, what);
}

/** Waits until the response of a request POST has been recorded in full, and returns that response. */
async function answerOf(wire: RecordingFetch, exchange: RecordedExchange): Promise<any> {
  const id = exchange.body.id;
  await recorded(
    wire,
    exchange,
    (e) => e.responseMessages.some((m) => m.id === id && m.method === undefined),
    `the recorded answer to ${exchange.body.method} ${JSON.stringify(id)}`,
  );
  return exchange.responseMessages.find((m) => m.id === id && m.method === undefined);
}

/** A promise of the next call of a notification handler, plus every value it has recorded. */
function collector<T>() {
  const values: T[] = [];
  let resolveFirst: (value: T) => void = () => {};
  const first = new Promise<T>((resolve) => (resolveFirst = resolve));
  return {
    values,
    first,
    push(value: T) {
      values.push(value);
      resolveFirst(value);
    },
  };
}

for (const mode of ['auto', 'legacy'] as const) {
  describe(`v2 client (@modelcontextprotocol/client), versionNegotiation ${mode}`, () => {
    let c: Connection;

    before(async () => {
      c = await connect(mode);
    });

    after(async () => {
      try {
        await c?.client.close();
      } finally {
        await c?.started.close();
      }
    });

    if (mode === 'auto') {
      test('auto negotiation probes server/discover and settles on 2026-07-28, without a session', () => {
        assert.equal(c.client.getNegotiatedProtocolVersion(), MODERN);
        assert.equal(c.client.getProtocolEra(), 'modern');
        assert.equal(c.transport.sessionId, undefined);
        assert.deepEqual(c.client.getServerVersion(), SERVER_INFO);
        assert.deepEqual(c.client.getServerCapabilities(), SERVER_CAPABILITIES);
        assert.deepEqual(c.client.getDiscoverResult()?.supportedVersions, [MODERN]);

        const probe = c.wire.exchanges[0]!;
        assert.equal(probe.method, 'POST');
        assert.equal(probe.body.method, 'server/discover');
        assert.equal(probe.headers['mcp-protocol-version'], MODERN);
        assert.equal(probe.headers['mcp-method'], 'server/discover');
        assert.equal(probe.status, 200);
        assert.equal(probe.responseHeaders?.['mcp-session-id'], undefined);
        // Nothing of the 2025-era handshake happened, and no request carries a session.
        assert.deepEqual(posts(c.wire, 'initialize'), []);
        assert.deepEqual(
          c.wire.exchanges.filter((e) => e.headers['mcp-session-id'] !== undefined),
          [],
        );
      });
    } else {
      test('the default (legacy) negotiation opens a 2025-11-25 session', () => {
        assert.equal(c.client.getNegotiatedProtocolVersion(), LEGACY);
        assert.equal(c.client.getProtocolEra(), 'legacy');
        const sessionId = c.transport.sessionId;
        assert.equal(typeof sessionId, 'string');
        assert.match(sessionId!, /^[\x21-\x7e]+$/, 'a session id is visible ASCII');
        assert.deepEqual(c.client.getServerVersion(), SERVER_INFO);
        assert.deepEqual(c.client.getServerCapabilities(), SERVER_CAPABILITIES);

        const [initialize, initialized] = c.wire.exchanges;
        assert.equal(initialize?.body.method, 'initialize');
        assert.equal(initialize?.status, 200);
        assert.equal(initialize?.responseHeaders?.['mcp-session-id'], sessionId);
        assert.equal(initialized?.body.method, 'notifications/initialized');
        assert.equal(initialized?.headers['mcp-session-id'], sessionId);
        assert.equal(initialized?.status, 202);
        assert.deepEqual(posts(c.wire, 'server/discover'), []);
      });
    }

    test('lists the tools and calls echo and add', async () => {
      const { tools } = await withTimeout(c.client.listTools(), WAIT_MS, 'tools/list');
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'ask_name', 'echo', 'slow_count']);
      assert.deepEqual(tools.find((tool) => tool.name === 'add')?.outputSchema?.properties, {
        sum: { type: 'number' },
      });

      const echo = await withTimeout(
        c.client.callTool({ name: 'echo', arguments: { text: 'hello, world' } }),
        WAIT_MS,
        'echo',
      );
      assert.deepEqual(echo.content, [{ type: 'text', text: 'hello, world' }]);
      assert.equal(echo.isError, undefined);
      assert.equal(echo.structuredContent, undefined);

      const add = await withTimeout(c.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }), WAIT_MS, 'add');
      assert.deepEqual(add.content, [{ type: 'text', text: '42' }]);
      assert.deepEqual(add.structuredContent, { sum: 42 });
      assert.equal(add.isError, undefined);

      if (mode === 'auto') {
        // Every 2026-07-28 request is self-describing: the envelope in _meta and the mirroring headers.
        const [call] = posts(c.wire, 'tools/call', 'add');
        assert.equal(call?.headers['mcp-protocol-version'], MODERN);
        assert.equal(call?.headers['mcp-method'], 'tools/call');
        assert.equal(call?.headers['mcp-name'], 'add');
        assert.equal(call?.body.params._meta['io.modelcontextprotocol/protocolVersion'], MODERN);
        assert.equal(call?.status, 200);
      }
    });

    test('slow_count reports its progress to the onprogress callback', async () => {
      const progress: unknown[] = [];
      const logsBefore = c.logs.length;
      const result = await withTimeout(
        c.client.callTool(
          { name: 'slow_count', arguments: { to: 3, delayMs: 10 } },
          { onprogress: (p) => progress.push({ ...p }) },
        ),
        WAIT_MS,
        'slow_count',
      );
      assert.deepEqual(result.content, [{ type: 'text', text: 'counted to 3' }]);
      assert.deepEqual(progress, [
        { progress: 1, total: 3, message: 'step 1' },
        { progress: 2, total: 3, message: 'step 2' },
        { progress: 3, total: 3, message: 'step 3' },
      ]);

      // The progress travelled on the call's own response, an SSE stream, tagged with the call's token.
      const [call] = posts(c.wire, 'tools/call', 'slow_count');
      assert.equal(call?.status, 200);
      assert.deepEqual((await answerOf(c.wire, call!)).result.content, [{ type: 'text', text: 'counted to 3' }]);
      assert.equal(call?.responseHeaders?.['content-type'], 'text/event-stream');
      const token = call?.body.params._meta.progressToken;
      assert.notEqual(token, undefined);
      const onWire = call!.responseMessages.filter((m) => m.method === 'notifications/progress');
      assert.deepEqual(
        onWire.map((m) => [m.params.progressToken, m.params.progress]),
        [
          [token, 1],
          [token, 2],
          [token, 3],
        ],
      );
      if (mode === 'legacy') {
        // A 2025-era session that set no log level receives the handler's log lines too.
        assert.deepEqual(c.logs.slice(logsBefore), ['step 1 of 3', 'step 2 of 3', 'step 3 of 3']);
      }
    });

    test('reads demo://clock and the demo://greeting/{name} template', async () => {
      const { resources } = await withTimeout(c.client.listResources(), WAIT_MS, 'resources/list');
      assert.deepEqual(
        resources.map((r) => ({ uri: r.uri, name: r.name, mimeType: r.mimeType })),
        [{ uri: 'demo://clock', name: 'clock', mimeType: 'text/plain' }],
      );
      const { resourceTemplates } = await withTimeout(
        c.client.listResourceTemplates(),
        WAIT_MS,
        'resources/templates/list',
      );
      assert.deepEqual(
        resourceTemplates.map((t) => ({ uriTemplate: t.uriTemplate, name: t.name })),
        [{ uriTemplate: 'demo://greeting/{name}', name: 'greeting' }],
      );

      const clock = await withTimeout(c.client.readResource({ uri: 'demo://clock' }), WAIT_MS, 'read demo://clock');
      assert.equal(clock.contents.length, 1);
      const [tick] = clock.contents as Array<{ uri: string; mimeType?: string; text: string }>;
      assert.equal(tick?.uri, 'demo://clock');
      assert.equal(tick?.mimeType, 'text/plain');
      // The counter's value depends on how long the process has run (it ticks every 5 s); its shape does not.
      assert.match(tick?.text ?? '', /^tick \d+$/);

      const greeting = await withTimeout(
        c.client.readResource({ uri: 'demo://greeting/Ada' }),
        WAIT_MS,
        'read demo://greeting/Ada',
      );
      assert.deepEqual(greeting.contents, [
        { uri: 'demo://greeting/Ada', mimeType: 'text/plain', text: 'Hello, Ada!' },
      ]);
    });

    test('gets the review_code prompt', async () => {
      const { prompts } = await withTimeout(c.client.listPrompts(), WAIT_MS, 'prompts/list');
      assert.deepEqual(
        prompts.map((p) => p.name),
        ['review_code'],
      );
      const prompt = await withTimeout(
        c.client.getPrompt({ name: 'review_code', arguments: { code: 'let x = 1;' } }),
        WAIT_MS,
        'prompts/get',
      );
      assert.deepEqual(prompt.messages, [
        { role: 'user', content: { type: 'text', text: 'Please review this code:\n\nlet x = 1;' } },
      ]);
    });

    test('ask_name: the elicitation handler answers and the tool greets the answer', async () => {
      const before = c.elicitations.length;
      const result = await withTimeout(c.client.callTool({ name: 'ask_name', arguments: {} }), WAIT_MS, 'ask_name');
      assert.deepEqual(result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
      assert.equal(result.isError, undefined);
      assert.deepEqual(c.elicitations.slice(before), [
        { message: 'What is your name?', requestedSchema: NAME_SCHEMA, mode: 'form' },
      ]);

      if (mode === 'auto') {
        // 2026-07-28: two tools/call round trips; the first answered input_required, the retry carries the answer.
        const calls = posts(c.wire, 'tools/call', 'ask_name');
        assert.equal(calls.length, 2);
        const [first, retry] = calls as [RecordedExchange, RecordedExchange];
        assert.notEqual(first.body.id, retry.body.id);
        assert.equal(first.status, 200);
        const firstResult = (await answerOf(c.wire, first)).result;
        assert.equal(firstResult?.resultType, 'input_required');
        assert.deepEqual(Object.keys(firstResult?.inputRequests ?? {}), ['name']);
        assert.equal(firstResult.inputRequests.name.method, 'elicitation/create');
        assert.equal(first.body.params.inputResponses, undefined);
        assert.deepEqual(retry.body.params.inputResponses, { name: { action: 'accept', content: { name: 'Ada' } } });
        // The demo's ask_name keeps no state, so none travels either way (sealing is tested in modern.test.ts).
        assert.equal(firstResult.requestState, undefined);
        assert.equal(retry.body.params.requestState, undefined);
        assert.equal(retry.status, 200);
        assert.equal((await answerOf(c.wire, retry)).result.resultType, 'complete');
        // The server never sent a JSON-RPC request of its own in this era.
        assert.deepEqual(
          c.wire.exchanges.flatMap((e) => e.responseMessages).filter((m) => m.method === 'elicitation/create'),
          [],
        );
      } else {
        // 2025 era: the server asked with an elicitation/create request on an SSE stream, the client POSTed the answer.
        const [call] = posts(c.wire, 'tools/call', 'ask_name');
        assert.deepEqual((await answerOf(c.wire, call!)).result.content, [{ type: 'text', text: 'Hello, Ada!' }]);
        const asked = c.wire.exchanges
          .flatMap((e) => e.responseMessages)
          .filter((m) => m.method === 'elicitation/create');
        assert.equal(asked.length, 1);
        assert.equal(asked[0].params.message, 'What is your name?');
        const answer = c.wire.exchanges.find(
          (e) => e.method === 'POST' && e.body?.id === asked[0].id && e.body?.method === undefined,
        );
        assert.deepEqual(answer?.body.result, { action: 'accept', content: { name: 'Ada' } });
        assert.equal(answer?.headers['mcp-session-id'], c.transport.sessionId);
        assert.equal(answer?.status, 202);
      }
    });

    test('receives resources/updated for a subscribed resource and tools/list_changed', async () => {
      const updated = collector<string>();
      const toolsChanged = collector<string>();
      c.client.setNotificationHandler('notifications/resources/updated', (n) => updated.push(n.params.uri));
      c.client.setNotificationHandler('notifications/tools/list_changed', (n) => toolsChanged.push(n.method));
      // Published in this order on one stream: anything wrongly delivered for the unsubscribed URI arrives before
      // tools/list_changed, so once that has arrived the list of updates is final.
      const publish = () => {
        c.started.server.notify.resourceUpdated('demo://greeting/Ada');
        c.started.server.notify.resourceUpdated('demo://clock');
        c.started.server.notify.toolsListChanged();
      };

      if (mode === 'auto') {
        const subscription = await withTimeout(
          c.client.listen({ toolsListChanged: true, resourceSubscriptions: ['demo://clock'] }),
          WAIT_MS,
          'subscriptions/listen ack',
        );
        try {
          assert.deepEqual(subscription.honoredFilter, {
            toolsListChanged: true,
            resourceSubscriptions: ['demo://clock'],
          });
          publish();
          assert.equal(
            await withTimeout(toolsChanged.first, WAIT_MS, 'tools/list_changed over subscriptions/listen'),
            'notifications/tools/list_changed',
          );
          assert.deepEqual(updated.values, ['demo://clock']);
          assert.deepEqual(toolsChanged.values, ['notifications/tools/list_changed']);

          // On the wire: one listen POST, its stream acknowledged and tagged with the listen request's id.
          const [listen] = posts(c.wire, 'subscriptions/listen');
          assert.equal(listen?.status, 200);
          assert.equal(listen?.responseHeaders?.['content-type'], 'text/event-stream');
          const subscriptionId = listen!.body.id;
          await recorded(c.wire, listen!, (e) => e.responseMessages.length >= 3, 'the recorded listen stream');
          const tagged = listen!.responseMessages.map((m) => [
            m.method,
            m.params?._meta?.['io.modelcontextprotocol/subscriptionId'],
          ]);
          assert.deepEqual(tagged, [
            ['notifications/subscriptions/acknowledged', subscriptionId],
            ['notifications/resources/updated', subscriptionId],
            ['notifications/tools/list_changed', subscriptionId],
          ]);
        } finally {
          await withTimeout(subscription.close(), WAIT_MS, 'closing the subscription');
        }
        assert.equal(await withTimeout(subscription.closed, WAIT_MS, 'subscription.closed'), 'local');
      } else {
        const subscribed = await withTimeout(
          c.client.subscribeResource({ uri: 'demo://clock' }),
          WAIT_MS,
          'resources/subscribe',
        );
        assert.deepEqual(subscribed, {});
        // The client opens the session's GET stream in the background after initialize; once its response head
        // has arrived the server has attached the stream, so what is published from now on must reach it.
        const stream = await c.wire.waitFor(
          (e) => e.method === 'GET' && e.status !== undefined,
          WAIT_MS,
          'the session GET stream',
        );
        assert.equal(stream.status, 200);
        assert.equal(stream.headers['mcp-session-id'], c.transport.sessionId);
        publish();
        assert.equal(
          await withTimeout(toolsChanged.first, WAIT_MS, 'tools/list_changed over the session stream'),
          'notifications/tools/list_changed',
        );
        assert.deepEqual(updated.values, ['demo://clock']);
        assert.deepEqual(toolsChanged.values, ['notifications/tools/list_changed']);
        await recorded(c.wire, stream, (e) => e.responseMessages.length >= 2, 'the recorded GET stream');
        assert.deepEqual(
          stream.responseMessages.map((m) => m.method),
          ['notifications/resources/updated', 'notifications/tools/list_changed'],
        );
      }
    });

    if (mode === 'auto') {
      test('closing a subscription frees its stream: with maxStreams 1 a second listen succeeds', async () => {
        const own = await start({ maxStreams: 1 });
        const client = new Client(
          { name: 'interop-v2-streams', version: '1.0.0' },
          { versionNegotiation: { mode: 'auto' } },
        );
        try {
          await withTimeout(client.connect(new StreamableHTTPClientTransport(new URL(own.url))), WAIT_MS, 'connect');
          const first = await withTimeout(client.listen({ toolsListChanged: true }), WAIT_MS, 'first listen');
          await withTimeout(first.close(), WAIT_MS, 'closing the first subscription');
          assert.equal(await withTimeout(first.closed, WAIT_MS, 'first.closed'), 'local');
          // The server learns of the close when the connection drops; give the slot a moment to be released.
          let second: Awaited<ReturnType<Client['listen']>> | undefined;
          const deadline = Date.now() + 2000;
          for (;;) {
            try {
              second = await withTimeout(client.listen({ toolsListChanged: true }), WAIT_MS, 'second listen');
              break;
            } catch (error) {
              if (Date.now() > deadline) throw error;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
          assert.deepEqual(second.honoredFilter, { toolsListChanged: true });
          const changed = new Promise<string>((resolve) =>
            client.setNotificationHandler('notifications/tools/list_changed', (n) => resolve(n.method)),
          );
          own.server.notify.toolsListChanged();
          assert.equal(
            await withTimeout(changed, WAIT_MS, 'tools/list_changed on the second subscription'),
            'notifications/tools/list_changed',
          );
          await second.close();
        } finally {
          try {
            await client.close();
          } finally {
            await own.close();
          }
        }
      });
    }
  });
}
