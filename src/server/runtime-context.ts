/**
 * What the HTTP routes share: resolved options, the shared 2026-07-28 instance, the 2025-era sessions, the
 * state stores, and the trackers that let close() drain in-flight work and end long-lived streams.
 */
import type { IncomingMessage } from 'node:http';

import type { Implementation, ServerCapabilities } from '@modelcontextprotocol/server';

import type { ClusterLink } from '../cluster/cluster-link.js';
import type { CredentialWatch } from '../security/credential-watch.js';
import type { RequestGate } from '../security/request-gate.js';

import type { EventBus, ServerEvent } from '../state/event-bus.js';
import type { ExchangeRouter } from './exchange-router.js';
import type { Notifier, ResolvedOptions } from './options.js';
import type { RequestStateSealer } from './request-state.js';
import type { ServerProduct } from './sdk-bridge.js';
import type { TaskRuntime } from '../tasks/task-runtime.js';

/** A tool argument declared with `x-mcp-header`: where it sits in the arguments and its header name. */
export interface ParamHeaderDeclaration {
  path: string[];
  header: string;
  type: string;
}

export interface ModernInstance {
  product: ServerProduct;
  router: ExchangeRouter;
  capabilities: ServerCapabilities;
  serverInfo: Implementation | undefined;
}

export interface RuntimeContext {
  /** Options, with onError always set (to the operational log unless given). */
  readonly options: ResolvedOptions & { onError: (error: Error) => void };
  /** The server's identity on the diagnostics channels (src/observability/channels.ts). */
  readonly source: object;
  readonly modern: ModernInstance;
  readonly sealer: RequestStateSealer;
  readonly bus: EventBus;
  /** The link to the other instances sharing one Redis; undefined with the in-memory stores (one process). */
  readonly cluster: ClusterLink | undefined;
  readonly notify: Notifier;
  /** Publishes to the bus, dropping repeats of the same event within one turn of the event loop. */
  readonly publish: (event: ServerEvent) => void;
  readonly streams: StreamRegistry;
  readonly drain: DrainTracker;
  /** Every request passes it before an instance sees it: limits, authorization, argument checks, audit. */
  readonly gate: RequestGate;
  /** Ends what a principal opened (sockets, streams, sessions) when its credential expires or is revoked. */
  readonly credentials: CredentialWatch;
  /** Told when a 2025-era session ends in this process (the stdio gateway stops the session's child). */
  readonly sessionEnded: ((sessionId: string) => void) | undefined;
  /** Tasks of the io.modelcontextprotocol/tasks extension; undefined when the factory registered no task tool. */
  readonly tasks: TaskRuntime | undefined;
  /** The client's IP address (X-Forwarded-For only as far as `trustProxy` allows). */
  readonly clientIp: (req: IncomingMessage) => string;
  /** x-mcp-header declarations per tool name; cleared when the tool list changes. */
  readonly paramHeaderCache: Map<string, ParamHeaderDeclaration[]>;
  /** helmet's headers (none with `securityHeaders: false`), for answers written on a raw socket. */
  readonly securityHeaders: ReadonlyArray<readonly [string, string]>;
}

/** Counts requests in flight so close() can wait for them. */
export class DrainTracker {
  private active = 0;
  private waiters: Array<() => void> = [];

  readonly begin = (): void => {
    this.active++;
  };

  /** Requests in flight now. */
  get size(): number {
    return this.active;
  }

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

/** The kinds of long-lived stream: 2026-07-28 subscriptions, 2025-era GET streams, 2024-11-05 HTTP+SSE sessions. */
export type StreamKind = 'listen' | 'session-get' | 'http-sse';

/** Ends a stream gracefully; `retryMs` asks an SSE client to reconnect after that long. */
export type StreamEnd = (retryMs?: number) => void;

/** Long-lived streams (subscriptions/listen, 2025-era GET streams): capped, and ended together on close(). */
export class StreamRegistry {
  private readonly open = new Map<StreamEnd, StreamKind>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Open streams by kind (read at metrics scrape time). */
  counts(): Record<StreamKind, number> {
    const counts: Record<StreamKind, number> = { listen: 0, 'session-get': 0, 'http-sse': 0 };
    for (const kind of this.open.values()) counts[kind]++;
    return counts;
  }

  /** Registers a stream's graceful-end function; false when the cap is reached. */
  add(end: StreamEnd, kind: StreamKind): boolean {
    if (this.open.size >= this.max) return false;
    this.open.set(end, kind);
    return true;
  }

  delete(end: StreamEnd): void {
    this.open.delete(end);
  }

  /** Ends every stream; `retryMs` is the reconnection hint SSE clients get (the server is draining). */
  endAll(retryMs?: number): void {
    for (const end of [...this.open.keys()]) end(retryMs);
    this.open.clear();
  }
}
