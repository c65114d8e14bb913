/**
 * The JSON-RPC side of one stdio child: the handshake (2026-07-28 `server/discover`, else a 2025-era
 * `initialize`), requests with ids of its own (many clients share one child: their ids would collide), progress
 * tokens rewritten the same way, cancellation, timeouts, and the messages the child starts (server-to-client
 * requests and notifications) handed to whoever is responsible for the call that caused them.
 */
import type { Channel, ChildExit } from './channel.js';
import { GATEWAY_ERRORS, GatewayError } from './gateway-errors.js';

export const MODERN_REVISION = '2026-07-28';
/** The revision a 2025-era handshake asks for; the child may answer an older one. */
export const LEGACY_REVISION = '2025-11-25';

const ENVELOPE_VERSION = 'io.modelcontextprotocol/protocolVersion';
const ENVELOPE_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const ENVELOPE_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

type Json = Record<string, unknown>;

/** What the child said about itself in the handshake. */
export interface ChildIdentity {
  era: 'modern' | 'legacy';
  protocolVersion: string;
  capabilities: Json;
  serverInfo: { name: string; version: string } & Json;
  instructions?: string;
}

/** Who gets what the child sends during one call: progress, log lines, and server-to-client requests. */
export interface CallOwner {
  progress?(params: Json): void;
  notify?(message: { method: string; params?: Json }): void;
  /** Forwards a server-to-client request (elicitation, sampling) to the client; undefined: it cannot be asked. */
  request?(message: { method: string; params?: Json }, signal: AbortSignal): Promise<Json>;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs: number;
  owner?: CallOwner;
}

interface Pending {
  resolve(result: Json): void;
  reject(error: Error): void;
  owner: CallOwner | undefined;
  progressToken: string | number | undefined;
}

export interface HandshakeParams {
  /** The era of the traffic the child will carry: asked first. */
  prefer: 'modern' | 'legacy';
  /** 2025-era initialize: the client capabilities the child is told about. */
  capabilities: Json;
  clientInfo: { name: string; version: string };
}

let nextToken = 1;

function envelopeOf(params: HandshakeParams): Json {
  return {
    [ENVELOPE_VERSION]: MODERN_REVISION,
    [ENVELOPE_CAPABILITIES]: params.capabilities,
    [ENVELOPE_CLIENT_INFO]: params.clientInfo,
  };
}

/** A message that did not reach the server: -32050 with what the transport said. */
function asUnavailable(label: string, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const status = (error as { status?: unknown; code?: unknown }).status ?? (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError('CHILD_EXITED', `${label} could not be reached: ${message}`, {
    code: GATEWAY_ERRORS.CHILD_EXITED.rpcCode,
    data: { gateway: 'CHILD_EXITED', ...(typeof status === 'number' && { status }) },
  });
}

/**
 * The server refused the handshake request of one era: it does not speak it. A stdio child answers with a
 * JSON-RPC error; an HTTP server may answer with a 4xx instead (a 2025-era server asked server/discover without a
 * session, a 2026-07-28-only one asked to initialize). A missing credential (401, 403), a 429 or 5xx, or no
 * answer at all is a failure, and throws.
 */
function refusedByChild(error: unknown): undefined {
  if (!(error instanceof GatewayError)) throw error;
  if (error.name === 'CHILD_ERROR') return undefined;
  const status = (error.data as { status?: unknown } | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && ![401, 403, 407, 429].includes(status))
    return undefined;
  throw error;
}

export class ChildPeer {
  readonly child: Channel;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Rewritten progress token → the pending call it belongs to. */
  private readonly progressOwners = new Map<string, Pending>();
  /** Server-to-client requests in flight, by the child's id, so the child can cancel them. */
  private readonly asked = new Map<string, AbortController>();
  identity: ChildIdentity | undefined;
  /** Set before stopping a channel on purpose: what its pending calls and the gateway are told. */
  closeReason: string | undefined;
  /** Notifications no call owns: list changes, resource updates, log lines outside a call. */
  onNotification: (method: string, params: Json | undefined) => void = () => {};
  /** Called once when the child stops serving. */
  onClosed: (exit: ChildExit) => void = () => {};

  /** `timeoutOption`: the option to name when a request times out (stdio.requestTimeoutMs, upstream.…). */
  constructor(
    channel: Channel,
    private readonly timeoutOption = 'stdio.requestTimeoutMs',
  ) {
    this.child = channel;
    this.child.onMessage = (message) => this.received(message as Json);
    this.child.onExit = (channelExit) => {
      // Stopped because its handshake failed: that failure is the reason, not how the stop went.
      const exit = this.closeReason === undefined ? channelExit : { reason: this.closeReason };
      const error = new GatewayError('CHILD_EXITED', exit.reason);
      for (const call of this.pending.values()) call.reject(error);
      this.pending.clear();
      this.progressOwners.clear();
      for (const controller of this.asked.values()) controller.abort();
      this.asked.clear();
      this.onClosed(exit);
    };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get closed(): boolean {
    return this.child.exit !== undefined;
  }

  /** Calls in flight on this child. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Learns which era the child speaks, trying the preferred one first: `server/discover` (a 2026-07-28 server
   * answers it) or a 2025-era `initialize`; a child that refuses the first gets the other. A program such as
   * an SDK v2 `serveStdio` server speaks both, one per connection: the gateway asks each child for the era of
   * the traffic it will carry, so both eras pass through natively.
   */
  async handshake(params: HandshakeParams, timeoutMs: number): Promise<ChildIdentity> {
    const first =
      params.prefer === 'legacy' ? () => this.initialize(params, timeoutMs) : () => this.discover(params, timeoutMs);
    const second =
      params.prefer === 'legacy' ? () => this.discover(params, timeoutMs) : () => this.initialize(params, timeoutMs);
    this.identity = (await first()) ?? (await second());
    if (this.identity === undefined)
      throw new GatewayError('CHILD_EXITED', 'the stdio server answered neither server/discover nor initialize');
    if (this.identity.era === 'modern') this.listen(params);
    return this.identity;
  }

  /** 2026-07-28: undefined when the child does not know server/discover or lists no 2026-07-28. */
  private async discover(params: HandshakeParams, timeoutMs: number): Promise<ChildIdentity | undefined> {
    const discovered = await this.request('server/discover', { _meta: envelopeOf(params) }, { timeoutMs }).catch(
      refusedByChild,
    );
    const versions = discovered?.supportedVersions;
    if (discovered === undefined || !Array.isArray(versions) || !versions.includes(MODERN_REVISION)) return undefined;
    return {
      era: 'modern',
      protocolVersion: MODERN_REVISION,
      capabilities: (discovered.capabilities as Json | undefined) ?? {},
      // 2026-07-28 results carry the server's identity in _meta; older drafts had it at the top.
      serverInfo: ((discovered.serverInfo ?? (discovered._meta as Json | undefined)?.[SERVER_INFO]) as
        | ChildIdentity['serverInfo']
        | undefined) ?? { name: 'stdio server', version: '0' },
      ...(typeof discovered.instructions === 'string' && { instructions: discovered.instructions }),
    };
  }

  /** 2025-era: undefined when the child refuses initialize (a 2026-07-28-only server). */
  private async initialize(params: HandshakeParams, timeoutMs: number): Promise<ChildIdentity | undefined> {
    const initialized = await this.request(
      'initialize',
      { protocolVersion: LEGACY_REVISION, capabilities: params.capabilities, clientInfo: params.clientInfo },
      { timeoutMs },
    ).catch(refusedByChild);
    if (initialized === undefined) return undefined;
    this.child.negotiated?.(String(initialized.protocolVersion));
    await Promise.resolve(this.child.send({ jsonrpc: '2.0', method: 'notifications/initialized' })).catch(() => {});
    await this.child.afterInitialized?.();
    return {
      era: 'legacy',
      protocolVersion: String(initialized.protocolVersion),
      capabilities: (initialized.capabilities as Json | undefined) ?? {},
      serverInfo: (initialized.serverInfo as ChildIdentity['serverInfo']) ?? { name: 'stdio server', version: '0' },
      ...(typeof initialized.instructions === 'string' && { instructions: initialized.instructions }),
    };
  }

  /**
   * A 2026-07-28 child announces list changes only on a `subscriptions/listen` stream: one stays open for the
   * child's life, and what arrives on it goes to onNotification like a 2025-era child's announcements.
   */
  private listen(params: HandshakeParams): void {
    this.post({
      jsonrpc: '2.0',
      id: this.nextId++,
      method: 'subscriptions/listen',
      params: {
        _meta: envelopeOf(params),
        notifications: { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true },
      },
    });
  }

  /** Sends one request and resolves with its result; a JSON-RPC error from the child rejects as CHILD_ERROR. */
  request(method: string, params: Json | undefined, options: CallOptions): Promise<Json> {
    const exit = this.child.exit;
    if (exit !== undefined) return Promise.reject(new GatewayError('CHILD_EXITED', exit.reason));
    if (options.signal?.aborted) return Promise.reject(new GatewayError('CANCELLED', 'the request was cancelled'));
    const id = this.nextId++;
    let sent = params;
    let progressToken: string | number | undefined;
    const meta = params?._meta as Json | undefined;
    if (meta?.progressToken !== undefined && options.owner?.progress !== undefined) {
      progressToken = meta.progressToken as string | number;
      sent = { ...params, _meta: { ...meta, progressToken: `g${nextToken++}` } };
    }
    return new Promise<Json>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (progressToken !== undefined) this.progressOwners.delete(rewritten);
      };
      const call: Pending = {
        resolve: (result) => {
          cleanup();
          resolve(result);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
        owner: options.owner,
        progressToken,
      };
      const rewritten = String((sent?._meta as Json | undefined)?.progressToken ?? '');
      const onAbort = () => {
        this.post({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'the client cancelled the request' },
        });
        call.reject(new GatewayError('CANCELLED', 'the request was cancelled'));
      };
      const timer = setTimeout(() => {
        this.post({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'timed out at the gateway' },
        });
        call.reject(
          new GatewayError(
            'CHILD_TIMEOUT',
            `${this.child.label} did not answer ${method} within ${options.timeoutMs} ms (${this.timeoutOption})`,
          ),
        );
      }, options.timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, call);
      if (progressToken !== undefined) this.progressOwners.set(rewritten, call);
      const delivered = this.child.send({ jsonrpc: '2.0', id, method, ...(sent !== undefined && { params: sent }) });
      delivered?.catch((error: unknown) => call.reject(asUnavailable(this.child.label, error)));
    });
  }

  /** Forwards a client notification (roots changed, initialized already sent) to the child. */
  notify(method: string, params?: Json): void {
    this.post({ jsonrpc: '2.0', method, ...(params !== undefined && { params }) });
  }

  stop(): Promise<void> {
    return this.child.stop();
  }

  /** A message nothing waits on (notifications, answers to the child): a failure to deliver it is dropped. */
  private post(message: Record<string, unknown>): void {
    void Promise.resolve(this.child.send(message)).catch(() => {});
  }

  private received(message: Json): void {
    const { id, method } = message;
    if (method === undefined) return this.answered(message);
    const params = message.params as Json | undefined;
    if (id !== undefined && id !== null) return void this.asking(id as string | number, String(method), params);
    this.notified(String(method), params);
  }

  private answered(message: Json): void {
    const call = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (call === undefined) return;
    const error = message.error as { code?: unknown; message?: unknown; data?: unknown } | undefined;
    if (error !== undefined && error !== null) {
      call.reject(
        new GatewayError('CHILD_ERROR', String(error.message ?? 'error'), {
          code: typeof error.code === 'number' ? error.code : -32603,
          data: error.data,
        }),
      );
      return;
    }
    call.resolve((message.result as Json | undefined) ?? {});
  }

  private notified(method: string, params: Json | undefined): void {
    if (method === 'notifications/progress') {
      const call = this.progressOwners.get(String(params?.progressToken));
      if (call?.owner?.progress !== undefined) call.owner.progress({ ...params, progressToken: call.progressToken });
      return;
    }
    if (method === 'notifications/cancelled') {
      this.asked.get(JSON.stringify(params?.requestId))?.abort();
      return;
    }
    if (method === 'notifications/message') {
      const owner = this.newestOwner((candidate) => candidate.notify !== undefined);
      if (owner !== undefined) return owner.notify!({ method, ...(params !== undefined && { params }) });
    }
    this.onNotification(method, params);
  }

  /** A request the child sends: ping is answered here; elicitation and sampling go to the newest caller. */
  private async asking(id: string | number, method: string, params: Json | undefined): Promise<void> {
    if (method === 'ping') return this.post({ jsonrpc: '2.0', id, result: {} });
    const owner = this.newestOwner((candidate) => candidate.request !== undefined);
    if (owner === undefined) {
      this.post({
        jsonrpc: '2.0',
        id,
        error: {
          code: -32601,
          message: `${method} cannot be forwarded: no client request in flight on this child can carry it`,
        },
      });
      return;
    }
    const key = JSON.stringify(id);
    const controller = new AbortController();
    this.asked.set(key, controller);
    try {
      const result = await owner.request!({ method, ...(params !== undefined && { params }) }, controller.signal);
      this.post({ jsonrpc: '2.0', id, result });
    } catch (error) {
      const rpc = error as { code?: unknown; message?: unknown; data?: unknown };
      this.post({
        jsonrpc: '2.0',
        id,
        error: {
          code: typeof rpc.code === 'number' ? rpc.code : -32603,
          message: String(rpc.message ?? error),
          ...(rpc.data !== undefined && { data: rpc.data }),
        },
      });
    } finally {
      this.asked.delete(key);
    }
  }

  /**
   * The newest call in flight whose owner can take the message. Over stdio nothing ties a server-to-client
   * message to the call that caused it, so with one call in flight (a session's child, or a quiet shared
   * child) this is exact; with several it is the most recent caller (docs/gateway.md).
   */
  private newestOwner(accepts: (owner: CallOwner) => boolean): CallOwner | undefined {
    let newest: CallOwner | undefined;
    for (const call of this.pending.values()) if (call.owner !== undefined && accepts(call.owner)) newest = call.owner;
    return newest;
  }
}
