/**
 * The Redis stores against a real redis-server: the same cases as the in-memory stores where the behaviour is
 * the same (one table, both implementations), what only a shared store does (two connections are two
 * instances), expiry by TTL, the bounds, and outages (a killed Redis, a frozen one) with recovery of the same
 * objects once Redis is back.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { type EventBus, InMemoryEventBus, type ServerEvent } from '../src/state/event-bus.js';
import { type EventStore, InMemoryEventStore } from '../src/state/event-store.js';
import { InMemorySessionStore, type SessionRecord, type SessionStore } from '../src/state/session-store.js';
import { InMemoryRateLimitStore, type RateLimitStore } from '../src/security/rate-limit.js';
import {
  createRedisState,
  REDIS_DEFAULTS,
  RedisConnection,
  RedisEventBus,
  RedisEventStore,
  RedisRateLimitStore,
  RedisSessionStore,
  redactUrl,
  resolveRedisOptions,
  StateUnavailableError,
} from '../src/state/redis/index.js';
import { withTimeout } from './helpers.js';
import { type RedisServer, startRedis } from './support/redis-server.js';
import { redisMissing } from './support/binaries.js';
/** Skipped without the program outside CI (test/support/binaries.ts). */
const REDIS_MISSING = redisMissing();

/** Bounds every wait on a condition (polling), so nothing here can hang. */
const WAIT_MS = 10_000;
const POLL_MS = 20;

let redis: RedisServer;
const opened: Array<{ close(): Promise<void> }> = [];
let prefixes = 0;

before(async () => {
  if (REDIS_MISSING === false) redis = await startRedis();
});

after(async () => {
  for (const connection of opened) await connection.close();
  await redis?.stop();
});

/** A connection to `server` with a key prefix of its own unless one is given (two with one prefix = two instances). */
function connect(
  options: { keyPrefix?: string; commandTimeoutMs?: number; reconnectMaxDelayMs?: number } = {},
  server: RedisServer = redis,
  onError: (error: Error) => void = () => {},
): RedisConnection {
  const connection = new RedisConnection(
    resolveRedisOptions({ url: server.url, keyPrefix: options.keyPrefix ?? `t${++prefixes}:`, ...options }),
    onError,
  );
  opened.push(connection);
  return connection;
}

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Resolves true once `promise` settles successfully, false when it rejects. */
function succeeds(promise: Promise<unknown>): Promise<boolean> {
  return promise.then(
    () => true,
    () => false,
  );
}

function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof StateUnavailableError, `expected StateUnavailableError, got ${String(error)}`);
  assert.equal(error.name, 'StateUnavailableError');
  assert.equal(error.code, 'REMOTE_MCP_STATE_UNAVAILABLE');
  return true;
}

function record(id: string, fields: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    protocolVersion: '2025-11-25',
    identity: '{"clientInfo":{}}',
    createdAt: 1000,
    lastSeenAt: 1000,
    ...fields,
  };
}

/** A small seeded generator, so a failing mixed sequence can be replayed exactly. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('resolveRedisOptions', () => {
  test('fills the defaults; a bare URL is { url }', () => {
    assert.deepEqual(resolveRedisOptions({ url: 'redis://127.0.0.1:6379' }), {
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'remote-mcp:',
      connectTimeoutMs: 5000,
      commandTimeoutMs: 2000,
      reconnectMaxDelayMs: 2000,
    });
    assert.deepEqual(REDIS_DEFAULTS, {
      keyPrefix: 'remote-mcp:',
      connectTimeoutMs: 5000,
      commandTimeoutMs: 2000,
      reconnectMaxDelayMs: 2000,
    });
    assert.ok(Object.isFrozen(REDIS_DEFAULTS));
    assert.equal(resolveRedisOptions('rediss://cache.internal:6380/2').url, 'rediss://cache.internal:6380/2');
  });

  const refusals: Array<[unknown, string]> = [
    [
      42,
      'option `redis` must be an object { url, keyPrefix?, connectTimeoutMs?, commandTimeoutMs?, reconnectMaxDelayMs? }; received 42.',
    ],
    [{}, 'option `redis.url` must be a redis:// or rediss:// URL; received undefined.'],
    [
      { url: 'http://127.0.0.1:6379' },
      'option `redis.url` must be a redis:// or rediss:// URL; received "http://127.0.0.1:6379/".',
    ],
    [
      { url: 'http://user:secret@127.0.0.1' },
      'option `redis.url` must be a redis:// or rediss:// URL; received "http://user@127.0.0.1/".',
    ],
    [
      { url: 'not a url secret' },
      'option `redis.url` must be a redis:// or rediss:// URL; received "(a string that is not a URL)".',
    ],
    [
      { url: 'redis://h', keyPrefix: '' },
      'option `redis.keyPrefix` must be a non-empty string without { or }; received "".',
    ],
    [
      { url: 'redis://h', keyPrefix: 'a{b}:' },
      'option `redis.keyPrefix` must be a non-empty string without { or }; received "a{b}:".',
    ],
    [
      { url: 'redis://h', commandTimeoutMs: 0 },
      'option `redis.commandTimeoutMs` must be an integer from 1 to 3600000 (milliseconds); received 0.',
    ],
    [
      { url: 'redis://h', connectTimeoutMs: 1.5 },
      'option `redis.connectTimeoutMs` must be an integer from 1 to 3600000 (milliseconds); received 1.5.',
    ],
    [
      { url: 'redis://h', reconnectMaxDelayMs: '100' },
      'option `redis.reconnectMaxDelayMs` must be an integer from 1 to 3600000 (milliseconds); received "100".',
    ],
    [
      { url: 'redis://h', keyprefix: 'x:' },
      'option `redis.keyprefix` must be unset (the redis options are url, keyPrefix, connectTimeoutMs, commandTimeoutMs, reconnectMaxDelayMs); received "x:".',
    ],
  ];
  for (const [value, message] of refusals) {
    test(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(
        () => resolveRedisOptions(value),
        (error: any) => error.code === 'REMOTE_MCP_INVALID_OPTION' && error.message === `remote-mcp: ${message}`,
      );
    });
  }

  test('redactUrl drops the password only', () => {
    assert.equal(redactUrl('redis://user:secret@127.0.0.1:6379/1'), 'redis://user@127.0.0.1:6379/1');
    assert.equal(redactUrl('rediss://:secret@cache:6380'), 'rediss://cache:6380');
    assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  });
});

describe('session stores (the same cases for both)', { skip: REDIS_MISSING }, () => {
  const implementations: Array<[string, () => SessionStore]> = [
    ['InMemorySessionStore', () => new InMemorySessionStore()],
    ['RedisSessionStore', () => new RedisSessionStore(connect(), 60_000)],
  ];
  for (const [name, make] of implementations) {
    describe(name, () => {
      test('create adds until `limit` records exist, then refuses; count counts them', async () => {
        const store = make();
        assert.equal(await store.create(record('a'), 2), true);
        assert.equal(await store.create(record('b'), 2), true);
        assert.equal(await store.create(record('c'), 2), false);
        assert.equal(await store.count(), 2);
        assert.equal(await store.get('c'), undefined);
      });

      test('get answers every stored field, undefined for an unknown id', async () => {
        const store = make();
        const full = record('full', {
          transport: 'sse',
          principal: 'apikey:k1',
          logLevel: 'warning',
          subscriptions: ['file:///a', 'file:///b'],
          createdAt: 1_700_000_000_123,
          lastSeenAt: 1_700_000_000_456,
        });
        assert.equal(await store.create(full, 10), true);
        assert.deepEqual(await store.get('full'), full);
        assert.equal(await store.get('nobody'), undefined);
      });

      test('touch records activity (lastSeenAt), false for an unknown id', async () => {
        const store = make();
        await store.create(record('a'), 10);
        assert.equal(await store.touch('a', 5000), true);
        assert.equal((await store.get('a'))?.lastSeenAt, 5000);
        assert.equal(await store.touch('nobody', 5000), false);
        assert.equal(await store.get('nobody'), undefined);
      });

      test('update rewrites an existing record and never creates one', async () => {
        const store = make();
        await store.create(record('a'), 10);
        await store.update(record('a', { logLevel: 'error', subscriptions: ['x://y'], lastSeenAt: 2000 }));
        assert.deepEqual(
          await store.get('a'),
          record('a', { logLevel: 'error', subscriptions: ['x://y'], lastSeenAt: 2000 }),
        );
        await store.update(record('ghost'));
        assert.equal(await store.get('ghost'), undefined);
        assert.equal(await store.count(), 1);
      });

      test('delete answers whether it deleted; the freed place counts for the limit', async () => {
        const store = make();
        await store.create(record('a'), 1);
        assert.equal(await store.create(record('b'), 1), false);
        assert.equal(await store.delete('a'), true);
        assert.equal(await store.delete('a'), false);
        assert.equal(await store.get('a'), undefined);
        assert.equal(await store.count(), 0);
        assert.equal(await store.create(record('b'), 1), true);
      });
    });
  }
});

describe('RedisSessionStore: shared and expiring', { skip: REDIS_MISSING }, () => {
  test('two instances: a session created by one is read, touched and deleted by the other', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const a = new RedisSessionStore(connect({ keyPrefix }), 60_000);
    const b = new RedisSessionStore(connect({ keyPrefix }), 60_000);
    const opened = record('s1', { principal: 'p', logLevel: 'info' });
    assert.equal(await a.create(opened, 10), true);
    assert.deepEqual(await b.get('s1'), opened);
    assert.equal(await b.touch('s1', 9999), true);
    assert.equal((await a.get('s1'))?.lastSeenAt, 9999);
    await b.update({ ...opened, subscriptions: ['u://1'], lastSeenAt: 10_000 });
    assert.deepEqual((await a.get('s1'))?.subscriptions, ['u://1']);
    assert.equal(await a.delete('s1'), true);
    assert.equal(await b.get('s1'), undefined);
  });

  test('getAndTouch reads the record and renews its TTL and score in one call; undefined once it is gone', async () => {
    const connection = connect();
    const store = new RedisSessionStore(connection, 60_000);
    const key = `${connection.prefix}session:g`;
    const opened = record('g', { principal: 'p' });
    await store.create(opened, 10);
    await connection.run((client) => client.pExpire(key, 5_000));
    assert.deepEqual(await store.getAndTouch('g', 12_345), { ...opened, lastSeenAt: 12_345 });
    assert.equal((await store.get('g'))?.lastSeenAt, 12_345);
    const ttl = await connection.run((client) => client.pTTL(key));
    assert.ok(ttl > 50_000, `the TTL is idleTimeoutMs again (PTTL ${ttl})`);
    assert.deepEqual(await store.alive(['g', 'never']), [true, false]);
    await store.delete('g');
    assert.equal(await store.getAndTouch('g', 12_346), undefined);
    assert.deepEqual(await store.alive(['g']), [false]);
  });

  test('the limit holds for the cluster: 40 concurrent creates on two instances, limit 7, admit exactly 7', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const stores = [connect({ keyPrefix }), connect({ keyPrefix })].map((c) => new RedisSessionStore(c, 60_000));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.create(record(`s${i}`), 7)));
    assert.equal(results.filter(Boolean).length, 7);
    assert.equal(await stores[0]!.count(), 7);
    assert.equal(await stores[1]!.count(), 7);
  });

  test('an idle session expires by TTL: get finds nothing, sweep returns its id once, its place is free', async () => {
    const connection = connect();
    const store = new RedisSessionStore(connection, 300);
    await store.create(record('idle'), 1);
    assert.equal(await store.create(record('refused'), 1), false);
    await until('the idle session to expire', async () => (await store.get('idle')) === undefined);
    assert.equal(await store.touch('idle', Date.now()), false);
    assert.deepEqual(await store.sweep(Date.now()), ['idle']);
    assert.deepEqual(await store.sweep(Date.now()), []);
    assert.equal(await store.count(), 0);
    assert.equal(await store.create(record('next'), 1), true);
  });

  test('create and count prune expired sessions themselves (the limit does not wait for a sweep)', async () => {
    const store = new RedisSessionStore(connect(), 300);
    await store.create(record('a'), 2);
    await store.create(record('b'), 2);
    await until(
      'both sessions to expire',
      async () => (await store.get('a')) === undefined && (await store.get('b')) === undefined,
    );
    assert.equal(await store.create(record('c'), 2), true);
    assert.equal(await store.count(), 1);
    assert.deepEqual(await store.sweep(Date.now()), []);
  });

  test('touch and update renew the TTL and the expiry score; the record key lives idleTimeoutMs', async () => {
    const connection = connect();
    const store = new RedisSessionStore(connection, 60_000);
    const key = `${connection.prefix}session:a`;
    const set = `${connection.prefix}sessions`;
    await store.create(record('a'), 10);
    const ttl = await connection.run((client) => client.pTTL(key));
    assert.ok(ttl > 50_000 && ttl <= 60_000, `a fresh session lives idleTimeoutMs (PTTL ${ttl})`);
    for (const renew of [() => store.touch('a', 2000), () => store.update(record('a', { lastSeenAt: 3000 }))]) {
      await connection.run((client) => client.pExpire(key, 1000));
      await connection.run((client) => client.zAdd(set, { score: 1, value: 'a' }));
      await renew();
      assert.ok((await connection.run((client) => client.pTTL(key))) > 50_000);
      assert.ok(Number(await connection.run((client) => client.zScore(set, 'a'))) > Date.now() + 50_000);
    }
  });

  test('sweep takes at most SWEEP_BATCH ids per call, the rest on the next', async () => {
    const connection = connect();
    const store = new RedisSessionStore(connection, 60_000);
    const set = `${connection.prefix}sessions`;
    // 1005 members already past their expiry (their keys never existed): what a burst of expiries leaves.
    await connection.run((client) =>
      client.zAdd(
        set,
        Array.from({ length: 1005 }, (_, i) => ({ score: 1, value: `old${i}` })),
      ),
    );
    assert.equal((await store.sweep(0)).length, 1000);
    assert.equal((await store.sweep(0)).length, 5);
    assert.deepEqual(await store.sweep(0), []);
  });

  test('check reports the cluster-wide count and the latency; close leaves the shared connection open', async () => {
    const connection = connect();
    const store = new RedisSessionStore(connection, 60_000);
    await store.create(record('a'), 10);
    const details = (await store.check()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(details).sort(), ['kind', 'latencyMs', 'sessions', 'url']);
    assert.equal(details.kind, 'redis');
    assert.equal(details.sessions, 1);
    assert.equal(details.url, redis.url);
    assert.equal(typeof details.latencyMs, 'number');
    await store.close();
    assert.equal(connection.ready, true);
    assert.equal(await store.count(), 1);
  });
});

describe('event stores (the same cases for both)', { skip: REDIS_MISSING }, () => {
  const bounds = {
    maxEventsPerStream: 3,
    maxStreamsPerSession: 2,
    maxEventBytesPerStream: 120,
    maxEventBytesPerSession: 150,
  };
  const implementations: Array<[string, () => EventStore]> = [
    [
      'InMemoryEventStore',
      () =>
        new InMemoryEventStore(
          bounds.maxEventsPerStream,
          bounds.maxStreamsPerSession,
          bounds.maxEventBytesPerStream,
          bounds.maxEventBytesPerSession,
        ),
    ],
    ['RedisEventStore', () => new RedisEventStore(connect(), { ...bounds, ttlMs: 60_000 })],
  ];
  const ids = (replayed: { events: Array<{ id: string }> } | undefined) => replayed?.events.map((event) => event.id);

  for (const [name, make] of implementations) {
    describe(name, () => {
      test('ids are <stream>.<sequence>; a replay returns the events after the id, priming (null) events too', async () => {
        const store = make();
        assert.equal(await store.append('s', 'st', null, 0), 'st.1');
        assert.equal(await store.append('s', 'st', { n: 1 }, 7), 'st.2');
        assert.equal(await store.append('s', 'st', { n: 2 }, 7), 'st.3');
        assert.deepEqual(await store.replay('s', 'st.0'), {
          streamId: 'st',
          events: [
            { id: 'st.1', message: null },
            { id: 'st.2', message: { n: 1 } },
            { id: 'st.3', message: { n: 2 } },
          ],
        });
        assert.deepEqual(await store.replay('s', 'st.2'), {
          streamId: 'st',
          events: [{ id: 'st.3', message: { n: 2 } }],
        });
        assert.deepEqual(await store.replay('s', 'st.3'), { streamId: 'st', events: [] });
        assert.deepEqual(await store.replay('s', 'st.99'), { streamId: 'st', events: [] });
      });

      test('a replay is undefined for an unknown stream, another session, or an id that names no stream', async () => {
        const store = make();
        await store.append('s', 'st', { n: 1 }, 7);
        for (const id of ['other.0', 'nodot', '.1', 'st.x', 'st.1.5', 'st.9007199254740993'])
          assert.equal(await store.replay('s', id), undefined, id);
        assert.equal(await store.replay('someone-else', 'st.0'), undefined);
        // Number() reads these as it does for the in-memory store: 'st.' is after 0, 'st.-1' after -1.
        assert.deepEqual(ids(await store.replay('s', 'st.')), ['st.1']);
        assert.deepEqual(ids(await store.replay('s', 'st.-1')), ['st.1']);
      });

      test('a stream keeps its newest maxEventsPerStream events; ids go on', async () => {
        const store = make();
        for (let i = 1; i <= 5; i++) assert.equal(await store.append('s', 'st', { i }, 1), `st.${i}`);
        assert.deepEqual(ids(await store.replay('s', 'st.0')), ['st.3', 'st.4', 'st.5']);
        assert.deepEqual(ids(await store.replay('s', 'st.4')), ['st.5']);
      });

      test('a stream keeps at most maxEventBytesPerStream bytes; an event over the bound alone is not kept', async () => {
        const store = make();
        await store.append('s', 'st', { a: 1 }, 50);
        await store.append('s', 'st', { a: 2 }, 50);
        await store.append('s', 'st', { a: 3 }, 50);
        assert.deepEqual(ids(await store.replay('s', 'st.0')), ['st.2', 'st.3']);
        assert.equal(await store.append('s', 'st', { big: true }, 121), 'st.4');
        assert.deepEqual(await store.replay('s', 'st.0'), { streamId: 'st', events: [] });
        assert.equal(await store.append('s', 'st', { a: 5 }, 10), 'st.5');
        assert.deepEqual(ids(await store.replay('s', 'st.0')), ['st.5']);
      });

      test('a session keeps its newest maxStreamsPerSession streams: the oldest is forgotten', async () => {
        const store = make();
        await store.append('s', 'one', { n: 1 }, 1);
        await store.append('s', 'two', { n: 2 }, 1);
        await store.append('s', 'three', { n: 3 }, 1);
        assert.equal(await store.replay('s', 'one.0'), undefined);
        assert.deepEqual(ids(await store.replay('s', 'two.0')), ['two.1']);
        assert.deepEqual(ids(await store.replay('s', 'three.0')), ['three.1']);
        // A forgotten stream that comes back starts over, as a new stream.
        assert.equal(await store.append('s', 'one', { n: 4 }, 1), 'one.1');
        assert.equal(await store.replay('s', 'two.0'), undefined);
      });

      test("a session keeps at most maxEventBytesPerSession: its oldest events go first, whichever stream they're on", async () => {
        const store = make();
        await store.append('s', 'a', { n: 1 }, 40);
        await store.append('s', 'b', { n: 2 }, 60);
        await store.append('s', 'a', { n: 3 }, 30);
        // 130 bytes kept; the next 40 make 170 > 150: a.1, the session's oldest, goes.
        await store.append('s', 'b', { n: 4 }, 40);
        assert.deepEqual(ids(await store.replay('s', 'a.0')), ['a.2']);
        assert.deepEqual(ids(await store.replay('s', 'b.0')), ['b.1', 'b.2']);
        // Evicted for size as for count: a stream with no event left stays known.
        await store.append('t', 'a', { n: 1 }, 40);
        await store.append('t', 'b', { n: 2 }, 100);
        await store.append('t', 'b', { n: 3 }, 20);
        assert.deepEqual(ids(await store.replay('t', 'a.0')), []);
        assert.deepEqual(ids(await store.replay('t', 'b.0')), ['b.1', 'b.2']);
      });

      test('sessions are separate: the same stream id in two sessions, and dropSession forgets one only', async () => {
        const store = make();
        await store.append('s1', 'st', { s: 1 }, 1);
        await store.append('s2', 'st', { s: 2 }, 1);
        await store.append('s2', 'st', { s: 2 }, 1);
        assert.deepEqual(ids(await store.replay('s1', 'st.0')), ['st.1']);
        assert.deepEqual(ids(await store.replay('s2', 'st.0')), ['st.1', 'st.2']);
        await store.dropSession('s2');
        await store.dropSession('never-existed');
        assert.equal(await store.replay('s2', 'st.0'), undefined);
        assert.deepEqual(ids(await store.replay('s1', 'st.0')), ['st.1']);
        assert.equal(await store.append('s2', 'st', { again: true }, 1), 'st.1');
      });

      test('a caller of the three-argument append has the message measured as JSON', async () => {
        const store = make();
        const append = store.append.bind(store) as (s: string, st: string, m: unknown) => Promise<string>;
        await append('s', 'st', { pad: 'x'.repeat(80) }); // 90 bytes as JSON
        await append('s', 'st', { pad: 'y' }); // 11
        assert.deepEqual(ids(await store.replay('s', 'st.0')), ['st.1', 'st.2']);
        await append('s', 'st', { pad: 'z'.repeat(10) }); // 20: 121 > 120, st.1 goes
        assert.deepEqual(ids(await store.replay('s', 'st.0')), ['st.2', 'st.3']);
      });
    });
  }

  test('a long mixed sequence: the Redis store keeps, trims and replays exactly what the in-memory one does', async () => {
    const mixed = {
      maxEventsPerStream: 4,
      maxStreamsPerSession: 3,
      maxEventBytesPerStream: 900,
      maxEventBytesPerSession: 1500,
    };
    const memory = new InMemoryEventStore(4, 3, 900, 1500);
    const shared = new RedisEventStore(connect(), { ...mixed, ttlMs: 60_000 });
    const random = mulberry32(20260728);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const sessions = ['s1', 's2'] as const;
    const streams = ['a', 'b', 'c', 'd', 'e'] as const;
    const issued: string[] = [];
    for (let step = 0; step < 400; step++) {
      const session = pick(sessions);
      const roll = random();
      if (roll < 0.02) {
        await memory.dropSession(session);
        await shared.dropSession(session);
        continue;
      }
      const stream = pick(streams);
      const size = roll < 0.06 ? 950 : Math.floor(random() * 450);
      const message = roll < 0.12 ? null : { step, pad: 'x'.repeat(size) };
      const bytes = message === null ? 0 : Buffer.byteLength(JSON.stringify(message));
      const id = await memory.append(session, stream, message, bytes);
      assert.equal(await shared.append(session, stream, message, bytes), id, `step ${step}`);
      issued.push(id);
      if (step % 8 !== 7) continue;
      const probes = [...streams.map((s) => `${s}.0`), pick(issued), pick(issued), pick(issued)];
      for (const who of sessions) {
        for (const probe of probes)
          assert.deepEqual(
            await shared.replay(who, probe),
            await memory.replay(who, probe),
            `step ${step}: ${who} ${probe}`,
          );
      }
    }
  });
});

describe('RedisEventStore: shared and expiring', { skip: REDIS_MISSING }, () => {
  const bounds = {
    maxEventsPerStream: 10,
    maxStreamsPerSession: 4,
    maxEventBytesPerStream: 10_000,
    maxEventBytesPerSession: 20_000,
  };

  test('two instances append to one stream: the ids continue, each replays what the other wrote', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const a = new RedisEventStore(connect({ keyPrefix }), { ...bounds, ttlMs: 60_000 });
    const b = new RedisEventStore(connect({ keyPrefix }), { ...bounds, ttlMs: 60_000 });
    assert.equal(await a.append('s', 'st', null, 0), 'st.1');
    assert.equal(await b.append('s', 'st', { from: 'b' }, 12), 'st.2');
    assert.equal(await a.append('s', 'st', { from: 'a' }, 12), 'st.3');
    const expected = {
      streamId: 'st',
      events: [
        { id: 'st.2', message: { from: 'b' } },
        { id: 'st.3', message: { from: 'a' } },
      ],
    };
    assert.deepEqual(await b.replay('s', 'st.1'), expected);
    assert.deepEqual(await a.replay('s', 'st.1'), expected);
  });

  test('concurrent appends of two instances to one session never break a bound', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const small = {
      maxEventsPerStream: 5,
      maxStreamsPerSession: 2,
      maxEventBytesPerStream: 1000,
      maxEventBytesPerSession: 1500,
    };
    const stores = [connect({ keyPrefix }), connect({ keyPrefix })].map(
      (c) => new RedisEventStore(c, { ...small, ttlMs: 60_000 }),
    );
    const appended = await Promise.all(
      Array.from({ length: 60 }, (_, i) => stores[i % 2]!.append('s', `st${i % 3}`, { i, pad: 'p'.repeat(150) }, 170)),
    );
    assert.equal(appended.length, 60);
    const connection = connect({ keyPrefix });
    const meta = await connection.run((client) => client.hGetAll(`${keyPrefix}events:{s}:meta`));
    const kept = await connection.run((client) => client.zCard(`${keyPrefix}events:{s}:order`));
    assert.ok(Number(meta.bytes) <= 1500, `session bytes ${meta.bytes}`);
    // The tallies agree with what is kept: no interleaving of the two instances left them off.
    assert.equal(Number(meta.bytes), kept * 170);
    assert.equal(await connection.run((client) => client.hLen(`${keyPrefix}events:{s}:events`)), kept);
    const streams = await connection.run((client) => client.zRange(`${keyPrefix}events:{s}:streams`, 0, -1));
    assert.ok(streams.length <= 2);
    for (const stream of streams) {
      const replayed = await stores[0]!.replay('s', `${stream}.0`);
      assert.ok(replayed !== undefined && replayed.events.length <= 5);
    }
  });

  test("a session's keys share its hash tag, all carry the TTL, and dropSession removes every one", async () => {
    const connection = connect();
    const store = new RedisEventStore(connection, { ...bounds, ttlMs: 60_000 });
    await store.append('sess-1', 'st', { n: 1 }, 8);
    const keys = (await connection.run((client) => client.keys(`${connection.prefix}*`))).sort();
    assert.deepEqual(
      keys,
      ['events', 'meta', 'order', 'sizes', 'streams'].map((name) => `${connection.prefix}events:{sess-1}:${name}`),
    );
    for (const key of keys) {
      const ttl = await connection.run((client) => client.pTTL(key));
      assert.ok(ttl > 50_000 && ttl <= 60_000, `${key} PTTL ${ttl}`);
    }
    await store.dropSession('sess-1');
    assert.deepEqual(await connection.run((client) => client.keys(`${connection.prefix}*`)), []);
  });

  test("an abandoned session's events go by TTL", async () => {
    const connection = connect();
    const store = new RedisEventStore(connection, { ...bounds, ttlMs: 300 });
    await store.append('s', 'st', { n: 1 }, 8);
    assert.deepEqual((await store.replay('s', 'st.0'))?.events.length, 1);
    // Watched from outside: a replay would renew the TTL it waits for.
    await until(
      'the events to expire',
      async () => (await connection.run((client) => client.keys(`${connection.prefix}*`))).length === 0,
    );
    assert.equal(await store.replay('s', 'st.0'), undefined);
  });

  test('check reports Redis and its latency', async () => {
    const details = (await new RedisEventStore(connect(), { ...bounds, ttlMs: 1000 }).check()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(details).sort(), ['kind', 'latencyMs', 'url']);
    assert.equal(details.kind, 'redis');
  });
});

describe('event buses (the same cases for both)', { skip: REDIS_MISSING }, () => {
  const implementations: Array<[string, (onError: (error: unknown) => void) => Promise<EventBus>]> = [
    ['InMemoryEventBus', async (onError) => new InMemoryEventBus(onError)],
    [
      'RedisEventBus',
      async (onError) => {
        const bus = new RedisEventBus(connect(), onError);
        await bus.subscribed;
        return bus;
      },
    ],
  ];
  for (const [name, make] of implementations) {
    test(`${name}: every listener hears a publish once; a listener that throws does not stop the others`, async () => {
      const errors: unknown[] = [];
      const bus = await make((error) => errors.push(error));
      const heard: string[] = [];
      bus.subscribe(() => {
        throw new Error('broken listener');
      });
      const stop = bus.subscribe((event) => heard.push(`1 ${event.kind}`));
      bus.subscribe((event) => heard.push(`2 ${event.kind}`));
      await bus.publish({ kind: 'tools_list_changed' });
      assert.deepEqual(heard, ['1 tools_list_changed', '2 tools_list_changed']);
      assert.deepEqual(
        errors.map((error) => (error as Error).message),
        ['broken listener'],
      );
      stop();
      await bus.publish({ kind: 'resource_updated', uri: 'file:///x' });
      assert.deepEqual(heard.slice(2), ['2 resource_updated']);
      await bus.close();
      await bus.publish({ kind: 'prompts_list_changed' });
      assert.equal(heard.length, 3);
    });
  }
});

describe('RedisEventBus across instances', { skip: REDIS_MISSING }, () => {
  test('an event published on one instance reaches every listener of every instance exactly once', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const [a, b, c] = [1, 2, 3].map(() => new RedisEventBus(connect({ keyPrefix })));
    await Promise.all([a!.subscribed, b!.subscribed, c!.subscribed]);
    const heardA: string[] = [];
    const heardB: string[] = [];
    const label = (event: ServerEvent) => (event.kind === 'resource_updated' ? event.uri : event.kind);
    a!.subscribe((event) => heardA.push(label(event)));
    b!.subscribe((event) => heardB.push(label(event)));
    await a!.publish({ kind: 'resource_updated', uri: 'from-a' });
    await b!.publish({ kind: 'resource_updated', uri: 'from-b' });
    // Redis delivers a channel in order: once both have heard C's last event, everything before it arrived.
    await c!.publish({ kind: 'resource_updated', uri: 'from-c' });
    await until('both instances to hear from-c', () => heardA.includes('from-c') && heardB.includes('from-c'));
    assert.deepEqual(heardA.sort(), ['from-a', 'from-b', 'from-c']);
    assert.deepEqual(heardB.sort(), ['from-a', 'from-b', 'from-c']);
  });

  test('a message that is not an event is dropped and reported; later events still arrive', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const errors: string[] = [];
    const bus = new RedisEventBus(connect({ keyPrefix }), (error) => errors.push((error as Error).message));
    await bus.subscribed;
    const heard: ServerEvent[] = [];
    bus.subscribe((event) => heard.push(event));
    const other = connect({ keyPrefix });
    for (const junk of ['not json', '{"origin":"x"}', '{"origin":"x","event":{"kind":"resource_updated"}}', '[1]'])
      await other.publish(`${keyPrefix}events`, junk);
    await other.publish(
      `${keyPrefix}events`,
      JSON.stringify({ origin: 'x', event: { kind: 'resource_updated', uri: 'u', extra: 'dropped' } }),
    );
    await until('the valid event', () => heard.length === 1);
    assert.deepEqual(heard, [{ kind: 'resource_updated', uri: 'u' }]);
    assert.deepEqual(errors, [
      `event bus: dropped a message on ${keyPrefix}events that is not an event: not json`,
      `event bus: dropped a message on ${keyPrefix}events that is not an event: {"origin":"x"}`,
      `event bus: dropped a message on ${keyPrefix}events that is not an event: {"origin":"x","event":{"kind":"resource_updated"}}`,
      `event bus: dropped a message on ${keyPrefix}events that is not an event: [1]`,
    ]);
  });

  test('check reports the subscription; close ends it without closing the connection', async () => {
    const connection = connect();
    const bus = new RedisEventBus(connection);
    await bus.subscribed;
    bus.subscribe(() => {});
    const details = (await bus.check()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(details).sort(), ['kind', 'latencyMs', 'listeners', 'url']);
    assert.equal(details.listeners, 1);
    await bus.close();
    assert.equal(connection.isSubscribed(`${connection.prefix}events`), false);
    await assert.rejects(bus.check(), isUnavailable);
    assert.equal(connection.ready, true);
  });
});

describe('rate-limit stores (the same cases for both)', { skip: REDIS_MISSING }, () => {
  const implementations: Array<[string, () => RateLimitStore]> = [
    ['InMemoryRateLimitStore', () => new InMemoryRateLimitStore()],
    ['RedisRateLimitStore', () => new RedisRateLimitStore(connect())],
  ];
  for (const [name, make] of implementations) {
    test(`${name}: a window admits its points, then refuses with 0 remaining; keys and windows are separate`, async () => {
      const store = make();
      const window = { points: 3, durationSeconds: 60 };
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await store.consume('k', 1, window));
      assert.deepEqual(
        decisions.map(({ allowed, limit, remaining }) => ({ allowed, limit, remaining })),
        [
          { allowed: true, limit: 3, remaining: 2 },
          { allowed: true, limit: 3, remaining: 1 },
          { allowed: true, limit: 3, remaining: 0 },
          { allowed: false, limit: 3, remaining: 0 },
        ],
      );
      for (const decision of decisions) assert.ok(decision.resetSeconds >= 1 && decision.resetSeconds <= 60);
      assert.deepEqual(
        { ...(await store.consume('other', 2, window)), resetSeconds: 0 },
        { allowed: true, limit: 3, remaining: 1, resetSeconds: 0 },
      );
      const wider = { points: 5, durationSeconds: 60 };
      assert.equal((await store.consume('k', 1, wider)).remaining, 4);
      await store.close();
    });
  }

  test('RedisRateLimitStore: a 10/60 limit is 10 for the cluster (two instances, alternating)', async () => {
    const keyPrefix = `t${++prefixes}:`;
    const stores = [connect({ keyPrefix }), connect({ keyPrefix })].map((c) => new RedisRateLimitStore(c));
    const window = { points: 10, durationSeconds: 60 };
    const allowed: boolean[] = [];
    for (let i = 0; i < 16; i++) allowed.push((await stores[i % 2]!.consume('p:1.2.3.4', 1, window)).allowed);
    assert.deepEqual(allowed, [...Array(10).fill(true), ...Array(6).fill(false)]);
    const concurrent = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % 2]!.consume('p:concurrent', 1, window)),
    );
    assert.equal(concurrent.filter((decision) => decision.allowed).length, 10);
    const connection = connect({ keyPrefix });
    assert.equal(await connection.run((client) => client.get(`${keyPrefix}ratelimit:10/60:p:1.2.3.4`)), '16');
    const ttl = await connection.run((client) => client.pTTL(`${keyPrefix}ratelimit:10/60:p:1.2.3.4`));
    assert.ok(ttl > 0 && ttl <= 60_000);
  });
});

describe('createRedisState', { skip: REDIS_MISSING }, () => {
  test('importing the Redis stores loads no redis package: the first RedisConnection does', () => {
    const index = new URL('../src/state/redis/index.js', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('@redis'));
      const redis = await import(${JSON.stringify(index)});
      const before = loaded();
      const connection = new redis.RedisConnection(redis.resolveRedisOptions({ url: 'redis://127.0.0.1:1' }));
      await connection.loaded;
      const after = loaded();
      await connection.close();
      console.log(JSON.stringify({ before, after }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { before: false, after: true });
  });

  test('one connection and the four stores on it; close closes the connection once', async () => {
    const options = resolveRedisOptions({ url: redis.url, keyPrefix: `t${++prefixes}:` });
    const bounds = {
      sessionIdleTimeoutMs: 60_000,
      maxEventsPerStream: 100,
      maxStreamsPerSession: 16,
      maxEventBytesPerStream: 1 << 20,
      maxEventBytesPerSession: 1 << 21,
    };
    const state = await createRedisState(options, bounds, () => {});
    assert.ok(state.sessionStore instanceof RedisSessionStore);
    assert.ok(state.eventStore instanceof RedisEventStore);
    assert.ok(state.eventBus instanceof RedisEventBus);
    assert.ok(state.rateLimitStore instanceof RedisRateLimitStore);
    assert.equal(await state.sessionStore.create(record('a'), 1), true);
    assert.equal(await state.eventStore.append('a', 'st', null, 0), 'st.1');
    await state.eventBus.subscribed;
    assert.equal(state.connection.isSubscribed(`${options.keyPrefix}events`), true);
    await Promise.all([state.close(), state.close()]);
    await state.close();
    assert.equal(state.connection.ready, false);
    await assert.rejects(state.sessionStore.get('a'), (error: Error) => {
      isUnavailable(error);
      assert.equal(error.message, `Redis at ${redis.url} is closed (this connection was closed)`);
      return true;
    });
  });
});

describe('outages', { skip: REDIS_MISSING }, () => {
  const COMMAND_TIMEOUT_MS = 400;
  /** How much later than commandTimeoutMs a call may settle: the bound that proves nothing hangs. */
  const MARGIN_MS = 1500;
  const bounded = (promise: Promise<unknown>, what: string) =>
    withTimeout(promise, COMMAND_TIMEOUT_MS + MARGIN_MS, `${what} to settle`);
  let server: RedisServer;

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });

  const options = { commandTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMaxDelayMs: 100 };
  const stores = (connection: RedisConnection) => ({
    sessions: new RedisSessionStore(connection, 60_000),
    events: new RedisEventStore(connection, {
      maxEventsPerStream: 10,
      maxStreamsPerSession: 4,
      maxEventBytesPerStream: 10_000,
      maxEventBytesPerSession: 20_000,
      ttlMs: 60_000,
    }),
    bus: new RedisEventBus(connection),
    limits: new RedisRateLimitStore(connection),
  });
  /** One call of every store method (and the connection's own), each a thunk. */
  const everyCall = (
    s: ReturnType<typeof stores>,
    connection: RedisConnection,
  ): Array<[string, () => Promise<unknown>]> => [
    ['sessions.create', () => s.sessions.create(record('new'), 100)],
    ['sessions.get', () => s.sessions.get('kept')],
    ['sessions.touch', () => s.sessions.touch('kept', 5)],
    ['sessions.update', () => s.sessions.update(record('kept', { lastSeenAt: 5 }))],
    ['sessions.delete', () => s.sessions.delete('nobody')],
    ['sessions.count', () => s.sessions.count()],
    ['sessions.sweep', () => s.sessions.sweep(0)],
    ['sessions.check', () => s.sessions.check()],
    ['events.append', () => s.events.append('kept', 'st', { n: 1 }, 7)],
    ['events.replay', () => s.events.replay('kept', 'st.0')],
    ['events.dropSession', () => s.events.dropSession('nobody')],
    ['events.check', () => s.events.check()],
    ['bus.publish', () => s.bus.publish({ kind: 'tools_list_changed' })],
    ['bus.check', () => s.bus.check()],
    ['limits.consume', () => s.limits.consume('k', 1, { points: 1000, durationSeconds: 60 })],
    ['limits.check', () => s.limits.check()],
    ['connection.check', () => connection.check()],
    ['connection.publish', () => connection.publish('x', 'y')],
  ];

  test('Redis killed: every call rejects with StateUnavailableError at once, errors are reported once per connection; restarted: the same objects work again', async () => {
    const reported: Error[] = [];
    const connection = connect(options, server, (error) => reported.push(error));
    const s = stores(connection);
    await s.bus.subscribed;
    const heard: ServerEvent[] = [];
    s.bus.subscribe((event) => heard.push(event));
    assert.equal(await s.sessions.create(record('kept'), 100), true);

    await server.stop();
    await until('the clients to see Redis gone', () => !connection.ready);
    for (const [name, call] of everyCall(s, connection)) {
      await assert.rejects(bounded(call(), name), (error: Error) => {
        isUnavailable(error);
        assert.match(error.message, new RegExp(`^Redis at ${server.url} is unreachable`), name);
        return true;
      });
    }
    // The bus delivered locally before it failed to publish.
    assert.deepEqual(heard, [{ kind: 'tools_list_changed' }]);
    // Many failed reconnect attempts, one report per connection (commands, subscriber).
    const before = connection.errors;
    await until('several reconnect attempts', () => connection.errors >= before + 5);
    assert.deepEqual(
      reported.map((error) => /^Redis at \S+ is unreachable \((\w+) connection\): /.exec(error.message)?.[1]).sort(),
      ['commands', 'subscriber'],
    );
    for (const error of reported) isUnavailable(error);

    await server.restart();
    await until('the commands to work again', () => succeeds(connection.check()));
    // A restarted Redis is empty; the stores go on with it.
    assert.equal(await s.sessions.get('kept'), undefined);
    assert.equal(await s.sessions.create(record('kept'), 100), true);
    for (const [name, call] of everyCall(s, connection)) {
      if (name === 'bus.check') continue; // the subscription comes back on its own connection; waited for below
      await bounded(call(), name);
    }
    await until('the event subscription to be renewed', () => succeeds(s.bus.check()));
    const other = new RedisEventBus(connect({ keyPrefix: connection.prefix }, server));
    await other.subscribed;
    await other.publish({ kind: 'resource_updated', uri: 'after-restart' });
    await until('the event from another instance', () => heard.length === 3);
    assert.deepEqual(heard.slice(1), [
      { kind: 'tools_list_changed' },
      { kind: 'resource_updated', uri: 'after-restart' },
    ]);
    assert.equal(reported.length, 2);
  });

  test('Redis frozen (SIGSTOP): calls reject after commandTimeoutMs, late answers do no harm; resumed: everything works', async () => {
    const connection = connect(options, server);
    const s = stores(connection);
    await s.bus.subscribed;
    assert.equal(await s.sessions.create(record('kept', { logLevel: 'debug' }), 100), true);
    await s.events.append('kept', 'st', { n: 0 }, 7);

    await server.pause();
    try {
      const calls = everyCall(s, connection).filter(([name]) => name !== 'bus.check');
      // All at once: each is bounded by its own timer, not by the ones before it.
      const outcomes = await Promise.allSettled(calls.map(([name, call]) => bounded(call(), name)));
      outcomes.forEach((outcome, i) => {
        assert.equal(outcome.status, 'rejected', calls[i]![0]);
        const error = (outcome as PromiseRejectedResult).reason as Error;
        isUnavailable(error);
        assert.equal(
          error.message,
          `Redis at ${server.url} did not answer within ${COMMAND_TIMEOUT_MS} ms`,
          calls[i]![0],
        );
      });
    } finally {
      await server.resume();
    }
    // Redis runs what it was sent once it goes on (the update, the append, the create); the late answers are
    // dropped, and the replies of new commands are their own.
    await until('the commands to work again', () => succeeds(connection.check()));
    assert.deepEqual(await s.sessions.get('kept'), record('kept', { lastSeenAt: 5 }));
    assert.deepEqual(
      (await s.events.replay('kept', 'st.1'))?.events.map((event) => event.id),
      ['st.2'],
    );
    assert.equal(await s.sessions.count(), 2);
    const heard: ServerEvent[] = [];
    s.bus.subscribe((event) => heard.push(event));
    const other = new RedisEventBus(connect({ keyPrefix: connection.prefix }, server));
    await other.subscribed;
    await other.publish({ kind: 'prompts_list_changed' });
    await until('the event from another instance', () => heard.length === 1);
  });

  test('Redis unreachable from the start: calls reject at once, the URL shown without its password', async () => {
    const dead = await startRedis();
    await dead.stop();
    const url = `redis://user:secret@127.0.0.1:${dead.port}`;
    const reported: Error[] = [];
    const connection = new RedisConnection(resolveRedisOptions({ url, ...options }), (error) => reported.push(error));
    opened.push(connection);
    const sessions = new RedisSessionStore(connection, 1000);
    await assert.rejects(bounded(sessions.get('x'), 'get'), (error: Error) => {
      isUnavailable(error);
      assert.equal(
        error.message,
        `Redis at redis://user@127.0.0.1:${dead.port} is unreachable: connect ECONNREFUSED 127.0.0.1:${dead.port}`,
      );
      return true;
    });
    const bus = new RedisEventBus(connection, (error) => reported.push(error as Error));
    await bus.subscribed;
    await assert.rejects(bounded(bus.check(), 'bus.check'), isUnavailable);
    assert.ok(reported.length >= 1);
    for (const error of reported) assert.ok(!error.message.includes('secret'), error.message);

    // A bus whose first SUBSCRIBE failed because Redis was down: once Redis is up, the connection makes the
    // subscription by itself. (Without a password: the restarted Redis has none, AUTH would fail.)
    const withoutPassword = new RedisConnection(
      resolveRedisOptions({ url: `redis://127.0.0.1:${dead.port}`, keyPrefix: connection.prefix, ...options }),
    );
    opened.push(withoutPassword);
    const late = new RedisEventBus(withoutPassword);
    await assert.rejects(
      late.subscribed.then(() => late.check()),
      isUnavailable,
    );
    const heard: ServerEvent[] = [];
    late.subscribe((event) => heard.push(event));
    await dead.restart();
    try {
      await until('the subscription made once Redis is up', () => succeeds(late.check()));
      await connect({ keyPrefix: connection.prefix }, dead).publish(
        `${connection.prefix}events`,
        JSON.stringify({ origin: 'elsewhere', event: { kind: 'tools_list_changed' } }),
      );
      await until('the event', () => heard.length === 1);
    } finally {
      await dead.stop();
    }
  });
});
