/**
 * One Redis connection shared by the four Redis stores: a command client and, from the first subscribe on, a
 * subscriber client (a subscribed RESP connection cannot run other commands in order with them).
 *
 * Failure is fast and loud once, never slow or noisy: commands are never queued while disconnected
 * (`disableOfflineQueue`), so a call made while Redis is away rejects at once with StateUnavailableError; a
 * command that was sent but is not answered within `commandTimeoutMs` (a Redis that hangs, or a network that
 * drops packets without resetting the connection) rejects then, and its late answer, if any, is ignored. The
 * clients reconnect by themselves with a capped, jittered backoff; the same objects work again once Redis is
 * back. Client 'error' events never reach the process: they are counted, and passed to `onError` once per
 * change of connection state (connected → down), not once per reconnect attempt.
 *
 * The `redis` package is imported here dynamically, so only a server configured with Redis loads it.
 */
import type { createClient } from 'redis';

import { StateUnavailableError } from '../state-unavailable.js';
import { type ResolvedRedisOptions, redactUrl } from '../redis-options.js';

/** The node-redis client type the stores program against. */
export type RedisClient = ReturnType<typeof createClient>;

/**
 * Commands waiting to be written or answered at most: past this, a command rejects at once ("the queue is
 * full") instead of holding memory while Redis hangs without closing the connection.
 */
export const MAX_PENDING_COMMANDS = 10_000;
/** The first reconnect delay; each retry doubles it up to reconnectMaxDelayMs. */
const RECONNECT_BASE_DELAY_MS = 50;

/**
 * Failures of node-redis that mean "Redis cannot serve this now": the client is offline, closed, timed out,
 * or the socket went away with the command in flight.
 */
const UNAVAILABLE_CLIENT_ERRORS = new Set([
  'ClientOfflineError',
  'ClientClosedError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'DisconnectsClientError',
  'ReconnectStrategyError',
  'TimeoutError',
  'AbortError',
]);
/** Error replies of a Redis that is up but cannot serve writes or reads for now. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|CLUSTERDOWN|TRYAGAIN)\b/;
/** Errors of the socket itself (ECONNRESET, EPIPE, ETIMEDOUT…) that reject the commands in flight. */
const SOCKET_ERROR_CODE = /^E[A-Z]+$/;

type LinkState = 'connecting' | 'ready' | 'down';

/** A client and what the connection knows of it. */
interface Link {
  readonly role: 'commands' | 'subscriber';
  readonly client: RedisClient;
  state: LinkState;
  lastError: Error | undefined;
  /** Settles at the first 'ready' or 'error': a fresh client is waited for, a down one is not. */
  readonly firstOutcome: Promise<void>;
}

/** A command bounded by the watchdog: when it started, and how to fail it. */
interface InFlight {
  startedAt: number;
  reject: (error: unknown) => void;
}

export class RedisConnection {
  /** Prepended to every key and channel the stores use. */
  readonly prefix: string;
  /** The URL without its password. */
  readonly url: string;
  /** Client 'error' events seen so far (each reconnect attempt that failed is one). */
  errors = 0;
  /** Resolves once the `redis` package is loaded and the command client exists; rejects if it cannot load. */
  readonly loaded: Promise<void>;

  private commands: Link | undefined;
  private subscriber: Link | undefined;
  private module: typeof import('redis') | undefined;
  private closed = false;
  /** Commands sent on a ready link and not answered yet, oldest first (see bounded()). */
  private readonly inFlight = new Set<InFlight>();
  private watchdog: NodeJS.Timeout | undefined;
  /** Subscriptions wanted, by channel: kept across reconnects and re-established by reconcile(). */
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  /** One node-redis listener per channel, kept forever, so subscribing it again never delivers twice. */
  private readonly dispatchers = new Map<string, (message: string) => void>();
  /** Channels Redis confirmed on the subscriber client (node-redis resubscribes them after a reconnect). */
  private readonly confirmed = new Set<string>();

  /**
   * @param options resolved with resolveRedisOptions
   * @param onError receives client errors, once per change of connection state, and errors thrown by
   *   subscription listeners. Never throws into the caller.
   */
  constructor(
    readonly options: ResolvedRedisOptions,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.prefix = options.keyPrefix;
    this.url = redactUrl(options.url);
    this.loaded = import('redis').then((module) => {
      this.module = module;
      if (!this.closed) this.commands = this.link('commands', this.createClient(module));
    });
    // Reported here and again by every call (run() awaits it), so a missing package is never silent.
    this.loaded.catch((error: unknown) => this.report(error as Error));
  }

  /** Whether the command client is connected now. */
  get ready(): boolean {
    return !this.closed && this.commands?.state === 'ready' && this.commands.client.isReady;
  }

  /**
   * Runs commands on the command client, bounded by commandTimeoutMs from the call on (including, for a client
   * still making its first connection, the wait for it). Rejects with StateUnavailableError when Redis is not
   * connected or does not answer in time; other errors (a script's error reply) are passed on as they are.
   */
  async run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    await this.loaded;
    const link = this.commands;
    if (link === undefined || this.closed) throw this.unavailable('is closed (this connection was closed)');
    return this.bounded(link, () => fn(link.client));
  }

  /** PUBLISH; resolves with the number of subscribers (of every instance) that received the message. */
  publish(channel: string, message: string): Promise<number> {
    return this.run((client) => client.publish(channel, message));
  }

  /** PING: `{ kind: 'redis', url, latencyMs }`; rejects with StateUnavailableError. */
  async check(): Promise<{ kind: 'redis'; url: string; latencyMs: number }> {
    const started = performance.now();
    await this.run((client) => client.ping());
    return { kind: 'redis', url: this.url, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  }

  /**
   * Delivers the messages of `channel` to `listener` from now on. Resolves with the function that ends it once
   * Redis confirmed the subscription. When Redis is away the promise rejects with StateUnavailableError, but
   * the listener stays registered: the subscription is made as soon as the subscriber is connected again, as
   * it is renewed after every reconnect (remove the listener with unsubscribe()).
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    await this.loaded;
    if (this.closed) throw this.unavailable('is closed (this connection was closed)');
    let listeners = this.channels.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.channels.set(channel, listeners);
    }
    listeners.add(listener);
    const link = this.subscriberLink();
    await this.bounded(link, () => this.confirm(link, channel));
    return () => this.unsubscribe(channel, listener);
  }

  /** Removes a listener; the channel is unsubscribed with its last listener. Never rejects. */
  async unsubscribe(channel: string, listener: (message: string) => void): Promise<void> {
    const listeners = this.channels.get(channel);
    if (listeners === undefined || !listeners.delete(listener) || listeners.size > 0) return;
    this.channels.delete(channel);
    const link = this.subscriber;
    // While disconnected, reconcile() unsubscribes once the subscriber is back.
    if (link === undefined || link.state !== 'ready' || !this.confirmed.has(channel)) return;
    await this.bounded(link, () => this.release(link, channel)).catch(() => {});
  }

  /** Whether `channel` is subscribed on a connected subscriber: events of other instances arrive. */
  isSubscribed(channel: string): boolean {
    return this.subscriber?.state === 'ready' && this.confirmed.has(channel);
  }

  /**
   * Closes both clients: gracefully (pending commands answered) within commandTimeoutMs, then by force.
   * The stores do not close the connection they were given; its creator does, once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    for (const entry of this.inFlight) entry.reject(this.unavailable('is closed (this connection was closed)'));
    this.inFlight.clear();
    this.channels.clear();
    await this.loaded.catch(() => {});
    await Promise.all([this.commands, this.subscriber].map((link) => (link ? this.shut(link) : undefined)));
  }

  private createClient(module: typeof import('redis')): RedisClient {
    const { connectTimeoutMs, reconnectMaxDelayMs } = this.options;
    return module.createClient({
      url: this.options.url,
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_PENDING_COMMANDS,
      // No per-command `timeout`: node-redis would arm an AbortSignal timer for each command (measured: ~10 µs a
      // request), and with the offline queue off a ready client writes at once; bounded() bounds the answer.
      // Redis Enterprise maintenance notifications: nothing here uses them.
      maintNotifications: 'disabled',
      socket: {
        connectTimeout: connectTimeoutMs,
        // Exponential with "equal jitter": instances that lost Redis together do not reconnect in step.
        reconnectStrategy: (retries: number) => {
          const cap = Math.min(RECONNECT_BASE_DELAY_MS * 2 ** Math.min(retries, 16), reconnectMaxDelayMs);
          return Math.floor(cap / 2 + (Math.random() * cap) / 2);
        },
      },
    }) as RedisClient;
  }

  private link(role: Link['role'], client: RedisClient): Link {
    let settle!: () => void;
    const link: Link = {
      role,
      client,
      state: 'connecting',
      lastError: undefined,
      firstOutcome: new Promise<void>((resolve) => (settle = resolve)),
    };
    client.on('error', (error: Error) => {
      this.errors++;
      link.lastError = error;
      settle();
      if (this.closed) return;
      if (client.isReady) {
        // An error that did not cost the connection (node-redis marks the socket not ready before it reports
        // a disconnect): reported as it is, the state stays.
        this.report(error);
        return;
      }
      if (link.state !== 'down') {
        link.state = 'down';
        this.report(this.unavailable(`is unreachable (${role} connection): ${describe(error)}`, error));
      }
    });
    client.on('ready', () => {
      link.state = 'ready';
      settle();
      if (role === 'subscriber') this.reconcile(link);
    });
    // connect() settles when the first connection is ready (it retries until then), or rejects on close().
    client.connect().catch(() => {});
    return link;
  }

  private subscriberLink(): Link {
    if (this.subscriber === undefined) {
      const commands = this.commands!;
      this.subscriber = this.link('subscriber', commands.client.duplicate() as RedisClient);
    }
    return this.subscriber;
  }

  /**
   * Bounds `work` by commandTimeoutMs. On a ready link (the hot path) the deadline is an entry in `inFlight`,
   * which one watchdog interval expires, instead of a timer and a Promise.race per command.
   */
  private bounded<T>(link: Link, work: () => Promise<T>): Promise<T> {
    if (link.state !== 'ready' || !link.client.isReady || this.closed) return this.boundedSlowly(link, work);
    return new Promise<T>((resolve, reject) => {
      const entry: InFlight = { startedAt: performance.now(), reject };
      this.inFlight.add(entry);
      this.watch();
      let answer: Promise<T>;
      try {
        answer = work();
      } catch (error) {
        this.inFlight.delete(entry);
        reject(this.classify(error));
        return;
      }
      answer.then(
        (value) => {
          if (this.inFlight.delete(entry)) resolve(value);
        },
        (error: unknown) => {
          if (this.inFlight.delete(entry)) reject(this.classify(error));
        },
      );
    });
  }

  /** Starts the watchdog that fails commands unanswered after commandTimeoutMs (late answers go nowhere). */
  private watch(): void {
    if (this.watchdog !== undefined) return;
    const ms = this.options.commandTimeoutMs;
    this.watchdog = setInterval(
      () => {
        const now = performance.now();
        // Entries are in the order they started: the first one not expired ends the scan.
        for (const entry of this.inFlight) {
          if (now - entry.startedAt < ms) break;
          this.inFlight.delete(entry);
          entry.reject(this.unavailable(`did not answer within ${ms} ms`));
        }
        if (this.inFlight.size === 0) {
          clearInterval(this.watchdog);
          this.watchdog = undefined;
        }
      },
      Math.max(Math.min(Math.floor(ms / 10), 100), 5),
    );
    this.watchdog.unref();
  }

  /** Races `work` against commandTimeoutMs, waits for a fresh client's first connection, maps the failure. */
  private async boundedSlowly<T>(link: Link, work: () => Promise<T>): Promise<T> {
    const ms = this.options.commandTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        reject(this.unavailable(`did not answer within ${ms} ms`));
      }, ms);
    });
    const attempt = async (): Promise<T> => {
      if (link.state === 'connecting') await link.firstOutcome;
      // The caller was told it failed: a first connection made after that must not run the command anyway.
      if (expired) throw this.unavailable(`did not answer within ${ms} ms`);
      if (this.closed) throw this.unavailable('is closed (this connection was closed)');
      if (link.state !== 'ready' || !link.client.isReady) {
        const why = link.lastError === undefined ? '' : `: ${describe(link.lastError)}`;
        throw this.unavailable(`is unreachable${why}`, link.lastError);
      }
      return work();
    };
    try {
      // Promise.race keeps handling the loser: a late answer or rejection of `work` goes nowhere.
      return await Promise.race([attempt(), deadline]);
    } catch (error) {
      throw this.classify(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SUBSCRIBE with the channel's one dispatcher; confirmed even when the answer comes after run() gave up. */
  private async confirm(link: Link, channel: string): Promise<void> {
    const subscribed = link.client.subscribe(channel, this.dispatcherOf(channel));
    subscribed.then(
      () => this.confirmed.add(channel),
      () => {},
    );
    await subscribed;
  }

  private async release(link: Link, channel: string): Promise<void> {
    await link.client.unsubscribe(channel, this.dispatcherOf(channel));
    // Subscribed again while the UNSUBSCRIBE was on its way: reconcile() renews it.
    this.confirmed.delete(channel);
    if (this.channels.has(channel)) this.reconcile(link);
  }

  /**
   * Once the subscriber is connected: subscribes the channels wanted but not confirmed (their SUBSCRIBE failed
   * while Redis was away), unsubscribes the channels confirmed but no longer wanted. node-redis renews the
   * confirmed ones itself before it reports 'ready'.
   */
  private reconcile(link: Link): void {
    for (const channel of this.channels.keys()) {
      if (!this.confirmed.has(channel)) this.confirm(link, channel).catch(() => {});
    }
    for (const channel of this.confirmed) {
      if (!this.channels.has(channel)) this.release(link, channel).catch(() => {});
    }
  }

  private dispatcherOf(channel: string): (message: string) => void {
    let dispatcher = this.dispatchers.get(channel);
    if (dispatcher === undefined) {
      dispatcher = (message: string) => {
        for (const listener of this.channels.get(channel) ?? []) {
          try {
            listener(message);
          } catch (error) {
            // One broken listener must not keep the message from the others, nor break the client's reader.
            this.report(error as Error);
          }
        }
      };
      this.dispatchers.set(channel, dispatcher);
    }
    return dispatcher;
  }

  private async shut(link: Link): Promise<void> {
    const { client } = link;
    if (client.isReady) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.commandTimeoutMs);
      });
      await Promise.race([client.close().catch(() => {}), gaveUp]);
      clearTimeout(timer);
    }
    if (client.isOpen) client.destroy();
  }

  /** StateUnavailableError as is; node-redis's connection failures become one; anything else is passed on. */
  private classify(error: unknown): unknown {
    if (error instanceof StateUnavailableError || !(error instanceof Error)) return error;
    const isReply = this.module !== undefined && error instanceof this.module.ErrorReply;
    const code = (error as { code?: unknown }).code;
    const unavailable = isReply
      ? UNAVAILABLE_REPLY.test(error.message)
      : UNAVAILABLE_CLIENT_ERRORS.has(error.constructor.name) ||
        error.message === 'The queue is full' ||
        (typeof code === 'string' && SOCKET_ERROR_CODE.test(code));
    return unavailable ? this.unavailable(`is unreachable: ${describe(error)}`, error) : error;
  }

  private unavailable(what: string, cause?: Error): StateUnavailableError {
    return new StateUnavailableError(`Redis at ${this.url} ${what}`, cause === undefined ? undefined : { cause });
  }

  private report(error: Error): void {
    try {
      this.onError(error);
    } catch {
      // A failing log hook must not turn a client event into an uncaught exception.
    }
  }
}

/** An error in a few words: node-redis's AggregateErrors (one per address tried) carry no message of their own. */
function describe(error: Error): string {
  if (error.message !== '') return error.message;
  if (error instanceof AggregateError) return error.errors.map((inner: Error) => inner.message).join('; ');
  return (error as { code?: string }).code ?? error.name;
}
