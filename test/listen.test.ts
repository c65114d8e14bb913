/** subscriptions/listen (2026-07-28): acknowledgement, filtering, subscription ids, the stream cap, graceful end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { modernBody, modernHeaders, openStream, raw, withServer, withTimeout } from './helpers.js';

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

test('listen acknowledges the honoured filter and delivers only the events it asked for', async () => {
  await withServer({}, async (s) => {
    const stream = await openStream(s.url, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody('sub-1', 'subscriptions/listen', {
        notifications: { toolsListChanged: true, resourceSubscriptions: ['demo://clock'] },
      }),
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'text/event-stream');
    const ack = await stream.waitFor((e) => e.message?.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.message.params, {
      notifications: { toolsListChanged: true, resourceSubscriptions: ['demo://clock'] },
      _meta: { [SUBSCRIPTION_ID]: 'sub-1' },
    });

    s.server.notify.promptsListChanged(); // not asked for
    s.server.notify.resourceUpdated('demo://other'); // not asked for
    s.server.notify.resourceUpdated('demo://clock');
    s.server.notify.toolsListChanged();
    const updated = await stream.waitFor((e) => e.message?.method === 'notifications/resources/updated');
    assert.deepEqual(updated.message.params, { uri: 'demo://clock', _meta: { [SUBSCRIPTION_ID]: 'sub-1' } });
    await stream.waitFor((e) => e.message?.method === 'notifications/tools/list_changed');
    assert.deepEqual(
      stream.events.map((e) => e.message.method),
      [
        'notifications/subscriptions/acknowledged',
        'notifications/resources/updated',
        'notifications/tools/list_changed',
      ],
    );

    await s.close();
    const end = await stream.waitFor((e) => e.message?.id === 'sub-1');
    assert.equal(end.message.result.resultType, 'complete');
    assert.equal(end.message.result._meta[SUBSCRIPTION_ID], 'sub-1');
    await withTimeout(stream.ended, 2000, 'the listen stream to end on close()');
  });
});

test('a filter the server cannot honour is acknowledged empty and the stream ends', async () => {
  await withServer({}, async (s) => {
    const stream = await openStream(s.url, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody(3, 'subscriptions/listen', { notifications: {} }),
    });
    await withTimeout(stream.ended, 2000, 'the empty listen stream to end');
    assert.deepEqual(
      stream.events.map((e) => e.message.method ?? e.message.id),
      ['notifications/subscriptions/acknowledged', 3],
    );
  });
});

test('an invalid filter is -32602 and the stream cap answers -32603 in-band', async () => {
  await withServer({ maxStreams: 1 }, async (s) => {
    const bad = await raw(s.url, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody(4, 'subscriptions/listen', { notifications: { toolsListChanged: 'yes' } }),
    });
    assert.equal(bad.status, 200);
    assert.equal(bad.json().error.code, -32602);
    const first = await openStream(s.url, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody(5, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
    });
    await first.waitFor((e) => e.message?.method === 'notifications/subscriptions/acknowledged');
    const second = await raw(s.url, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody(6, 'subscriptions/listen', { notifications: { toolsListChanged: true } }),
    });
    assert.equal(second.status, 200);
    assert.equal(second.json().error.code, -32603);
    assert.match(second.json().error.message, /maxStreams 1/);
    first.destroy();
  });
});
