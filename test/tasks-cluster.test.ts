/**
 * Tasks across instances: a real redis-server, three `remote-mcp serve --redis` instances of the task fixture and
 * a real nginx (deploy/nginx/nginx.conf, round robin) in front. A task created through nginx is read, answered
 * and cancelled on each instance directly; its notifications reach a listener on another instance; the limits
 * hold for the cluster; and the instance running a task is SIGKILLed: another instance reports the task failed
 * once its lease runs out, instead of leaving it working.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { clusterMissing } from './support/binaries.js';
import { startCluster, type Cluster, type ClusterNode } from './support/cluster.js';
import { listenToTasks, rpc, until } from './support/task-rpc.js';

const CLUSTER_MISSING = clusterMissing();
/** Short, so a dead instance's task is failed within a second or so. */
const LEASE_MS = 900;
/** Bounded polls, 20 ms apart: up to 10 s on a loaded machine (the other test files run alongside). */
const POLLS = 500;

describe('tasks across three instances sharing Redis behind nginx', { skip: CLUSTER_MISSING }, () => {
  let cluster: Cluster;
  const previousTrace = process.env.TASK_FIXTURE_TRACE;

  before(async () => {
    process.env.TASK_FIXTURE_TRACE = '1'; // the instances say which of them runs each task
    cluster = await startCluster({
      module: 'build/test/fixtures/task-server.js',
      args: ['--tasks-lease-ms', String(LEASE_MS), '--tasks-max-tasks', '4'],
    });
  });
  after(async () => {
    await cluster?.stop();
    if (previousTrace === undefined) delete process.env.TASK_FIXTURE_TRACE;
    else process.env.TASK_FIXTURE_TRACE = previousTrace;
  });

  /** The instance whose output says it runs `taskId`. */
  async function runnerOf(taskId: string): Promise<ClusterNode> {
    for (let i = 0; i < POLLS; i++) {
      const node = cluster.nodes.find((candidate) => candidate.output().includes(`task ${taskId} on `));
      if (node !== undefined) return node;
      await sleep(20);
    }
    throw new Error(`no instance says it runs ${taskId}`);
  }

  test('created through nginx, the task is read, answered and cancelled on every instance', async () => {
    const created = (await rpc(cluster.url, 'tools/call', { name: 'ask' })).message.result;
    assert.equal(created.resultType, 'task');
    for (const node of cluster.nodes) {
      const seen = (await rpc(node.url, 'tasks/get', { taskId: created.taskId })).message.result;
      assert.equal(seen.taskId, created.taskId, node.url);
    }
    const [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    await until(a.url, created.taskId, (task) => task.status === 'input_required');
    // A listener on one instance hears what happens to the task wherever it runs.
    const stream = await listenToTasks(c.url, 'cluster-listen', [created.taskId]);
    try {
      await stream.waitFor((e) => e.message?.params?.status === 'input_required');
      const ack = await rpc(b.url, 'tasks/update', {
        taskId: created.taskId,
        inputResponses: { 'elicitation-1': { action: 'accept', content: { name: 'Grace' } } },
      });
      assert.deepEqual(ack.message.result, { resultType: 'complete' });
      const done = await stream.waitFor((e) => e.message?.params?.status === 'completed');
      assert.deepEqual(done.message.params.result, { content: [{ type: 'text', text: 'hello Grace' }] });
      assert.equal((await until(a.url, created.taskId, (task) => task.status === 'completed')).status, 'completed');
    } finally {
      stream.destroy();
    }

    const long = (await rpc(cluster.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    const runner = await runnerOf(long.taskId);
    const elsewhere = cluster.nodes.find((node) => node !== runner)!;
    const cancelled = await rpc(elsewhere.url, 'tasks/cancel', { taskId: long.taskId });
    assert.deepEqual(cancelled.message.result, { resultType: 'complete' });
    assert.equal((await rpc(runner.url, 'tasks/get', { taskId: long.taskId })).message.result.status, 'cancelled');
    // The cancellation reached the handler on the instance running it.
    for (let i = 0; i < POLLS; i++) {
      const stats = await rpc(runner.url, 'tools/call', { name: 'stats' });
      if (JSON.parse(stats.message.result.content[0].text).aborted >= 1) break;
      assert.ok(i < POLLS - 1, 'the runner never saw the cancellation');
      await sleep(20);
    }
  });

  test('tasks.maxTasks holds for the cluster, not per instance', async () => {
    const open: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const created = await rpc(cluster.nodes[i % 3]!.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } });
        assert.equal(created.message.result?.resultType, 'task', JSON.stringify(created.message));
        open.push(created.message.result.taskId);
      }
      const refused = await rpc(cluster.nodes[1]!.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } });
      assert.equal(refused.message.error.code, -32029);
      assert.match(refused.message.error.message, /tasks\.maxTasks \(4\)/);
    } finally {
      for (const taskId of open) await rpc(cluster.url, 'tasks/cancel', { taskId });
    }
  });

  test('the instance running a task is SIGKILLed: the task is failed, with a clear message, and readable elsewhere', async () => {
    const created = (await rpc(cluster.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    const runner = await runnerOf(created.taskId);
    const survivor = cluster.nodes.find((node) => node !== runner)!;
    assert.equal((await rpc(survivor.url, 'tasks/get', { taskId: created.taskId })).message.result.status, 'working');
    await runner.kill('SIGKILL');
    const killedAt = Date.now();
    const failed = await until(survivor.url, created.taskId, (task) => task.status !== 'working', undefined, 10_000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, -32603);
    assert.equal(
      failed.error.message,
      `The instance running this task stopped before it finished (its lease of ${LEASE_MS} ms ran out)`,
    );
    assert.ok(Date.now() - killedAt < 10_000);
    // Every instance left reads the same failed task.
    for (const node of cluster.nodes.filter((candidate) => candidate !== runner)) {
      const seen = (await rpc(node.url, 'tasks/get', { taskId: created.taskId })).message.result;
      assert.equal(seen.status, 'failed', node.url);
    }
  });
});
