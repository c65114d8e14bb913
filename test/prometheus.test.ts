/**
 * A real Prometheus server (Debian's prometheus package; .ci/run installs it) scrapes remote-mcp's metrics
 * listener: the target is up, the scrape has no error, and a query returns the requests the test sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { createRemoteServer } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import { modernBody, modernHeaders, raw } from './helpers.js';
import { missingProgram } from './support/binaries.js';
import { freePort } from './support/ports.js';

const prometheusMissing = () => missingProgram('prometheus', 'prometheus');

/** Polls until `probe` returns a value, for at most `ms` (Prometheus scrapes once a second here). */
async function eventually<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
}

test('a Prometheus server scrapes /metrics: target up, no scrape error, the requests queryable', {
  skip: prometheusMissing(),
  timeout: 60_000,
}, async () => {
  const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, metrics: { port: 0 } });
  const { url, metricsUrl } = await remote.listen({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-prometheus-'));
  const target = new URL(metricsUrl!);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: remote-mcp\n    metrics_path: ${target.pathname}\n    static_configs:\n      - targets: ['${target.host}']\n`,
  );
  const port = await freePort();
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
  const api = async (path: string) => (await raw(`http://127.0.0.1:${port}${path}`, { method: 'GET' })).json();
  try {
    for (let id = 1; id <= 3; id++) {
      assert.equal(
        (
          await raw(url, {
            headers: modernHeaders('tools/call', 'echo'),
            body: modernBody(id, 'tools/call', { name: 'echo', arguments: { text: 'scraped' } }),
          })
        ).status,
        200,
      );
    }
    const health = await eventually(
      async () => {
        const targets = await api('/api/v1/targets');
        const active = targets.data.activeTargets.find(
          (entry: { labels: { job: string } }) => entry.labels.job === 'remote-mcp',
        );
        return active?.health === 'up' ? active : undefined;
      },
      20_000,
      `the target to be up (prometheus log: ${log})`,
    );
    assert.equal(health.lastError, '');
    const value = await eventually(
      async () => {
        const query = await api(
          `/api/v1/query?query=${encodeURIComponent('mcp_tool_calls_total{job="remote-mcp",tool="echo",outcome="ok"}')}`,
        );
        return query.data.result[0]?.value[1] as string | undefined;
      },
      20_000,
      'the query to return the tool calls',
    );
    assert.equal(value, '3');
    const buckets = await api(
      `/api/v1/query?query=${encodeURIComponent('mcp_request_duration_seconds_count{method="tools/call"}')}`,
    );
    assert.equal(buckets.data.result[0].value[1], '3');
  } finally {
    prometheus.kill('SIGTERM');
    await new Promise((resolve) => prometheus.once('exit', resolve));
    await remote.close();
  }
});
