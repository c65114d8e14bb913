/**
 * Liveness (`GET /health`) and readiness (`GET /ready`). Both are cheap enough to probe every second: the
 * checks run at most once per `cacheMs` however often they are asked, each bounded by its own timeout, and the
 * process figures are a few reads of counters Node keeps anyway.
 *
 * /health answers 200 while every required check passes, 503 when one fails. /ready answers 200 only while the
 * server takes new work: 503 while it starts (the factory has not built the instance yet), while it drains,
 * and while a required check fails.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

import { failOption } from '../errors.js';
import { VERSION } from '../version.js';

export interface HealthCheck {
  /** Shown in the report; unique. */
  name: string;
  /** Resolves (with optional details) when healthy; throws or rejects when not. */
  check: () => unknown;
  /** A failing required check turns /health and /ready to 503; others only show in the report. Default true. */
  required?: boolean;
  /** A check that takes longer fails. Default 2000 ms. */
  timeoutMs?: number;
  /**
   * false: a failure turns /ready to 503 but not /health (liveness): a dependency that is away (the Redis of the
   * state stores) makes the instance unready, and restarting it would not bring the dependency back. Default true.
   */
  liveness?: boolean;
  /** Whether the check applies now; one that does not is left out of the report. Default: always. */
  applies?: () => boolean;
}

export interface HealthOptions {
  /** Liveness path. Default `/health`. */
  path?: string;
  /** Readiness path. Default `/ready`. */
  readyPath?: string;
  /** Ask for the same credentials as the MCP endpoint. Default false (probes usually carry none). */
  requireAuth?: boolean;
  /** Your own checks (a database, an upstream); remote-mcp adds its state stores'. Default none. */
  checks?: HealthCheck[];
}

export interface ResolvedHealthOptions {
  path: string;
  readyPath: string;
  requireAuth: boolean;
  checks: HealthCheck[];
}

export const HEALTH_DEFAULTS = Object.freeze({
  path: '/health',
  readyPath: '/ready',
  requireAuth: false,
  checkTimeoutMs: 2_000,
  cacheMs: 1_000,
});

function fail(name: string, expected: string, value: unknown): never {
  failOption(`health${name}`, expected, value);
}

function path(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('?'))
    fail(name, 'a path starting with "/"', value);
  return value;
}

/** Validates the `health` option; undefined when it is `false` (no probe routes). */
export function resolveHealthOptions(value: unknown): ResolvedHealthOptions | undefined {
  if (value === false) return undefined;
  if (value === undefined || value === true)
    return { path: HEALTH_DEFAULTS.path, readyPath: HEALTH_DEFAULTS.readyPath, requireAuth: false, checks: [] };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('', 'false or an object', value);
  const options = value as HealthOptions;
  const known = new Set(['path', 'readyPath', 'requireAuth', 'checks']);
  for (const key of Object.keys(options))
    if (!known.has(key)) fail(`.${key}`, `one of ${[...known].join(', ')} (unknown key)`, key);
  const requireAuth = options.requireAuth ?? false;
  if (typeof requireAuth !== 'boolean') fail('.requireAuth', 'a boolean', requireAuth);
  const checks = options.checks ?? [];
  if (!Array.isArray(checks)) fail('.checks', 'an array of { name, check }', checks);
  const names = new Set<string>();
  for (const [index, check] of checks.entries()) {
    if (
      check === null ||
      typeof check !== 'object' ||
      typeof check.name !== 'string' ||
      check.name.length === 0 ||
      typeof check.check !== 'function'
    ) {
      fail(`.checks[${index}]`, 'an object with a name (string) and check (function)', check);
    }
    if (names.has(check.name)) fail(`.checks[${index}].name`, 'unique', check.name);
    names.add(check.name);
    if (check.timeoutMs !== undefined && (!Number.isSafeInteger(check.timeoutMs) || check.timeoutMs < 1))
      fail(`.checks[${index}].timeoutMs`, 'an integer >= 1', check.timeoutMs);
  }
  const resolved = {
    path: path(options.path, '.path', HEALTH_DEFAULTS.path),
    readyPath: path(options.readyPath, '.readyPath', HEALTH_DEFAULTS.readyPath),
    requireAuth,
    checks,
  };
  if (resolved.path === resolved.readyPath) fail('.readyPath', 'different from health.path', resolved.readyPath);
  return resolved;
}

export interface CheckResult {
  name: string;
  status: 'ok' | 'failed';
  required: boolean;
  durationMs: number;
  details?: unknown;
  error?: string;
}

export interface HealthReport {
  /** `degraded`: a required check that does not fail liveness (a state store) failed; /ready is 503. */
  status: 'ok' | 'degraded' | 'failed' | 'draining' | 'starting';
  version: string;
  uptimeSeconds: number;
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number };
  eventLoopDelayMs: { mean: number; p99: number; max: number };
  checks: CheckResult[];
}

async function runCheck(check: HealthCheck): Promise<CheckResult> {
  const required = check.required ?? true;
  const started = performance.now();
  const timeoutMs = check.timeoutMs ?? HEALTH_DEFAULTS.checkTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    const details = await Promise.race([
      Promise.resolve().then(check.check),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return {
      name: check.name,
      status: 'ok',
      required,
      durationMs: elapsed(started),
      ...(details !== undefined && { details }),
    };
  } catch (error) {
    return {
      name: check.name,
      status: 'failed',
      required,
      durationMs: elapsed(started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

export class HealthMonitor {
  private readonly loop: IntervalHistogram;
  private cached: { at: number; results: Promise<CheckResult[]> } | undefined;

  constructor(
    private readonly checks: HealthCheck[],
    private readonly state: () => 'starting' | 'serving' | 'draining',
  ) {
    this.loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loop.enable();
  }

  /** The checks' results, at most `cacheMs` old: a probe storm runs each check once a second. */
  private results(): Promise<CheckResult[]> {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at >= HEALTH_DEFAULTS.cacheMs) {
      this.cached = {
        at: now,
        results: Promise.all(this.checks.filter((check) => check.applies?.() !== false).map(runCheck)),
      };
    }
    return this.cached.results;
  }

  async health(): Promise<{ status: number; report: HealthReport }> {
    const checks = await this.results();
    // A check with liveness: false fails readiness only (names are unique).
    const readinessOnly = new Set(this.checks.filter((check) => check.liveness === false).map((check) => check.name));
    const failed = checks.some(
      (check) => check.required && check.status === 'failed' && !readinessOnly.has(check.name),
    );
    const degraded = checks.some((check) => check.required && check.status === 'failed');
    const memory = process.memoryUsage();
    const state = this.state();
    const report: HealthReport = {
      status: failed ? 'failed' : state !== 'serving' ? state : degraded ? 'degraded' : 'ok',
      version: VERSION,
      uptimeSeconds: Math.round(process.uptime() * 1000) / 1000,
      memory: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        heapTotalBytes: memory.heapTotal,
        externalBytes: memory.external,
      },
      eventLoopDelayMs: {
        mean: delay(this.loop.mean),
        p99: delay(this.loop.percentile(99)),
        max: delay(this.loop.max),
      },
      checks,
    };
    // Recent figures, not the process's whole life: a stall an hour ago says nothing about now.
    this.loop.reset();
    return { status: failed ? 503 : 200, report };
  }

  async ready(): Promise<{ status: number; body: { status: string; checks?: CheckResult[] } }> {
    const state = this.state();
    if (state !== 'serving') return { status: 503, body: { status: state } };
    const failing = (await this.results()).filter((check) => check.required && check.status === 'failed');
    if (failing.length > 0) return { status: 503, body: { status: 'failed', checks: failing } };
    return { status: 200, body: { status: 'ready' } };
  }

  close(): void {
    this.loop.disable();
  }
}

/** How often the event-loop monitor samples, in ms. */
const LOOP_RESOLUTION_MS = 10;

/**
 * A sample of the monitor, in ns, as the delay beyond its own timer, in ms (2 decimals): each sample spans the
 * sampling interval plus the lateness, so an idle loop would otherwise read as the interval itself.
 */
function delay(nanoseconds: number): number {
  if (!Number.isFinite(nanoseconds)) return 0;
  return Math.max(0, Math.round((nanoseconds / 1e6 - LOOP_RESOLUTION_MS) * 100) / 100);
}
