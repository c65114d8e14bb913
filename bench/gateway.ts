/**
 * The `gateway` section of `npm run bench`: tools/call through `remote-mcp serve --stdio` against supergateway
 * serving the same stdio server (@modelcontextprotocol/server-everything's `echo`), in one run.
 *
 * Like for like: supergateway's Streamable HTTP output with `--stateful` runs one child per session, as
 * `--stdio-isolation session` does; both are loaded by `remote-mcp bench --transport legacy` (2025-era
 * sessions, one per connection, each opened and ended (DELETE) within the run, so each run starts its
 * children). Target: remote-mcp >= 1.0x supergateway (median of per-round ratios). remote-mcp's other shapes are
 * measured alongside, without a target: `shared` isolation (one child for every session) and 2026-07-28
 * requests (a pool of children, one request at a time each), which supergateway does not serve.
 */
import { type ChildProcess, spawn } from 'node:child_process';

import { runBenchCli } from './loadgen.js';
import { CONNECTIONS, here, median, ROUNDS, rotated, SECONDS } from './measure.js';

const CLI = here('../src/cli/main.js');
const SUPERGATEWAY = here('../../node_modules/supergateway/dist/index.js');
const STDIO_SERVER = here('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const COMMAND = `"${process.execPath}" "${STDIO_SERVER}" stdio`;
const TOOL = 'echo';
const ARGS = { message: 'hello' };
/** Sessions (and so children) per run: below both gateways' caps, and what a 2-core machine spawns quickly. */
const GATEWAY_CONNECTIONS = Math.min(CONNECTIONS, 8);

type Shape = 'supergateway' | 'remote-mcp session' | 'remote-mcp shared' | 'remote-mcp 2026-07-28';
const SHAPES: Shape[] = ['supergateway', 'remote-mcp session', 'remote-mcp shared', 'remote-mcp 2026-07-28'];

interface Gateway {
  url: string;
  process: ChildProcess;
}

async function listening(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s: ${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = pattern.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${output}`)));
  });
}

async function startSupergateway(port: number): Promise<Gateway> {
  const child = spawn(
    process.execPath,
    [SUPERGATEWAY, '--stdio', COMMAND, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await listening(child, /(Listening on port \d+)/, 'supergateway');
  return { url: `http://127.0.0.1:${port}/mcp`, process: child };
}

async function startRemoteMcp(isolation: 'shared' | 'session'): Promise<Gateway> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--stdio', COMMAND, '--stdio-isolation', isolation, '--no-metrics'].concat([
      '--log-level',
      'warn',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await listening(child, /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/, `remote-mcp --stdio (${isolation})`);
  return { url, process: child };
}

interface Sample {
  rate: number;
  p50: number;
  p99: number;
}

async function measure(url: string, transport: 'legacy' | 'http', seconds: number): Promise<Sample> {
  const result = await runBenchCli(url, {
    tool: TOOL,
    args: ARGS,
    transport,
    connections: GATEWAY_CONNECTIONS,
    seconds,
  });
  return { rate: result.requestsPerSecond, p50: result.latencyMs.p50, p99: result.latencyMs.p99 };
}

export async function measureGateway(): Promise<Array<readonly [string, boolean]>> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const supergateway = await startSupergateway(port);
  const session = await startRemoteMcp('session');
  const shared = await startRemoteMcp('shared');
  const targets: Record<Shape, { url: string; transport: 'legacy' | 'http' }> = {
    supergateway: { url: supergateway.url, transport: 'legacy' },
    'remote-mcp session': { url: session.url, transport: 'legacy' },
    'remote-mcp shared': { url: shared.url, transport: 'legacy' },
    'remote-mcp 2026-07-28': { url: shared.url, transport: 'http' },
  };
  const samples = new Map<Shape, Sample[]>(SHAPES.map((shape) => [shape, []]));
  try {
    for (const shape of SHAPES) await measure(targets[shape].url, targets[shape].transport, 2); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      for (const shape of rotated(SHAPES, round))
        samples.get(shape)!.push(await measure(targets[shape].url, targets[shape].transport, SECONDS));
      process.stderr.write(`  gateway round ${round}/${ROUNDS} done\n`);
    }
  } finally {
    for (const gateway of [supergateway, session, shared]) gateway.process.kill('SIGTERM');
  }
  const ratios = samples
    .get('remote-mcp session')!
    .map((sample, round) => sample.rate / samples.get('supergateway')![round]!.rate);
  console.log(
    `\nStdio gateways: tools/call ${TOOL} of @modelcontextprotocol/server-everything, ${GATEWAY_CONNECTIONS} connections, one request in flight each (remote-mcp bench)`,
  );
  const labels: Record<Shape, string> = {
    supergateway: 'supergateway --stateful (child per session)',
    'remote-mcp session': 'remote-mcp --stdio-isolation session',
    'remote-mcp shared': 'remote-mcp --stdio-isolation shared',
    'remote-mcp 2026-07-28': 'remote-mcp, 2026-07-28 requests (pool)',
  };
  console.log(`  ${'gateway'.padEnd(46)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`);
  for (const shape of SHAPES) {
    const list = samples.get(shape)!;
    console.log(
      `  ${labels[shape].padEnd(46)}${median(list.map((s) => s.rate))
        .toFixed(0)
        .padStart(9)}${median(list.map((s) => s.p50))
        .toFixed(2)
        .padStart(9)}${median(list.map((s) => s.p99))
        .toFixed(2)
        .padStart(9)}`,
    );
  }
  const ratio = median(ratios);
  console.log(
    `  remote-mcp session / supergateway: ${ratio.toFixed(2)} (median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')}); each run opens its sessions, so child start-up is inside the figures`,
  );
  return [['tools/call through --stdio (session isolation) >= 1.0x supergateway --stateful', ratio >= 1]];
}
