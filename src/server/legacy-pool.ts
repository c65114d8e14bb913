/**
 * Server instances for 2025-era sessions, pooled by client identity.
 *
 * A 2025-era instance holds connection state set by initialize (negotiated version, client capabilities, client
 * info), so it cannot serve clients that initialized differently. But sessions of *identical* clients — the
 * common case: many users of one client build — need identical instances. The pool keeps instances keyed by the
 * initialize parameters and lends one to a session only while that session has work in flight. An idle session
 * therefore costs a small record, not a server instance, and a busy one reuses an instance instead of
 * constructing one: the factory runs only when no idle instance of that identity is free.
 *
 * Leasing to one session at a time keeps the SDK's connection semantics intact: a message the instance sends
 * without a related request id (ctx.mcpReq.elicitInput(), a log line) belongs to the session holding the lease.
 *
 * Idle instances are bounded by count (`maxIdle`) and by the bytes of the initialize params they hold
 * (`maxIdleBytes`: each keeps its identity string and the client's capabilities and info parsed from it); past
 * either, the oldest idle instances are closed.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/server';

import type { Exchange, ResponseMessage } from './exchange-router.js';
import type { FactoryContext } from './options.js';
import { connectLegacy, type LegacyInstanceTransport, type ServerProduct } from './sdk-bridge.js';

export interface PooledInstance {
  readonly product: ServerProduct;
  readonly transport: LegacyInstanceTransport;
  readonly identity: string;
  /** The identity's size (UTF-8 bytes), measured once when the instance is built. */
  readonly bytes: number;
}

export interface LegacyPoolOptions {
  factory: (context: FactoryContext) => ServerProduct | Promise<ServerProduct>;
  context: FactoryContext;
  maxIdle: number;
  /** Bytes of identities (initialize params) the idle instances may hold in all. */
  maxIdleBytes: number;
  onError: (error: Error) => void;
  /** Called with each instance once connected (the task runtime attaches to its router). */
  onConnected?: (product: ServerProduct, transport: LegacyInstanceTransport) => void;
}

/** Resolves with the response of a request the pool sends on its own (seeding initialize). */
class SeedExchange implements Exchange {
  constructor(private readonly settle: (message: ResponseMessage) => void) {}
  related(): void {}
  respond(message: ResponseMessage): void {
    this.settle(message);
  }
}

export class LegacyPool {
  /** Idle instances by identity; Map order is the eviction order (oldest first). */
  private readonly idle = new Map<PooledInstance, true>();
  private readonly idleByIdentity = new Map<string, PooledInstance[]>();
  private idleBytes = 0;
  private closed = false;
  /** Messages an instance sends while no session holds it. */
  onUnleasedMessage: (message: JSONRPCMessage) => void = () => {};

  constructor(private readonly options: LegacyPoolOptions) {}

  /**
   * An instance for `identity`. `seed` replays the session's initialize on a freshly built instance so it
   * holds that client's connection state; pass false when the caller is about to send the real initialize.
   */
  async acquire(identity: string, seed: boolean): Promise<PooledInstance> {
    const free = this.idleByIdentity.get(identity)?.pop();
    if (free !== undefined) {
      this.forgetIdle(free);
      return free;
    }
    const product = await this.options.factory(this.options.context);
    const transport = await connectLegacy(product);
    this.options.onConnected?.(product, transport);
    const instance: PooledInstance = { product, transport, identity, bytes: Buffer.byteLength(identity) };
    transport.router.onUnrelated = (message) => this.onUnleasedMessage(message);
    if (seed) await this.seed(instance);
    return instance;
  }

  /** Returns an instance to the pool once its session has no more work for it. */
  release(instance: PooledInstance): void {
    instance.transport.sessionId = undefined;
    instance.transport.router.onUnrelated = (message) => this.onUnleasedMessage(message);
    // One that alone exceeds the byte bound is closed rather than evicting every other idle instance for it.
    if (this.closed || this.options.maxIdle === 0 || instance.bytes > this.options.maxIdleBytes) {
      void this.dispose(instance);
      return;
    }
    this.idle.set(instance, true);
    this.idleBytes += instance.bytes;
    let list = this.idleByIdentity.get(instance.identity);
    if (list === undefined) {
      list = [];
      this.idleByIdentity.set(instance.identity, list);
    }
    list.push(instance);
    while (this.idle.size > this.options.maxIdle || this.idleBytes > this.options.maxIdleBytes) {
      const oldest = this.idle.keys().next().value as PooledInstance;
      const peers = this.idleByIdentity.get(oldest.identity)!;
      peers.splice(peers.indexOf(oldest), 1);
      this.forgetIdle(oldest);
      void this.dispose(oldest);
    }
  }

  /** Idle instances and the bytes of identity they hold (the health report shows them). */
  stats(): { instances: number; bytes: number } {
    return { instances: this.idle.size, bytes: this.idleBytes };
  }

  /** Takes an instance out of the idle set (it was leased or evicted; its peers list has it no more). */
  private forgetIdle(instance: PooledInstance): void {
    this.idle.delete(instance);
    this.idleBytes -= instance.bytes;
    if (this.idleByIdentity.get(instance.identity)?.length === 0) this.idleByIdentity.delete(instance.identity);
  }

  /** Discards an instance that may hold state it should not (a failed initialize). */
  discard(instance: PooledInstance): void {
    void this.dispose(instance);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.keys()];
    this.idle.clear();
    this.idleByIdentity.clear();
    this.idleBytes = 0;
    await Promise.all(all.map((instance) => this.dispose(instance)));
  }

  private async seed(instance: PooledInstance): Promise<void> {
    const params = JSON.parse(instance.identity) as Record<string, unknown>;
    const response = await new Promise<ResponseMessage>((resolve) => {
      instance.transport.router.request({ id: 0, method: 'initialize', params }, new SeedExchange(resolve));
    });
    if (response.error !== undefined)
      throw new Error(`remote-mcp: replaying initialize on a new instance failed: ${response.error.message}`);
    instance.transport.router.forward({ jsonrpc: '2.0', method: 'notifications/initialized' } as JSONRPCMessage);
  }

  private async dispose(instance: PooledInstance): Promise<void> {
    try {
      await instance.product.close();
    } catch (error) {
      this.options.onError(error as Error);
    }
  }
}
