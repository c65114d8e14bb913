/**
 * The `redis` section of `npm run bench`: what sharing state in Redis costs, and one instance against two behind
 * nginx. Needs /usr/bin/redis-server and nginx (test/support starts both: a real redis-server on a free loopback
 * port, nginx running the shipped deploy/nginx/nginx.conf); both are stopped by PID at the end.
 *
 *   1. 2025-era tools/call on open sessions, the Redis stores against the in-memory ones (target >= 0.7x);
 *   2. 2026-07-28 tools/call with Redis configured but not needed, against without (target >= 0.95x);
 *   3. one instance direct, one behind nginx, two behind nginx (separate processes sharing Redis), both eras.
 *
 * Every row also shows the CPU each kind of process spent per request (the server instances, nginx's workers,
 * redis-server) over the timed runs, and, for Redis targets, the round trips per request counted with MONITOR
 * in an untimed pass.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

import { startNginx } from '../test/support/nginx.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import {
  childrenOf,
  CONNECTIONS,
  type CallsRow,
  measureCalls,
  mib,
  ratio,
  ROLES,
  roundRatios,
  type Starter,
  startTarget,
  type Target,
} from './measure.js';
import { formatRoundTrips } from './redis-stats.js';

type Era = 'modern' | 'legacy';
const ERA_LABEL: Record<Era, string> = { modern: '2026-07-28', legacy: '2025-era' };

/** The targets of the Redis runs, started with a redis-server and a shared requestState key. */
function starters(redis: RedisServer) {
  const requestStateKey = randomBytes(32).toString('hex');
  /** One `remote-mcp-redis` process; the instances of one group share `prefix` (their cluster), groups do not. */
  const instance = async (label: string, prefix: string): Promise<Target> => {
    const target = await startTarget('remote-mcp-redis', {
      label,
      env: { BENCH_REDIS_URL: redis.url, BENCH_REDIS_PREFIX: prefix, BENCH_REQUEST_STATE_KEY: requestStateKey },
    });
    return {
      ...target,
      redis: { port: redis.port, prefix },
      processes: () => [...target.processes(), { role: 'redis', pid: redis.pid }],
    };
  };
  /** `count` instances behind one nginx (its own, with the shipped configuration). */
  const balanced = async (label: string, count: number, prefix: string): Promise<Target> => {
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => instance(`${label} #${i + 1}`, prefix)),
    );
    const instances = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = started.find((result) => result.status === 'rejected');
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    try {
      if (failed !== undefined) throw failed.reason;
      nginx = await startNginx({ upstreams: instances.map((target) => new URL(target.url).host) });
    } catch (error) {
      await Promise.all(instances.map((target) => target.stop()));
      throw error;
    }
    const proxy = nginx;
    return {
      name: label,
      url: `${proxy.url}/mcp`,
      redis: { port: redis.port, prefix },
      async memory() {
        const usage = await Promise.all(instances.map((target) => target.memory()));
        return {
          heapUsed: usage.reduce((sum, u) => sum + u.heapUsed, 0),
          rss: usage.reduce((sum, u) => sum + u.rss, 0),
        };
      },
      processes: () => [
        ...instances.flatMap((target) => target.processes().filter((p) => p.role === 'server')),
        { role: 'nginx', pid: proxy.pid },
        ...childrenOf(proxy.pid).map((pid) => ({ role: 'nginx' as const, pid })),
        { role: 'redis', pid: redis.pid },
      ],
      async stop() {
        await proxy.stop();
        await Promise.all(instances.map((target) => target.stop()));
      },
    };
  };
  const memory =
    (label: string): Starter =>
    () =>
      startTarget('remote-mcp', { label });
  return { instance, balanced, memory };
}

/** The per-round ratios behind a median, to show how far the rounds spread on this machine. */
const rounds = (rows: CallsRow[], name: string, reference: string) =>
  `; per round ${roundRatios(rows, name, reference)
    .map((value) => value.toFixed(2))
    .join(', ')}`;

/** Rows with the ratio to `reference` and the CPU per request of each kind of process. */
function scaleTable(rows: CallsRow[], reference: string) {
  const width = Math.max(12, reference.length + 5);
  const cpuHeader = ROLES.map((role) => `${role} us`.padStart(11)).join('');
  console.log(
    `  ${'target'.padEnd(20)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'RSS'.padStart(10)}${`vs ${reference}`.padStart(width)}${cpuHeader}`,
  );
  for (const row of rows) {
    const cpu = ROLES.map((role) => {
      const micros = row.cpuPerRequest.get(role);
      return (micros === undefined ? '' : micros.toFixed(0)).padStart(11);
    }).join('');
    console.log(
      `  ${row.name.padEnd(20)}${row.rps.toFixed(0).padStart(9)}${String(row.p50).padStart(9)}${String(row.p99).padStart(9)}${mib(row.rss).padStart(10)}${`${ratio(rows, row.name, reference).toFixed(2)}x`.padStart(width)}${cpu}`,
    );
  }
  for (const row of rows)
    if (row.roundTrips !== undefined) console.log(`  Redis, ${row.name}: ${formatRoundTrips(row.roundTrips)}`);
}

export async function measureScaleOut(): Promise<Array<readonly [string, boolean]>> {
  const redis = await startRedis();
  try {
    const { instance, balanced, memory } = starters(redis);
    console.log(
      `\nRedis stores (redis-server ${redis.url}, pid ${redis.pid}); CPU is us per request over the timed runs`,
    );
    const sessions = await measureCalls('legacy', [
      memory('in memory'),
      () => instance('redis', 'bench-legacy-redis:'),
    ]);
    const sessionsRatio = ratio(sessions, 'redis', 'in memory');
    console.log('\n2025-era tools/call on open sessions, the Redis stores against the in-memory ones');
    scaleTable(sessions, 'in memory');
    console.log(
      `  redis / in memory: ${sessionsRatio.toFixed(2)}x (target >= 0.7x)${rounds(sessions, 'redis', 'in memory')}`,
    );

    const stateless = await measureCalls('modern', [
      memory('without redis'),
      () => instance('redis', 'bench-modern-redis:'),
    ]);
    const statelessRatio = ratio(stateless, 'redis', 'without redis');
    console.log('\n2026-07-28 tools/call with Redis configured but not needed, against without');
    scaleTable(stateless, 'without redis');
    console.log(
      `  redis configured / without: ${statelessRatio.toFixed(2)}x (target >= 0.95x)${rounds(stateless, 'redis', 'without redis')}`,
    );

    console.log(
      `\nScale-out: instances with Redis, one direct, one and two behind nginx (deploy/nginx/nginx.conf), ${CONNECTIONS} connections`,
    );
    console.log(
      `  This machine has ${availableParallelism()} cores shared by the instances, nginx (its workers: \`worker_processes auto\`), redis-server`,
    );
    console.log(
      '  and the load generator: it cannot show linear scaling, and nginx itself takes CPU (the nginx us column).',
    );
    for (const era of ['legacy', 'modern'] as const) {
      const rows = await measureCalls(era, [
        () => instance('direct, 1 instance', `bench-${era}-direct:`),
        () => balanced('nginx, 1 instance', 1, `bench-${era}-nginx1:`),
        () => balanced('nginx, 2 instances', 2, `bench-${era}-nginx2:`),
      ]);
      console.log(`\n${ERA_LABEL[era]} tools/call${era === 'legacy' ? ' on open sessions' : ''}`);
      scaleTable(rows, 'nginx, 1 instance');
      console.log(
        `  2 instances / 1 behind nginx: ${ratio(rows, 'nginx, 2 instances', 'nginx, 1 instance').toFixed(2)}x (reported, no target)${rounds(rows, 'nginx, 2 instances', 'nginx, 1 instance')}`,
      );
      console.log(
        `  1 behind nginx / direct: ${ratio(rows, 'nginx, 1 instance', 'direct, 1 instance').toFixed(2)}x (reported, no target)`,
      );
    }
    return [
      ['2025-era sessions with Redis >= 0.7x of in memory', sessionsRatio >= 0.7],
      ['2026-07-28 with Redis configured >= 0.95x of without', statelessRatio >= 0.95],
    ];
  } finally {
    await redis.stop();
  }
}
