/**
 * What every section of `npm run bench` shares: the run's size (from the environment), the targets (each a
 * server in its own process, or a group of processes behind nginx), the load generator, the interleaved rounds,
 * and how rates and ratios are taken from them.
 */
import { execFile, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type { CallsConfig, SessionsConfig, WsCallsConfig } from './load.js';
import { monitorRedis, type RoundTrips } from './redis-stats.js';
import type { TargetName } from './targets.js';

export const run = promisify(execFile);
export const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
export const ROUNDS = positive('BENCH_ROUNDS', 3);
export const SECONDS = positive('BENCH_SECONDS', 5);
export const CONNECTIONS = positive('BENCH_CONNECTIONS', 32);
export const SESSIONS = positive('BENCH_SESSIONS', 10_000);
export const WS_CONNECTIONS = positive('BENCH_WS_CONNECTIONS', 10_000);
/** Requests of the separate, untimed pass that counts Redis round trips with MONITOR (which slows Redis). */
export const MONITOR_REQUESTS = positive('BENCH_MONITOR_REQUESTS', 2_000);

export const BASELINE = process.env.BENCH_BASELINE;
/** A target of this checkout, or `baseline`: the remote-mcp target of the BENCH_BASELINE checkout. */
export type Name = TargetName | 'baseline';
export const withBaseline = (names: Name[]): Name[] => (BASELINE === undefined ? names : [...names, 'baseline']);

/** Whose CPU a process's time is: the MCP server, the balancer, or the state store. */
export type Role = 'server' | 'nginx' | 'redis';
export const ROLES: Role[] = ['server', 'nginx', 'redis'];

export interface Target {
  /** The row's label. */
  name: string;
  url: string;
  /** Memory of the server processes after a GC (summed over the instances of a group). */
  memory(): Promise<{ heapUsed: number; rss: number }>;
  /** The processes whose CPU time is charged to each request, read before and after every timed run. */
  processes(): Array<{ role: Role; pid: number }>;
  /** The Redis holding the target's state, and its key prefix: an untimed MONITOR pass counts its round trips. */
  redis?: { port: number; prefix: string };
  stop(): Promise<void>;
}

/** How long a server process may take to print its URL. */
const START_TIMEOUT_MS = 15_000;

/** Forks bench/targets.js (or the baseline checkout's) as `name`; `label` names the row, `env` is added. */
export async function startTarget(name: Name, options: { label?: string; env?: NodeJS.ProcessEnv } = {}) {
  const script = name === 'baseline' ? join(BASELINE!, 'build/bench/targets.js') : here('./targets.js');
  const label = options.label ?? name;
  const child = fork(script, [name === 'baseline' ? 'remote-mcp' : name], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start`)), START_TIMEOUT_MS);
    child.once('message', (message: { type: string; url: string }) => {
      clearTimeout(timer);
      resolve(message.url);
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const target: Target = {
    name: label,
    url,
    memory: () =>
      new Promise<{ heapUsed: number; rss: number }>((resolve) => {
        child.once('message', (message: { heapUsed: number; rss: number }) => resolve(message));
        child.send({ type: 'memory' });
      }),
    processes: () => [{ role: 'server', pid: child.pid! }],
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill();
      await exited;
    },
  };
  return target;
}

export async function load<T>(config: CallsConfig | SessionsConfig | WsCallsConfig): Promise<T> {
  const { stdout } = await run(process.execPath, [here('./load.js'), JSON.stringify(config)], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

interface CallResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

/**
 * The targets in a different order each round: whichever runs first gains nothing. Rotation alone keeps each
 * target's neighbours (the one before it always ran just before it, a heavy SDK run or the idle-server ceiling),
 * which biased one slot by about 5% in an A/A run (BENCH_BASELINE set to this checkout); every other round runs
 * the rotation backwards, so each target follows both of its neighbours equally often.
 */
export const rotated = <T>(items: T[], round: number): T[] => {
  const order = [...items.slice(round % items.length), ...items.slice(0, round % items.length)];
  return round % 2 === 0 ? order.reverse() : order;
};
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in µs; 0 once it is gone. */
function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The child processes of `pid` (nginx's workers of a master), read from /proc. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // Exited while the directory was read.
    }
  }
  return children;
}

function cpuByRole(target: Target): Map<Role, number> {
  const used = new Map<Role, number>();
  for (const { role, pid } of target.processes()) used.set(role, (used.get(role) ?? 0) + cpuMicros(pid));
  return used;
}

export interface CallsRow {
  name: string;
  rps: number;
  perRound: number[];
  p50: number;
  p99: number;
  rss: number;
  /** CPU µs per request of each role's processes over the timed runs. */
  cpuPerRequest: Map<Role, number>;
  /** Redis round trips per request, from the MONITOR pass (targets with `redis` only). */
  roundTrips: RoundTrips | undefined;
}

/** Each starter starts one target; every target is stopped at the end, also when a run fails. */
export type Starter = () => Promise<Target>;
export const forked = (names: Name[]): Starter[] => names.map((name) => () => startTarget(name));

export async function measureCalls(era: 'modern' | 'legacy', starters: Starter[]): Promise<CallsRow[]> {
  const started = await Promise.allSettled(starters.map((start) => start()));
  const targets = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return await measureStarted(era, targets);
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
}

async function measureStarted(era: 'modern' | 'legacy', targets: Target[]): Promise<CallsRow[]> {
  const sessionIds = new Map<string, string[]>();
  if (era === 'legacy') {
    for (const target of targets) {
      const { sessionIds: ids } = await load<{ sessionIds: string[] }>({
        mode: 'sessions',
        url: target.url,
        count: CONNECTIONS,
        concurrency: 8,
        protocolVersion: '2025-11-25',
      });
      sessionIds.set(target.name, ids);
    }
  }
  const calls = (target: Target, extra: { durationSeconds: number; amount?: number }) =>
    load<CallResult>({
      mode: 'calls',
      url: target.url,
      era,
      connections: CONNECTIONS,
      sessionIds: sessionIds.get(target.name),
      ...extra,
    });
  // Warm-up, not recorded: lets the JIT settle so round 1 measures steady state like the others.
  for (const target of targets) await calls(target, { durationSeconds: 2 });
  const samples = new Map<string, CallResult[]>(targets.map((target) => [target.name, []]));
  const cpu = new Map<string, Map<Role, number>>(targets.map((target) => [target.name, new Map()]));
  const rss = new Map<string, number>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of rotated(targets, round)) {
      const before = cpuByRole(target);
      const result = await calls(target, { durationSeconds: SECONDS });
      const after = cpuByRole(target);
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(
          `${target.name} (${era}) answered ${result.non2xx} non-2xx and ${result.errors} errors of ${result.total}`,
        );
      samples.get(target.name)!.push(result);
      const used = cpu.get(target.name)!;
      for (const [role, micros] of after) used.set(role, (used.get(role) ?? 0) + micros - (before.get(role) ?? 0));
      rss.set(target.name, Math.max(rss.get(target.name) ?? 0, (await target.memory()).rss));
    }
    process.stderr.write(`  ${era} round ${round}/${ROUNDS} done\n`);
  }
  const roundTrips = new Map<string, RoundTrips>();
  for (const target of targets) {
    if (target.redis === undefined) continue;
    const monitor = await monitorRedis(target.redis.port, target.redis.prefix);
    const result = await calls(target, { durationSeconds: SECONDS, amount: MONITOR_REQUESTS });
    roundTrips.set(target.name, await monitor.stop(result.total));
  }
  return targets.map(({ name }) => {
    const list = samples.get(name)!;
    const requests = list.reduce((sum, r) => sum + r.total, 0);
    return {
      name,
      rps: median(list.map((r) => r.requestsPerSecond)),
      perRound: list.map((r) => r.requestsPerSecond),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      rss: rss.get(name)!,
      cpuPerRequest: new Map([...cpu.get(name)!].map(([role, micros]) => [role, micros / requests])),
      roundTrips: roundTrips.get(name),
    };
  });
}

/**
 * Ratio of two targets as the median of their per-round ratios: each round measures the targets back to back,
 * so a ratio within a round cancels the machine's drift between rounds (on a shared 2-core machine the load
 * generator's own speed, which bounds the ceilings, moves by tens of percent from run to run).
 */
export function ratio(rows: Array<{ name: string; perRound: number[] }>, name: string, reference: string): number {
  return median(roundRatios(rows, name, reference));
}

/** The ratio of two targets in each round, in round order. */
export function roundRatios(rows: Array<{ name: string; perRound: number[] }>, name: string, reference: string) {
  const a = rows.find((row) => row.name === name)!.perRound;
  const b = rows.find((row) => row.name === reference)!.perRound;
  return a.map((value, round) => value / b[round]!);
}

export function table(
  rows: Array<{ name: string; rps: number; perRound: number[]; p50: number; p99: number; rss: number }>,
  reference: string,
  ceiling?: string,
) {
  console.log(
    `  ${'target'.padEnd(20)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'RSS'.padStart(10)}${'vs SDK'.padStart(9)}${ceiling !== undefined ? 'vs ceiling'.padStart(12) : ''}`,
  );
  for (const row of rows) {
    const vsSdk = `${ratio(rows, row.name, reference).toFixed(2)}x`;
    const vsTop = ceiling !== undefined ? `${(ratio(rows, row.name, ceiling) * 100).toFixed(0)}%` : '';
    console.log(
      `  ${row.name.padEnd(20)}${row.rps.toFixed(0).padStart(9)}${String(row.p50).padStart(9)}${String(row.p99).padStart(9)}${mib(row.rss).padStart(10)}${vsSdk.padStart(9)}${vsTop.padStart(ceiling !== undefined ? 12 : 0)}`,
    );
  }
}
