/**
 * The `loadgen` section of `npm run bench`: is `remote-mcp bench` cheap enough to measure a fast server? One
 * remote-mcp server (the `remote-mcp` target, its cheap echo tool) is loaded in interleaved rounds by autocannon
 * and by the built CLI (`remote-mcp bench --transport http --json`, a child process like autocannon's), with
 * the same POST (the bytes bench sends: src/cli/load/call-template.ts), connections and duration. Target: bench
 * reaches >= 0.7x autocannon's rate (median of per-round ratios). The same rounds run bench over the other
 * transports (2025-era sessions, HTTP+SSE, WebSocket) for their rates, without a target.
 *
 * Each row also shows the load generator's own CPU per request: the CPU of the child process, read from this
 * process's cutime/cstime (the CPU of reaped children) before and after it ran.
 */
import { readFileSync } from 'node:fs';

import { CallTemplate, callParams, modernCallHeaders } from '../src/cli/load/call-template.js';
import { CONNECTIONS, here, load, median, ROUNDS, rotated, run, SECONDS, startTarget } from './measure.js';

const TOOL = 'echo';
const ARGS = { text: 'hello' };
const CLI = here('../src/cli/main.js');
const TRANSPORTS = ['http', 'legacy', 'sse', 'ws'] as const;
type Generator = 'autocannon' | `bench ${(typeof TRANSPORTS)[number]}`;
const GENERATORS: Generator[] = ['autocannon', ...TRANSPORTS.map((t) => `bench ${t}` as const)];
/** Linux's USER_HZ, the unit of /proc/<pid>/stat CPU times. */
const TICKS_PER_SECOND = 100;

/** CPU (user + system) used by this process's reaped children so far, in µs. */
function childrenCpuMicros(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the state field: cutime is the 14th field of the remainder, cstime the 15th (stat(5) fields 16, 17).
  return ((Number(fields[13]) + Number(fields[14])) * 1e6) / TICKS_PER_SECOND;
}

interface Sample {
  rate: number;
  p50: number;
  p99: number;
  requests: number;
  cpuMicros: number;
}

async function autocannon(url: string, seconds: number): Promise<Sample> {
  const body = new CallTemplate('tools/call', callParams(TOOL, ARGS, true)).buffer().withId(1).toString();
  const before = childrenCpuMicros();
  const result = await load<{ requestsPerSecond: number; p50: number; p99: number; total: number; non2xx: number }>({
    mode: 'calls',
    url,
    era: 'modern',
    connections: CONNECTIONS,
    durationSeconds: seconds,
    body,
    headers: modernCallHeaders(TOOL),
  });
  if (result.non2xx > 0) throw new Error(`autocannon saw ${result.non2xx} non-2xx answers`);
  return {
    rate: result.requestsPerSecond,
    p50: result.p50,
    p99: result.p99,
    requests: result.total,
    cpuMicros: childrenCpuMicros() - before,
  };
}

/** What `remote-mcp bench --json` reports (the fields the sections read). */
export interface BenchReport {
  requestsPerSecond: number;
  requests: number;
  latencyMs: { p50: number; p99: number };
}

/** Runs the built `remote-mcp bench` as a child process; a run with failed calls throws with their kinds. */
export async function runBenchCli(
  url: string,
  call: { tool: string; args: unknown; transport: string; connections: number; seconds: number },
): Promise<BenchReport> {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'bench', url, '--tool', call.tool, '--args', JSON.stringify(call.args), '--transport', call.transport].concat(
      ['--connections', String(call.connections), '--duration', String(call.seconds), '--json'],
    ),
    { timeout: (call.seconds + 60) * 1000 },
  );
  const result = JSON.parse(stdout) as BenchReport & { failed: number; errors: Record<string, number> };
  if (result.failed > 0)
    throw new Error(`bench --transport ${call.transport} against ${url} failed: ${JSON.stringify(result.errors)}`);
  return result;
}

async function bench(url: string, transport: (typeof TRANSPORTS)[number], seconds: number): Promise<Sample> {
  const before = childrenCpuMicros();
  const result = await runBenchCli(url, { tool: TOOL, args: ARGS, transport, connections: CONNECTIONS, seconds });
  return {
    rate: result.requestsPerSecond,
    p50: result.latencyMs.p50,
    p99: result.latencyMs.p99,
    requests: result.requests,
    cpuMicros: childrenCpuMicros() - before,
  };
}

const measure = (generator: Generator, url: string, seconds: number) =>
  generator === 'autocannon'
    ? autocannon(url, seconds)
    : bench(url, generator.slice('bench '.length) as (typeof TRANSPORTS)[number], seconds);

export async function measureLoadgen(): Promise<Array<readonly [string, boolean]>> {
  const target = await startTarget('remote-mcp');
  const samples = new Map<Generator, Sample[]>(GENERATORS.map((generator) => [generator, []]));
  try {
    // Warm-up, not recorded: the server's JIT settles before round 1, as in the other sections.
    for (const generator of GENERATORS) await measure(generator, target.url, 2);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const generator of rotated(GENERATORS, round))
        samples.get(generator)!.push(await measure(generator, target.url, SECONDS));
      process.stderr.write(`  loadgen round ${round}/${ROUNDS} done\n`);
    }
  } finally {
    await target.stop();
  }
  const ratios = samples
    .get('bench http')!
    .map((sample, round) => sample.rate / samples.get('autocannon')![round]!.rate);
  console.log(
    `\nLoad generators on one remote-mcp server: 2026-07-28 tools/call ${TOOL}, ${CONNECTIONS} connections, one request in flight each`,
  );
  console.log(
    `  ${'generator'.padEnd(36)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'load CPU us/req'.padStart(17)}`,
  );
  const labels: Record<Generator, string> = {
    autocannon: 'autocannon (same POST)',
    'bench http': 'remote-mcp bench --transport http',
    'bench legacy': 'remote-mcp bench --transport legacy',
    'bench sse': 'remote-mcp bench --transport sse',
    'bench ws': 'remote-mcp bench --transport ws',
  };
  for (const generator of GENERATORS) {
    const list = samples.get(generator)!;
    const cpu = list.reduce((sum, s) => sum + s.cpuMicros, 0) / list.reduce((sum, s) => sum + s.requests, 0);
    console.log(
      `  ${labels[generator].padEnd(36)}${median(list.map((s) => s.rate))
        .toFixed(0)
        .padStart(9)}${median(list.map((s) => s.p50))
        .toFixed(2)
        .padStart(9)}${median(list.map((s) => s.p99))
        .toFixed(2)
        .padStart(9)}${cpu.toFixed(1).padStart(17)}`,
    );
  }
  const ratio = median(ratios);
  console.log(
    `  bench http / autocannon: ${ratio.toFixed(2)} (median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}); load CPU includes each process's start (~0.3 s for bench, which loads the CLI)`,
  );
  return [['remote-mcp bench --transport http >= 0.7x autocannon on the same server', ratio >= 0.7]];
}
