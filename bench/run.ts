/**
 * `npm run bench`: remote-mcp against the official SDK v2 and a bare node:http ceiling, in one run.
 *
 * Every server runs in its own process, the load (autocannon, or a ws client) in another. Rounds are interleaved,
 * each in a rotated order, so drift on the machine spreads over the targets; rates are the median round, ratios
 * the median of per-round ratios. Then 2025-era sessions and WebSockets are opened on fresh processes to measure memory per idle one.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_CONNECTIONS (32), BENCH_SESSIONS (10000),
 * BENCH_WS_CONNECTIONS (10000, idle WebSockets for the memory figure), BENCH_ONLY (a comma list of sections:
 * http, sessions, websocket, redis, loadgen, balanced, gateway, tasks; all by default), BENCH_MONITOR_REQUESTS (2000, the untimed pass that counts
 * Redis round trips), BENCH_BASELINE (the root of another built remote-mcp checkout, e.g. a
 * `git worktree` of the last release after `npm run build`: its remote-mcp target joins the HTTP and WebSocket
 * rounds as `baseline`, so a change is measured before/after in the same run).
 * The `redis` section (bench/scale-out.ts) starts a redis-server and nginx of its own. The `loadgen` section
 * (bench/loadgen.ts) sets `remote-mcp bench` against autocannon on one server; `balanced` (bench/balanced.ts) the
 * balanced client over three servers against the plain SDK client on one; `gateway` (bench/gateway.ts)
 * tools/call through `serve --stdio` against supergateway serving the same stdio server; `tasks` (bench/tasks.ts)
 * task creation and tasks/get with the in-memory and the Redis store.
 */
import { spawn } from 'node:child_process';

import {
  BASELINE,
  CONNECTIONS,
  forked,
  here,
  load,
  measureCalls,
  median,
  ratio,
  ROUNDS,
  rotated,
  run,
  SECONDS,
  SESSIONS,
  startTarget,
  table,
  WS_CONNECTIONS,
  withBaseline,
} from './measure.js';
import { measureBalanced } from './balanced.js';
import { measureGateway } from './gateway.js';
import { measureLoadgen } from './loadgen.js';
import { measureScaleOut } from './scale-out.js';
import { measureTasks } from './tasks.js';
import type { TargetName } from './targets.js';

const ALL_SECTIONS = ['http', 'sessions', 'websocket', 'redis', 'loadgen', 'balanced', 'gateway', 'tasks'];
const SECTIONS = new Set((process.env.BENCH_ONLY ?? ALL_SECTIONS.join(',')).split(',').map((name) => name.trim()));
for (const name of SECTIONS)
  if (!ALL_SECTIONS.includes(name))
    throw new Error(`BENCH_ONLY takes a comma list of ${ALL_SECTIONS.join(', ')}; got ${name}`);

async function idleSessions(name: TargetName) {
  const target = await startTarget(name);
  const before = await target.memory();
  await load({ mode: 'sessions', url: target.url, count: SESSIONS, concurrency: 16, protocolVersion: '2025-11-25' });
  const after = await target.memory();
  await target.stop();
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
  const targets = await Promise.all(withBaseline(['remote-mcp', 'ws-ceiling']).map((name) => startTarget(name)));
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
  for (const target of targets) await target.stop();
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
  await target.stop();
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
    forked(withBaseline(['remote-mcp', 'remote-mcp-metrics', 'sdk-modern', 'ceiling'])),
  );
  console.log('2026-07-28 tools/call (stateless; remote-mcp-metrics is remote-mcp with metrics: true)');
  table(modern, 'sdk-modern', 'ceiling');
  const metricsCost = 1 - ratio(modern, 'remote-mcp-metrics', 'remote-mcp');
  console.log(
    `  metrics on cost ${(metricsCost * 100).toFixed(1)}% of remote-mcp's throughput (median of per-round ratios)`,
  );

  const legacy = await measureCalls('legacy', forked(withBaseline(['remote-mcp', 'sdk-sessions'])));
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

if (SECTIONS.has('redis')) checks.push(...(await measureScaleOut()));
if (SECTIONS.has('loadgen')) checks.push(...(await measureLoadgen()));
if (SECTIONS.has('balanced')) checks.push(...(await measureBalanced()));
if (SECTIONS.has('gateway')) checks.push(...(await measureGateway()));
if (SECTIONS.has('tasks')) checks.push(...(await measureTasks()));

console.log('\nTargets');
for (const [label, met] of checks) console.log(`  ${met ? 'met    ' : 'MISSED '} ${label}`);
