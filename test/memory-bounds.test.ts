/**
 * Bounded memory per client: interned initialize identities and idle pooled instances bounded by bytes and
 * released with their sessions, the event store bounded by bytes per stream and per session, authorization
 * patterns that match in linear time, and audit lines of bounded size. Real servers, raw requests; what the
 * server holds is read from its /health report (the `legacySessions` and `eventStore` checks).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

import { Authorizer } from '../src/security/authorization.js';
import {
  LEGACY_HEADERS,
  openSession,
  openStream,
  raw,
  sessionHeaders,
  start,
  withServer,
  withTimeout,
  type OpenStream,
  type Started,
} from './helpers.js';

/** The details a built-in check of /health reports (the report is computed fresh on a server's first probe). */
async function checkDetails(s: Started, name: string): Promise<any> {
  const health = await raw(s.url.replace(/\/mcp$/, '/health'), { method: 'GET' });
  assert.equal(health.status, 200);
  const check = health.json().checks.find((entry: { name: string }) => entry.name === name);
  assert.ok(check, `/health has no ${name} check`);
  return check.details;
}

/** Initialize params of about `size` bytes, distinct per `n` (strings stay under maxStringLength). */
function bigParams(n: number, size = 200_000, protocolVersion = '2025-11-25'): Record<string, unknown> {
  return {
    protocolVersion,
    capabilities: { experimental: { pad: { data: `${String(n).padStart(3, '0')}${'x'.repeat(size)}` } } },
    clientInfo: { name: 'big', version: '1.0.0' },
  };
}

const bytesOf = (params: unknown) => Buffer.byteLength(JSON.stringify(params));

async function initialize(url: string, params: Record<string, unknown>): Promise<string> {
  const res = await raw(url, {
    headers: LEGACY_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params }),
  });
  assert.equal(res.status, 200, res.body.slice(0, 200));
  return res.headers['mcp-session-id'] as string;
}

const call = (id: number | string, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** Opens a raw HTTP+SSE session (GET /sse) and initializes it; resolves once the initialize answer arrived. */
async function openSseSession(
  s: Started,
  params: Record<string, unknown>,
): Promise<{ stream: OpenStream; post: (body: unknown) => Promise<number> }> {
  const base = s.url.replace(/\/mcp$/, '');
  const stream = await openStream(`${base}/sse`, { method: 'GET', headers: { accept: 'text/event-stream' } });
  assert.equal(stream.status, 200);
  const endpoint = await stream.waitFor((event) => event.event === 'endpoint');
  const post = async (body: unknown) =>
    (await raw(base + endpoint.data, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))
      .status;
  assert.equal(await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params }), 202);
  await stream.waitFor((event) => event.message?.id === 0);
  return { stream, post };
}

/** A server whose tools answer (and log) as many bytes as asked: `blob` logs once then answers `bytes`. */
function blobServer(): McpServer {
  const server = new McpServer({ name: 'blobs', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool(
    'blob',
    { description: 'Logs a line, then answers `bytes` characters.', inputSchema: z.object({ bytes: z.number() }) },
    async ({ bytes }, ctx) => {
      // A message before the answer turns a 2025-era POST's answer into an SSE stream (stored for resumption).
      await ctx.mcpReq.log('info', 'starting');
      return { content: [{ type: 'text', text: 'b'.repeat(bytes) }] };
    },
  );
  server.registerTool(
    'blobs',
    {
      description: 'Logs `count` lines of `bytes` characters each, then answers "done".',
      inputSchema: z.object({ count: z.number(), bytes: z.number() }),
    },
    async ({ count, bytes }, ctx) => {
      for (let n = 1; n <= count; n++) await ctx.mcpReq.log('info', `${n}:${'l'.repeat(bytes)}`);
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  return server;
}

describe('interned initialize identities and idle instances', () => {
  test('distinct big initialize params: shared copies stay within maxInternedIdentityBytes, idle instances within maxIdleLegacyInstanceBytes', async () => {
    await withServer({ maxInternedIdentityBytes: 1_000_000, maxIdleLegacyInstanceBytes: 600_000 }, async (s) => {
      const size = bytesOf(bigParams(0));
      const sessions: string[] = [];
      for (let n = 0; n < 12; n++) sessions.push(await initialize(s.url, bigParams(n)));
      const held = await checkDetails(s, 'legacySessions');
      assert.equal(held.internedIdentities, Math.floor(1_000_000 / size));
      assert.equal(held.internedIdentityBytes, held.internedIdentities * size);
      assert.equal(held.idleInstances, Math.floor(600_000 / size));
      assert.equal(held.idleInstanceBytes, held.idleInstances * size);
      // Sessions beyond the bounds kept their own copy: each still gets an instance of its own identity.
      for (const [index, id] of sessions.entries()) {
        const res = await raw(s.url, { headers: sessionHeaders(id), body: call(index, 'echo', { text: `s${index}` }) });
        assert.equal(res.status, 200);
        assert.deepEqual(res.json().result.content, [{ type: 'text', text: `s${index}` }]);
      }
    });
  });

  test('an identity is released when its last session ends: deleted, or its HTTP+SSE stream closed', async () => {
    await withServer({}, async (s) => {
      const sessions: string[] = [];
      // Three distinct clients, two sessions each: an entry outlives the first of its sessions.
      for (let n = 0; n < 6; n++) sessions.push(await initialize(s.url, bigParams(n % 3)));
      for (const id of sessions) {
        const res = await raw(s.url, { method: 'DELETE', headers: sessionHeaders(id) });
        assert.equal(res.status, 200);
      }
      const sse = await openSseSession(s, bigParams(7, 200_000, '2024-11-05'));
      sse.stream.destroy();
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 404; attempt++) {
        status = await sse.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
        if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(status, 404, 'the HTTP+SSE session ended with its stream');
      // One new session: the only identity left is its own.
      await openSession(s.url);
      const held = await checkDetails(s, 'legacySessions');
      assert.equal(held.internedIdentities, 1);
      assert.equal(
        held.internedIdentityBytes,
        bytesOf({ protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '1.0.0' } }),
      );
    });
  });

  test('an identity is released when its sessions expire', async () => {
    await withServer({ sessionIdleTimeoutMs: 100 }, async (s) => {
      const sessions: string[] = [];
      for (let n = 0; n < 3; n++) sessions.push(await initialize(s.url, bigParams(n)));
      // Expired within timeout + one sweep (50 ms); any request would count as activity, so wait, then look.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const held = await checkDetails(s, 'legacySessions');
      assert.equal(held.internedIdentities, 0);
      assert.equal(held.internedIdentityBytes, 0);
      const gone = await raw(s.url, { headers: sessionHeaders(sessions[0]!), body: call(1, 'echo', { text: 'x' }) });
      assert.equal(gone.status, 404);
    });
  });
});

describe('event store byte bounds', () => {
  test('a session keeps at most maxEventBytesPerSession: the oldest streams lose their 1 MB answers, the newest replay', async () => {
    await withServer({ server: blobServer, maxEventBytesPerSession: 2_500_000 }, async (s) => {
      const id = await openSession(s.url);
      const primingIds: string[] = [];
      for (let n = 1; n <= 4; n++) {
        const stream = await openStream(s.url, {
          headers: sessionHeaders(id),
          body: call(n, 'blob', { bytes: 1_000_000 }),
        });
        assert.equal(stream.headers['content-type'], 'text/event-stream');
        const answer = await stream.waitFor((event) => event.message?.id === n);
        assert.equal(answer.message.result.content[0].text.length, 1_000_000);
        await withTimeout(stream.ended, 2000, 'the POST stream to end');
        primingIds.push(stream.events[0]!.id!);
      }
      const resume = async (lastEventId: string) => {
        const stream = await openStream(s.url, {
          method: 'GET',
          headers: { 'mcp-session-id': id, accept: 'text/event-stream', 'last-event-id': lastEventId },
        });
        assert.equal(stream.status, 200);
        await withTimeout(stream.ended, 2000, 'the replay to end');
        // Summaries, not the 1 MB messages themselves (a failing assertion would print them).
        return stream.events
          .filter((event) => event.message !== undefined)
          .map(
            ({ message }) =>
              message.method ?? `answer ${message.id}: ${message.result.content[0].text.length} characters`,
          );
      };
      // Evicted for size as for count: the stream stays known (200), its evicted events are not replayed.
      assert.deepEqual(await resume(primingIds[0]!), []);
      assert.deepEqual(await resume(primingIds[1]!), []);
      assert.deepEqual(await resume(primingIds[2]!), ['notifications/message', 'answer 3: 1000000 characters']);
      assert.deepEqual(await resume(primingIds[3]!), ['notifications/message', 'answer 4: 1000000 characters']);
      const store = await checkDetails(s, 'eventStore');
      assert.equal(store.sessions, 1);
      assert.ok(store.bytes <= 2_500_000, `the session keeps ${store.bytes} bytes`);
      assert.ok(store.bytes > 2_000_000, `the two newest answers are kept (${store.bytes} bytes)`);
    });
  });

  test('a stream keeps at most maxEventBytesPerStream: a resume replays the newest events only', async () => {
    await withServer({ server: blobServer, maxEventBytesPerStream: 2_500_000 }, async (s) => {
      const id = await openSession(s.url);
      const stream = await openStream(s.url, {
        headers: sessionHeaders(id),
        body: call(1, 'blobs', { count: 4, bytes: 1_000_000 }),
      });
      await stream.waitFor((event) => event.message?.id === 1);
      await withTimeout(stream.ended, 2000, 'the POST stream to end');
      const resumed = await openStream(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': id, accept: 'text/event-stream', 'last-event-id': stream.events[0]!.id! },
      });
      assert.equal(resumed.status, 200);
      await withTimeout(resumed.ended, 2000, 'the replay to end');
      const replayed = resumed.events.filter((event) => event.message !== undefined).map((event) => event.message);
      assert.deepEqual(
        replayed.map((message) => (message.method === undefined ? 'answer' : message.params.data.slice(0, 2))),
        ['3:', '4:', 'answer'],
      );
    });
  });

  test("each POST stream of a session has its own stream id: resuming one replays nothing of a later POST's", async () => {
    await withServer({ server: blobServer }, async (s) => {
      const id = await openSession(s.url);
      const streams: OpenStream[] = [];
      for (let n = 1; n <= 2; n++) {
        const stream = await openStream(s.url, { headers: sessionHeaders(id), body: call(n, 'blob', { bytes: 10 }) });
        await withTimeout(stream.ended, 2000, 'the POST stream to end');
        streams.push(stream);
      }
      const [first, second] = streams.map((stream) => stream.events.map((event) => event.id!.split('.')[0]));
      assert.equal(new Set(first).size, 1);
      assert.notEqual(first![0], second![0]);
      // Resuming the first POST after its answer: nothing follows it on that stream.
      const resumed = await openStream(s.url, {
        method: 'GET',
        headers: { 'mcp-session-id': id, accept: 'text/event-stream', 'last-event-id': streams[0]!.events.at(-1)!.id! },
      });
      assert.equal(resumed.status, 200);
      await withTimeout(resumed.ended, 2000, 'the replay to end');
      assert.deepEqual(
        resumed.events.filter((event) => event.message !== undefined),
        [],
      );
    });
  });

  test('an HTTP+SSE session keeps no events: its stream cannot be resumed, so 1 MB answers are not stored', async () => {
    await withServer({ server: blobServer }, async (s) => {
      const sse = await openSseSession(s, {
        protocolVersion: '2024-11-05',
        capabilities: {},
        clientInfo: { name: 'sse', version: '1' },
      });
      for (let n = 1; n <= 3; n++) {
        assert.equal(await sse.post(JSON.parse(call(n, 'blob', { bytes: 1_000_000 }))), 202);
        const answer = await sse.stream.waitFor((event) => event.message?.id === n);
        assert.equal(answer.message.result.content[0].text.length, 1_000_000);
        assert.match(answer.id!, /^[A-Za-z0-9_-]+\.\d+$/, 'events still carry ids');
      }
      assert.deepEqual(await checkDetails(s, 'eventStore'), { kind: 'memory', sessions: 0, events: 0, bytes: 0 });
      sse.stream.destroy();
    });
  });
});

describe('authorization patterns', () => {
  test('`*` matches any run (none, across `/`, line breaks); other characters match themselves; exact wins', () => {
    const authorizer = new Authorizer({
      resources: { '*/private/*.key': ['secrets'], 'a.b*': ['dots'] },
      tools: { 'admin_*': ['admin'], admin_status: ['ops'], '*_debug': ['debug'] },
    });
    const nobody = { kind: 'custom' as const, subject: 'nobody', scopes: [] };
    const denied = (kind: 'tools' | 'resources', name: string) =>
      authorizer.decide(kind, name, nobody, 'custom:nobody').allowed === false;
    assert.equal(denied('resources', 'file:///srv/private/a.key'), true);
    assert.equal(denied('resources', 'file:///srv/private/deep/er/a.key'), true, '`*` crosses `/`');
    assert.equal(denied('resources', '/private/.key'), true, '`*` matches the empty run');
    assert.equal(denied('resources', 'x/private/a\n.key'), true, '`*` matches line breaks');
    assert.equal(denied('resources', 'file:///srv/private/a.keys'), false);
    assert.equal(denied('resources', 'file:///srv/public/a.key'), false);
    assert.equal(denied('resources', 'private/a.key'), false, 'the `/` before `private` is literal');
    assert.equal(denied('resources', 'a.bc'), true);
    assert.equal(denied('resources', 'axbc'), false, '`.` is literal');
    assert.deepEqual(authorizer.decide('tools', 'admin_status', nobody, undefined), {
      allowed: false,
      scopes: ['ops'],
    });
    assert.deepEqual(authorizer.decide('tools', 'admin_debug', nobody, undefined), {
      allowed: false,
      scopes: ['admin'],
    });
    assert.equal(denied('tools', 'user_debug'), true);
    assert.equal(denied('tools', 'echo'), false);
  });

  test('a "*/private/*.key" rule decides 180 KB URIs at once, and other requests are answered meanwhile', async () => {
    await withServer(
      {
        auth: { authenticate: () => ({ kind: 'custom', subject: 'alice', scopes: [] }) },
        authorization: { resources: { '*/private/*.key': ['secrets'] } },
      },
      async (s) => {
        const id = await openSession(s.url);
        const read = (n: number, uri: string) =>
          raw(s.url, {
            headers: sessionHeaders(id),
            body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'resources/read', params: { uri } }),
          });
        // Full of near-matches: the backtracking regular expression took seconds for each of these.
        const near = `file://${'/private/'.repeat(20_000)}`;
        const hit = `file:///srv${'/private/'.repeat(20_000)}id.key`;
        assert.ok(near.length >= 180_000 && hit.length >= 180_000);
        const answers = await withTimeout(
          Promise.all([
            ...[1, 2, 3, 4, 5, 6].map((n) => read(n, `${near}${n}`)),
            read(7, hit),
            raw(s.url, { headers: sessionHeaders(id), body: call(8, 'echo', { text: 'meanwhile' }) }),
          ]),
          5000,
          'the requests with long URIs and the one beside them',
        );
        for (const res of answers.slice(0, 6)) {
          // Not governed by the rule: the server itself answers that there is no such resource.
          assert.equal(res.status, 200);
          assert.equal(typeof res.json().error.code, 'number');
        }
        assert.equal(answers[6]!.status, 403);
        assert.deepEqual(answers[6]!.json().error.data, { requiredScopes: ['secrets'] });
        assert.deepEqual(answers[7]!.json().result.content, [{ type: 'text', text: 'meanwhile' }]);
      },
    );
  });
});

describe('audit line size', () => {
  test('every line is JSON of at most audit.maxLineBytes: 1 MB method, URI and id, a big argument, rate-limited floods', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-audit-size-'));
    const file = join(dir, 'audit.log');
    const maxLineBytes = 8192;
    const s = await start({
      audit: { destination: file, includeArguments: true, maxLineBytes },
      rateLimits: { perPrincipal: { points: 6, durationSeconds: 60 } },
    });
    const big = (letter: string) => letter.repeat(1_000_000);
    try {
      const id = await initialize(s.url, {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'a', version: '1' },
      });
      const post = (message: unknown) => raw(s.url, { headers: sessionHeaders(id), body: JSON.stringify(message) });
      const manyKeys = Object.fromEntries(Array.from({ length: 2000 }, (_, n) => [`k${n}`, 'v'.repeat(500)]));
      await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: manyKeys } });
      await post({ jsonrpc: '2.0', id: 3, method: big('m') });
      await post({ jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: big('u') } });
      await post({
        jsonrpc: '2.0',
        id: big('i'),
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x' } },
      });
      // The rate limit refuses these before any input limit looks at them.
      for (let n = 0; n < 4; n++) await post({ jsonrpc: '2.0', id: 10 + n, method: big('r') });
    } finally {
      await s.close();
    }
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter((line) => line.length > 0);
    assert.equal(lines.length, 9);
    for (const line of lines) assert.ok(Buffer.byteLength(`${line}\n`) <= maxLineBytes, `a line of ${line.length}`);
    const entries = lines.map((line) => JSON.parse(line));
    const budget = maxLineBytes / 16;
    const cutAt = (letter: string) => `${letter.repeat(budget)}…[truncated ${1_000_000 - budget} bytes]`;
    const [, args, method, uri, rpcId, ...flood] = entries;
    assert.equal(typeof args.arguments, 'string');
    assert.ok(args.arguments.startsWith('{"k0":"vvv'));
    assert.match(args.arguments, /…\[truncated \d+ bytes\]$/);
    assert.equal(method.method, cutAt('m'));
    assert.equal(method.outcome, 'error');
    assert.equal(uri.name, cutAt('u'));
    assert.equal(rpcId.rpcId, cutAt('i'));
    assert.equal(rpcId.outcome, 'ok');
    assert.deepEqual(
      flood.map((entry) => entry.outcome),
      ['error', 'rate-limited', 'rate-limited', 'rate-limited'],
    );
    for (const entry of flood) assert.equal(entry.method, cutAt('r'));
    // Every field a line carries is documented in docs/security.md's audit log section.
    const doc = readFileSync('docs/security.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Audit log'), doc.indexOf('\n## ', doc.indexOf('## Audit log') + 1));
    for (const key of new Set(entries.flatMap((entry) => Object.keys(entry))))
      assert.ok(section.includes(`| \`${key}\` |`), `docs/security.md's audit log section has no row for ${key}`);
  });
});
