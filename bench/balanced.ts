/**
 * The `balanced` section of `npm run bench`: what the balanced client costs per call. Three remote-mcp servers
 * (the `remote-mcp` target, forked like the other sections) and, in this process, a closed loop of 2026-07-28
 * `tools/call` echo with CONCURRENCY calls in flight, through (a) createBalancedClient over the three and (b) the
 * plain SDK v2 Client (versionNegotiation auto, StreamableHTTPClientTransport) on one. The client is the
 * bottleneck in both (its CPU per call is what differs), so calls/s compares their cost per call. Interleaved
 * rounds in rotated order; target: balanced >= 0.9x plain (median of per-round ratios). CPU per call is this
 * process's user + system time over the round.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { createBalancedClient } from '../src/client/index.js';
import { median, ROUNDS, rotated, SECONDS, startTarget, type Target } from './measure.js';

/** Calls in flight at once. */
const CONCURRENCY = 16;
const CALL = { name: 'echo', arguments: { text: 'hello' } };

type Contender = 'plain SDK Client, one endpoint' | 'balanced client, three endpoints';
const CONTENDERS: Contender[] = ['plain SDK Client, one endpoint', 'balanced client, three endpoints'];

interface Sample {
  rate: number;
  cpuMicrosPerCall: number;
}

/** Runs `call` CONCURRENCY at a time for `seconds`; every call must succeed. */
async function closedLoop(call: () => Promise<unknown>, seconds: number): Promise<Sample> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  let calls = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await call();
        calls++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { rate: calls / elapsed, cpuMicrosPerCall: (cpu.user + cpu.system) / calls };
}

async function plainClient(url: string) {
  const client = new Client({ name: 'bench', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return { call: () => client.callTool(CALL), close: () => client.close() };
}

async function balancedClient(urls: string[]) {
  const client = await createBalancedClient({ endpoints: urls });
  return { call: () => client.callTool(CALL), close: () => client.close() };
}

export async function measureBalanced(): Promise<Array<readonly [string, boolean]>> {
  const targets: Target[] = [];
  const samples = new Map<Contender, Sample[]>(CONTENDERS.map((name) => [name, []]));
  try {
    for (const label of ['balanced-1', 'balanced-2', 'balanced-3'])
      targets.push(await startTarget('remote-mcp', { label }));
    const urls = targets.map((target) => target.url);
    const open = (name: Contender) => (name === CONTENDERS[0] ? plainClient(urls[0]!) : balancedClient(urls));
    // Warm-up, not recorded: the servers' and this process's JIT settle first.
    for (const name of CONTENDERS) {
      const client = await open(name);
      await closedLoop(client.call, 2);
      await client.close();
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of rotated(CONTENDERS, round)) {
        const client = await open(name);
        samples.get(name)!.push(await closedLoop(client.call, SECONDS));
        await client.close();
      }
      process.stderr.write(`  balanced round ${round}/${ROUNDS} done\n`);
    }
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
  const plain = samples.get('plain SDK Client, one endpoint')!;
  const balanced = samples.get('balanced client, three endpoints')!;
  const ratios = balanced.map((sample, round) => sample.rate / plain[round]!.rate);
  console.log(
    `\nClient cost per call: 2026-07-28 tools/call echo, ${CONCURRENCY} in flight, the client in the bench process`,
  );
  console.log(`  ${'client'.padEnd(36)}${'calls/s'.padStart(9)}${'client CPU us/call'.padStart(20)}`);
  for (const name of CONTENDERS) {
    const list = samples.get(name)!;
    console.log(
      `  ${name.padEnd(36)}${median(list.map((s) => s.rate))
        .toFixed(0)
        .padStart(9)}${median(list.map((s) => s.cpuMicrosPerCall))
        .toFixed(1)
        .padStart(20)}`,
    );
  }
  const ratio = median(ratios);
  console.log(
    `  balanced / plain: ${ratio.toFixed(2)} (median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
  return [['balanced client over 3 endpoints >= 0.9x the plain SDK client on 1, per call', ratio >= 0.9]];
}
