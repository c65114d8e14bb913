/**
 * Scale-out, item 3 of the issue: failure. Real processes only: a real redis-server, `remote-mcp serve --redis`
 * instances and a real nginx running deploy/nginx/nginx.conf. An instance is killed (SIGKILL) or drained
 * (SIGTERM) under a bounded load loop through nginx; Redis is frozen (SIGSTOP), killed and restarted under live
 * instances; rate limits meet a frozen Redis in each `storeFailure` mode.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { ERRORS } from '../src/errors.js';
import {
  connectWebSocket,
  initializeBody,
  LEGACY_HEADERS,
  modernBody,
  modernHeaders,
  openSession,
  openStream,
  raw,
  sessionHeaders,
  sseMessages,
  withTimeout,
  type RawResponse,
} from './helpers.js';
import { clusterMissing } from './support/binaries.js';
import { resultText, startCluster, toolCall, type Cluster, type ClusterNode } from './support/cluster.js';

/** Skipped without redis-server or nginx outside CI (test/support/binaries.ts). */
const CLUSTER_MISSING = clusterMissing();

/** How long the `wait` calls of the load loops take: long enough that some are always in flight. */
const WAIT_MS = 300;
/**
 * Concurrent clients of a load loop: the bound on the requests one instance can hold at a kill. Enough that
 * nginx keeps several idle connections to each instance, which is what a drain must outwait.
 */
const WORKERS = 16;
/** A load loop stops at this many requests... */
const LOOP_MAX_REQUESTS = 2_000;
/** ...or after this long, whichever comes first. */
const LOOP_MAX_MS = 4_000;
/** When, after the loop started, the instance is killed or drained. */
const LOOP_STRIKE_AT_MS = 1_200;
/** The drain bound the SIGTERM'd instance runs with, and the margin its exit may take beyond it. */
const DRAIN_TIMEOUT_MS = 3_000;
/**
 * The shortest drain, as deploy/compose.yaml sets it: above nginx's upstream keepalive_timeout (4 s), so nginx
 * closes its idle connections to the instance before the instance would.
 */
const DRAIN_DELAY_MS = 5_000;
const EXIT_MARGIN_MS = 2_000;
/** Redis commands the instances wait for before answering 503 (short, so the outage tests are quick). */
const COMMAND_TIMEOUT_MS = 500;
/** What an answer during an outage may take beyond COMMAND_TIMEOUT_MS (it must not hang). */
const OUTAGE_ANSWER_MARGIN_MS = 1_500;
/** How long /ready may take to turn 200 once Redis is back (the reconnect backoff is capped at 2 s). */
const RECOVERY_MS = 10_000;
const POLL_MS = 50;

const call = toolCall;

/** The JSON-RPC answer to request `id` in a JSON or SSE body, if there is one. */
function answerOf(response: RawResponse, id: number | string): any {
  const type = String(response.headers['content-type'] ?? '');
  try {
    const messages = type.startsWith('text/event-stream') ? sseMessages(response.body) : [JSON.parse(response.body)];
    return messages.find((message) => message?.id === id);
  } catch {
    return undefined;
  }
}

/** whoami on a 2025-era session; returns the pid that served it. */
async function whoami(url: string, session: string): Promise<string> {
  const answer = await raw(url, { headers: sessionHeaders(session), body: call(7, 'whoami') });
  assert.equal(answer.status, 200, answer.body);
  return resultText(answerOf(answer, 7))!;
}

const modernCall = (url: string, id: number | string, name: string, args: Record<string, unknown> = {}) =>
  raw(url, {
    headers: modernHeaders('tools/call', name),
    body: modernBody(id, 'tools/call', { name, arguments: args }),
  });

// ---------------------------------------------------------------------------------------------------------------
// The load loop

type Kind = 'legacy-whoami' | 'modern-whoami' | 'modern-wait' | 'legacy-wait' | 'v1-whoami';

interface Attempt {
  id: number;
  kind: Kind;
  /** The `wait` tag (the fixture logs `ran <tag> <pid>` where it runs). */
  tag?: string;
  /** performance.now() when the request was sent and when its answer (or error) was complete. */
  started: number;
  ended: number;
  /** The HTTP status, 0 when the request failed without one. */
  status: number;
  /** The tool's result text: the pid (whoami) or `<pid>:waited`. Undefined when there was no result. */
  text?: string;
  error?: string;
}

const failed = (attempt: Attempt) => attempt.status !== 200 || attempt.text === undefined;
/** The pid that answered a whoami or a wait. */
const servedBy = (attempt: Attempt) => attempt.text?.split(':')[0];

interface LoadOptions {
  url: string;
  sessions: string[];
  /** Worker 0 sends its whoami calls with this client instead of raw requests, when given. */
  v1?: Client;
}

interface LoadLoop {
  attempts: Attempt[];
  /** Resolves when every worker has stopped (count or time bound reached). */
  done: Promise<void>;
  /** Sends one attempt now, outside the workers (counted with the others). */
  send(kind: Kind, waitMs?: number): Promise<Attempt>;
}

/** WORKERS concurrent clients through `url`, each sending its next request as soon as the last one is answered. */
function startLoad(options: LoadOptions): LoadLoop {
  const attempts: Attempt[] = [];
  const began = performance.now();
  let nextId = 1_000;
  const send = async (kind: Kind, waitMs = WAIT_MS): Promise<Attempt> => {
    const id = nextId++;
    const session = options.sessions[id % options.sessions.length]!;
    const tag = kind.endsWith('wait') ? `w${id}` : undefined;
    const attempt: Attempt = { id, kind, ...(tag && { tag }), started: performance.now(), ended: 0, status: 0 };
    attempts.push(attempt);
    try {
      if (kind === 'v1-whoami') {
        const result = (await options.v1!.callTool({ name: 'whoami', arguments: {} })) as any;
        attempt.status = 200;
        attempt.text = result.content[0].text;
      } else {
        const answer =
          kind === 'legacy-whoami'
            ? await raw(options.url, { headers: sessionHeaders(session), body: call(id, 'whoami') })
            : kind === 'legacy-wait'
              ? await raw(options.url, {
                  headers: sessionHeaders(session),
                  body: call(id, 'wait', { ms: waitMs, tag }),
                })
              : kind === 'modern-wait'
                ? await modernCall(options.url, id, 'wait', { ms: waitMs, tag })
                : await modernCall(options.url, id, 'whoami');
        attempt.status = answer.status;
        attempt.text = resultText(answerOf(answer, id));
        if (attempt.text === undefined) attempt.error = answer.body.slice(0, 300);
      }
    } catch (error) {
      // The v1 client reports an HTTP status as `code` (StreamableHTTPError).
      const code = (error as { code?: unknown }).code;
      attempt.status = typeof code === 'number' ? code : 0;
      attempt.error = String(error);
    }
    attempt.ended = performance.now();
    return attempt;
  };
  // Mostly quick calls (many requests, many connection reuses), with a wait in flight on most workers.
  const kinds: Kind[] = [
    'legacy-whoami',
    'modern-whoami',
    'legacy-whoami',
    'modern-wait',
    'modern-whoami',
    'legacy-whoami',
    'modern-whoami',
    'legacy-wait',
  ];
  const worker = async (index: number) => {
    for (let turn = index; ; turn++) {
      if (attempts.length >= LOOP_MAX_REQUESTS || performance.now() - began >= LOOP_MAX_MS) return;
      const kind = kinds[turn % kinds.length]!;
      await send(index === 0 && options.v1 !== undefined && kind.endsWith('whoami') ? 'v1-whoami' : kind);
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, index) => worker(index))).then(() => {});
  return { attempts, done, send };
}

/** Extra concurrent long waits sent just before a kill or a drain, so the instance surely holds some then. */
const BURST = 6;
const BURST_WAIT_MS = 800;
/** Time for the burst to reach its handlers before the signal. */
const BURST_SETTLE_MS = 200;

/** BURST long waits at once: round robin spreads consecutive requests over every instance. */
const sendBurst = (load: LoadLoop) =>
  Array.from({ length: BURST }, (_, i) => load.send(i % 2 === 0 ? 'modern-wait' : 'legacy-wait', BURST_WAIT_MS));

/** `ran <tag> <pid>` lines of every instance: how often, and where, each tagged `wait` ran. */
function runsByTag(nodes: ClusterNode[]): Map<string, string[]> {
  const runs = new Map<string, string[]>();
  for (const node of nodes)
    for (const [, tag, pid] of node.output().matchAll(/^ran (\S+) (\d+)$/gm))
      runs.set(tag!, [...(runs.get(tag!) ?? []), pid!]);
  return runs;
}

const summary = (attempts: Attempt[]) =>
  JSON.stringify(
    attempts.map(({ id, kind, status, text, error }) => ({ id, kind, status, text, error })),
    null,
    1,
  );

// ---------------------------------------------------------------------------------------------------------------

describe('SIGKILL of one instance under mixed load through nginx', { skip: CLUSTER_MISSING }, () => {
  let cluster: Cluster;
  let v1: Client | undefined;
  before(async () => {
    cluster = await startCluster({ instances: 3, nginx: true });
  });
  after(async () => {
    await v1?.close().catch(() => {});
    await cluster?.stop();
  });

  test('its sessions go on elsewhere, its stream resumes elsewhere, only the requests it was running fail', async () => {
    const [first, second, victim] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    const survivors = [String(first.pid), String(second.pid)];
    const sessions = await Promise.all(Array.from({ length: 4 }, () => openSession(cluster.url)));
    v1 = new Client({ name: 'failure-test', version: '1.0.0' });
    await v1.connect(new StreamableHTTPClientTransport(new URL(cluster.url)));

    // The standalone GET stream of a session, held by the instance that will die; its priming event has an id.
    const watcher = await openSession(victim.url);
    const stream = await openStream(victim.url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': watcher, 'mcp-protocol-version': '2025-11-25' },
    });
    assert.equal(stream.status, 200);
    const priming = await stream.waitFor((event) => event.id !== undefined);

    const load = startLoad({ url: cluster.url, sessions, v1 });
    await sleep(LOOP_STRIKE_AT_MS);
    const burst = sendBurst(load);
    await sleep(BURST_SETTLE_MS);
    const killed = performance.now();
    await victim.kill('SIGKILL');
    const dead = performance.now();
    await Promise.all(burst);
    await withTimeout(load.done, LOOP_MAX_MS + 10_000, 'the load loop to end');

    const failures = load.attempts.filter(failed);
    const inFlightAtKill = load.attempts.filter((a) => a.started < dead && a.ended >= killed);
    const diagnosis = `failures: ${summary(failures)}`;
    console.log(
      `# SIGKILL: ${load.attempts.length} requests, ${failures.length} failed (${failures.map((a) => `${a.kind} ${a.status}`).join(', ')}), ${inFlightAtKill.length} in flight at the kill`,
    );
    // The only failures: requests that were in flight when the instance died, each answered 502 by nginx
    // (the v1 client reports the same 502 as its error code). At most one per client: the workers and the burst.
    const runs = runsByTag(cluster.nodes);
    for (const failure of failures) {
      assert.equal(failure.status, 502, diagnosis);
      assert.ok(failure.started < dead && failure.ended >= killed, `a failure outside the kill: ${diagnosis}`);
      // A failed wait ran on the killed instance or (killed before its handler started) nowhere: it was not
      // re-sent to another instance.
      if (failure.tag !== undefined)
        assert.ok(
          (runs.get(failure.tag) ?? []).every((pid) => pid === String(victim.pid)) &&
            (runs.get(failure.tag) ?? []).length <= 1,
          `${failure.tag} ran ${runs.get(failure.tag)}; ${diagnosis}`,
        );
    }
    assert.ok(failures.length >= 1, 'the killed instance was running none of the requests');
    assert.ok(failures.length <= WORKERS + BURST, diagnosis);
    // Load went on after the kill, and all of it was served by the survivors.
    const afterKill = load.attempts.filter((a) => a.started >= dead);
    assert.ok(afterKill.length > WORKERS, `only ${afterKill.length} requests after the kill`);
    for (const attempt of afterKill) assert.ok(survivors.includes(servedBy(attempt)!), summary([attempt]));

    // Every session goes on, served by a survivor: through nginx, and on each survivor directly.
    for (const session of [...sessions, watcher]) {
      assert.ok(survivors.includes(await whoami(cluster.url, session)));
      assert.equal(await whoami(first.url, session), survivors[0]);
      assert.equal(await whoami(second.url, session), survivors[1]);
    }
    // The v1 client goes on.
    for (let i = 0; i < 3; i++) {
      const result = (await v1.callTool({ name: 'whoami', arguments: {} })) as any;
      assert.ok(survivors.includes(result.content[0].text));
    }

    // The stream died with its instance; resumed on a survivor from its priming event id, it receives an event
    // caused afterwards on the other survivor.
    await withTimeout(stream.ended, 5_000, 'the stream of the killed instance to end');
    const resumed = await openStream(first.url, {
      method: 'GET',
      headers: {
        accept: 'text/event-stream',
        'mcp-session-id': watcher,
        'mcp-protocol-version': '2025-11-25',
        'last-event-id': priming.id!,
      },
    });
    try {
      assert.equal(resumed.status, 200);
      const changer = await openSession(second.url);
      const changed = await raw(second.url, { headers: sessionHeaders(changer), body: call(9, 'change') });
      assert.equal(resultText(answerOf(changed, 9)), `${second.pid}:changed`);
      await resumed.waitFor((event) => event.message?.method === 'notifications/tools/list_changed');
    } finally {
      resumed.destroy();
    }
  });
});

describe('SIGTERM of one instance behind nginx under load', { skip: CLUSTER_MISSING }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({
      instances: 3,
      nginx: true,
      args: ['--drain-timeout-ms', String(DRAIN_TIMEOUT_MS), '--drain-delay-ms', String(DRAIN_DELAY_MS)],
    });
  });
  after(() => cluster?.stop());

  test('fails no request: what it was running finishes there, once; nothing else reaches it; it exits 0', async () => {
    const victim = cluster.nodes[2]!;
    const sessions = await Promise.all(Array.from({ length: 3 }, () => openSession(cluster.url)));
    const load = startLoad({ url: cluster.url, sessions });
    await sleep(LOOP_STRIKE_AT_MS);
    const burst = sendBurst(load);
    await sleep(BURST_SETTLE_MS);
    const exited = new Promise<number | null>((resolve) => victim.child.once('exit', (code) => resolve(code)));
    const signalled = performance.now();
    victim.child.kill('SIGTERM');
    // A drain lasts drainDelayMs, or until the requests in flight are done but at most drainTimeoutMs.
    const code = await withTimeout(
      exited,
      Math.max(DRAIN_DELAY_MS, DRAIN_TIMEOUT_MS) + EXIT_MARGIN_MS,
      'the drained instance to exit',
    );
    await Promise.all(burst);
    await withTimeout(load.done, LOOP_MAX_MS + 10_000, 'the load loop to end');

    const failures = load.attempts.filter(failed);
    // The waits the instance was running when the signal came.
    const drainedThere = load.attempts.filter(
      (a) =>
        a.kind.endsWith('wait') && servedBy(a) === String(victim.pid) && a.started < signalled && a.ended >= signalled,
    );
    // nginx's log names every try: "503 : 200" is a drain's 503 that @mcp_retry sent to another instance
    // ("503 : 502, 200" when its fresh connect to the draining one was refused first).
    const retried = cluster.nginx!.accessLog().filter((line) => /upstream_status=503 : /.test(line)).length;
    console.log(
      `# SIGTERM: ${load.attempts.length} requests, ${failures.length} failed, ${drainedThere.length} in flight on the draining instance finished there, ${retried} 503s retried by nginx`,
    );
    assert.deepEqual(failures, [], `failures: ${summary(failures)}\nnginx:\n${cluster.nginx!.accessLog().join('\n')}`);
    assert.equal(code, 0, victim.output());
    assert.ok(drainedThere.length >= 1, 'the draining instance held none of the waits');

    // Each tagged wait ran exactly once, where its answer says: none was re-sent to another instance.
    const runs = runsByTag(cluster.nodes);
    for (const attempt of load.attempts.filter((a) => a.tag !== undefined))
      assert.deepEqual(runs.get(attempt.tag!), [servedBy(attempt)], `${attempt.tag} ran ${runs.get(attempt.tag!)}`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Redis outages

const base = (node: ClusterNode) => node.url.replace(/\/mcp$/, '');
const probe = (node: ClusterNode, path: '/ready' | '/health') => raw(`${base(node)}${path}`, { method: 'GET' });

/** Polls `node`'s probe until it answers `status` (the checks' results are cached for a second), bounded. */
async function untilProbe(node: ClusterNode, path: '/ready' | '/health', status: number, what: string) {
  const deadline = performance.now() + RECOVERY_MS;
  for (;;) {
    const answer = await probe(node, path);
    if (answer.status === status) return answer;
    if (performance.now() > deadline) assert.fail(`${what}: ${path} still answers ${answer.status} ${answer.body}`);
    await sleep(POLL_MS);
  }
}

/** What a client sees of a 2025-era request while Redis does not answer: 503 STATE_UNAVAILABLE, soon. */
async function assertStateUnavailable(pending: Promise<RawResponse>, id: number, what: string) {
  const answer = await withTimeout(pending, COMMAND_TIMEOUT_MS + OUTAGE_ANSWER_MARGIN_MS, what);
  assert.equal(answer.status, 503, `${what}: ${answer.body}`);
  assert.deepEqual(answer.json(), {
    jsonrpc: '2.0',
    id,
    error: { code: -32603, message: ERRORS.STATE_UNAVAILABLE.message },
  });
}

/** Every bullet of "while Redis is away", on every instance. */
async function assertOutage(nodes: ClusterNode[], session: string) {
  for (const node of nodes) {
    await untilProbe(node, '/ready', 503, 'readiness while Redis is away');
    const health = await untilProbe(node, '/health', 200, 'liveness while Redis is away');
    assert.equal(health.json().status, 'degraded');
    const ready = await probe(node, '/ready');
    assert.equal(ready.status, 503);
    assert.ok(
      ready.json().checks.some((check: any) => check.name === 'sessionStore' && check.status === 'failed'),
      ready.body,
    );
    // 2026-07-28 traffic needs no shared state: served.
    const modern = await modernCall(node.url, 3, 'whoami');
    assert.equal(modern.status, 200, modern.body);
    assert.equal(resultText(answerOf(modern, 3)), String(node.pid));
    // 2025-era session traffic and initialize: 503 with the JSON-RPC error, within the command timeout.
    await assertStateUnavailable(
      raw(node.url, { headers: sessionHeaders(session), body: call(4, 'whoami') }),
      4,
      'a request on a session',
    );
    await assertStateUnavailable(
      raw(node.url, { headers: LEGACY_HEADERS, body: initializeBody('2025-11-25', {}, 5) }),
      5,
      'initialize',
    );
    // The same over WebSocket: the error arrives on the socket.
    const socket = await connectWebSocket(node.url);
    try {
      socket.send(initializeBody('2025-11-25', {}, 6));
      const refused = await socket.waitFor((message) => message.error !== undefined, 'the WebSocket initialize error');
      assert.deepEqual(refused, {
        jsonrpc: '2.0',
        id: 6,
        error: { code: -32603, message: ERRORS.STATE_UNAVAILABLE.message },
      });
    } finally {
      socket.ws.close();
    }
  }
}

/** A change caused on `from` reaches a GET stream of `session` held by `to` (the event bus crosses Redis). */
async function assertEventsFlow(session: string, to: ClusterNode, from: ClusterNode) {
  const stream = await openStream(to.url, {
    method: 'GET',
    headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
  });
  try {
    assert.equal(stream.status, 200, stream.text());
    const changed = await modernCall(from.url, 8, 'change');
    assert.equal(resultText(answerOf(changed, 8)), `${from.pid}:changed`);
    await stream.waitFor((event) => event.message?.method === 'notifications/tools/list_changed');
  } finally {
    stream.destroy();
  }
}

describe('Redis goes away and comes back, under two running instances', { skip: CLUSTER_MISSING }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({
      instances: 2,
      nginx: false,
      args: ['--redis-command-timeout-ms', String(COMMAND_TIMEOUT_MS)],
    });
  });
  after(async () => {
    await cluster?.redis.resume();
    await cluster?.stop();
  });

  test('frozen (SIGSTOP): not ready, session traffic 503, 2026-07-28 served; resumed: the same session goes on', async () => {
    const [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    const session = await openSession(a.url);
    assert.equal(await whoami(b.url, session), String(b.pid));
    await cluster.redis.pause();
    try {
      await assertOutage(cluster.nodes, session);
    } finally {
      await cluster.redis.resume();
    }
    for (const node of cluster.nodes) await untilProbe(node, '/ready', 200, 'readiness once Redis answers again');
    // Redis kept its data: the session opened before the outage goes on, on both instances.
    assert.equal(await whoami(a.url, session), String(a.pid));
    assert.equal(await whoami(b.url, session), String(b.pid));
    await assertEventsFlow(session, a, b);
    await assertEventsFlow(session, b, a);
  });

  test('killed, then restarted empty on its port: the same while away; back: sessions start afresh, events flow', async () => {
    const [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    const session = await openSession(a.url);
    await cluster.redis.stop();
    await assertOutage(cluster.nodes, session);
    await cluster.redis.restart();
    for (const node of cluster.nodes) await untilProbe(node, '/ready', 200, 'readiness once Redis is back');
    // The new Redis holds nothing: the old session is unknown everywhere, and a new one works everywhere.
    for (const node of cluster.nodes) {
      const gone = await raw(node.url, { headers: sessionHeaders(session), body: call(9, 'whoami') });
      assert.equal(gone.status, 404, gone.body);
      assert.equal(gone.json().error.code, -32600);
    }
    const fresh = await openSession(b.url);
    assert.equal(await whoami(a.url, fresh), String(a.pid));
    assert.equal(await whoami(b.url, fresh), String(b.pid));
    // Both instances subscribed again to the new Redis: events cross in both directions.
    await assertEventsFlow(fresh, a, b);
    await assertEventsFlow(fresh, b, a);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Rate limits while Redis does not answer

/** The per-principal limit of these tests: 100 requests a minute (every request here is one principal). */
const RATE_LIMIT = 100;

describe('rate limits while Redis is frozen: rateLimits.storeFailure decides', { skip: CLUSTER_MISSING }, () => {
  const clusters: Cluster[] = [];
  after(async () => {
    for (const cluster of clusters) {
      await cluster.redis.resume();
      await cluster.stop();
    }
  });

  async function frozenCluster(instances: number, mode?: 'local' | 'open' | 'closed'): Promise<Cluster> {
    const cluster = await startCluster({
      instances,
      nginx: false,
      args: [
        '--rate-limit',
        `${RATE_LIMIT}/60`,
        '--redis-command-timeout-ms',
        String(COMMAND_TIMEOUT_MS),
        ...(mode === undefined ? [] : ['--rate-limit-store-failure', mode]),
      ],
    });
    clusters.push(cluster);
    await cluster.redis.pause();
    return cluster;
  }

  /** `count` 2026-07-28 whoami calls at once (each waits out the frozen store); their statuses. */
  const burst = async (node: ClusterNode, count: number, firstId: number) =>
    (await Promise.all(Array.from({ length: count }, (_, i) => modernCall(node.url, firstId + i, 'whoami')))).map(
      (answer) => answer.status,
    );

  test('local (the default): each instance counts for itself, so the 101st request on one instance gets 429', async () => {
    const [a, b] = (await frozenCluster(2)).nodes as [ClusterNode, ClusterNode];
    assert.deepEqual(await burst(a, RATE_LIMIT, 1), Array(RATE_LIMIT).fill(200));
    const over = await modernCall(a.url, 999, 'whoami');
    assert.equal(over.status, 429, over.body);
    assert.equal(over.json().error.code, -32029);
    // B's counter is its own: it still admits.
    const other = await modernCall(b.url, 1_000, 'whoami');
    assert.equal(other.status, 200, other.body);
    assert.equal(resultText(answerOf(other, 1_000)), String(b.pid));
  });

  test('closed: 503 RATE_LIMIT_UNAVAILABLE, nothing runs', async () => {
    const [node] = (await frozenCluster(1, 'closed')).nodes as [ClusterNode];
    const refused = await withTimeout(
      modernCall(node.url, 1, 'wait', { ms: 0, tag: 'refused-by-the-limit' }),
      COMMAND_TIMEOUT_MS + OUTAGE_ANSWER_MARGIN_MS,
      'the refusal',
    );
    assert.equal(refused.status, 503, refused.body);
    assert.deepEqual(refused.json(), {
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32603, message: ERRORS.RATE_LIMIT_UNAVAILABLE.message },
    });
    assert.equal(runsByTag([node]).get('refused-by-the-limit'), undefined);
  });

  test('open: admits without counting, past the limit', async () => {
    const [node] = (await frozenCluster(1, 'open')).nodes as [ClusterNode];
    assert.deepEqual(await burst(node, RATE_LIMIT + 1, 1), Array(RATE_LIMIT + 1).fill(200));
  });
});
