/**
 * Prometheus metrics with prom-client. Counters and histograms subscribe to the diagnostics channels
 * (src/observability/channels.ts); gauges read the live counts at scrape time, so open connections, sessions
 * and streams cost nothing between scrapes. Each server has its own registry: two servers in one process do
 * not mix their figures.
 *
 * Label values are bounded: methods outside the protocol's list are `other`, tools the server has not
 * registered are `unregistered`, and nothing carries a session id, a principal or a client address.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import { failOption } from '../errors.js';
import { FastCounter, FastHistogram, type CounterSeries } from './series.js';
import { CHANNELS, type AuthFailureEvent, type BytesEvent, type RequestEvent, type TaskEvent } from './channels.js';
import { REFUSAL_REASON_SET } from './refusal-reasons.js';

/** What the gauges read at scrape time. */
export interface LiveCounts {
  /** Open connections by transport (`http` TCP connections of the server listen() started, `websocket`). */
  connections(): Record<string, number>;
  /** Open 2025-era sessions by negotiated protocol version and transport. */
  sessions(): Array<{ era: string; transport: string; count: number }>;
  /** Open long-lived streams by kind (`listen`, `session-get`, `http-sse`). */
  streams(): Record<string, number>;
  /** Tasks running on this instance (the tasks extension). */
  tasksRunning(): number;
}

export interface MetricsSetup {
  source: object;
  counts: LiveCounts;
  /** Whether a tool is registered on the server (its name may be a label value). */
  isRegisteredTool: (name: string) => boolean;
  /** Node's process metrics (CPU, memory, event-loop lag, GC...). */
  defaultMetrics: boolean;
}

/**
 * The protocol's methods (all revisions); anything else is counted as `other`. `unknown` is the method of
 * attempts a transport refused before they became a request (their body was not read, or not a request).
 */
const METHODS = [
  'initialize',
  'ping',
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/update',
  'tasks/cancel',
  'tasks/list',
  'tasks/result',
  'unknown',
  'other',
];
const UNKNOWN_METHOD = METHODS.length - 2;
const OTHER_METHOD = METHODS.length - 1;
// A request named `unknown` by its client is `other`, like any name outside the protocol.
const METHOD_INDEX = new Map(METHODS.slice(0, UNKNOWN_METHOD).map((method, index) => [method, index]));
const TRANSPORTS: ReadonlyArray<RequestEvent['transport']> = ['http', 'sse', 'websocket'];
const ERAS: ReadonlyArray<RequestEvent['era']> = ['modern', 'legacy', 'unknown'];
const OUTCOMES: ReadonlyArray<RequestEvent['outcome']> = [
  'ok',
  'error',
  'tool-error',
  'cancelled',
  'denied',
  'rate-limited',
  'invalid',
  'unauthenticated',
  'refused',
];
const UNREGISTERED_TOOL = Object.freeze({ name: 'unregistered', index: 0 });
const OTHER_TOOL = Object.freeze({ name: 'other', index: 1 });

/** Seconds; from a cached list call (sub-millisecond) to a slow tool (a minute). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Most distinct tool label values; past it, tools are counted as `other` (a server that registers tools without end). */
const MAX_TOOL_LABELS = 500;

/** Authentication failure reasons that may be label values: short kebab-case words, at most 50 of them. */
const REASON_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const MAX_REASON_LABELS = 50;

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: FastCounter;
  private readonly durations: FastHistogram;
  private readonly toolCalls: FastCounter;
  private readonly toolDurations: FastHistogram;
  private readonly authFailures: FastCounter;
  private readonly rateLimited: FastCounter;
  private readonly refusals: FastCounter;
  private readonly tasks: FastCounter;
  private readonly bytesIn: CounterSeries;
  private readonly bytesOut: CounterSeries;
  /** Tool label values and their series index (0 and 1 are `unregistered` and `other`). */
  private readonly toolLabels = new Map<string, number>();
  private readonly reasonLabels = new Set<string>();
  private readonly onRequest = (message: unknown) => this.request(message as RequestEvent);
  private readonly onAuthFailure = (message: unknown) => {
    const event = message as AuthFailureEvent;
    if (event.source !== this.setup.source) return;
    const reason = this.reasonLabel(event.reason);
    (this.authFailures.find(reason) ?? this.authFailures.add(reason, { reason })).value++;
  };
  private readonly onTask = (message: unknown) => {
    const event = message as TaskEvent;
    if (event.source !== this.setup.source) return;
    const key = `${event.tool}\u0000${event.status}`;
    (this.tasks.find(key) ?? this.tasks.add(key, { tool: event.tool, status: event.status })).value++;
  };
  private readonly onBytes = (message: unknown) => {
    const event = message as BytesEvent;
    if (event.source !== this.setup.source) return;
    (event.direction === 'in' ? this.bytesIn : this.bytesOut).value += event.bytes;
  };

  constructor(private readonly setup: MetricsSetup) {
    const registry = this.registry;
    const registers = [registry];
    this.requests = new FastCounter(
      'mcp_requests_total',
      'JSON-RPC requests ended, by method, transport, era and outcome (ok, error, tool-error, cancelled, denied, rate-limited, invalid), and attempts a transport refused (refused).',
      registry,
    );
    this.durations = new FastHistogram(
      'mcp_request_duration_seconds',
      'Time from admission to answer of JSON-RPC requests.',
      DURATION_BUCKETS,
      registry,
    );
    this.toolCalls = new FastCounter('mcp_tool_calls_total', 'tools/call requests by tool and outcome.', registry);
    this.toolDurations = new FastHistogram(
      'mcp_tool_duration_seconds',
      'Time tools/call requests took, by tool.',
      DURATION_BUCKETS,
      registry,
    );
    this.authFailures = new FastCounter(
      'mcp_auth_failures_total',
      'Attempts refused by authentication, by reason.',
      registry,
    );
    this.rateLimited = new FastCounter(
      'mcp_rate_limited_total',
      'Requests refused by a rate or concurrency limit, by scope (principal, global, tool, concurrency).',
      registry,
    );
    this.refusals = new FastCounter(
      'mcp_refusals_total',
      'Attempts refused by a transport before they became a JSON-RPC request, by reason (docs/security.md).',
      registry,
    );
    this.tasks = new FastCounter(
      'mcp_tasks_total',
      'Tasks (the tasks extension) created on this instance, and ended on it, by tool and status (created, completed, failed, cancelled).',
      registry,
    );
    const bytes = new FastCounter(
      'mcp_messages_bytes_total',
      'Bytes of JSON-RPC messages received (in) and sent (out).',
      registry,
    );
    // Both directions are exported from the start, at 0.
    this.bytesIn = bytes.add('in', { direction: 'in' });
    this.bytesOut = bytes.add('out', { direction: 'out' });
    const { counts } = setup;
    new Gauge({
      name: 'mcp_active_connections',
      help: 'Open connections by transport.',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const [transport, count] of Object.entries(counts.connections())) this.set({ transport }, count);
      },
    });
    new Gauge({
      name: 'mcp_active_sessions',
      help: 'Open 2025-era sessions by negotiated protocol version (era) and transport.',
      labelNames: ['era', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const { era, transport, count } of counts.sessions()) this.set({ era, transport }, count);
      },
    });
    new Gauge({
      name: 'mcp_open_streams',
      help: 'Open long-lived streams by kind (listen: 2026-07-28 subscriptions; session-get: 2025-era GET streams; http-sse: 2024-11-05 HTTP+SSE sessions).',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, count] of Object.entries(counts.streams())) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'mcp_tasks_running',
      help: 'Tasks whose handler runs on this instance now.',
      registers,
      collect() {
        this.set(counts.tasksRunning());
      },
    });
    if (setup.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    subscribe(CHANNELS.request, this.onRequest);
    subscribe(CHANNELS.authFailure, this.onAuthFailure);
    subscribe(CHANNELS.bytes, this.onBytes);
    subscribe(CHANNELS.task, this.onTask);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops listening to the channels (the registry's figures stay readable). */
  close(): void {
    unsubscribe(CHANNELS.request, this.onRequest);
    unsubscribe(CHANNELS.authFailure, this.onAuthFailure);
    unsubscribe(CHANNELS.bytes, this.onBytes);
    unsubscribe(CHANNELS.task, this.onTask);
  }

  private request(event: RequestEvent): void {
    if (event.source !== this.setup.source) return;
    const { transport, era, outcome } = event;
    // Series are found by a small integer built from the label values' positions: no string to build or hash.
    const methodIndex = outcome === 'refused' ? UNKNOWN_METHOD : (METHOD_INDEX.get(event.method) ?? OTHER_METHOD);
    const route = (methodIndex * TRANSPORTS.length + TRANSPORTS.indexOf(transport)) * ERAS.length + ERAS.indexOf(era);
    const outcomeIndex = OUTCOMES.indexOf(outcome);
    const requestKey = route * OUTCOMES.length + outcomeIndex;
    (
      this.requests.find(requestKey) ??
      this.requests.add(requestKey, { method: METHODS[methodIndex]!, transport, era, status: outcome })
    ).value++;
    if (outcome === 'rate-limited') {
      const scope = event.reason ?? 'principal';
      (this.rateLimited.find(scope) ?? this.rateLimited.add(scope, { scope })).value++;
    }
    if (outcome === 'refused') {
      // The reasons are a closed list; anything else (a future publisher's mistake) is not a label value.
      const reason = event.reason !== undefined && REFUSAL_REASON_SET.has(event.reason) ? event.reason : 'other';
      (this.refusals.find(reason) ?? this.refusals.add(reason, { reason })).value++;
      return;
    }
    // Refusals never ran: they have no duration worth a bucket.
    const ran = outcome === 'ok' || outcome === 'error' || outcome === 'tool-error' || outcome === 'cancelled';
    const durationKey = methodIndex * TRANSPORTS.length + TRANSPORTS.indexOf(transport);
    if (ran)
      (
        this.durations.find(durationKey) ??
        this.durations.add(durationKey, { method: METHODS[methodIndex]!, transport })
      ).observe(event.durationSeconds);
    if (event.tool === undefined) return;
    const tool = this.toolLabel(event.tool, outcome);
    const toolKey = tool.index * OUTCOMES.length + outcomeIndex;
    (this.toolCalls.find(toolKey) ?? this.toolCalls.add(toolKey, { tool: tool.name, outcome })).value++;
    if (ran)
      (this.toolDurations.find(tool.index) ?? this.toolDurations.add(tool.index, { tool: tool.name })).observe(
        event.durationSeconds,
      );
  }

  /** Built-in reasons are a fixed set; a custom authenticate hook's are its own, so they are bounded here. */
  private reasonLabel(reason: string): string {
    if (this.reasonLabels.has(reason)) return reason;
    if (!REASON_PATTERN.test(reason) || this.reasonLabels.size >= MAX_REASON_LABELS) return 'other';
    this.reasonLabels.add(reason);
    return reason;
  }

  /**
   * A tool name is a label value once it is known to be a real tool: registered on the McpServer, or answered
   * with a result by a low-level Server (whose tools remote-mcp cannot list). A client inventing names does
   * not create series.
   */
  private toolLabel(name: string, outcome: RequestEvent['outcome']): { name: string; index: number } {
    const known = this.toolLabels.get(name);
    if (known !== undefined) return { name, index: known };
    if (!this.setup.isRegisteredTool(name) && outcome !== 'ok' && outcome !== 'tool-error') return UNREGISTERED_TOOL;
    if (this.toolLabels.size >= MAX_TOOL_LABELS) return OTHER_TOOL;
    const index = this.toolLabels.size + 2;
    this.toolLabels.set(name, index);
    return { name, index };
  }
}

export interface MetricsOptions {
  /** Path of the exposition. Default `/metrics`. */
  path?: string;
  /** Serve metrics on their own port (for a scraper on a private network) instead of the MCP port. Default: the MCP port. */
  port?: number;
  /** Address of the separate metrics port. Default 127.0.0.1. */
  host?: string;
  /** Ask for the same credentials as the MCP endpoint. Default false. */
  requireAuth?: boolean;
  /** Include Node's process metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
}

export interface ResolvedMetricsOptions {
  path: string;
  port: number | undefined;
  host: string;
  requireAuth: boolean;
  defaultMetrics: boolean;
}

export const METRICS_DEFAULTS = Object.freeze({
  path: '/metrics',
  host: '127.0.0.1',
  requireAuth: false,
  defaultMetrics: true,
});

function fail(name: string, expected: string, value: unknown): never {
  failOption(`metrics${name}`, expected, value);
}

/** Validates the `metrics` option; undefined when metrics are off (the default). */
export function resolveMetricsOptions(value: unknown): ResolvedMetricsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ...METRICS_DEFAULTS, port: undefined };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('', 'a boolean or an object', value);
  const options = value as MetricsOptions;
  const known = new Set(['path', 'port', 'host', 'requireAuth', 'defaultMetrics']);
  for (const key of Object.keys(options))
    if (!known.has(key)) fail(`.${key}`, `one of ${[...known].join(', ')} (unknown key)`, key);
  const path = options.path ?? METRICS_DEFAULTS.path;
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('?'))
    fail('.path', 'a path starting with "/"', path);
  if (options.port !== undefined && (!Number.isSafeInteger(options.port) || options.port < 0 || options.port > 65_535))
    fail('.port', 'an integer from 0 to 65535', options.port);
  const host = options.host ?? METRICS_DEFAULTS.host;
  if (typeof host !== 'string' || host.length === 0) fail('.host', 'an address', host);
  const requireAuth = options.requireAuth ?? METRICS_DEFAULTS.requireAuth;
  if (typeof requireAuth !== 'boolean') fail('.requireAuth', 'a boolean', requireAuth);
  const defaultMetrics = options.defaultMetrics ?? METRICS_DEFAULTS.defaultMetrics;
  if (typeof defaultMetrics !== 'boolean') fail('.defaultMetrics', 'a boolean', defaultMetrics);
  return { path, port: options.port, host, requireAuth, defaultMetrics };
}
