/**
 * One endpoint of a balanced client: its connection (a RemoteClient, opened on first use and again after it
 * broke), its circuit breaker (cockatiel's, counting only failures that say the endpoint is bad), its health as
 * the last `/ready` check saw it, and how many calls it has in flight.
 */
import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';

import { connect } from './connect.js';
import type { ConnectOptions } from './options.js';
import type { RemoteClient } from './remote-client.js';
import { classifyFailure } from './retry-policy.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What endpoints() tells about one endpoint. */
export interface EndpointStatus {
  url: string;
  /** False after a failed health check, until one passes (always true without health checks). */
  healthy: boolean;
  state: BreakerState;
  /** Calls in flight on it. */
  pending: number;
  /** Whether it has an open connection now. */
  connected: boolean;
}

/** Failures that count against an endpoint: it did not answer, or answered with a server error. */
export function isEndpointFailure(error: unknown): boolean {
  const failure = classifyFailure(error);
  switch (failure.kind) {
    case 'refused':
    case 'connection':
    case 'timeout':
      return true;
    case 'http':
      return failure.status !== undefined && failure.status >= 500;
    default:
      return false;
  }
}

export interface EndpointEvents {
  breaker(endpoint: Endpoint, state: BreakerState): void;
  connected(endpoint: Endpoint): void;
}

export class Endpoint {
  readonly url: string;
  healthy = true;
  pending = 0;
  readonly breaker: CircuitBreakerPolicy;
  readonly #halfOpenAfterMs: number;
  readonly #options: ConnectOptions;
  readonly #events: EndpointEvents;
  #client: RemoteClient | undefined;
  #connecting: Promise<RemoteClient> | undefined;
  #openedAt = 0;
  #closed = false;

  constructor(
    url: string,
    options: ConnectOptions,
    breaker: { consecutiveFailures: number; halfOpenAfterMs: number },
    events: EndpointEvents,
  ) {
    this.url = url;
    this.#options = options;
    this.#events = events;
    this.#halfOpenAfterMs = breaker.halfOpenAfterMs;
    this.breaker = circuitBreaker(handleWhen(isEndpointFailure), {
      halfOpenAfter: breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(breaker.consecutiveFailures),
    });
    this.breaker.onBreak(() => {
      this.#openedAt = Date.now();
      events.breaker(this, 'open');
    });
    this.breaker.onHalfOpen(() => events.breaker(this, 'half-open'));
    this.breaker.onReset(() => events.breaker(this, 'closed'));
  }

  get state(): BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Whether a call may go here now: closed, half-open (calls wait for the probe), or open long enough to probe. */
  get available(): boolean {
    const state = this.breaker.state;
    if (state === CircuitState.Closed || state === CircuitState.HalfOpen) return true;
    return Date.now() - this.#openedAt >= this.#halfOpenAfterMs;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** The open connection, if there is one (the hot path uses it without a promise hop). */
  get current(): RemoteClient | undefined {
    return this.#client;
  }

  /** The connection, opened now if there is none. Connecting counts for the breaker like a call. */
  client(): Promise<RemoteClient> {
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= connect(this.url, this.#options).then(
      (client) => {
        this.#connecting = undefined;
        if (this.#closed) {
          void client.close();
          throw new Error('the balanced client is closed');
        }
        this.#client = client;
        this.#events.connected(this);
        return client;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    return this.#connecting;
  }

  /** Drops the connection (after it broke), so the next use makes a new one. */
  async reset(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
  }

  status(): EndpointStatus {
    return {
      url: this.url,
      healthy: this.healthy,
      state: this.state,
      pending: this.pending,
      connected: this.connected,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.reset();
  }
}
