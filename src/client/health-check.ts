/**
 * Active health checks for a balanced client: `GET <path>` at each endpoint's origin every interval. A 200
 * marks the endpoint healthy; anything else (503 while it drains or its state store is away, no answer within
 * the timeout, a refused connection) marks it unhealthy, and calls avoid it while a healthy endpoint exists.
 */
import type { Endpoint } from './balanced-endpoint.js';
import { authHeaders, type ConnectOptions } from './options.js';

export interface HealthCheckOptions {
  /** Path at each endpoint's origin. Default `/ready` (remote-mcp's readiness route). */
  path?: string;
  /** Time between checks of one endpoint. Default 5000 ms. */
  intervalMs?: number;
  /** A check without an answer by then fails. Default 2000 ms. */
  timeoutMs?: number;
}

export const HEALTH_CHECK_DEFAULTS = Object.freeze({ path: '/ready', intervalMs: 5000, timeoutMs: 2000 });

export class HealthChecker {
  readonly #endpoints: readonly Endpoint[];
  readonly #options: Required<HealthCheckOptions>;
  readonly #connect: ConnectOptions;
  readonly #changed: (endpoint: Endpoint, healthy: boolean) => void;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(
    endpoints: readonly Endpoint[],
    options: HealthCheckOptions,
    connect: ConnectOptions,
    changed: (endpoint: Endpoint, healthy: boolean) => void,
  ) {
    this.#options = { ...HEALTH_CHECK_DEFAULTS, ...options };
    for (const name of ['intervalMs', 'timeoutMs'] as const) {
      const value = this.#options[name];
      if (!Number.isInteger(value) || value <= 0)
        throw new TypeError(`remote-mcp client: healthCheck.${name} must be a positive integer, got ${String(value)}`);
    }
    if (!this.#options.path.startsWith('/'))
      throw new TypeError(`remote-mcp client: healthCheck.path must start with /, got ${this.#options.path}`);
    this.#endpoints = endpoints;
    this.#connect = connect;
    this.#changed = changed;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    void this.checkAll();
    this.#timer = setInterval(() => void this.checkAll(), this.#options.intervalMs);
    // Health checks alone must not keep a process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Checks every endpoint once (a round still running is not overlapped). */
  async checkAll(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await Promise.all(this.#endpoints.map((endpoint) => this.#check(endpoint)));
    } finally {
      this.#running = false;
    }
  }

  async #check(endpoint: Endpoint): Promise<void> {
    const url = new URL(this.#options.path, endpoint.url);
    let healthy: boolean;
    try {
      const headers = { ...this.#connect.headers, ...(await authHeaders(this.#connect.auth)) };
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(this.#options.timeoutMs) });
      await response.body?.cancel();
      healthy = response.status === 200;
    } catch {
      healthy = false;
    }
    if (healthy !== endpoint.healthy && this.#timer !== undefined) {
      endpoint.healthy = healthy;
      this.#changed(endpoint, healthy);
    }
  }
}
