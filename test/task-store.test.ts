/**
 * The TaskStore contract, held by both implementations (in memory, and Redis against a real redis-server):
 * create with the two limits, get, compare-and-set updates (concurrent ones all applied), expiry ttlMs after
 * creation, the sweep's lease-expired ids, and change notifications; for Redis also what only a shared store
 * does (two stores on one prefix are two instances).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RedisConnection, RedisTaskStore, resolveRedisOptions } from '../src/state/redis/index.js';
import type { TaskRecord } from '../src/tasks/task-record.js';
import { InMemoryTaskStore, type TaskStore } from '../src/tasks/task-store.js';
import { redisMissing } from './support/binaries.js';
import { type RedisServer, startRedis } from './support/redis-server.js';

const REDIS_MISSING = redisMissing();
const LIMITS = { maxTasks: 3, maxTasksPerPrincipal: 2 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let redis: RedisServer | undefined;
const connections: RedisConnection[] = [];
let prefixes = 0;

before(async () => {
  if (REDIS_MISSING === false) redis = await startRedis();
});
after(async () => {
  for (const connection of connections) await connection.close();
  await redis?.stop();
});

function record(taskId: string, overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString();
  return {
    taskId,
    status: 'working',
    createdAt: now,
    lastUpdatedAt: now,
    ttlMs: 60_000,
    pollIntervalMs: 100,
    tool: 'work',
    instance: 'instance-a',
    leaseUntil: Date.now() + 60_000,
    ...overrides,
  };
}

function redisStore(prefix = `tasks${++prefixes}:`): RedisTaskStore {
  const connection = new RedisConnection(resolveRedisOptions({ url: redis!.url, keyPrefix: prefix }), () => {});
  connections.push(connection);
  return new RedisTaskStore(connection);
}

const implementations: Array<[string, () => Promise<TaskStore>, string | false]> = [
  ['in memory', async () => new InMemoryTaskStore(), false],
  [
    'Redis',
    async () => {
      const store = redisStore();
      await store.subscribed;
      return store;
    },
    REDIS_MISSING,
  ],
];

for (const [name, make, skip] of implementations) {
  describe(`TaskStore ${name}`, { skip }, () => {
    test('create honours maxTasks and maxTasksPerPrincipal; terminal tasks free their place', async () => {
      const store = await make();
      try {
        assert.equal(await store.create(record('a1', { owner: 'alice' }), LIMITS), 'created');
        assert.equal(await store.create(record('a2', { owner: 'alice' }), LIMITS), 'created');
        assert.equal(await store.create(record('a3', { owner: 'alice' }), LIMITS), 'principal-limit');
        assert.equal(await store.create(record('b1', { owner: 'bob' }), LIMITS), 'created');
        assert.equal(await store.create(record('c1', { owner: 'carol' }), LIMITS), 'limit');
        await store.update('a1', (current) => ({ ...current, status: 'completed', result: { content: [] } }));
        assert.equal(await store.create(record('a3', { owner: 'alice' }), LIMITS), 'created');
        assert.equal((await store.get('a1'))?.status, 'completed');
        assert.equal(await store.get('nope'), undefined);
      } finally {
        await store.close();
      }
    });

    test('update is a compare-and-set: concurrent changes are all applied; a missing task resolves undefined', async () => {
      const store = await make();
      try {
        await store.create(record('t1'), LIMITS);
        await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            store.update('t1', (current) => ({ ...current, issuedKeys: [...(current.issuedKeys ?? []), `k${index}`] })),
          ),
        );
        const keys = (await store.get('t1'))?.issuedKeys ?? [];
        assert.deepEqual([...keys].sort(), Array.from({ length: 10 }, (_, index) => `k${index}`).sort());
        const unchanged = await store.update('t1', () => undefined);
        assert.equal(unchanged?.taskId, 't1');
        assert.equal(await store.update('missing', (current) => current), undefined);
      } finally {
        await store.close();
      }
    });

    test('a record expires ttlMs after its creation', async () => {
      const store = await make();
      try {
        await store.create(record('short', { ttlMs: 300 }), LIMITS);
        assert.equal((await store.get('short'))?.taskId, 'short');
        await sleep(400);
        assert.equal(await store.get('short'), undefined);
        assert.equal(await store.update('short', (current) => current), undefined);
      } finally {
        await store.close();
      }
    });

    test('expiredLeases lists the unfinished tasks whose lease ended, not finished or renewed ones; renew tells no one', async () => {
      const store = await make();
      try {
        const past = Date.now() - 1000;
        await store.create(record('dead', { leaseUntil: past }), LIMITS);
        await store.create(record('alive'), LIMITS);
        await store.create(record('done', { leaseUntil: past }), LIMITS);
        await store.update('done', (current) => ({ ...current, status: 'cancelled' }));
        assert.deepEqual(await store.expiredLeases(Date.now(), 10), ['dead']);
        const heard: string[] = [];
        const stop = store.subscribe((changed) => heard.push(changed.taskId));
        const renewed = await store.renew('dead', Date.now() + 60_000);
        stop();
        assert.equal(renewed?.status, 'working');
        assert.ok((renewed?.leaseUntil ?? 0) > Date.now());
        assert.ok(((await store.get('dead'))?.leaseUntil ?? 0) > Date.now());
        assert.deepEqual(heard, [], 'a renewal tells no one');
        assert.deepEqual(await store.expiredLeases(Date.now(), 10), []);
        assert.equal(await store.renew('missing', Date.now()), undefined);
      } finally {
        await store.close();
      }
    });

    test('subscribers hear every create and change', async () => {
      const store = await make();
      try {
        const heard: string[] = [];
        const stop = store.subscribe((changed) => heard.push(`${changed.taskId}:${changed.status}`));
        await store.create(record('n1'), LIMITS);
        await store.update('n1', (current) => ({ ...current, status: 'completed' }));
        stop();
        await store.update('n1', (current) => ({ ...current, statusMessage: 'after' }));
        assert.deepEqual(heard, ['n1:working', 'n1:completed']);
      } finally {
        await store.close();
      }
    });
  });
}

test('InMemoryTaskStore refuses new tasks once it holds maxRecords, finished ones included', async () => {
  const store = new InMemoryTaskStore(2);
  try {
    await store.create(record('m1'), LIMITS);
    await store.update('m1', (current) => ({ ...current, status: 'completed' }));
    await store.create(record('m2'), LIMITS);
    assert.equal(await store.create(record('m3'), LIMITS), 'store-full');
    assert.equal((await store.get('m1'))?.status, 'completed');
  } finally {
    await store.close();
  }
});

describe('RedisTaskStore shared by two instances', { skip: REDIS_MISSING }, () => {
  test("one instance's create and changes are read by, and announced to, the other", async () => {
    const prefix = `shared${++prefixes}:`;
    const a = redisStore(prefix);
    const b = redisStore(prefix);
    await Promise.all([a.subscribed, b.subscribed]);
    try {
      const heard: string[] = [];
      b.subscribe((changed) => heard.push(`${changed.taskId}:${changed.status}`));
      await a.create(record('x1', { owner: 'alice' }), LIMITS);
      assert.equal((await b.get('x1'))?.owner, 'alice');
      await b.update('x1', (current) => ({ ...current, status: 'input_required', inputRequests: {} }));
      assert.equal((await a.get('x1'))?.status, 'input_required');
      await a.update('x1', (current) => ({ ...current, status: 'completed' }));
      for (let i = 0; i < 100 && heard.length < 3; i++) await sleep(20);
      assert.deepEqual(heard, ['x1:working', 'x1:input_required', 'x1:completed']);
      // The limits count the cluster's tasks: b sees a's.
      await a.create(record('x2', { owner: 'alice' }), LIMITS);
      await a.create(record('x3', { owner: 'alice' }), LIMITS);
      assert.equal(await b.create(record('x4', { owner: 'alice' }), LIMITS), 'principal-limit');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
