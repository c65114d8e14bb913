/**
 * The children behind `stdio`: which one answers a request, when one is started and stopped, and what clients
 * and /ready are told when none can answer.
 *
 *  - `shared`: one child per key — all 2026-07-28 traffic on one key (children initialized with no client
 *    capabilities, since nothing could carry their server-to-client requests), 2025-era sessions by the client
 *    capabilities they declared. A 2026-07-28 child serves everything on one key: each request carries its own
 *    envelope. A crashed child is started again after a delay that doubles per failure.
 *  - `session`: one child per 2025-era session, stopped when the session ends or idles out; 2026-07-28 requests
 *    lease a child of a pool, one request at a time.
 *
 * The first child is started with the gateway (the probe): its handshake tells the era the command speaks and
 * the capabilities and server info every proxy advertises.
 */
import { basename } from 'node:path';

import type { Logger } from 'pino';

import type { HealthCheck } from '../observability/health.js';
import type { Notifier, ServerFactory } from '../server/options.js';
import { VERSION } from '../version.js';
import { type CallOwner, ChildPeer, type ChildIdentity, type HandshakeParams } from './child-peer.js';
import { GatewayError } from './gateway-errors.js';
import { StdioChild } from './stdio-child.js';
import { UpstreamChannel } from './upstream-channel.js';
import type { ResolvedUpstreamOptions } from './upstream-options.js';
import { type ChildLease, createProxyServer, type LeaseChild } from './proxy-server.js';
import type { ResolvedStdioOptions } from './stdio-options.js';
import type { Channel } from './channel.js';

/** The limits and lifetimes the gateway applies to its children (stdio) or upstream sessions. */
export type GatewayLimits = Pick<
  ResolvedStdioOptions,
  | 'isolation'
  | 'maxChildren'
  | 'poolSize'
  | 'requestTimeoutMs'
  | 'startTimeoutMs'
  | 'idleTimeoutMs'
  | 'maxLifetimeMs'
  | 'restartDelayMs'
  | 'maxRestartDelayMs'
>;

/** Where the gateway's channels come from. */
export interface ChannelSource {
  /** The option's name: the /ready check's name and the prefix of the options errors name. */
  readonly kind: 'stdio' | 'upstream';
  /** Shown as the server's name when its first handshake failed. */
  readonly name: string;
  open(): Channel;
  /**
   * 2026-07-28 traffic in `session` isolation: a pool of channels leased one request at a time (stdio children
   * may handle one request at a time), or one shared channel (an upstream URL takes concurrent requests).
   */
  readonly poolModern: boolean;
}

/** Stdio children, spawned per channel. */
export function stdioSource(options: ResolvedStdioOptions, log: Logger): ChannelSource {
  const { command, args, env, cwd, maxLineBytes, killGraceMs } = options;
  return {
    kind: 'stdio',
    name: basename(command),
    poolModern: true,
    open: () => new StdioChild({ command, args, env, cwd }, { maxLineBytes, killGraceMs }, log),
  };
}

type Json = Record<string, unknown>;
type Era = 'modern' | 'legacy';

const GATEWAY_CLIENT = { name: 'remote-mcp-gateway', version: VERSION };

/** A child and the bookkeeping around it. */
interface Slot {
  peer: ChildPeer;
  /** Resolves when the handshake is done (rejects when it fails). */
  ready: Promise<ChildIdentity>;
  startedAt: number;
  /** When its last call ended (or it started). */
  idleSince: number;
  calls: number;
  /** `session` pool: leased to one request. */
  leased: boolean;
  /** Stopped on purpose (idle, lifetime, session end): not restarted. */
  retired: boolean;
  /** What it was initialized with, for its replacement. */
  handshake: HandshakeParams;
}

/** The client capabilities a child is told about: those whose requests the gateway can carry back. */
function forwardable(capabilities: Json): Json {
  const kept: Json = {};
  if (capabilities.elicitation !== undefined) kept.elicitation = capabilities.elicitation;
  if (capabilities.sampling !== undefined) kept.sampling = capabilities.sampling;
  return kept;
}

export class StdioGateway {
  private readonly shared = new Map<string, Slot>();
  private readonly sessions = new Map<string, Slot>();
  private readonly pool: Slot[] = [];
  private readonly waiters: Array<(slot: Slot | undefined) => void> = [];
  private readonly restarts = new Map<string, { failures: number; timer: NodeJS.Timeout | undefined }>();
  /** What the program said in the first handshake for each era of traffic (undefined: it did not start). */
  private readonly identities = new Map<Era, Promise<ChildIdentity | undefined>>();
  private lastIdentity: ChildIdentity | undefined;
  private lastFailure: string | undefined;
  private probing: Promise<void> | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closing = false;
  /** How change events reach clients (the runtime's notifier, from the first factory call). */
  private notify: Notifier | undefined;

  constructor(
    private readonly options: GatewayLimits,
    private readonly source: ChannelSource,
    private readonly log: Logger,
  ) {
    this.check = {
      name: source.kind,
      liveness: false,
      check: () => {
        if (this.lastFailure !== undefined && this.running() === 0) throw new Error(this.lastFailure);
        if (this.lastIdentity === undefined) throw new Error(`${source.kind}: no handshake has been answered yet`);
        return { children: this.running(), era: this.lastIdentity.era, isolation: this.options.isolation };
      },
    };
  }

  /** The factory remote-mcp serves: every instance is a proxy of the children. */
  readonly factory: ServerFactory = async (context) => {
    this.notify ??= context.notify;
    await this.start();
    const identity = await this.identityFor(context.era);
    return createProxyServer(identity ?? this.fallbackIdentity(), context, this.lease, {
      sharedChildren: this.options.isolation === 'shared',
    });
  };

  /** /ready: the first handshake answered and some child serves; or why not. */
  readonly check: HealthCheck;

  /** Starts the probe child once; resolves when it answered or failed (failure is reported, not thrown). */
  start(): Promise<void> {
    this.probing ??= (async () => {
      await this.identityFor('modern');
      // Often enough that an idle or overage child outlives its limit by at most half of it (and 30 s).
      const { idleTimeoutMs, maxLifetimeMs } = this.options;
      const tightest = maxLifetimeMs > 0 ? Math.min(idleTimeoutMs, maxLifetimeMs) : idleTimeoutMs;
      const interval = Math.max(Math.min(Math.floor(tightest / 2), 30_000), 50);
      this.sweeper = setInterval(() => this.sweep(), interval);
      this.sweeper.unref();
    })();
    return this.probing;
  }

  /**
   * The program's identity as a child serving `era` traffic sees it, from the first such child: in `shared`, the
   * era's first shared child (kept serving); in `session`, a pool child (modern) or a child started only to ask
   * (2025-era: the sessions' children are started per session). Undefined when it could not start: lastFailure
   * says why, and the proxies advertise a fallback and answer every request with the reason.
   */
  private identityFor(era: Era): Promise<ChildIdentity | undefined> {
    let known = this.identities.get(era);
    if (known === undefined) {
      known = (async () => {
        if (era === 'legacy') {
          const modern = await this.identityFor('modern');
          // A 2025-era-only program: the 2026-07-28 child's handshake was already a 2025-era one.
          if (modern?.era === 'legacy') return modern;
        }
        const throwaway = era === 'legacy' && this.options.isolation === 'session';
        let slot: Slot;
        try {
          slot =
            this.options.isolation === 'shared' || (era === 'modern' && !this.source.poolModern)
              ? this.sharedSlot(this.keyFor(era, {}), era)
              : era === 'modern'
                ? this.newPoolSlot()
                : this.spawn({ prefer: 'legacy', capabilities: {}, clientInfo: GATEWAY_CLIENT });
        } catch {
          return undefined;
        }
        try {
          return await slot.ready;
        } catch {
          return undefined;
        } finally {
          if (throwaway) void this.stopSlot(slot, 'asked for its identity');
        }
      })();
      this.identities.set(era, known);
    }
    return known;
  }

  /** A 2025-era session ended: its child is stopped. */
  sessionEnded(sessionId: string): void {
    const slot = this.sessions.get(sessionId);
    if (slot === undefined) return;
    this.sessions.delete(sessionId);
    void this.stopSlot(slot, 'session ended');
  }

  /** Children running (or starting) now. */
  running(): number {
    return this.shared.size + this.sessions.size + this.pool.length;
  }

  /** Stops every child (TERM, then KILL after killGraceMs) and refuses new requests. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const restart of this.restarts.values()) clearTimeout(restart.timer);
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    const all = [...this.shared.values(), ...this.sessions.values(), ...this.pool];
    this.shared.clear();
    this.sessions.clear();
    this.pool.length = 0;
    await Promise.all(all.map((slot) => slot.peer.stop()));
  }

  private readonly lease: LeaseChild = async (request) => {
    if (this.closing) throw new GatewayError('CLOSED', 'the gateway is shutting down');
    const slot = await this.slotFor(request);
    try {
      await slot.ready;
    } catch (error) {
      this.releaseSlot(slot);
      throw error;
    }
    return this.leaseOf(slot);
  };

  private async slotFor(request: Parameters<LeaseChild>[0]): Promise<Slot> {
    if (this.options.isolation === 'shared' || (request.era === 'modern' && !this.source.poolModern)) {
      const capabilities = request.era === 'modern' ? {} : forwardable(request.capabilities);
      const key = this.keyFor(request.era, capabilities);
      const slot = this.shared.get(key);
      if (slot !== undefined) return this.use(slot);
      const restart = this.restarts.get(key);
      if (restart?.timer !== undefined)
        throw new GatewayError('CHILD_EXITED', `${this.lastFailure ?? 'the stdio server stopped'}; restarting it`);
      return this.use(this.sharedSlot(key, request.era, capabilities));
    }
    if (request.era === 'legacy' && request.sessionId !== undefined) {
      const existing = this.sessions.get(request.sessionId);
      if (existing !== undefined && !existing.peer.closed) return this.use(existing);
      if (existing !== undefined) this.sessions.delete(request.sessionId);
      this.reserve();
      const slot = this.spawn({
        prefer: 'legacy',
        capabilities: forwardable(request.capabilities),
        clientInfo: request.clientInfo ?? GATEWAY_CLIENT,
      });
      const sessionId = request.sessionId;
      slot.peer.onClosed = (exit) => {
        if (this.sessions.get(sessionId) === slot) this.sessions.delete(sessionId);
        this.childGone(exit.reason);
      };
      this.sessions.set(sessionId, slot);
      return this.use(slot);
    }
    return this.poolSlot();
  }

  /** A free child of the `session` pool: an idle one, a new one under the caps, or the next one released. */
  private async poolSlot(): Promise<Slot> {
    const idle = this.pool.find((slot) => !slot.leased && !slot.peer.closed);
    if (idle !== undefined) return this.take(idle);
    if (this.pool.length < this.options.poolSize && this.running() < this.options.maxChildren)
      return this.take(this.newPoolSlot());
    const waited = await new Promise<Slot | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, this.options.requestTimeoutMs);
      const waiter = (slot: Slot | undefined) => {
        clearTimeout(timer);
        resolve(slot);
      };
      this.waiters.push(waiter);
    });
    if (waited === undefined)
      throw new GatewayError(
        this.closing ? 'CLOSED' : 'AT_CAPACITY',
        this.closing
          ? 'the gateway is shutting down'
          : `every stdio child is busy (stdio.poolSize ${this.options.poolSize}, stdio.maxChildren ${this.options.maxChildren}) and none came free within stdio.requestTimeoutMs`,
      );
    return waited;
  }

  private take(slot: Slot): Slot {
    slot.leased = true;
    return this.use(slot);
  }

  private use(slot: Slot): Slot {
    slot.calls++;
    return slot;
  }

  private leaseOf(slot: Slot): ChildLease {
    let released = false;
    return {
      identity: slot.peer.identity!,
      request: (method, params, options: { signal: AbortSignal; owner: CallOwner }) =>
        slot.peer.request(method, params, { ...options, timeoutMs: this.options.requestTimeoutMs }),
      release: () => {
        if (released) return;
        released = true;
        this.releaseSlot(slot);
      },
    };
  }

  private releaseSlot(slot: Slot): void {
    slot.calls--;
    slot.idleSince = Date.now();
    if (!slot.leased) return;
    slot.leased = false;
    if (slot.peer.closed) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(this.take(slot));
  }

  /**
   * Which shared child serves a request: all 2026-07-28 traffic shares one; 2025-era sessions share one per set
   * of client capabilities, and share the 2026-07-28 one when the program speaks only 2025-era and they declared
   * nothing (it was initialized just like theirs would be).
   */
  private keyFor(era: Era, capabilities: Json): string {
    if (era === 'modern') return 'modern';
    const caps = JSON.stringify(capabilities);
    if (caps === '{}' && this.shared.get('modern')?.peer.identity?.era === 'legacy') return 'modern';
    return `legacy:${caps}`;
  }

  /** A shared child for `key`, started now (the first of its era, a new capability set, or a restart). */
  private sharedSlot(key: string, era: Era, capabilities: Json = {}): Slot {
    if (this.shared.size > 0) this.reserve();
    const slot = this.spawn({ prefer: era, capabilities, clientInfo: GATEWAY_CLIENT });
    this.shared.set(key, slot);
    slot.ready.then(
      () => this.restarts.delete(key),
      () => {},
    );
    slot.peer.onClosed = (exit) => {
      if (this.shared.get(key) === slot) this.shared.delete(key);
      this.childGone(exit.reason);
      if (!this.closing && !slot.retired) this.scheduleRestart(key, era, capabilities, slot);
    };
    return slot;
  }

  private scheduleRestart(key: string, era: Era, capabilities: Json, slot: Slot): void {
    const restart = this.restarts.get(key) ?? { failures: 0, timer: undefined };
    // A child that ran longer than the longest delay was not crash-looping: start counting again.
    if (Date.now() - slot.startedAt > this.options.maxRestartDelayMs) restart.failures = 0;
    const delay = Math.min(this.options.restartDelayMs * 2 ** restart.failures, this.options.maxRestartDelayMs);
    restart.failures++;
    restart.timer = setTimeout(() => {
      restart.timer = undefined;
      if (this.closing || this.shared.has(key)) return;
      this.log.info({ delayMs: delay, failures: restart.failures }, `restarting the ${this.what}`);
      this.sharedSlot(key, era, capabilities);
    }, delay);
    restart.timer.unref();
    this.restarts.set(key, restart);
  }

  private newPoolSlot(): Slot {
    const slot = this.spawn({ prefer: 'modern', capabilities: {}, clientInfo: GATEWAY_CLIENT });
    this.pool.push(slot);
    slot.peer.onClosed = (exit) => {
      const index = this.pool.indexOf(slot);
      if (index !== -1) this.pool.splice(index, 1);
      this.childGone(exit.reason);
      // Its place in the pool is free again: a request waiting for a child gets a new one now.
      const waiter = this.closing ? undefined : this.waiters.shift();
      if (waiter === undefined) return;
      try {
        waiter(this.take(this.newPoolSlot()));
      } catch {
        waiter(undefined);
      }
    };
    return slot;
  }

  /** Refuses a new child past maxChildren. */
  private reserve(): void {
    if (this.running() >= this.options.maxChildren)
      throw new GatewayError(
        'AT_CAPACITY',
        `the gateway runs ${this.source.kind}.${this.source.kind === 'stdio' ? 'maxChildren' : 'maxSessions'} (${this.options.maxChildren}) ${this.source.kind === 'stdio' ? 'children' : 'upstream sessions'} already; try again later`,
      );
  }

  private spawn(handshake: HandshakeParams): Slot {
    let peer: ChildPeer;
    try {
      peer = new ChildPeer(this.source.open(), `${this.source.kind}.requestTimeoutMs`);
    } catch (error) {
      // spawn throws synchronously for a few errors (a bad cwd type, EINVAL); it never takes the gateway down.
      throw new GatewayError('CHILD_EXITED', `the stdio server could not be started: ${(error as Error).message}`);
    }
    peer.onNotification = (method, params) => this.notified(method, params);
    const now = Date.now();
    const ready = peer.handshake(handshake, this.options.startTimeoutMs).then(
      (identity) => {
        this.lastIdentity = identity;
        this.lastFailure = undefined;
        this.log.info(
          { pid: peer.pid, era: identity.era, protocolVersion: identity.protocolVersion, server: identity.serverInfo },
          `${this.what} started`,
        );
        return identity;
      },
      (error: Error) => {
        this.lastFailure = error.message;
        this.log.error({ pid: peer.pid, err: error.message }, `${this.what} did not start`);
        peer.closeReason = error.message;
        void peer.stop();
        throw error;
      },
    );
    ready.catch(() => {});
    return { peer, ready, startedAt: now, idleSince: now, calls: 0, leased: false, retired: false, handshake };
  }

  /** List changes and resource updates from any child reach every subscribed client. */
  private notified(method: string, params: Json | undefined): void {
    const notify = this.notify;
    if (notify === undefined) return;
    if (method === 'notifications/tools/list_changed') notify.toolsListChanged();
    else if (method === 'notifications/prompts/list_changed') notify.promptsListChanged();
    else if (method === 'notifications/resources/list_changed') notify.resourcesListChanged();
    else if (method === 'notifications/resources/updated' && typeof params?.uri === 'string')
      notify.resourceUpdated(params.uri);
  }

  private childGone(reason: string): void {
    if (this.closing) return;
    this.lastFailure = reason;
    this.log.warn({ reason }, `${this.what} stopped`);
  }

  /** Stops children idle past idleTimeoutMs (not shared ones) and replaces those past maxLifetimeMs. */
  private sweep(): void {
    const now = Date.now();
    const { idleTimeoutMs, maxLifetimeMs } = this.options;
    const expired = (slot: Slot) => maxLifetimeMs > 0 && now - slot.startedAt > maxLifetimeMs;
    for (const [id, slot] of this.sessions)
      if (slot.calls === 0 && (now - slot.idleSince > idleTimeoutMs || expired(slot))) {
        this.sessions.delete(id);
        void this.stopSlot(slot, 'idle');
      }
    for (const slot of [...this.pool])
      if (!slot.leased && slot.calls === 0 && (now - slot.idleSince > idleTimeoutMs || expired(slot))) {
        this.pool.splice(this.pool.indexOf(slot), 1);
        void this.stopSlot(slot, 'idle');
      }
    for (const [key, slot] of this.shared)
      if (slot.calls === 0 && expired(slot)) {
        slot.retired = true;
        this.shared.delete(key);
        void this.stopSlot(slot, 'past maxLifetimeMs');
        this.sharedSlot(key, slot.handshake.prefer, slot.handshake.capabilities);
      }
  }

  private async stopSlot(slot: Slot, why: string): Promise<void> {
    slot.retired = true;
    this.log.debug({ pid: slot.peer.pid, why }, `stopping the ${this.what}`);
    await slot.peer.stop();
  }

  /** What the log calls one channel. */
  private get what(): string {
    return this.source.kind === 'stdio' ? 'stdio server' : 'upstream connection';
  }

  private fallbackIdentity(): ChildIdentity {
    return {
      era: 'legacy',
      protocolVersion: '2025-11-25',
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } },
      serverInfo: { name: this.source.name, version: '0.0.0' },
    };
  }
}

/** An upstream URL: one SDK client transport per channel. */
export function upstreamSource(options: ResolvedUpstreamOptions): ChannelSource {
  return {
    kind: 'upstream',
    name: options.url.host,
    poolModern: false,
    open: () => new UpstreamChannel({ url: options.url, headers: options.headers }),
  };
}
