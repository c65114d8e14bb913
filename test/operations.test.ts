/**
 * Operations against real servers: /health and /ready (with checks, while starting and draining), /metrics
 * scraped and parsed by a real Prometheus text parser after real traffic on every transport, metrics on their
 * own port, bounded labels, tracing (traceparent from headers and _meta, spans through a real OpenTelemetry
 * SDK, the trace id in the audit log).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';

import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { createRemoteServer, mintApiKey, writeKeysFile, type RemoteServerOptions } from '../src/index.js';
import createDemoServer from '../examples/demo-server.js';
import {
  connectWebSocket,
  ENVELOPE,
  modernBody,
  modernHeaders,
  openSession,
  raw,
  sessionHeaders,
  withServer,
} from './helpers.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

function scrape(text: string): Map<string, Family> {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

/** The value of the sample whose labels include `labels`, or undefined. */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = families
    .get(name)
    ?.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value));
  if (found === undefined) return undefined;
  return Number(found.value ?? found.count);
}

async function metricsOf(base: string, path = '/metrics'): Promise<Map<string, Family>> {
  const res = await raw(`${base}${path}`, { method: 'GET' });
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return scrape(res.body);
}

function baseOf(url: string): string {
  return url.slice(0, url.lastIndexOf('/mcp'));
}

describe('health and readiness', () => {
  test('GET /health reports status, version, uptime, memory, event-loop delay and checks; /ready is 200', async () => {
    await withServer({ health: { checks: [{ name: 'database', check: () => ({ connections: 3 }) }] } }, async (s) => {
      const health = await raw(`${baseOf(s.url)}/health`, { method: 'GET' });
      assert.equal(health.status, 200);
      assert.equal(health.headers['cache-control'], 'no-store');
      const report = health.json();
      assert.equal(report.status, 'ok');
      assert.equal(report.version, '0.1.0');
      assert.ok(report.uptimeSeconds > 0);
      assert.ok(report.memory.rssBytes > 0 && report.memory.heapUsedBytes > 0);
      assert.equal(typeof report.eventLoopDelayMs.p99, 'number');
      const byName = Object.fromEntries(report.checks.map((check: { name: string }) => [check.name, check]));
      assert.deepEqual(
        Object.keys(byName),
        ['sessionStore', 'eventStore', 'eventBus', 'legacySessions', 'database'],
        'the state stores and what 2025-era sessions hold report first',
      );
      assert.deepEqual(byName.sessionStore.details, { kind: 'memory', sessions: 0 });
      assert.deepEqual(byName.eventStore.details, { kind: 'memory', sessions: 0, events: 0, bytes: 0 });
      assert.deepEqual(byName.legacySessions.details, {
        liveSessions: 0,
        internedIdentities: 0,
        internedIdentityBytes: 0,
        idleInstances: 0,
        idleInstanceBytes: 0,
      });
      assert.equal(byName.database.status, 'ok');
      assert.equal(byName.database.required, true);
      assert.deepEqual(byName.database.details, { connections: 3 });
      const ready = await raw(`${baseOf(s.url)}/ready`, { method: 'GET' });
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json(), { status: 'ready' });
      const post = await raw(`${baseOf(s.url)}/health`, { method: 'POST', body: '{}' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
    });
  });

  test('a failing required check turns /health and /ready to 503; an optional one only shows', async () => {
    let healthy = true;
    const checks = [
      {
        name: 'upstream',
        check: () => {
          if (!healthy) throw new Error('connection refused');
        },
      },
      { name: 'cache', required: false, check: () => Promise.reject(new Error('cold')) },
      { name: 'slow', required: false, timeoutMs: 50, check: () => sleep(1_000) },
    ];
    await withServer({ health: { checks } }, async (s) => {
      const first = await raw(`${baseOf(s.url)}/health`, { method: 'GET' });
      assert.equal(first.status, 200);
      const byName = Object.fromEntries(first.json().checks.map((check: { name: string }) => [check.name, check]));
      assert.equal(byName.cache.status, 'failed');
      assert.equal(byName.cache.error, 'cold');
      assert.equal(byName.slow.error, 'timed out after 50 ms');
      healthy = false;
      await sleep(1_050); // results are cached for one second
      const failing = await raw(`${baseOf(s.url)}/health`, { method: 'GET' });
      assert.equal(failing.status, 503);
      assert.equal(failing.json().status, 'failed');
      const ready = await raw(`${baseOf(s.url)}/ready`, { method: 'GET' });
      assert.equal(ready.status, 503);
      assert.equal(ready.json().checks[0].error, 'connection refused');
    });
  });

  test('/ready is 503 while the factory is still building the instance, and 200 after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const remote = createRemoteServer({ server: async () => (await gate, createDemoServer()), onError: () => {} });
    const { createServer } = await import('node:http');
    const http = createServer((req, res) => remote.handler(req, res));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    try {
      const starting = await raw(`${base}/ready`, { method: 'GET' });
      assert.equal(starting.status, 503);
      assert.deepEqual(starting.json(), { status: 'starting' });
      assert.equal((await raw(`${base}/health`, { method: 'GET' })).json().status, 'starting');
      release();
      await remote.ready;
      assert.equal((await raw(`${base}/ready`, { method: 'GET' })).status, 200);
    } finally {
      await remote.close();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  test('probes are not rate limited nor authenticated by default; requireAuth asks for the credential', async () => {
    const secret = 'a-test-secret-that-is-long-enough-for-hs256!';
    const auth = { jwt: { secret, issuer: 'https://issuer.test', audience: 'remote-mcp-test' } };
    await withServer({ auth, rateLimits: { perPrincipal: { points: 1, durationSeconds: 60 } } }, async (s) => {
      for (let i = 0; i < 5; i++) assert.equal((await raw(`${baseOf(s.url)}/ready`, { method: 'GET' })).status, 200);
      const checks = (await raw(`${baseOf(s.url)}/health`, { method: 'GET' })).json().checks;
      assert.deepEqual(checks.find((check: { name: string }) => check.name === 'rateLimitStore').details, {
        kind: 'memory',
      });
    });
    await withServer({ auth, health: { requireAuth: true }, metrics: { requireAuth: true } }, async (s) => {
      const health = await raw(`${baseOf(s.url)}/health`, { method: 'GET' });
      assert.equal(health.status, 401);
      assert.match(String(health.headers['www-authenticate']), /^Bearer /);
      assert.equal((await raw(`${baseOf(s.url)}/metrics`, { method: 'GET' })).status, 401);
    });
  });

  test('health: false leaves /health to the application (404 here)', async () => {
    await withServer({ health: false }, async (s) => {
      assert.equal((await raw(`${baseOf(s.url)}/health`, { method: 'GET' })).status, 404);
      assert.equal((await raw(`${baseOf(s.url)}/ready`, { method: 'GET' })).status, 404);
    });
  });

  test('bad health and metrics options are refused at construction, naming the key', () => {
    assert.throws(
      () => createRemoteServer({ server: createDemoServer, health: { path: 'health' } }),
      /option `health\.path` must be a path starting with "\/"; received "health"/,
    );
    assert.throws(
      () =>
        createRemoteServer({
          server: createDemoServer,
          health: { checks: [{ name: 'sessionStore', check: () => {} }] },
        }),
      /must not reuse the name "sessionStore"/,
    );
    assert.throws(
      () => createRemoteServer({ server: createDemoServer, metrics: { requireAuth: true } }),
      /option `metrics\.requireAuth` needs `auth`/,
    );
    assert.throws(
      () => createRemoteServer({ server: createDemoServer, metrics: { port: 70_000 } }),
      /option `metrics\.port` must be an integer from 0 to 65535; received 70000/,
    );
    assert.throws(
      () => createRemoteServer({ server: createDemoServer, metrics: { path: '/mcp' } }),
      /option `metrics\.path` must differ from `path`; both are "\/mcp"/,
    );
    assert.throws(
      () => createRemoteServer({ server: createDemoServer, metrics: { path: '/health' } }),
      /option `metrics\.path` must differ from `health\.path`; both are "\/health"/,
    );
    assert.throws(
      () => createRemoteServer({ server: createDemoServer, log: { level: 'loud' as 'info' } }),
      /option `log\.level` must be one of fatal, error, warn, info, debug, trace, silent; received "loud"/,
    );
  });
});

describe('metrics', () => {
  test('/metrics is off by default (404)', async () => {
    await withServer({}, async (s) => {
      assert.equal((await raw(`${baseOf(s.url)}/metrics`, { method: 'GET' })).status, 404);
    });
  });

  test('a scrape after traffic on every transport parses and counts it, with bounded labels', async () => {
    await withServer({ metrics: true }, async (s) => {
      const base = baseOf(s.url);
      // Three tool calls over HTTP (one unregistered tool, one tool error), a list, an unknown method.
      assert.equal(
        (
          await raw(s.url, {
            headers: modernHeaders('tools/call', 'echo'),
            body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }),
          })
        ).status,
        200,
      );
      assert.equal(
        (
          await raw(s.url, {
            headers: modernHeaders('tools/call', 'echo'),
            body: modernBody(2, 'tools/call', { name: 'echo', arguments: { text: 'again' } }),
          })
        ).status,
        200,
      );
      const unknownTool = await raw(s.url, {
        headers: modernHeaders('tools/call', 'no_such_tool_x1'),
        body: modernBody(3, 'tools/call', { name: 'no_such_tool_x1', arguments: {} }),
      });
      assert.equal(unknownTool.status, 200);
      assert.equal(
        (await raw(s.url, { headers: modernHeaders('tools/list'), body: modernBody(4, 'tools/list') })).status,
        200,
      );
      await raw(s.url, { headers: modernHeaders('made/up/method'), body: modernBody(5, 'made/up/method') });
      // A WebSocket connection with one call, kept open for the gauge.
      const ws = await connectWebSocket(s.url);
      ws.send({
        jsonrpc: '2.0',
        id: 10,
        method: 'tools/call',
        params: { name: 'add', arguments: { a: 1, b: 2 }, _meta: ENVELOPE },
      });
      await ws.waitFor((m) => m.id === 10, 'the WebSocket answer');
      // A 2025-era session over Streamable HTTP, with a call, and its GET stream open.
      const sessionId = await openSession(s.url, '2025-06-18');
      const legacyCall = await raw(s.url, {
        headers: sessionHeaders(sessionId, '2025-06-18'),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 20,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'old' } },
        }),
      });
      assert.equal(legacyCall.status, 200);

      const families = await metricsOf(base);
      assert.equal(families.get('mcp_requests_total')?.type, 'COUNTER');
      assert.equal(
        sample(families, 'mcp_requests_total', {
          method: 'tools/call',
          transport: 'http',
          era: 'modern',
          status: 'ok',
        }),
        2,
      );
      assert.equal(
        sample(families, 'mcp_requests_total', {
          method: 'tools/call',
          transport: 'http',
          era: 'modern',
          status: 'error',
        }),
        1,
        'an unknown tool is a JSON-RPC error',
      );
      assert.equal(
        sample(families, 'mcp_requests_total', {
          method: 'tools/list',
          transport: 'http',
          era: 'modern',
          status: 'ok',
        }),
        1,
      );
      assert.equal(
        sample(families, 'mcp_requests_total', {
          method: 'tools/call',
          transport: 'websocket',
          era: 'modern',
          status: 'ok',
        }),
        1,
      );
      assert.equal(
        sample(families, 'mcp_requests_total', {
          method: 'tools/call',
          transport: 'http',
          era: 'legacy',
          status: 'ok',
        }),
        1,
      );
      assert.equal(
        sample(families, 'mcp_requests_total', {
          method: 'initialize',
          transport: 'http',
          era: 'legacy',
          status: 'ok',
        }),
        1,
      );
      assert.equal(
        sample(families, 'mcp_requests_total', { method: 'other' }),
        1,
        'an unknown method is counted as other',
      );
      const text = (await raw(`${base}/metrics`, { method: 'GET' })).body;
      assert.equal(families.get('mcp_request_duration_seconds')?.type, 'HISTOGRAM');
      // The parser merges labelled histogram series, so their counts are read from the exposition lines.
      assert.match(
        text,
        /^mcp_request_duration_seconds_count\{method="tools\/call",transport="http"\} 4$/m,
        'three 2026-07-28 calls and one 2025-era call',
      );
      assert.match(
        text,
        /^mcp_request_duration_seconds_bucket\{le="\+Inf",method="tools\/call",transport="http"\} 4$/m,
      );
      assert.equal(sample(families, 'mcp_tool_calls_total', { tool: 'echo', outcome: 'ok' }), 3);
      assert.equal(sample(families, 'mcp_tool_calls_total', { tool: 'add', outcome: 'ok' }), 1);
      assert.equal(
        sample(families, 'mcp_tool_calls_total', { tool: 'unregistered', outcome: 'error' }),
        1,
        'a tool the server does not have is not a label value',
      );
      assert.equal(sample(families, 'mcp_tool_calls_total', { tool: 'no_such_tool_x1' }), undefined);
      assert.match(text, /^mcp_tool_duration_seconds_count\{tool="echo"\} 3$/m);
      assert.equal(sample(families, 'mcp_active_connections', { transport: 'websocket' }), 1);
      assert.ok(sample(families, 'mcp_active_connections', { transport: 'http' })! >= 1);
      assert.equal(sample(families, 'mcp_active_sessions', { era: '2025-06-18', transport: 'http' }), 1);
      assert.equal(sample(families, 'mcp_open_streams', { kind: 'listen' }), 0);
      assert.ok(sample(families, 'mcp_messages_bytes_total', { direction: 'in' })! > 400);
      assert.ok(sample(families, 'mcp_messages_bytes_total', { direction: 'out' })! > 400);
      assert.ok(families.has('process_cpu_user_seconds_total'), 'default process metrics are there');
      assert.ok(families.has('nodejs_eventloop_lag_seconds'));
      assert.doesNotMatch(text, new RegExp(sessionId), 'no session id in any label');
      ws.ws.close();
    });
  });

  test('auth failures and rate limits are counted by reason and scope', async () => {
    const options = {
      metrics: true,
      auth: { apiKeys: { file: keysFile() } },
      rateLimits: { global: { points: 2, durationSeconds: 60 } },
    };
    await withServer(options, async (s) => {
      const base = baseOf(s.url);
      assert.equal(
        (await raw(s.url, { headers: modernHeaders('tools/list'), body: modernBody(1, 'tools/list') })).status,
        401,
      );
      assert.equal(
        (
          await raw(s.url, {
            headers: { ...modernHeaders('tools/list'), 'x-api-key': 'rmcp_nope' },
            body: modernBody(2, 'tools/list'),
          })
        ).status,
        401,
      );
      const key = { 'x-api-key': KEY };
      assert.equal(
        (await raw(s.url, { headers: { ...modernHeaders('tools/list'), ...key }, body: modernBody(3, 'tools/list') }))
          .status,
        200,
      );
      assert.equal(
        (await raw(s.url, { headers: { ...modernHeaders('tools/list'), ...key }, body: modernBody(4, 'tools/list') }))
          .status,
        200,
      );
      assert.equal(
        (await raw(s.url, { headers: { ...modernHeaders('tools/list'), ...key }, body: modernBody(5, 'tools/list') }))
          .status,
        429,
      );
      const families = await metricsOf(base);
      const failures = families
        .get('mcp_auth_failures_total')!
        .metrics.reduce((sum, metric) => sum + Number(metric.value), 0);
      assert.equal(failures, 2);
      assert.equal(sample(families, 'mcp_rate_limited_total', { scope: 'global' }), 1);
      assert.equal(sample(families, 'mcp_requests_total', { method: 'tools/list', status: 'rate-limited' }), 1);
    });
  });

  test("promtool, the Prometheus project's own checker, accepts the exposition", {
    skip: promtoolMissing(),
  }, async () => {
    await withServer({ metrics: true }, async (s) => {
      await raw(s.url, {
        headers: modernHeaders('tools/call', 'echo'),
        body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
      });
      const text = (await raw(`${baseOf(s.url)}/metrics`, { method: 'GET' })).body;
      const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      const output = `${checked.stdout}${checked.stderr}`;
      // Exit 1 is a parse error; 3 means lint findings, which are allowed only on prom-client's own process
      // metrics (it names a gauge nodejs_active_handles_total): remote-mcp's metrics must be clean.
      assert.ok(checked.status === 0 || checked.status === 3, `promtool exited ${checked.status}: ${output}`);
      const findings = output.split('\n').filter((line) => line.trim().length > 0);
      assert.deepEqual(
        findings.filter((line) => !/^(nodejs|process)_/.test(line)),
        [],
      );
      assert.ok(text.includes('mcp_tool_calls_total{tool="echo",outcome="ok"} 1'));
    });
  });

  test('metrics.port serves /metrics on its own listener and not on the MCP port', async () => {
    const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, metrics: { port: 0 } });
    const { url, metricsUrl } = await remote.listen({ port: 0 });
    try {
      assert.ok(metricsUrl !== undefined);
      assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      assert.notEqual(new URL(metricsUrl).port, new URL(url).port);
      assert.equal((await raw(`${baseOf(url)}/metrics`, { method: 'GET' })).status, 404);
      await raw(url, { headers: modernHeaders('tools/list'), body: modernBody(1, 'tools/list') });
      const families = scrape((await raw(metricsUrl, { method: 'GET' })).body);
      assert.equal(sample(families, 'mcp_requests_total', { method: 'tools/list' }), 1);
      assert.equal((await raw(metricsUrl.replace('/metrics', '/other'), { method: 'GET' })).status, 404);
      // The application can add its own metrics to the registry.
      assert.ok(remote.metrics !== undefined);
    } finally {
      await remote.close();
    }
  });
});

describe('logs', () => {
  test('the operational log is pino JSON: listening with the URL, draining, closed; errors without a client go to it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-log-')), 'ops.log');
    const remote = createRemoteServer({ server: createDemoServer, log: { level: 'info', destination: file } });
    const { url } = await remote.listen({ port: 0 });
    remote.logger.error(new Error('boom'), 'an application error');
    await remote.close(); // flushes the log
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.map((line) => line.msg),
      [
        'listening',
        'an application error',
        'draining: readiness is 503, new connections and requests are refused',
        'closed',
      ],
    );
    assert.equal(lines[0].url, url);
    assert.equal(lines[0].level, 30);
    assert.equal(lines[0].log, 'remote-mcp');
    assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(lines[1].level, 50);
    assert.equal(lines[3].drained, true);
  });

  test('level warn (the library default) keeps info lines out', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-log-')), 'ops.log');
    const remote = createRemoteServer({ server: createDemoServer, log: { destination: file } });
    await remote.listen({ port: 0 });
    await remote.close();
    // Nothing was logged: the file is empty, or was never written at all.
    assert.equal(existsSync(file) ? readFileSync(file, 'utf8') : '', '');
  });
});

describe('tracing', () => {
  test('a traceparent header or _meta.traceparent puts the trace id on the audit line; _meta wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-trace-'));
    const file = join(dir, 'audit.log');
    const s = await startWith({ audit: { destination: file } });
    try {
      await raw(s.url, {
        headers: { ...modernHeaders('tools/list'), traceparent: TRACEPARENT },
        body: modernBody(1, 'tools/list'),
      });
      const otherTrace = '0af7651916cd43dd8448eb211c80319c';
      await raw(s.url, {
        headers: { ...modernHeaders('tools/list'), traceparent: TRACEPARENT },
        body: modernBody(2, 'tools/list', { _meta: { traceparent: `00-${otherTrace}-b7ad6b7169203331-01` } }),
      });
      await raw(s.url, {
        headers: { ...modernHeaders('tools/list'), traceparent: '00-zzzz-bad-01' },
        body: modernBody(3, 'tools/list'),
      });
    } finally {
      await s.close();
    }
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines.find((line) => line.rpcId === 1).traceId, TRACE_ID);
    assert.equal(lines.find((line) => line.rpcId === 2).traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(lines.find((line) => line.rpcId === 3).traceId, undefined, 'a malformed traceparent is ignored');
  });

  test('with an OpenTelemetry SDK registered, each request is a SERVER span, child of the caller, named after the tool', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    assert.equal(trace.setGlobalTracerProvider(provider), true);
    try {
      await withServer({}, async (s) => {
        await raw(s.url, {
          headers: { ...modernHeaders('tools/call', 'echo'), traceparent: TRACEPARENT },
          body: modernBody(1, 'tools/call', { name: 'echo', arguments: { text: 'traced' } }),
        });
        const ws = await connectWebSocket(s.url);
        ws.send({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'no_such_tool', arguments: {}, _meta: ENVELOPE },
        });
        await ws.waitFor((m) => m.id === 2, 'the answer');
        ws.ws.close();
      });
      const spans = exporter.getFinishedSpans();
      const echo = spans.find((span) => span.name === 'tools/call echo');
      assert.ok(echo !== undefined, `spans: ${spans.map((span) => span.name).join(', ')}`);
      assert.equal(echo.kind, 1); // SpanKind.SERVER
      assert.equal(echo.spanContext().traceId, TRACE_ID);
      assert.equal(echo.parentSpanContext?.spanId, '00f067aa0ba902b7');
      assert.equal(echo.attributes['gen_ai.tool.name'], 'echo');
      assert.equal(echo.attributes['jsonrpc.request.id'], '1');
      assert.equal(echo.status.code, 0); // UNSET: it succeeded
      const failed = spans.find((span) => span.name === 'tools/call no_such_tool');
      assert.ok(failed !== undefined);
      assert.equal(failed.attributes['network.protocol.name'], 'websocket');
      assert.equal(failed.status.code, 2); // ERROR
      assert.notEqual(failed.spanContext().traceId, TRACE_ID, 'no caller trace: a new root');
    } finally {
      trace.disable();
      await provider.shutdown();
    }
  });
});

/** promtool comes with Debian's prometheus package (.ci/run installs it); without it the test is skipped outside CI. */
function promtoolMissing(): string | false {
  if (spawnSync('promtool', ['--version']).status === 0) return false;
  if (process.env.CI !== undefined) throw new Error('promtool is required in CI: apt-get install prometheus');
  return 'promtool is not installed (apt-get install prometheus)';
}

async function startWith(options: Partial<RemoteServerOptions>) {
  const remote = createRemoteServer({ server: createDemoServer, onError: () => {}, ...options });
  const { url } = await remote.listen({ port: 0 });
  return { url, close: () => remote.close() };
}

const minted = mintApiKey('metrics-test', []);
const KEY = minted.key;

/** A keys file holding KEY. */
function keysFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-keys-')), 'keys.json');
  writeKeysFile(file, { version: 1, keys: [minted.entry] });
  return file;
}
