/**
 * Scale-out, item 2 of the issue: any request on any instance. Three `remote-mcp serve --redis` processes share
 * one real redis-server; the requests below are sent to chosen instances directly (so a test says exactly where
 * each one lands) and, where it says so, through a real nginx running deploy/nginx/nginx.conf round robin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { createClient } from 'redis';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import {
  initializeBody,
  LEGACY_HEADERS,
  modernBody,
  modernHeaders,
  openSession,
  openStream,
  raw,
  sessionHeaders,
  withTimeout,
  type OpenStream,
} from './helpers.js';
import { resultText, startCluster, toolCall, type Cluster } from './support/cluster.js';
import { clusterMissing } from './support/binaries.js';
/** Skipped without the program outside CI (test/support/binaries.ts). */
const CLUSTER_MISSING = clusterMissing();

const call = toolCall;

async function callOn(url: string, session: string, name: string, args: Record<string, unknown> = {}, id = 7) {
  const answer = await raw(url, { headers: sessionHeaders(session), body: call(id, name, args) });
  assert.equal(answer.status, 200, answer.body);
  return resultText(answer.json())!;
}

describe('three instances sharing Redis', { skip: CLUSTER_MISSING }, () => {
  let cluster: Cluster;
  let a: string;
  let b: string;
  let c: string;
  const pids: number[] = [];

  before(async () => {
    cluster = await startCluster({ instances: 3, nginx: true });
    [a, b, c] = cluster.nodes.map((node) => node.url) as [string, string, string];
    pids.push(...cluster.nodes.map((node) => node.pid));
  });
  after(() => cluster?.stop());

  test('a 2025-era session opened on A is served on B and C (raw requests)', async () => {
    const session = await openSession(a);
    assert.equal(await callOn(b, session, 'whoami'), String(pids[1]));
    assert.equal(await callOn(c, session, 'whoami'), String(pids[2]));
    assert.equal(await callOn(a, session, 'whoami'), String(pids[0]));
    // DELETE on C ends it for all of them.
    const ended = await raw(c, { method: 'DELETE', headers: sessionHeaders(session) });
    assert.equal(ended.status, 200);
    for (const url of [a, b]) {
      const gone = await raw(url, { headers: sessionHeaders(session), body: call(8, 'whoami') });
      assert.equal(gone.status, 404);
      assert.equal(gone.json().error.code, -32600);
    }
  });

  test('the official v1 client keeps one session through nginx round robin, served by every instance', async () => {
    const client = new Client({ name: 'cluster-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(cluster.url)));
    try {
      const served = new Set<string>();
      for (let i = 0; i < 9; i++) {
        const result = (await client.callTool({ name: 'whoami', arguments: {} })) as any;
        served.add(result.content[0].text);
      }
      assert.deepEqual([...served].sort(), pids.map(String).sort(), 'every instance served the one session');
    } finally {
      await client.close();
    }
  });

  test('a GET stream on A receives the list-changed and resource-updated events caused on B', async () => {
    const session = await openSession(a);
    const stream = await openStream(a, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    try {
      assert.equal(stream.status, 200);
      // Subscribed through C: A's copy of the session learns it (session-changed over the cluster channel).
      const subscribed = await raw(c, {
        headers: sessionHeaders(session),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'resources/subscribe',
          params: { uri: 'demo://watched' },
        }),
      });
      assert.equal(subscribed.status, 200, subscribed.body);
      const other = await openSession(b);
      assert.equal(await callOn(b, other, 'change'), `${pids[1]}:changed`);
      await stream.waitFor((event) => event.message?.method === 'notifications/tools/list_changed');
      const updated = await stream.waitFor((event) => event.message?.method === 'notifications/resources/updated');
      assert.deepEqual(updated.message.params, { uri: 'demo://watched' });
    } finally {
      stream.destroy();
    }
  });

  test('a 2026-07-28 subscriptions/listen on A receives the events caused on B', async () => {
    const listen = await openStream(a, {
      headers: modernHeaders('subscriptions/listen'),
      body: modernBody(1, 'subscriptions/listen', {
        notifications: { toolsListChanged: true, resourceSubscriptions: ['demo://watched'] },
      }),
    });
    try {
      assert.equal(listen.status, 200);
      const changed = await raw(b, {
        headers: modernHeaders('tools/call', 'change'),
        body: modernBody(2, 'tools/call', { name: 'change', arguments: {} }),
      });
      assert.equal(resultText(changed.json()), `${pids[1]}:changed`);
      await listen.waitFor((event) => event.message?.method === 'notifications/tools/list_changed');
      await listen.waitFor(
        (event) =>
          event.message?.method === 'notifications/resources/updated' && event.message.params.uri === 'demo://watched',
      );
    } finally {
      listen.destroy();
    }
  });

  test("B's elicitation is answered by a POST landing on C; another session's answer with the same id is ignored", async () => {
    const session = await openSession(a, '2025-11-25', { elicitation: {} });
    const intruder = await openSession(a, '2025-11-25', { elicitation: {} });
    const asking: OpenStream = await openStream(b, {
      headers: sessionHeaders(session),
      body: call(3, 'ask', { question: 'A word?' }),
    });
    try {
      const request = await asking.waitFor((event) => event.message?.method === 'elicitation/create');
      const id = request.message.id;
      const answer = (word: string) =>
        JSON.stringify({ jsonrpc: '2.0', id, result: { action: 'accept', content: { word } } });
      const wrong = await raw(c, { headers: sessionHeaders(intruder), body: answer('intruder') });
      assert.equal(wrong.status, 202);
      const right = await raw(c, { headers: sessionHeaders(session), body: answer('cluster') });
      assert.equal(right.status, 202);
      const result = await asking.waitFor((event) => event.message?.id === 3);
      assert.equal(resultText(result.message), `${pids[1]}:accept:cluster`);
    } finally {
      asking.destroy();
    }
  });

  test('the official v1 client answers an elicitation through nginx, wherever its answer lands', async () => {
    const client = new Client({ name: 'cluster-test', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { word: 'nginx' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(cluster.url)));
    try {
      for (let i = 0; i < 3; i++) {
        const result = (await client.callTool({ name: 'ask', arguments: { question: 'Word?' } })) as any;
        assert.match(result.content[0].text, /^\d+:accept:nginx$/);
      }
    } finally {
      await client.close();
    }
  });

  test('notifications/cancelled arriving on C cancels the handler running on B', async () => {
    const session = await openSession(a);
    const before = JSON.parse(await callOn(b, session, 'stats')).cancelled as number;
    const waiting = raw(b, { headers: sessionHeaders(session), body: call(11, 'wait', { ms: 30_000 }) });
    // Let the request reach its handler on B first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancel = await raw(c, {
      headers: sessionHeaders(session),
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 11, reason: 'test' },
      }),
    });
    assert.equal(cancel.status, 202);
    // A cancelled request is not answered (the protocol says so): its POST ends with 202 and no body.
    const ended = await withTimeout(waiting, 10_000, 'the cancelled request to end');
    assert.equal(ended.status, 202);
    assert.equal(JSON.parse(await callOn(b, session, 'stats')).cancelled, before + 1);
  });

  test('an HTTP+SSE stream held by A receives the answers to POSTs that land on B and C', async () => {
    const root = (url: string) => url.replace(/\/mcp$/, '');
    const stream = await openStream(`${root(a)}/sse`, { method: 'GET', headers: { accept: 'text/event-stream' } });
    try {
      assert.equal(stream.status, 200);
      const endpoint = (await stream.waitFor((event) => event.event === 'endpoint')).data;
      const post = (url: string, body: string) =>
        raw(`${root(url)}${endpoint}`, { headers: { 'content-type': 'application/json' }, body });
      const init = await post(
        b,
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'sse', version: '1' } },
        }),
      );
      assert.equal(init.status, 202);
      const initialized = await stream.waitFor((event) => event.message?.id === 1);
      assert.equal(initialized.message.result.protocolVersion, '2024-11-05');
      assert.equal(
        (await post(c, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))).status,
        202,
      );
      assert.equal((await post(c, call(2, 'whoami'))).status, 202);
      const answer = await stream.waitFor((event) => event.message?.id === 2);
      // The stream's instance runs what its session is sent: the answer is A's.
      assert.equal(resultText(answer.message), String(pids[0]));
      // A malformed POST is still refused where it lands.
      assert.equal((await post(b, '{"jsonrpc":"2.0"}')).status, 400);
    } finally {
      stream.destroy();
    }
  });

  test('Last-Event-ID resumes a POST stream on another instance: the events written after the id are replayed', async () => {
    const session = await openSession(a);
    const first = await openStream(a, {
      headers: sessionHeaders(session),
      body: call(21, 'steps', { count: 4, delayMs: 150 }),
    });
    const seen = await first.waitFor((event) => event.message?.method === 'notifications/message');
    first.destroy();
    // The handler goes on on A and stores what it writes; wait until it has finished.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const resumed = await openStream(b, {
      method: 'GET',
      headers: { ...sessionHeaders(session), accept: 'text/event-stream', 'last-event-id': seen.id! },
    });
    assert.equal(resumed.status, 200);
    await withTimeout(resumed.ended, 5_000, 'the replayed stream to end');
    const messages = resumed.events.flatMap((event) => (event.message === undefined ? [] : [event.message]));
    assert.deepEqual(
      messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.data),
      ['step 2', 'step 3', 'step 4'],
    );
    assert.equal(resultText(messages.find((m) => m.id === 21)), `${pids[0]}:4 steps`);
  });

  test('requestState sealed on one instance opens on another', async () => {
    const ask = (url: string, id: number, extra: Record<string, unknown>) =>
      raw(url, {
        headers: modernHeaders('tools/call', 'greet'),
        body: modernBody(id, 'tools/call', {
          name: 'greet',
          arguments: {},
          _meta: { 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } },
          ...extra,
        }),
      });
    const round1 = await ask(a, 1, {});
    assert.equal(round1.json().result.resultType, 'input_required');
    const round2 = await ask(c, 2, {
      requestState: round1.json().result.requestState,
      inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } },
    });
    assert.equal(round2.status, 200, round2.body);
    assert.equal(resultText(round2.json()), `sealed by pid:${pids[0]}, opened by pid:${pids[2]}, hello Ada`);
  });
});

describe('limits hold for the cluster', { skip: CLUSTER_MISSING }, () => {
  test('a 10/60 rate limit is 10 for the cluster, not 10 per instance', async () => {
    const cluster = await startCluster({ instances: 3, nginx: false, args: ['--rate-limit', '10/60'] });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const answer = await raw(cluster.nodes[i % 3]!.url, {
          headers: modernHeaders('tools/call', 'whoami'),
          body: modernBody(i, 'tools/call', { name: 'whoami', arguments: {} }),
        });
        statuses.push(answer.status);
        if (answer.status === 429) assert.equal(answer.json().error.code, -32029);
      }
      assert.deepEqual(statuses, [...Array(10).fill(200), 429, 429]);
    } finally {
      await cluster.stop();
    }
  });

  test('maxSessions 2 holds across instances: the third initialize, on a third instance, gets 503 SESSION_LIMIT', async () => {
    const cluster = await startCluster({ instances: 3, nginx: false, args: ['--max-sessions', '2'] });
    try {
      await openSession(cluster.nodes[0]!.url);
      await openSession(cluster.nodes[1]!.url);
      const third = await raw(cluster.nodes[2]!.url, { headers: LEGACY_HEADERS, body: initializeBody() });
      assert.equal(third.status, 503);
      assert.equal(third.json().error.code, -32603);
      assert.match(third.json().error.message, /maxSessions/);
    } finally {
      await cluster.stop();
    }
  });
});

test('a session whose record leaves Redis unseen by this instance is forgotten by the instance that opened it', {
  skip: CLUSTER_MISSING,
}, async () => {
  // Another instance's create() or sweep() takes an expired id off the shared set: the opener never sweeps it.
  const cluster = await startCluster({ instances: 1, nginx: false, args: ['--session-idle-timeout-ms', '2000'] });
  const redis = createClient({ url: cluster.redis.url });
  await redis.connect();
  try {
    const url = cluster.nodes[0]!.url;
    const held = async () => {
      const health = await raw(url.replace(/\/mcp$/, '/health'), { method: 'GET' });
      return health.json().checks.find((check: any) => check.name === 'legacySessions').details.internedIdentities;
    };
    const session = await openSession(url);
    assert.equal(await held(), 1);
    assert.equal(await redis.zRem('remote-mcp:sessions', session), 1);
    assert.equal(await redis.del(`remote-mcp:session:${session}`), 1);
    // Its sweep runs every second at this idle timeout, and the liveness check with it.
    const deadline = Date.now() + 10_000;
    while ((await held()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await held(), 0);
  } finally {
    await redis.quit();
    await cluster.stop();
  }
});

test('serve --redis refuses to start without a shared requestState key, saying why', { skip: CLUSTER_MISSING }, () => {
  const env = { ...process.env };
  delete env.REMOTE_MCP_REQUEST_STATE_KEY;
  const run = spawnSync(
    process.execPath,
    [
      'build/src/cli/main.js',
      'serve',
      'build/test/fixtures/cluster-server.js',
      '--port',
      '0',
      '--redis',
      'redis://127.0.0.1:1',
    ],
    { env, encoding: 'utf8', timeout: 10_000 },
  );
  assert.equal(run.status, 1);
  assert.match(run.stderr, /option `redis` needs `requestStateKey` \(REMOTE_MCP_REQUEST_STATE_KEY\)/);
});
