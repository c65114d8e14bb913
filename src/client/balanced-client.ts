/**
 * createBalancedClient: one client over several endpoints of the same MCP service (instances without a shared
 * balancer, or several regions). Each call goes to one endpoint, picked round-robin or by fewest calls in flight
 * among those whose circuit breaker lets calls through and that passed their last health check. A call that
 * fails fails over to another endpoint when the retry rules allow it (retry-policy.ts: always when it never ran,
 * otherwise only when repeating it is safe), and an endpoint that comes back is used again: its breaker lets a
 * probe call through after `halfOpenAfterMs`, and a passing health check marks it healthy.
 *
 * Each endpoint has its own connection, so a 2025-era session stays on its endpoint (and is opened again when
 * the server lost it); 2026-07-28 requests are independent and go anywhere.
 */
import type {
  CallToolRequest,
  CompleteRequest,
  GetPromptRequest,
  ListPromptsRequest,
  ListResourcesRequest,
  ListResourceTemplatesRequest,
  ListToolsRequest,
  ReadResourceRequest,
  RequestOptions,
  ToolAnnotations,
} from '@modelcontextprotocol/client';
import { isBrokenCircuitError } from 'cockatiel';

import { Endpoint, type BreakerState, type EndpointStatus } from './balanced-endpoint.js';
import { HealthChecker, type HealthCheckOptions } from './health-check.js';
import { CLIENT_DEFAULTS, resolveConnectOptions, type ConnectOptions, type ResolvedRetry } from './options.js';
import type { CallOptions, RemoteClient } from './remote-client.js';
import { sleep } from './sleep.js';
import { classifyFailure, mayRetry, retryDelay, type Failure, type RepeatContext } from './retry-policy.js';

export type BalanceStrategy = 'round-robin' | 'least-pending';

export type BalancedEvent =
  | { type: 'failover'; from: string; to: string; method: string; error: unknown }
  | { type: 'breaker-open' | 'breaker-half-open' | 'breaker-closed'; url: string }
  | { type: 'healthy' | 'unhealthy'; url: string }
  | { type: 'connected'; url: string };

export interface BalancedClientOptions extends ConnectOptions {
  /** The endpoint URLs (at least one, no repeats), each a full MCP endpoint such as `http://10.0.0.1:8080/mcp`. */
  endpoints: ReadonlyArray<string | URL>;
  /** Default `round-robin`. */
  strategy?: BalanceStrategy;
  /** Per endpoint: open after `consecutiveFailures` (default 3); let a probe through after `halfOpenAfterMs` (5000). */
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number };
  /** Active health checks (`GET /ready` at each endpoint's origin by default). Default off. */
  healthCheck?: false | HealthCheckOptions;
  onEvent?: (event: BalancedEvent) => void;
}

export const BALANCED_DEFAULTS = Object.freeze({
  strategy: 'round-robin' as BalanceStrategy,
  breaker: Object.freeze({ consecutiveFailures: 3, halfOpenAfterMs: 5000 }),
});

type CacheableOptions = Parameters<RemoteClient['listTools']>[1];

const NOT_RUN: Failure = { kind: 'refused', delivered: false };

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new TypeError(`remote-mcp client: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}

export class BalancedClient {
  readonly #endpoints: Endpoint[];
  readonly #strategy: BalanceStrategy;
  readonly #retry: ResolvedRetry;
  readonly #totalTimeoutMs: number | undefined;
  readonly #onEvent: ((event: BalancedEvent) => void) | undefined;
  readonly #annotations = new Map<string, ToolAnnotations | undefined>();
  readonly #health: HealthChecker | undefined;
  #next = 0;

  /** Use createBalancedClient(), which validates the options and connects. */
  constructor(options: BalancedClientOptions) {
    const { endpoints, strategy, breaker, healthCheck, onEvent, ...shared } = options;
    if (!Array.isArray(endpoints) || endpoints.length === 0)
      throw new TypeError('remote-mcp client: endpoints must list at least one URL');
    const urls = endpoints.map((endpoint) => new URL(endpoint).href);
    const repeated = urls.find((url, index) => urls.indexOf(url) !== index);
    if (repeated !== undefined) throw new TypeError(`remote-mcp client: endpoint ${repeated} is listed twice`);
    this.#strategy = strategy ?? BALANCED_DEFAULTS.strategy;
    if (this.#strategy !== 'round-robin' && this.#strategy !== 'least-pending')
      throw new TypeError(`remote-mcp client: strategy must be round-robin or least-pending, got ${String(strategy)}`);
    const resolved = resolveConnectOptions(shared);
    // Every endpoint once, and one more, unless the caller says otherwise; `retry: false` is one try.
    this.#retry =
      shared.retry === false || shared.retry?.attempts !== undefined
        ? resolved.retry
        : { ...resolved.retry, attempts: Math.max(CLIENT_DEFAULTS.retry.attempts, urls.length + 1) };
    this.#totalTimeoutMs = resolved.totalTimeoutMs;
    this.#onEvent = onEvent;
    const breakerOptions = {
      consecutiveFailures: positiveInteger(
        'breaker.consecutiveFailures',
        breaker?.consecutiveFailures ?? BALANCED_DEFAULTS.breaker.consecutiveFailures,
      ),
      halfOpenAfterMs: positiveInteger(
        'breaker.halfOpenAfterMs',
        breaker?.halfOpenAfterMs ?? BALANCED_DEFAULTS.breaker.halfOpenAfterMs,
      ),
    };
    // The balanced client retries across endpoints itself: each endpoint's own client tries once.
    const perEndpoint: ConnectOptions = { ...shared, retry: false };
    const events = {
      breaker: (endpoint: Endpoint, state: BreakerState) => this.#emit({ type: `breaker-${state}`, url: endpoint.url }),
      connected: (endpoint: Endpoint) => this.#emit({ type: 'connected', url: endpoint.url }),
    };
    this.#endpoints = urls.map((url) => new Endpoint(url, perEndpoint, breakerOptions, events));
    this.#health =
      healthCheck === undefined || healthCheck === false
        ? undefined
        : new HealthChecker(this.#endpoints, healthCheck, shared, (endpoint, healthy) =>
            this.#emit({ type: healthy ? 'healthy' : 'unhealthy', url: endpoint.url }),
          );
  }

  #emit(event: BalancedEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A throwing listener must not break the call that emitted the event.
    }
  }

  /** Connects every endpoint; resolves when one is connected, rejects when none could be. */
  async open(): Promise<void> {
    this.#health?.start();
    const attempts = this.#endpoints.map((endpoint) => endpoint.breaker.execute(() => endpoint.client()));
    try {
      await Promise.any(attempts);
    } catch (error) {
      const reasons = (error as AggregateError).errors.map(
        (reason: unknown, index) => `${this.#endpoints[index]!.url}: ${(reason as Error)?.message ?? String(reason)}`,
      );
      await this.close();
      throw new Error(`remote-mcp client: no endpoint could be connected (${reasons.join('; ')})`, { cause: error });
    }
  }

  /** One entry per endpoint, in the order given. */
  endpoints(): EndpointStatus[] {
    return this.#endpoints.map((endpoint) => endpoint.status());
  }

  /**
   * The endpoint for the next try: among those not tried yet in this call, available (breaker) and healthy; then
   * available but unhealthy; then any not tried; and once all were tried, any available one again.
   */
  #pick(tried: Set<Endpoint> | undefined): Endpoint {
    const endpoints = this.#endpoints;
    const count = endpoints.length;
    for (const pass of [0, 1, 2, 3]) {
      let chosen: Endpoint | undefined;
      let chosenIndex = 0;
      for (let offset = 0; offset < count; offset++) {
        const index = (this.#next + offset) % count;
        const endpoint = endpoints[index]!;
        if (pass < 3 && tried?.has(endpoint)) continue;
        if (pass !== 2 && !endpoint.available) continue;
        if (pass === 0 && !endpoint.healthy) continue;
        if (chosen === undefined || (this.#strategy === 'least-pending' && endpoint.pending < chosen.pending)) {
          chosen = endpoint;
          chosenIndex = index;
          if (this.#strategy === 'round-robin') break;
        }
      }
      if (chosen !== undefined) {
        this.#next = (chosenIndex + 1) % count;
        return chosen;
      }
    }
    // Every endpoint tried and none available: the one whose breaker opened first.
    return endpoints[this.#next++ % count]!;
  }

  async #run<T>(
    method: string,
    context: RepeatContext,
    signal: AbortSignal | undefined,
    run: (client: RemoteClient) => Promise<T>,
  ): Promise<T> {
    const attempts = this.#retry.attempts;
    const deadline = this.#totalTimeoutMs === undefined ? undefined : Date.now() + this.#totalTimeoutMs;
    let tried: Set<Endpoint> | undefined;
    let endpoint = this.#pick(undefined);
    let rounds = 0;
    for (let attempt = 1; ; attempt++) {
      let error: unknown;
      const current = endpoint;
      current.pending++;
      try {
        return await current.breaker.execute(() => {
          const connected = current.current;
          return connected !== undefined ? run(connected) : current.client().then(run);
        });
      } catch (caught) {
        error = caught;
      } finally {
        current.pending--;
      }
      const failure = isBrokenCircuitError(error) ? NOT_RUN : classifyFailure(error);
      if (attempt >= attempts || signal?.aborted || !mayRetry(failure, method, context)) throw error;
      tried ??= new Set();
      tried.add(current);
      if (tried.size >= this.#endpoints.length) {
        tried.clear();
        rounds++;
      }
      endpoint = this.#pick(tried);
      // A new round over endpoints that all failed waits with backoff; 429 waits as long as it asked.
      const delayMs =
        failure.status === 429 || rounds > 0
          ? retryDelay(Math.max(1, rounds), this.#retry, failure.status === 429 ? failure.retryAfterMs : undefined)
          : 0;
      if (deadline !== undefined && Date.now() + delayMs >= deadline) throw error;
      this.#emit({ type: 'failover', from: current.url, to: endpoint.url, method, error });
      if (delayMs > 0) await sleep(delayMs, signal);
    }
  }

  async callTool(params: CallToolRequest['params'], options?: CallOptions) {
    const annotations = options?.toolDefinition?.annotations ?? this.#annotations.get(params.name);
    return this.#run('tools/call', { annotations, idempotent: options?.idempotent }, options?.signal, (client) =>
      client.callTool(params, options),
    );
  }

  async listTools(params?: ListToolsRequest['params'], options?: CacheableOptions) {
    const result = await this.#run('tools/list', {}, options?.signal, (client) => client.listTools(params, options));
    for (const tool of result.tools) this.#annotations.set(tool.name, tool.annotations);
    return result;
  }

  listResources(params?: ListResourcesRequest['params'], options?: CacheableOptions) {
    return this.#run('resources/list', {}, options?.signal, (client) => client.listResources(params, options));
  }

  listResourceTemplates(params?: ListResourceTemplatesRequest['params'], options?: CacheableOptions) {
    return this.#run('resources/templates/list', {}, options?.signal, (client) =>
      client.listResourceTemplates(params, options),
    );
  }

  listPrompts(params?: ListPromptsRequest['params'], options?: CacheableOptions) {
    return this.#run('prompts/list', {}, options?.signal, (client) => client.listPrompts(params, options));
  }

  readResource(params: ReadResourceRequest['params'], options?: CacheableOptions) {
    return this.#run('resources/read', {}, options?.signal, (client) => client.readResource(params, options));
  }

  getPrompt(params: GetPromptRequest['params'], options?: RequestOptions) {
    return this.#run('prompts/get', {}, options?.signal, (client) => client.getPrompt(params, options));
  }

  complete(params: CompleteRequest['params'], options?: RequestOptions) {
    return this.#run('completion/complete', {}, options?.signal, (client) => client.complete(params, options));
  }

  ping(options?: RequestOptions) {
    return this.#run('ping', {}, options?.signal, (client) => client.ping(options));
  }

  /** Stops the health checks and closes every endpoint's connection (2025-era sessions are ended). */
  async close(): Promise<void> {
    this.#health?.stop();
    await Promise.all(this.#endpoints.map((endpoint) => endpoint.close()));
  }
}

/**
 * A client over several endpoints with failover, circuit breakers and optional health checks. Resolves once at
 * least one endpoint is connected (the others keep connecting, and are connected on first use otherwise).
 *
 * @example
 * const client = await createBalancedClient({
 *   endpoints: ['http://10.0.0.1:8080/mcp', 'http://10.0.0.2:8080/mcp', 'http://10.0.0.3:8080/mcp'],
 *   healthCheck: { intervalMs: 2000 },
 *   onEvent: (event) => console.error(event.type, 'url' in event ? event.url : `${event.from} → ${event.to}`),
 * });
 */
export async function createBalancedClient(options: BalancedClientOptions): Promise<BalancedClient> {
  const client = new BalancedClient(options);
  await client.open();
  return client;
}
