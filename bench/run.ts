/**
 * `npm run bench`: remote-mcp against the official SDK v2 and a bare node:http ceiling, in one run.
 *
 * Every server runs in its own process, the load (autocannon, or a ws client) in another. Rounds are interleaved,
 * each in a rotated order, so drift on the machine spreads over the targets; rates are the median round, ratios
 * the median of per-round ratios. Then 2025-era sessions and WebSockets are opened on fresh processes to measure memory per idle one.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (32), BENCH_SESSIONS (10000),
 * BENCH_WS_CONNECTIONS (10000, idle WebSockets for the memory figure), BENCH_ONLY (a comma list of sections:
 * http, sessions, websocket; all by default), BENCH_BASELINE (the root of another built remote-mcp checkout, e.g. a
 * `git worktree` of the last release after `npm run build`: its remote-mcp target joins the HTTP and WebSocket
 * rounds as `baseline`, so a change is measured before/after in the same run).
 */
import { fork, execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type { TargetName } from './targets.js';
import type { CallsConfig, SessionsConfig, WsCallsConfig } from './load.js';

const run = promisify(execFile);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const env = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const ROUNDS = env('BENCH_ROUNDS', 3);
const SECONDS = env('BENCH_SECONDS', 5);
const CONNECTIONS = env('BENCH_CONNECTIONS', 32);
const SESSIONS = env('BENCH_SESSIONS', 10_000);
const WS_CONNECTIONS = env('BENCH_WS_CONNECTIONS', 10_000);
const ALL_SECTIONS = ['http', 'sessions', 'websocket'];
const SECTIONS = new Set((process.env.BENCH_ONLY ?? ALL_SECTIONS.join(',')).split(',').map((name) => name.trim()));
for (const name of SECTIONS)
  if (!ALL_SECTIONS.includes(name))
    throw new Error(`BENCH_ONLY takes a comma list of ${ALL_SECTIONS.join(', ')}; got ${name}`);

const BASELINE = process.env.BENCH_BASELINE;
/** A target of this checkout, or `baseline`: the remote-mcp target of the BENCH_BASELINE checkout. */
type Name = TargetName | 'baseline';
const withBaseline = (names: Name[]): Name[] => (BASELINE === undefined ? names : [...names, 'baseline']);

interface Target {
  name: Name;
  url: string;
  child: ChildProcess;
  memory(): Promise<{ heapUsed: number; rss: number }>;
}

async function startTarget(name: Name): Promise<Target> {
  const script = name === 'baseline' ? join(BASELINE!, 'build/bench/targets.js') : here('./targets.js');
  const child = fork(script, [name === 'baseline' ? 'remote-mcp' : name], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 15_000);
    child.once('message', (message: { type: string; url: string }) => {
      clearTimeout(timer);
      resolve(message.url);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const memory = () =>
    new Promise<{ heapUsed: number; rss: number }>((resolve) => {
      child.once('message', (message: { heapUsed: number; rss: number }) => resolve(message));
      child.send({ type: 'memory' });
    });
  return { name, url, child, memory };
}

async function load<T>(config: CallsConfig | SessionsConfig | WsCallsConfig): Promise<T> {
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
const rotated = <T>(items: T[], round: number): T[] => {
  const order = [...items.slice(round % items.length), ...items.slice(0, round % items.length)];
  return round % 2 === 0 ? order.reverse() : order;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function measureCalls(era: 'modern' | 'legacy', names: Name[]) {
  const targets = await Promise.all(names.map(startTarget));
  const sessionIds = new Map<Name, string[]>();
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
  // Warm-up, not recorded: lets the JIT settle so round 1 measures steady state like the others.
  for (const target of targets)
    await load<CallResult>({
      mode: 'calls',
      url: target.url,
      era,
      connections: CONNECTIONS,
      durationSeconds: 2,
      sessionIds: sessionIds.get(target.name),
    });
  const samples = new Map<Name, CallResult[]>(names.map((name) => [name, []]));
  const rss = new Map<Name, number>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const target of rotated(targets, round)) {
      const result = await load<CallResult>({
        mode: 'calls',
        url: target.url,
        era,
        connections: CONNECTIONS,
        durationSeconds: SECONDS,
        sessionIds: sessionIds.get(target.name),
      });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(
          `${target.name} (${era}) answered ${result.non2xx} non-2xx and ${result.errors} errors of ${result.total}`,
        );
      samples.get(target.name)!.push(result);
      rss.set(target.name, Math.max(rss.get(target.name) ?? 0, (await target.memory()).rss));
    }
    process.stderr.write(`  ${era} round ${round}/${ROUNDS} done\n`);
  }
  for (const target of targets) target.child.kill();
  return names.map((name) => {
    const list = samples.get(name)!;
    return {
      name,
      rps: median(list.map((r) => r.requestsPerSecond)),
      perRound: list.map((r) => r.requestsPerSecond),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      rss: rss.get(name)!,
    };
  });
}

/**
 * Ratio of two targets as the median of their per-round ratios: each round measures the targets back to back,
 * so a ratio within a round cancels the machine's drift between rounds (on a shared 2-core machine the load
 * generator's own speed, which bounds the ceilings, moves by tens of percent from run to run).
 */
function ratio(rows: Array<{ name: string; perRound: number[] }>, name: string, reference: string): number {
  const a = rows.find((row) => row.name === name)!.perRound;
  const b = rows.find((row) => row.name === reference)!.perRound;
  return median(a.map((value, round) => value / b[round]!));
}

function table(
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

async function idleSessions(name: TargetName) {
  const target = await startTarget(name);
  const before = await target.memory();
  await load({ mode: 'sessions', url: target.url, count: SESSIONS, concurrency: 16, protocolVersion: '2025-11-25' });
  const after = await target.memory();
  target.child.kill();
  return {
    name,
    heapPerSession: (after.heapUsed - before.heapUsed) / SESSIONS,
    rssPerSession: (after.rss - before.rss) / SESSIONS,
  };
}

interface WsResult {
  messagesPerSecond: number;
  p50: number;
  p99: number;
}

/** WebSocket tools/call: one connection with 64 requests in flight, and 64 connections with 4 each. */
async function measureWebSocket() {
  const targets = await Promise.all(withBaseline(['remote-mcp', 'ws-ceiling']).map(startTarget));
  const shapes = [
    { label: '1 connection x 64 in flight', connections: 1, inFlight: 64 },
    { label: '64 connections x 4 in flight', connections: 64, inFlight: 4 },
  ];
  const rows: Array<{ shape: string; name: string; rate: number; perRound: number[]; p50: number; p99: number }> = [];
  for (const shape of shapes) {
    for (const target of targets)
      await load<WsResult>({
        mode: 'ws-calls',
        url: target.url,
        connections: shape.connections,
        inFlight: shape.inFlight,
        durationSeconds: 2,
      });
    const samples = new Map<string, WsResult[]>(targets.map((t) => [t.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of rotated(targets, round)) {
        samples.get(target.name)!.push(
          await load<WsResult>({
            mode: 'ws-calls',
            url: target.url,
            connections: shape.connections,
            inFlight: shape.inFlight,
            durationSeconds: SECONDS,
          }),
        );
      }
    }
    for (const target of targets) {
      const list = samples.get(target.name)!;
      rows.push({
        shape: shape.label,
        name: target.name,
        rate: median(list.map((r) => r.messagesPerSecond)),
        perRound: list.map((r) => r.messagesPerSecond),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
      });
    }
    process.stderr.write(`  websocket ${shape.label} done\n`);
  }
  for (const target of targets) target.child.kill();
  return rows;
}

/** The SDK's own cost per call (bench/sdk-dispatch.ts), median of ROUNDS runs in fresh processes. */
async function sdkDispatch(): Promise<{ callsPerSecond: number; microsecondsPerCall: number }> {
  const runs: Array<{ callsPerSecond: number; microsecondsPerCall: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const { stdout } = await run(process.execPath, [here('./sdk-dispatch.js')], { timeout: 180_000 });
    runs.push(JSON.parse(stdout.trim()) as { callsPerSecond: number; microsecondsPerCall: number });
  }
  return runs.sort((a, b) => a.callsPerSecond - b.callsPerSecond)[Math.floor(runs.length / 2)]!;
}

/** Memory per idle WebSocket connection: WS_CONNECTIONS sockets held open by another process. */
async function idleWebSockets() {
  const target = await startTarget('remote-mcp');
  const before = await target.memory();
  const holder = spawn(
    process.execPath,
    [here('./load.js'), JSON.stringify({ mode: 'ws-idle', url: target.url, count: WS_CONNECTIONS })],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('idle WebSockets did not open within 120 s')), 120_000);
    holder.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    holder.once('exit', (code) => reject(new Error(`the WebSocket holder exited with ${code}`)));
  });
  const after = await target.memory();
  holder.stdin!.end();
  target.child.kill();
  return {
    heapPerConnection: (after.heapUsed - before.heapUsed) / WS_CONNECTIONS,
    rssPerConnection: (after.rss - before.rss) / WS_CONNECTIONS,
  };
}

console.log(
  `remote-mcp bench: ${ROUNDS} interleaved rounds x ${SECONDS} s, ${CONNECTIONS} connections, load from a separate process (autocannon)\n`,
);

const checks: Array<readonly [string, boolean]> = [];

if (SECTIONS.has('http')) {
  const modern = await measureCalls(
    'modern',
    withBaseline(['remote-mcp', 'remote-mcp-metrics', 'sdk-modern', 'ceiling']),
  );
  console.log('2026-07-28 tools/call (stateless; remote-mcp-metrics is remote-mcp with metrics: true)');
  table(modern, 'sdk-modern', 'ceiling');
  const metricsCost = 1 - ratio(modern, 'remote-mcp-metrics', 'remote-mcp');
  console.log(
    `  metrics on cost ${(metricsCost * 100).toFixed(1)}% of remote-mcp's throughput (median of per-round ratios)`,
  );

  const legacy = await measureCalls('legacy', withBaseline(['remote-mcp', 'sdk-sessions']));
  console.log('\n2025-era tools/call (one session per connection, protocol 2025-11-25)');
  table(legacy, 'sdk-sessions');
  if (BASELINE !== undefined) {
    console.log(
      `\nremote-mcp / baseline (${BASELINE}), median of per-round ratios: 2026-07-28 ${ratio(modern, 'remote-mcp', 'baseline').toFixed(3)}, 2025-era ${ratio(legacy, 'remote-mcp', 'baseline').toFixed(3)}`,
    );
  }
  checks.push(
    ['2026-07-28 tools/call >= 3x the SDK', ratio(modern, 'remote-mcp', 'sdk-modern') >= 3],
    ['2026-07-28 tools/call >= 50% of the ceiling', ratio(modern, 'remote-mcp', 'ceiling') >= 0.5],
    ['metrics on cost < 10% of throughput', metricsCost < 0.1],
    ['2025-era tools/call >= 2x the SDK', ratio(legacy, 'remote-mcp', 'sdk-sessions') >= 2],
  );
}

if (SECTIONS.has('sessions')) {
  console.log(`\nIdle 2025-era sessions: ${SESSIONS} opened, memory after GC`);
  const idle = [await idleSessions('remote-mcp'), await idleSessions('sdk-sessions')];
  for (const row of idle)
    console.log(
      `  ${row.name.padEnd(14)} heap ${(row.heapPerSession / 1024).toFixed(2)} KB/session   RSS ${(row.rssPerSession / 1024).toFixed(2)} KB/session`,
    );
  checks.push(['idle 2025-era session < 10 KB heap', idle[0]!.heapPerSession < 10 * 1024]);
}

if (SECTIONS.has('websocket')) {
  const webSocket = await measureWebSocket();
  console.log('\nWebSocket 2026-07-28 tools/call (messages/s, latency ms)');
  for (const shape of [...new Set(webSocket.map((row) => row.shape))]) {
    const rows = webSocket.filter((r) => r.shape === shape);
    for (const row of rows) {
      console.log(
        `  ${shape.padEnd(30)}${row.name.padEnd(12)}${row.rate.toFixed(0).padStart(9)} msg/s  p50 ${String(row.p50).padStart(6)}  p99 ${String(row.p99).padStart(6)}  ${(ratio(rows, row.name, 'ws-ceiling') * 100).toFixed(0).padStart(4)}% of ceiling`,
      );
    }
  }
  if (BASELINE !== undefined) {
    for (const shape of [...new Set(webSocket.map((row) => row.shape))]) {
      const rows = webSocket.filter((r) => r.shape === shape);
      console.log(
        `  remote-mcp / baseline, ${shape}: ${ratio(rows, 'remote-mcp', 'baseline').toFixed(3)} (median of per-round ratios)`,
      );
    }
  }
  const dispatch = await sdkDispatch();
  console.log(
    `\n  The SDK alone (in process, no transport, 64 in flight): ${dispatch.callsPerSecond} calls/s, ${dispatch.microsecondsPerCall} us a call.`,
  );
  console.log(
    "  A server that lets the SDK handle each request pays that on top of the ceiling's own work; the bound that implies:",
  );
  for (const shape of [...new Set(webSocket.map((row) => row.shape))]) {
    const ceiling = webSocket.find((row) => row.shape === shape && row.name === 'ws-ceiling')!.rate;
    const bound = 1 / (1 / dispatch.callsPerSecond + 1 / ceiling);
    console.log(
      `  ${shape.padEnd(30)}${bound.toFixed(0).padStart(9)} msg/s  ${((bound / ceiling) * 100).toFixed(0).padStart(4)}% of ceiling`,
    );
  }
  const idleWs = await idleWebSockets();
  console.log(`\nIdle WebSocket connections: ${WS_CONNECTIONS} open, memory after GC`);
  console.log(
    `  remote-mcp     heap ${(idleWs.heapPerConnection / 1024).toFixed(2)} KB/connection   RSS ${(idleWs.rssPerConnection / 1024).toFixed(2)} KB/connection`,
  );
  const wsRatio = (shape: string) =>
    ratio(
      webSocket.filter((r) => r.shape === shape),
      'remote-mcp',
      'ws-ceiling',
    );
  checks.push(
    ['WebSocket tools/call, 1 connection, >= 60% of the ws ceiling', wsRatio('1 connection x 64 in flight') >= 0.6],
    ['WebSocket tools/call, 64 connections, >= 60% of the ws ceiling', wsRatio('64 connections x 4 in flight') >= 0.6],
    ['idle WebSocket connection < 20 KB of RSS', idleWs.rssPerConnection < 20 * 1024],
  );
}

console.log('\nTargets');
for (const [label, met] of checks) console.log(`  ${met ? 'met    ' : 'MISSED '} ${label}`);
