/**
 * What the HTTP routes share: resolved options, the shared 2026-07-28 instance, the 2025-era sessions, the
 * state stores, and the trackers that let close() drain in-flight work and end long-lived streams.
 */
import type { IncomingMessage } from 'node:http';

import type { Implementation, ServerCapabilities } from '@modelcontextprotocol/server';

import type { RequestGate } from '../security/request-gate.js';

import type { EventBus, ServerEvent } from '../state/event-bus.js';
import type { ParamHeaderDeclaration } from '../transport/mcp-headers.js';
import type { ExchangeRouter } from './exchange-router.js';
import type { Notifier, ResolvedOptions } from './options.js';
import type { RequestStateSealer } from './request-state.js';
import type { ServerProduct } from './sdk-bridge.js';

export interface ModernInstance {
  product: ServerProduct;
  router: ExchangeRouter;
  capabilities: ServerCapabilities;
  serverInfo: Implementation | undefined;
}

export interface RuntimeContext {
  readonly options: ResolvedOptions;
  readonly modern: ModernInstance;
  readonly sealer: RequestStateSealer;
  readonly bus: EventBus;
  readonly notify: Notifier;
  /** Publishes to the bus, dropping repeats of the same event within one turn of the event loop. */
  readonly publish: (event: ServerEvent) => void;
  readonly streams: StreamRegistry;
  readonly drain: DrainTracker;
  /** Every request passes it before an instance sees it: limits, authorization, argument checks, audit. */
  readonly gate: RequestGate;
  /** The client's IP address (X-Forwarded-For only as far as `trustProxy` allows). */
  readonly clientIp: (req: IncomingMessage) => string;
  /** x-mcp-header declarations per tool name; cleared when the tool list changes. */
  readonly paramHeaderCache: Map<string, ParamHeaderDeclaration[]>;
}

/** Counts requests in flight so close() can wait for them. */
export class DrainTracker {
  private active = 0;
  private waiters: Array<() => void> = [];

  readonly begin = (): void => {
    this.active++;
  };

  readonly end = (): void => {
    if (--this.active === 0) for (const wake of this.waiters.splice(0)) wake();
  };

  /** Resolves when nothing is in flight, or after `timeoutMs`; returns whether it drained. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** Long-lived streams (subscriptions/listen, 2025-era GET streams): capped, and ended together on close(). */
export class StreamRegistry {
  private readonly open = new Set<() => void>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream's graceful-end function; false when the cap is reached. */
  add(end: () => void): boolean {
    if (this.open.size >= this.max) return false;
    this.open.add(end);
    return true;
  }

  delete(end: () => void): void {
    this.open.delete(end);
  }

  endAll(): void {
    for (const end of [...this.open]) end();
    this.open.clear();
  }
}
