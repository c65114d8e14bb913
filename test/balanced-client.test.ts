/**
 * createBalancedClient against real remote-mcp instances (child processes serving the cluster fixture, whose
 * `whoami` answers with the instance's pid): spreading, least-pending, the failover rules, breakers, health
 * checks, and the case: one instance SIGKILLed and another drained while a bounded loop of idempotent
 * calls runs, with no call failing. Proxy failures come from a real HTTP front (test/support/front.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createBalancedClient, HttpStatusError, type BalancedEvent } from '../src/client/index.js';
import { untilServing } from './helpers.js';
import { startFront, rpcSeen, type Front } from './support/front.js';
import { freePort as closedPort } from './support/ports.js';

const CLI = 'build/src/cli/main.js';
const FIXTURE = 'build/test/fixtures/cluster-server.js';

interface Instance {
  url: string;
  pid: number;
  child: ChildProcess;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const running: Instance[] = [];
after(async () => {
  await Promise.all(running.map((instance) => instance.kill('SIGKILL')));
});

async function startInstance(port = 0): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      FIXTURE,
      '--port',
      String(port),
      '--log-level',
      'warn',
      '--no-metrics',
      '--drain-timeout-ms',
      '5000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const serving = await untilServing(child, 15_000, 'an instance to print its URL');
  const instance: Instance = {
    url: serving.url,
    pid: child.pid!,
    child,
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
  running.push(instance);
  return instance;
}

const textOf = (result: { content?: unknown }) => (result.content as Array<{ text: string }>)[0]!.text;

describe('spreading calls', () => {
  test('round-robin answers from every instance in turn', async () => {
    const instances = await Promise.all([startInstance(), startInstance(), startInstance()]);
    const client = await createBalancedClient({ endpoints: instances.map((i) => i.url) });
    const pids: string[] = [];
    for (let i = 0; i < 9; i++) pids.push(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
    const counts = instances.map((instance) => pids.filter((pid) => pid === String(instance.pid)).length);
    assert.deepEqual(counts, [3, 3, 3]);
    assert.deepEqual(
      client.endpoints().map((e) => [e.state, e.healthy, e.pending, e.connected]),
      instances.map(() => ['closed', true, 0, true]),
    );
    await client.close();
    await Promise.all(instances.map((i) => i.kill('SIGKILL')));
  });

  test('least-pending keeps calls away from the endpoint with a call in flight', async () => {
    const instances = await Promise.all([startInstance(), startInstance()]);
    const client = await createBalancedClient({ endpoints: instances.map((i) => i.url), strategy: 'least-pending' });
    const long = client.callTool({ name: 'wait', arguments: { ms: 1500 } });
    const busy = client.endpoints().findIndex((e) => e.pending === 1);
    assert.notEqual(busy, -1, 'one endpoint has the wait in flight');
    for (let i = 0; i < 5; i++) {
      const pid = textOf(await client.callTool({ name: 'whoami', arguments: {} }));
      assert.equal(pid, String(instances[1 - busy]!.pid));
    }
    await long;
    await client.close();
    await Promise.all(instances.map((i) => i.kill('SIGKILL')));
  });
});

describe('failover follows the retry rules', () => {
  let instance: Instance;
  let front: Front;
  before(async () => {
    instance = await startInstance();
    const other = await startInstance();
    front = await startFront(new URL(other.url).origin);
  });
  after(() => front?.close());

  test('a tool without hints is not repeated after a 502 (it may have run); idempotent: true fails it over', async () => {
    front.rule = (seen) => (seen.rpcMethod === 'tools/call' ? { status: 502, body: 'bad gateway' } : undefined);
    const events: BalancedEvent[] = [];
    const client = await createBalancedClient({
      endpoints: [`${front.url}/mcp`, instance.url],
      onEvent: (e) => events.push(e),
    });
    front.seen.length = 0;
    await assert.rejects(client.callTool({ name: 'whoami', arguments: {} }), (error: unknown) => {
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.status, 502);
      return true;
    });
    assert.equal(rpcSeen(front, 'tools/call').length, 1);
    assert.equal(events.filter((e) => e.type === 'failover').length, 0);
    // Round-robin comes back to the front two calls later.
    assert.equal(textOf(await client.callTool({ name: 'whoami', arguments: {} })), String(instance.pid));
    const answered = await client.callTool({ name: 'whoami', arguments: {} }, { idempotent: true });
    assert.equal(textOf(answered), String(instance.pid));
    const failover = events.find((e) => e.type === 'failover');
    assert.deepEqual(failover && { ...failover, error: undefined }, {
      type: 'failover',
      from: `${front.url}/mcp`,
      to: instance.url,
      method: 'tools/call',
      error: undefined,
    });
    front.rule = undefined;
    await client.close();
  });

  test('a refused connection fails over whatever the call is: nothing ran', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}/mcp`;
    const client = await createBalancedClient({ endpoints: [dead, instance.url] });
    for (let i = 0; i < 4; i++)
      assert.equal(textOf(await client.callTool({ name: 'whoami', arguments: {} })), String(instance.pid));
    assert.equal(client.endpoints()[0]!.connected, false);
    await client.close();
  });

  test('no endpoint at all: createBalancedClient rejects naming each', async () => {
    const a = `http://127.0.0.1:${await closedPort()}/mcp`;
    await assert.rejects(
      createBalancedClient({ endpoints: [a] }),
      new RegExp(`no endpoint could be connected \\(${a.replace(/[.]/g, '\\.')}: `),
    );
    await assert.rejects(createBalancedClient({ endpoints: [] }), /endpoints must list at least one URL/);
    await assert.rejects(createBalancedClient({ endpoints: [a, a] }), /is listed twice/);
    await assert.rejects(createBalancedClient({ endpoints: [a], strategy: 'random' as never }), /strategy must be/);
  });

  test('the breaker opens after consecutive failures, lets a probe through after halfOpenAfterMs, and closes', async () => {
    const events: string[] = [];
    const client = await createBalancedClient({
      endpoints: [`${front.url}/mcp`, instance.url],
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 300 },
      onEvent: (e) => {
        if ('url' in e && e.url === `${front.url}/mcp` && e.type.startsWith('breaker')) events.push(e.type);
      },
    });
    front.rule = () => ({ status: 503, headers: { 'retry-after': '1' }, body: '' });
    for (let i = 0; i < 6; i++) await client.callTool({ name: 'whoami', arguments: {} });
    assert.deepEqual(events, ['breaker-open']);
    assert.equal(client.endpoints()[0]!.state, 'open');
    front.rule = undefined;
    await new Promise((resolve) => setTimeout(resolve, 350));
    const pids = new Set<string>();
    for (let i = 0; i < 4; i++) pids.add(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
    assert.deepEqual(events, ['breaker-open', 'breaker-half-open', 'breaker-closed']);
    assert.equal(pids.size, 2, 'the endpoint is used again');
    assert.equal(client.endpoints()[0]!.state, 'closed');
    await client.close();
  });

  test('health checks: a failing /ready keeps calls away, a passing one brings them back', async () => {
    const events: string[] = [];
    front.rule = (seen) => (seen.path === '/ready' ? { status: 503, body: '{"status":"draining"}' } : undefined);
    const client = await createBalancedClient({
      endpoints: [`${front.url}/mcp`, instance.url],
      healthCheck: { intervalMs: 100, timeoutMs: 1000 },
      onEvent: (e) => {
        if (e.type === 'healthy' || e.type === 'unhealthy') events.push(`${e.type} ${e.url}`);
      },
    });
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(events, [`unhealthy ${front.url}/mcp`]);
    for (let i = 0; i < 4; i++)
      assert.equal(textOf(await client.callTool({ name: 'whoami', arguments: {} })), String(instance.pid));
    front.rule = undefined;
    while (events.length === 1) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(events, [`unhealthy ${front.url}/mcp`, `healthy ${front.url}/mcp`]);
    const pids = new Set<string>();
    for (let i = 0; i < 4; i++) pids.add(textOf(await client.callTool({ name: 'whoami', arguments: {} })));
    assert.equal(pids.size, 2);
    await client.close();
  });
});

for (const protocol of ['modern', 'legacy'] as const) {
  test(`one instance SIGKILLed and another drained under a loop of idempotent calls (${protocol}): no call fails`, async (t) => {
    const instances = await Promise.all([startInstance(), startInstance(), startInstance()]);
    const events: BalancedEvent[] = [];
    const client = await createBalancedClient({
      endpoints: instances.map((i) => i.url),
      protocol,
      healthCheck: { intervalMs: 200 },
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 1000 },
      onEvent: (e) => events.push(e),
    });
    const MAX_CALLS = 1200;
    const deadline = Date.now() + 30_000;
    let started = 0;
    let failed = 0;
    let afterKill: string[] = [];
    let killed = false;
    const failures: string[] = [];
    const worker = async () => {
      while (started < MAX_CALLS && Date.now() < deadline) {
        started++;
        try {
          const pid = textOf(await client.callTool({ name: 'whoami', arguments: {} }, { idempotent: true }));
          if (killed) afterKill.push(pid);
        } catch (error) {
          failed++;
          failures.push(String(error));
        }
      }
    };
    const chaos = (async () => {
      while (started < 200) await new Promise((resolve) => setTimeout(resolve, 5));
      await instances[0]!.kill('SIGKILL');
      killed = true;
      afterKill = [];
      while (started < 400) await new Promise((resolve) => setTimeout(resolve, 5));
      await instances[1]!.kill('SIGTERM');
    })();
    await Promise.all([...Array.from({ length: 8 }, worker), chaos]);
    assert.deepEqual(failures, []);
    assert.equal(failed, 0);
    assert.ok(started >= 400, `the loop ran past both events (${started} calls)`);
    assert.ok(afterKill.length > 0);
    assert.ok(!afterKill.includes(String(instances[0]!.pid)), 'nothing answered from the killed instance');
    assert.ok(afterKill.includes(String(instances[2]!.pid)));
    const killedStatus = client.endpoints()[0]!;
    assert.ok(killedStatus.state !== 'closed' || !killedStatus.healthy, JSON.stringify(killedStatus));
    const failovers = events.filter((e) => e.type === 'failover');
    assert.ok(failovers.length > 0, 'the failover is visible in the events');
    assert.ok(failovers.every((e) => e.type === 'failover' && e.to !== e.from));
    assert.ok(events.some((e) => e.type === 'breaker-open' && e.url === instances[0]!.url));
    t.diagnostic(
      `${started} calls, 0 failed, ${failovers.length} failovers, ${afterKill.length} answered after the kill`,
    );
    await client.close();
    await Promise.all(instances.map((i) => i.kill('SIGKILL')));
  });
}
