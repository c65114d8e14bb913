/**
 * `remote-mcp bench <url> --tool <name>`: load one tool of a remote MCP server over any transport in a closed
 * loop (each connection keeps one request in flight) and report requests/s, latency percentiles and errors by
 * kind. The loop is built to cost little per request (src/cli/load/), so it can measure fast servers: prebuilt
 * bodies and headers, one keep-alive socket per connection, no SDK client. Exit 0 when any request succeeded
 * (errors are reported, not fatal), 1 when every request failed or the target cannot be reached, 2 on bad usage.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import {
  BENCH_DEFAULTS,
  BENCH_LIMITS,
  TRANSPORT_LABELS,
  TRANSPORTS,
  type BenchOptions,
  type TransportName,
} from './load/bench-options.js';
import { ClosedLoop, PhaseStats } from './load/closed-loop.js';
import { OpenError, type Driver } from './load/driver.js';
import { ModernHttpDriver } from './load/http-driver.js';
import { LegacyHttpDriver } from './load/legacy-driver.js';
import { formatReport, progressLine, resultOf } from './load/report.js';
import { SseDriver } from './load/sse-driver.js';
import { WebSocketDriver } from './load/ws-driver.js';

/** Exit code of a usage error (commander's own is 1, which client commands keep for failed operations). */
const USAGE = 2;

const wholeNumber = (min: number, max: number) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max)
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, received "${value}"`);
  return parsed;
};

const seconds = (min: number, exclusive: boolean) => (value: string) => {
  const parsed = Number(value);
  if (
    value.trim() === '' ||
    !Number.isFinite(parsed) ||
    (exclusive ? parsed <= min : parsed < min) ||
    parsed > BENCH_LIMITS.maxDurationSeconds
  )
    throw new InvalidArgumentError(
      `expected seconds ${exclusive ? '>' : '>='} ${min} and <= ${BENCH_LIMITS.maxDurationSeconds}, received "${value}"`,
    );
  return parsed;
};

function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message}); expected an object like '{"text":"hi"}'`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError(`expected a JSON object like '{"text":"hi"}', received ${value}`);
  return parsed as Record<string, unknown>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What an HTTP field value may hold (requests are written as Latin-1 on the socket). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const BAD_VALUE = 'a header value cannot hold line breaks or control characters (nor characters past U+00FF)';

/** `--header name:value`, repeatable. */
function header(value: string, previous: Array<[string, string]>): Array<[string, string]> {
  const colon = value.indexOf(':');
  const name = value.slice(0, Math.max(colon, 0)).trim();
  if (colon === -1 || !TOKEN.test(name))
    throw new InvalidArgumentError(`expected name:value (e.g. "x-tenant: acme"), received "${value}"`);
  const fieldValue = value.slice(colon + 1).trim();
  if (!FIELD_VALUE.test(fieldValue)) throw new InvalidArgumentError(BAD_VALUE);
  return [...previous, [name.toLowerCase(), fieldValue]];
}

/** A credential flag's value, checked as a header value. */
function credential(value: string): string {
  if (!FIELD_VALUE.test(value) || value.length === 0) throw new InvalidArgumentError(BAD_VALUE);
  return value;
}

interface BenchFlags {
  tool: string;
  args: Record<string, unknown>;
  connections: number;
  duration: number;
  requests?: number;
  transport?: TransportName;
  header: Array<[string, string]>;
  token?: string;
  apiKey?: string;
  timeout: number;
  warmup: number;
  json?: boolean;
  progress?: boolean;
}

function createDriver(options: BenchOptions): Driver & { warning?: string } {
  switch (options.transport) {
    case 'http':
      return new ModernHttpDriver(options);
    case 'legacy':
      return new LegacyHttpDriver(options);
    case 'sse':
      return new SseDriver(options);
    case 'ws':
      return new WebSocketDriver(options);
  }
}

/** The options of a run, or a usage error (exit 2) for a URL that cannot work. */
function benchOptions(urlText: string, flags: BenchFlags, command: Command): BenchOptions {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    return command.error(`error: "${urlText}" is not a URL (expected http(s)://host:port/path or ws(s)://...)`, {
      exitCode: USAGE,
    });
  }
  const webSocket = url.protocol === 'ws:' || url.protocol === 'wss:';
  if (!webSocket && url.protocol !== 'http:' && url.protocol !== 'https:')
    command.error(`error: bench speaks http(s) and ws(s), not ${url.protocol} (${urlText})`, { exitCode: USAGE });
  const transport = flags.transport ?? (webSocket ? 'ws' : 'http');
  if (webSocket && transport !== 'ws')
    command.error(`error: --transport ${transport} needs an http(s) URL; ${urlText} is a WebSocket URL`, {
      exitCode: USAGE,
    });
  const headers = Object.fromEntries(flags.header);
  if (flags.token !== undefined) headers.authorization = `Bearer ${flags.token}`;
  if (flags.apiKey !== undefined) headers['x-api-key'] = flags.apiKey;
  return {
    url,
    transport,
    tool: flags.tool,
    args: flags.args,
    headers,
    connections: flags.connections,
    durationSeconds: flags.duration,
    requests: flags.requests,
    warmupSeconds: flags.warmup,
    timeoutMs: flags.timeout,
  };
}

/** Prints the progress line once a second while `loop` runs; returns the function that stops it. */
function showProgress(loop: ClosedLoop, label: () => string, forced: boolean): () => void {
  const tty = process.stderr.isTTY === true;
  if (!tty && !forced) return () => {};
  let previous = 0;
  const timer = setInterval(() => {
    const stats = loop.running;
    if (stats === undefined) return;
    const line = progressLine(label(), stats, stats.requests - previous);
    previous = stats.requests;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }, 1000);
  return () => {
    clearInterval(timer);
    if (tty) process.stderr.write('\r\x1b[K');
  };
}

async function bench(urlText: string, flags: BenchFlags, command: Command): Promise<void> {
  const options = benchOptions(urlText, flags, command);
  const driver = createDriver(options);
  const where = `${options.url.href} (${TRANSPORT_LABELS[options.transport]})`;
  const unreachable = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    return error instanceof OpenError && error.code === undefined
      ? new Error(`cannot open a connection to ${where}: ${message}`)
      : new Error(`cannot reach ${where}: ${message}`);
  };
  try {
    await driver.prepare();
  } catch (error) {
    await driver.close();
    throw unreachable(error);
  }
  if (driver.warning !== undefined) process.stderr.write(`remote-mcp bench: warning: ${driver.warning}\n`);
  const loop = new ClosedLoop(driver, options.connections, options.timeoutMs);
  const { opened, error } = await loop.open();
  if (opened === 0) {
    await loop.close();
    throw unreachable(error);
  }
  let phase = 'warm-up';
  const stopProgress = showProgress(loop, () => phase, flags.progress === true);
  // Ctrl-C ends the run and reports what was measured; a second one exits at once.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    loop.stop();
  };
  process.on('SIGINT', onSigint);
  const stats = new PhaseStats();
  try {
    if (options.warmupSeconds > 0) await loop.run(options.warmupSeconds * 1000, undefined, new PhaseStats());
    phase = 'bench';
    if (!interrupted) await loop.run(options.durationSeconds * 1000, options.requests, stats);
  } finally {
    stopProgress();
    process.off('SIGINT', onSigint);
    await loop.close();
  }
  const result = resultOf(options, stats);
  process.stdout.write(flags.json === true ? `${JSON.stringify(result)}\n` : formatReport(result));
  if (result.ok === 0) {
    const [kind, message] = [...stats.messages][0] ?? ['no request', 'none was sent'];
    process.stderr.write(
      `remote-mcp: every request failed${result.requests > 0 ? ` (first: ${kind}: ${message})` : ''}\n`,
    );
    process.exitCode = 1;
  }
}

/** The `bench` subcommand. */
export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'Load-test one tool of a remote MCP server: a closed loop over N connections, then requests/s, latency p50/p90/p99/max and errors by kind.',
    )
    .argument('<url>', 'the MCP endpoint: http(s)://host:port/mcp (or ws(s)://... for WebSocket)')
    .requiredOption('--tool <name>', 'the tool to call')
    .option('--args <json>', 'the tool arguments, a JSON object sent on every call', jsonObject, {})
    .option(
      '-c, --connections <n>',
      'connections, each with one request in flight',
      wholeNumber(1, BENCH_LIMITS.maxConnections),
      BENCH_DEFAULTS.connections,
    )
    .option('-d, --duration <seconds>', 'length of the measured run', seconds(0, true), BENCH_DEFAULTS.durationSeconds)
    .option(
      '-n, --requests <n>',
      'stop after this many requests (over all connections) if the duration has not ended first',
      wholeNumber(1, Number.MAX_SAFE_INTEGER),
    )
    .addOption(
      new Option(
        '--transport <kind>',
        'http: 2026-07-28 stateless POSTs; legacy: a 2025-era session per connection; sse: HTTP+SSE (2024-11-05); ws: WebSocket (default: ws for ws(s):// URLs, else http)',
      ).choices(TRANSPORTS as string[]),
    )
    .option('--header <name:value>', 'send this header with every request (repeatable)', header, [])
    .option('--token <token>', 'send Authorization: Bearer <token>', credential)
    .option('--api-key <key>', 'send X-API-Key: <key>', credential)
    .option(
      '--timeout <ms>',
      'a request unanswered after this counts as a timeout; also bounds each connection handshake',
      wholeNumber(1, 3_600_000),
      BENCH_DEFAULTS.timeoutMs,
    )
    .option('--warmup <seconds>', 'an unmeasured run first, on the same connections', seconds(0, false), 0)
    .option('--json', 'print one JSON object (requestsPerSecond, latencyMs, requests, errors, ...)')
    .option('--progress', 'print the progress line even when stderr is not a terminal')
    .showHelpAfterError('(remote-mcp bench --help for usage)')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE))
    .action(bench);
}
