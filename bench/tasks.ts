/**
 * The `tasks` section of `npm run bench`: the tasks extension (docs/tasks.md) with the in-memory store and with
 * Redis, in one run. Per store: tools/call of a task tool answered with its CreateTaskResult (the task is stored
 * before the answer, then runs and completes), tasks/get of one completed task, and, as the reference, a plain
 * tools/call of the same work inline on the same server. The official SDK does not serve the extension, so the
 * ratios are against the inline call (what a task costs on top of the work), not against the SDK.
 *
 * Every answer is checked: a run whose tools/call did not all create tasks (the server counts the handler runs)
 * or whose responses were not all 200 is reported as such.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { startRedis } from '../test/support/redis-server.js';
import { redisMissing } from '../test/support/binaries.js';
import { CONNECTIONS, here, load, median, ROUNDS, rotated, SECONDS } from './measure.js';

const CLI = here('../src/cli/main.js');
const MODULE = here('./task-server.js');
const TASKS = 'io.modelcontextprotocol/tasks';
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS]: {} } },
};

interface Server {
  url: string;
  child: ChildProcess;
}

async function serve(extra: string[], env: NodeJS.ProcessEnv = {}): Promise<Server> {
  // Tasks are kept for one minute (not the default hour): a run creates tens of thousands.
  const args = [CLI, 'serve', MODULE, '--port', '0', '--no-metrics', '--log-level', 'warn'];
  args.push('--tasks-default-ttl-ms', '60000', '--tasks-max-tasks-per-principal', '100000');
  args.push('--tasks-max-stored-tasks', '10000000', ...extra);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`remote-mcp serve did not start: ${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`remote-mcp serve exited with ${code}: ${output}`)));
  });
  return { url, child };
}

const headers = (method: string, name: string) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': method,
  'mcp-name': name,
});
const body = (method: string, params: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: META } });

async function rpc(url: string, method: string, name: string, params: Record<string, unknown>): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: headers(method, name), body: body(method, params) });
  return response.json();
}

type Shape = 'tools/call -> task' | 'tasks/get' | 'tools/call inline (reference)';
const SHAPES: Shape[] = ['tools/call -> task', 'tasks/get', 'tools/call inline (reference)'];

interface Sample {
  rate: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
}

async function measureStore(label: string, server: Server): Promise<Map<Shape, Sample[]>> {
  const created = await rpc(server.url, 'tools/call', 'noop', { name: 'noop', arguments: { text: 'seed' } });
  const taskId = created.result?.taskId;
  if (typeof taskId !== 'string') throw new Error(`${label}: noop did not create a task: ${JSON.stringify(created)}`);
  const requests: Record<Shape, { headers: Record<string, string>; body: string }> = {
    'tools/call -> task': {
      headers: headers('tools/call', 'noop'),
      body: body('tools/call', { name: 'noop', arguments: { text: 'x' } }),
    },
    'tasks/get': { headers: headers('tasks/get', taskId), body: body('tasks/get', { taskId }) },
    'tools/call inline (reference)': {
      headers: headers('tools/call', 'echo'),
      body: body('tools/call', { name: 'echo', arguments: { text: 'x' } }),
    },
  };
  const samples = new Map<Shape, Sample[]>(SHAPES.map((shape) => [shape, []]));
  const runOnce = (shape: Shape, seconds: number) =>
    load<Sample & { requestsPerSecond: number }>({
      mode: 'calls',
      url: server.url,
      era: 'modern',
      connections: CONNECTIONS,
      durationSeconds: seconds,
      ...requests[shape],
    });
  for (const shape of SHAPES) await runOnce(shape, 1); // warm-up
  const ranBefore = Number((await rpc(server.url, 'tools/call', 'stats', { name: 'stats' })).result.content[0].text);
  let creates = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const shape of rotated(SHAPES, round)) {
      const result = await runOnce(shape, SECONDS);
      if (shape === 'tools/call -> task') creates += result.total;
      samples.get(shape)!.push({ ...result, rate: result.requestsPerSecond });
    }
    process.stderr.write(`  tasks (${label}) round ${round}/${ROUNDS} done\n`);
  }
  const ran =
    Number((await rpc(server.url, 'tools/call', 'stats', { name: 'stats' })).result.content[0].text) - ranBefore;
  const check = await rpc(server.url, 'tasks/get', taskId, { taskId });
  if (check.result?.status !== 'completed')
    throw new Error(`${label}: the seed task is not completed: ${JSON.stringify(check)}`);
  // Every tools/call that got an answer created a task that ran (the last few may still be finishing).
  if (ran < creates * 0.99)
    console.log(`  ${label}: WARNING only ${ran} of ${creates} task-creating calls ran a task (the rest were errors)`);
  return samples;
}

export async function measureTasks(): Promise<Array<readonly [string, boolean]>> {
  const results: Array<[string, Map<Shape, Sample[]>]> = [];
  const memory = await serve([]);
  try {
    results.push(['in memory', await measureStore('in memory', memory)]);
  } finally {
    memory.child.kill('SIGTERM');
  }
  const missing = redisMissing();
  if (missing !== false) console.log(`\ntasks: the Redis store is skipped: ${missing}`);
  else {
    const redis = await startRedis();
    try {
      const server = await serve(['--redis', redis.url], {
        REMOTE_MCP_REQUEST_STATE_KEY: randomBytes(32).toString('hex'),
      });
      try {
        console.log(`\ntasks: the Redis store on redis-server ${redis.url}`);
        results.push(['Redis', await measureStore('Redis', server)]);
      } finally {
        server.child.kill('SIGTERM');
      }
    } finally {
      await redis.stop();
    }
  }
  console.log(`\nTasks (io.modelcontextprotocol/tasks), 2026-07-28 HTTP, ${CONNECTIONS} connections (autocannon)`);
  console.log(
    `  ${'store / request'.padEnd(44)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'÷ inline'.padStart(10)}`,
  );
  for (const [store, samples] of results) {
    const inline = samples.get('tools/call inline (reference)')!;
    for (const shape of SHAPES) {
      const list = samples.get(shape)!;
      const ratios = list.map((sample, round) => sample.rate / inline[round]!.rate);
      const non2xx = list.reduce((sum, sample) => sum + sample.non2xx, 0);
      console.log(
        `  ${`${store}: ${shape}`.padEnd(44)}${median(list.map((s) => s.rate))
          .toFixed(0)
          .padStart(9)}${median(list.map((s) => s.p50))
          .toFixed(2)
          .padStart(9)}${median(list.map((s) => s.p99))
          .toFixed(2)
          .padStart(9)}${median(ratios).toFixed(2).padStart(10)}${non2xx > 0 ? `  (${non2xx} non-2xx)` : ''}`,
      );
    }
  }
  console.log(
    '  ÷ inline: the median of per-round ratios to a plain tools/call of the same work on the same server (the SDK has no tasks to compare with)',
  );
  return [];
}
