/**
 * What bench prints: the live progress line (stderr), the report (stdout), or with --json one object whose keys
 * docs/cli.md lists.
 */
import { TRANSPORT_LABELS, type BenchOptions } from './bench-options.js';
import type { PhaseStats } from './closed-loop.js';
import type { LatencySummary } from './latency-recorder.js';

export interface BenchResult {
  url: string;
  transport: BenchOptions['transport'];
  tool: string;
  connections: number;
  /** Measured time, from the first request to the last answer. */
  durationSeconds: number;
  requests: number;
  ok: number;
  failed: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  /** Failed requests by kind. */
  errors: Record<string, number>;
  /** The first message of each kind of error. */
  errorMessages: Record<string, string>;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function resultOf(options: BenchOptions, stats: PhaseStats): BenchResult {
  const seconds = stats.elapsedMs / 1000;
  return {
    url: options.url.href,
    transport: options.transport,
    tool: options.tool,
    connections: options.connections,
    durationSeconds: round(seconds, 3),
    requests: stats.requests,
    ok: stats.ok,
    failed: stats.failed,
    requestsPerSecond: seconds > 0 ? round(stats.requests / seconds, 1) : 0,
    latencyMs: stats.latency.summary(),
    errors: Object.fromEntries(stats.errors),
    errorMessages: Object.fromEntries(stats.messages),
  };
}

const count = (value: number) => value.toLocaleString('en-US');
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** The human report. */
export function formatReport(result: BenchResult): string {
  const { latencyMs: l } = result;
  const lines = [
    `remote-mcp bench ${result.url}`,
    `  tool ${result.tool} over ${TRANSPORT_LABELS[result.transport]}, ${result.connections} connection${result.connections === 1 ? '' : 's'}, ${result.durationSeconds.toFixed(result.durationSeconds < 10 ? 2 : 1)} s`,
    `  requests   ${count(result.requests)} (${count(Math.round(result.requestsPerSecond))}/s)`,
    `  latency    p50 ${ms(l.p50)}   p90 ${ms(l.p90)}   p99 ${ms(l.p99)}   max ${ms(l.max)}`,
  ];
  const kinds = Object.entries(result.errors);
  if (kinds.length === 0) lines.push('  errors     none');
  else {
    lines.push(`  errors     ${count(result.failed)} of ${count(result.requests)}`);
    const width = Math.max(...kinds.map(([kind]) => kind.length));
    for (const [kind, n] of kinds)
      lines.push(`    ${kind.padEnd(width)}  ${count(n).padStart(9)}  ${result.errorMessages[kind] ?? ''}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

/** The progress line: elapsed time, requests so far, the last second's rate, errors so far. */
export function progressLine(label: string, stats: PhaseStats, lastSecond: number): string {
  return `${label} ${(stats.elapsedMs / 1000).toFixed(0).padStart(4)} s  ${count(stats.requests).padStart(11)} requests  ${count(lastSecond).padStart(8)}/s  ${count(stats.failed)} errors`;
}
