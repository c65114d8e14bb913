/** The remote-mcp CLI: serve prints the URL and a request that works, and SIGTERM drains and exits 0. */
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { modernBody, modernHeaders, raw, type Serving, untilServing, withTimeout } from './helpers.js';
import { startRedis } from './support/redis-server.js';
import { redisMissing } from './support/binaries.js';

const CLI = 'build/src/cli/main.js';

function serve(
  args: string[],
  module: string[] = ['build/examples/demo-server.js'],
  env: Record<string, string> = {},
): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, 'serve', ...module, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  return untilServing(child, 10_000, 'remote-mcp serve to print its URL');
}

test('serve prints the URL and a ready-to-paste request; SIGTERM lets an in-flight call finish and exits 0', async () => {
  const { child, url, output } = await serve([]);
  try {
    assert.match(output(), /curl -s http:\/\/127\.0\.0\.1:\d+\/mcp/);
    assert.match(output(), /-H 'mcp-method: tools\/list'/);
    const list = await raw(url, { headers: modernHeaders('tools/list'), body: modernBody(1, 'tools/list') });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list
        .json()
        .result.tools.map((t: { name: string }) => t.name)
        .sort(),
      ['add', 'ask_name', 'echo', 'slow_count'],
    );

    const slow = raw(url, {
      headers: modernHeaders('tools/call', 'slow_count'),
      body: modernBody(2, 'tools/call', { name: 'slow_count', arguments: { to: 3, delayMs: 100 } }),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const answer = await withTimeout(slow, 5000, 'the in-flight call to finish during drain');
    assert.equal(answer.status, 200);
    assert.equal(answer.json().result.content[0].text, 'counted to 3');
    assert.equal(await withTimeout(exited, 5000, 'the process to exit'), 0);
    assert.match(output(), /SIGTERM received/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve --help documents the flags', () => {
  const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const flag of [
    '--port',
    '--host',
    '--max-body-bytes',
    '--max-sessions',
    '--session-idle-timeout-ms',
    '--no-legacy',
    '--allowed-origins',
    'REMOTE_MCP_REQUEST_STATE_KEY',
    '--config',
    '--no-metrics',
    '--metrics-port',
    '--no-tracing',
    '--log-level',
  ]) {
    assert.ok(help.stdout.includes(flag), `--help does not mention ${flag}`);
  }
});

test('a module without the export exits 1 with a message saying what it exports', () => {
  const run = spawnSync(
    process.execPath,
    [CLI, 'serve', 'build/examples/demo-server.js', '--export', 'nope', '--port', '0'],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 1);
  assert.match(run.stderr, /has no function export "nope" \(it exports: .*default/);
});

test('--no-legacy serves 2026-07-28 only (and --no-metrics leaves /metrics out)', async () => {
  const { child, url, output } = await serve(['--no-legacy', '--no-metrics']);
  try {
    assert.equal((await raw(url.replace('/mcp', '/metrics'), { method: 'GET' })).status, 404);
    assert.doesNotMatch(output(), /^Metrics:/m);
    const init = await raw(url, {
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    assert.equal(init.status, 400);
    assert.equal(init.json().error.code, -32022);
    assert.deepEqual(init.json().error.data.supported, ['2026-07-28']);
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve --config starts from a YAML file (flags given explicitly win) with /health and /metrics; a wrong file is refused precisely', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-cli-config-'));
  const file = join(dir, 'remote-mcp.yaml');
  const demo = resolve('build/examples/demo-server.js');
  writeFileSync(file, `module: ${demo}\nport: 8080\nmaxBodyBytes: 1024\nlog:\n  level: warn\n`);
  const { child, url, output } = await serve(['--config', file], []);
  try {
    const base = url.replace('/mcp', '');
    assert.equal((await raw(`${base}/health`, { method: 'GET' })).json().status, 'ok');
    const metrics = await raw(`${base}/metrics`, { method: 'GET' });
    assert.equal(metrics.status, 200, 'the CLI serves metrics by default');
    assert.match(metrics.body, /^# TYPE mcp_requests_total counter$/m);
    const big = await raw(url, {
      headers: modernHeaders('tools/call', 'echo'),
      body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'x'.repeat(2000) } }),
    });
    assert.equal(big.status, 413, 'maxBodyBytes came from the file');
    assert.doesNotMatch(output(), /"msg":"listening"/, 'log.level warn from the file silences the info lines');
  } finally {
    child.kill('SIGKILL');
  }
  writeFileSync(file, `module: ${demo}\nmaxBodyBytes: lots\n`);
  const refused = spawnSync(process.execPath, [CLI, 'serve', '--config', file], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:15: \`maxBodyBytes\` `));
  assert.match(refused.stderr, /expected an integer/);
});

test('the documented example config (every key) starts the server: TLS, auth, health, metrics on their port, audit log', {
  skip: redisMissing(),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-example-'));
  const example = readFileSync('examples/remote-mcp.yaml', 'utf8').replace(
    /^module: .*$/m,
    `module: ${resolve('build/examples/demo-server.js')}`,
  );
  writeFileSync(join(dir, 'remote-mcp.yaml'), example);
  // The example keeps its state in Redis (every key is set): a real one, as a deployment would have.
  const redis = await startRedis();
  const env = {
    ...process.env,
    REMOTE_MCP_REDIS_URL: redis.url,
    REMOTE_MCP_REQUEST_STATE_KEY: 'an-example-key-of-at-least-32-bytes!',
    REMOTE_MCP_PORT: '0',
    REMOTE_MCP_METRICS_PORT: '0',
  };
  const child = spawn(process.execPath, [resolve(CLI), 'serve', '--config', 'remote-mcp.yaml'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  try {
    const [, url, metricsUrl] = await withTimeout(
      new Promise<RegExpExecArray>((resolveUrls, reject) => {
        const poll = setInterval(() => {
          const match =
            /at (https:\/\/127\.0\.0\.1:\d+\/mcp)\nHealth: .*\nMetrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(
              output,
            );
          if (match) clearInterval(poll), resolveUrls(match);
        }, 20);
        child.once('exit', (code) => (clearInterval(poll), reject(new Error(`serve exited with ${code}: ${output}`))));
      }),
      10_000,
      'the example config to serve',
    );
    assert.match(
      output,
      /-H 'authorization: Bearer <token>'/,
      'the sample request names the credential the config asks for',
    );
    const insecure = { rejectUnauthorized: false };
    const health = await httpsGet(url!.replace('/mcp', '/health'), insecure);
    assert.equal(health.status, 200, health.body);
    assert.equal(JSON.parse(health.body).status, 'ok');
    const unauthenticated = await httpsGet(url!, insecure, 'POST');
    assert.equal(unauthenticated.status, 401);
    const metrics = await raw(metricsUrl!, { method: 'GET' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^mcp_auth_failures_total\{reason="missing"\} 1$/m);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    assert.equal(await withTimeout(exited, 10_000, 'the drain to end'), 0);
    assert.match(readFileSync(join(dir, 'logs', 'audit.log'), 'utf8'), /"outcome":"unauthenticated"/);
  } finally {
    child.kill('SIGKILL');
    await redis.stop();
  }
});

function httpsGet(
  url: string,
  options: { rejectUnauthorized: boolean },
  method = 'GET',
): Promise<{ status: number; body: string }> {
  return new Promise((done, reject) => {
    // The example's allowedHosts name port 8080; the test serves on a free port, so it presents that Host.
    const host = { host: 'localhost:8080' };
    const req = httpsRequest(
      url,
      { ...options, method, headers: method === 'POST' ? { ...modernHeaders('tools/list'), ...host } : host },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? modernBody(1, 'tools/list') : undefined);
  });
}

test('REMOTE_MCP_* variables apply without a config file too; flags given explicitly win; a bad value names the variable', async () => {
  const { child, url } = await serve([], undefined, { REMOTE_MCP_MAX_BODY_BYTES: '200', REMOTE_MCP_PORT: '1' });
  try {
    // --port 0 (given explicitly) won over REMOTE_MCP_PORT=1, or the server could not have started.
    const big = await raw(url, {
      headers: modernHeaders('tools/call', 'echo'),
      body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'x'.repeat(300) } }),
    });
    assert.equal(big.status, 413);
  } finally {
    child.kill('SIGKILL');
  }
  const refused = spawnSync(process.execPath, [CLI, 'serve', 'build/examples/demo-server.js'], {
    encoding: 'utf8',
    env: { ...process.env, REMOTE_MCP_PORT: 'abc' },
  });
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr, 'remote-mcp: $REMOTE_MCP_PORT: `port` expected an integer; received the string "abc"\n');
});
