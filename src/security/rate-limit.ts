/**
 * Rate limits with `rate-limiter-flexible`: a window per principal (the client IP without auth), a server-wide
 * window, and a cost per tool. Counters live behind RateLimitStore, a one-method interface: in memory here,
 * and rate-limiter-flexible's Redis limiter has the same shape as its memory one, so a shared store for several
 * instances is a small class behind the same interface.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

import { failOption, RemoteMcpOptionError } from '../errors.js';

export interface RateLimitWindow {
  /** Requests (points) allowed per window. */
  points: number;
  durationSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (rounded up). */
  resetSeconds: number;
}

export interface RateLimitStore {
  /** Takes `cost` points from `key`'s counter in `window`. Rejects only when the store itself fails. */
  consume(key: string, cost: number, window: RateLimitWindow): Promise<RateLimitDecision>;
  close(): Promise<void>;
  /** Optional: the store's health for /health and /ready; resolves with details, rejects when it is unreachable. */
  check?(): Promise<unknown>;
}

export class InMemoryRateLimitStore implements RateLimitStore {
  private readonly limiters = new Map<string, RateLimiterMemory>();

  async check(): Promise<unknown> {
    return { kind: 'memory' };
  }

  async consume(key: string, cost: number, window: RateLimitWindow): Promise<RateLimitDecision> {
    const id = `${window.points}/${window.durationSeconds}`;
    let limiter = this.limiters.get(id);
    if (limiter === undefined) {
      limiter = new RateLimiterMemory({ points: window.points, duration: window.durationSeconds, keyPrefix: id });
      this.limiters.set(id, limiter);
    }
    try {
      const result = await limiter.consume(key, cost);
      return decisionOf(true, window, result);
    } catch (rejection) {
      // Over the limit, the limiter rejects with its result; anything else is a store failure.
      if (rejection instanceof RateLimiterRes) return decisionOf(false, window, rejection);
      throw rejection;
    }
  }

  async close(): Promise<void> {
    this.limiters.clear();
  }
}

/** A limiter's result as the decision RateLimitStore.consume() answers (also used by the Redis store). */
export function decisionOf(allowed: boolean, window: RateLimitWindow, result: RateLimiterRes): RateLimitDecision {
  return {
    allowed,
    limit: window.points,
    remaining: Math.max(result.remainingPoints, 0),
    resetSeconds: Math.max(Math.ceil(result.msBeforeNext / 1000), 0),
  };
}

export interface RateLimitOptions {
  /** Per principal (client IP without auth). */
  perPrincipal?: RateLimitWindow;
  /** Server-wide. */
  global?: RateLimitWindow;
  /** Points a call of the tool costs (default 1; 0 = free). */
  toolCosts?: Record<string, number>;
  /** Where counters live. Default: in memory (one process); Redis when the `redis` option is set. */
  store?: RateLimitStore;
  /**
   * What a request meets while the store does not answer (Redis down): `local` (default) counts in this
   * process until the store is back, so each instance holds the limit on its own; `open` admits without
   * counting; `closed` refuses with 503 RATE_LIMIT_UNAVAILABLE.
   */
  storeFailure?: RateLimitStoreFailure;
}

export type RateLimitStoreFailure = 'local' | 'open' | 'closed';
export const RATE_LIMIT_STORE_FAILURES: readonly RateLimitStoreFailure[] = ['local', 'open', 'closed'];
/** How often, at most, a failing store is reported while requests fall back (`local`, `open`). */
const STORE_FAILURE_REPORT_MS = 30_000;

export interface ResolvedRateLimits {
  perPrincipal: RateLimitWindow | undefined;
  global: RateLimitWindow | undefined;
  toolCosts: Map<string, number>;
  store: RateLimitStore;
  storeFailure: RateLimitStoreFailure;
  /** The store was chosen by the caller (rateLimits.store), not defaulted: the `redis` option leaves it alone. */
  storeGiven: boolean;
}

function fail(name: string, expected: string, value: unknown): never {
  failOption(`rateLimits.${name}`, expected, value);
}

function resolveWindow(value: unknown, name: string): RateLimitWindow | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') fail(name, 'an object { points, durationSeconds }', value);
  const { points, durationSeconds } = value as Partial<RateLimitWindow>;
  if (typeof points !== 'number' || !Number.isSafeInteger(points) || points < 1)
    fail(`${name}.points`, 'an integer >= 1', points);
  if (
    typeof durationSeconds !== 'number' ||
    !Number.isSafeInteger(durationSeconds) ||
    durationSeconds < 1 ||
    durationSeconds > 86_400
  ) {
    fail(`${name}.durationSeconds`, 'an integer from 1 to 86400', durationSeconds);
  }
  return { points, durationSeconds };
}

/** Validates the `rateLimits` option; undefined (rate limiting off) when it is not set. */
export function resolveRateLimitOptions(value: unknown): ResolvedRateLimits | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RemoteMcpOptionError(
      `remote-mcp: option \`rateLimits\` must be an object; received ${JSON.stringify(value)}.`,
    );
  }
  const options = value as RateLimitOptions;
  const perPrincipal = resolveWindow(options.perPrincipal, 'perPrincipal');
  const global = resolveWindow(options.global, 'global');
  if (perPrincipal === undefined && global === undefined) fail('perPrincipal', 'set (or rateLimits.global)', undefined);
  const toolCosts = new Map<string, number>();
  if (options.toolCosts !== undefined) {
    if (options.toolCosts === null || typeof options.toolCosts !== 'object')
      fail('toolCosts', 'an object mapping tool names to costs', options.toolCosts);
    for (const [tool, cost] of Object.entries(options.toolCosts)) {
      if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 0)
        fail(`toolCosts.${tool}`, 'an integer >= 0', cost);
      toolCosts.set(tool, cost);
    }
  }
  const store = options.store ?? new InMemoryRateLimitStore();
  if (typeof store.consume !== 'function' || typeof store.close !== 'function')
    fail('store', 'an object with consume() and close()', '[object]');
  const storeFailure = options.storeFailure ?? 'local';
  if (!RATE_LIMIT_STORE_FAILURES.includes(storeFailure))
    fail('storeFailure', '"local", "open" or "closed"', storeFailure);
  return { perPrincipal, global, toolCosts, store, storeFailure, storeGiven: options.store !== undefined };
}

export interface RateLimitVerdict {
  allowed: boolean;
  /** Which limit refused. */
  scope?: 'global' | 'principal';
  retryAfterSeconds?: number;
  /** RateLimit-* headers (IETF draft) for the tightest window, and Retry-After when refused; lower-case names. */
  headers: Record<string, string>;
}

export class RateLimiter {
  private store: RateLimitStore;
  /** Counters of `storeFailure: 'local'` while the store is away (made at the first failure). */
  private fallback: InMemoryRateLimitStore | undefined;
  private lastReport = 0;

  constructor(
    private readonly limits: ResolvedRateLimits,
    private readonly onStoreFailure: (error: Error) => void = () => {},
  ) {
    this.store = limits.store;
  }

  /** Whether the caller chose the store (the `redis` option then leaves it alone). */
  get storeGiven(): boolean {
    return this.limits.storeGiven;
  }

  /** Counts in `store` from now on (the shared Redis store, once it is built). */
  useStore(store: RateLimitStore): void {
    this.store = store;
  }

  /** The store's health check, when it has one. */
  get storeCheck(): (() => Promise<unknown>) | undefined {
    if (this.store.check === undefined) return undefined;
    // Read at each call: useStore() may swap the in-memory store for the shared one after this is taken.
    return () => this.store.check?.() ?? Promise.resolve({ kind: 'custom' });
  }

  /** Charges a request (a tool call costs its toolCosts entry) to the global window, then the principal's. */
  async check(principalKey: string, toolName: string | undefined): Promise<RateLimitVerdict> {
    const cost = toolName === undefined ? 1 : (this.limits.toolCosts.get(toolName) ?? 1);
    if (cost === 0) return { allowed: true, headers: {} };
    let tightest: { window: RateLimitWindow; decision: RateLimitDecision } | undefined;
    // The global window is charged first; a request it admits that the principal's window then refuses has
    // still spent a global point: the server did the work of refusing it.
    for (const [scope, window, key] of [
      ['global', this.limits.global, 'global'],
      ['principal', this.limits.perPrincipal, `p:${principalKey}`],
    ] as const) {
      if (window === undefined) continue;
      const decision = await this.consume(key, cost, window);
      if (!decision.allowed) {
        const retryAfterSeconds = Math.max(decision.resetSeconds, 1);
        return {
          allowed: false,
          scope,
          retryAfterSeconds,
          headers: { ...headersOf(window, decision), 'retry-after': String(retryAfterSeconds) },
        };
      }
      if (tightest === undefined || decision.remaining < tightest.decision.remaining) tightest = { window, decision };
    }
    return { allowed: true, headers: tightest === undefined ? {} : headersOf(tightest.window, tightest.decision) };
  }

  /** Consumes from the store; while it fails, does what `storeFailure` says (rejecting for `closed`). */
  private async consume(key: string, cost: number, window: RateLimitWindow): Promise<RateLimitDecision> {
    try {
      return await this.store.consume(key, cost, window);
    } catch (error) {
      if (this.limits.storeFailure === 'closed') throw error;
      const now = Date.now();
      if (now - this.lastReport >= STORE_FAILURE_REPORT_MS) {
        this.lastReport = now;
        this.onStoreFailure(
          new Error(
            `remote-mcp: the rate-limit store failed (${(error as Error).message}); ${this.limits.storeFailure === 'local' ? 'counting in this process' : 'admitting without counting'} until it answers again (rateLimits.storeFailure)`,
          ),
        );
      }
      if (this.limits.storeFailure === 'open')
        return { allowed: true, limit: window.points, remaining: window.points, resetSeconds: window.durationSeconds };
      this.fallback ??= new InMemoryRateLimitStore();
      return this.fallback.consume(key, cost, window);
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

function headersOf(window: RateLimitWindow, decision: RateLimitDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(window.points),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
    'ratelimit-policy': `${window.points};w=${window.durationSeconds}`,
  };
}
