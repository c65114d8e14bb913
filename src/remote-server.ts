/**
 * createRemoteServer: serves an MCP server factory on one HTTP endpoint for 2026-07-28 clients (stateless, one
 * shared instance) and 2025-era clients (sessions, pooled instances).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';

import {
  connectModern,
  lowLevelServer,
  serverInfoOf,
  toolInputSchema,
  type ServerProduct,
} from './server/sdk-bridge.js';
import { DrainTracker, StreamRegistry, type RuntimeContext } from './server/runtime-context.js';
import { LegacyPool } from './server/legacy-pool.js';
import { RequestStateSealer } from './server/request-state.js';
import { resolveOptions, type Notifier, type RemoteServerOptions, type ResolvedOptions } from './server/options.js';
import { eventKey, eventOfNotification, type ServerEvent } from './state/event-bus.js';
import { TaskRuntime } from './tasks/task-runtime.js';
import { taskToolsOf } from './tasks/task-tool.js';
import { openState, type RuntimeState } from './server/open-state.js';
import { StdioGateway, stdioSource, upstreamSource } from './gateway/stdio-gateway.js';
import { isStateUnavailable } from './state/state-unavailable.js';
import { loopbackHosts } from './security/origin-guard.js';
import { Authenticator } from './security/authenticator.js';
import { tlsMaterial, type TlsOptions } from './security/tls.js';
import { CorsPolicy } from './security/cors.js';
import { securityHeaders } from './security/security-headers.js';
import { Authorizer } from './security/authorization.js';
import { ArgumentValidator } from './security/argument-validator.js';
import { clientIp, resolveTrustProxy } from './security/client-ip.js';
import { RateLimiter, resolveRateLimitOptions } from './security/rate-limit.js';
import { RequestGate } from './security/request-gate.js';
import { CredentialWatch } from './security/credential-watch.js';
import { AuditLog, resolveAuditOptions } from './observability/audit-log.js';
import { createLogger } from './observability/logger.js';
import {
  HealthMonitor,
  resolveHealthOptions,
  type HealthCheck,
  type ResolvedHealthOptions,
} from './observability/health.js';
import { Metrics, resolveMetricsOptions, type ResolvedMetricsOptions } from './observability/metrics.js';
import { bindResponseSource, bytesChannel } from './observability/channels.js';
import { OpsEndpoints } from './transport/ops-routes.js';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { Server as NetServer, type Socket } from 'node:net';
import { RemoteMcpOptionError } from './errors.js';
import { LegacyEndpoint } from './transport/legacy-http.js';
import { handleRequest, handleUpgrade, routeOf, type HandlerState, type Route } from './transport/http-handler.js';
import { refuseUpgrade, WebSocketEndpoint } from './transport/websocket.js';
import { writeError } from './transport/http-io.js';
import { refuseClientError, traceRefusal } from './transport/refusals.js';
import { hostProblem } from './security/origin-guard.js';

export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (local only). */
  host?: string;
  /** Serve https and wss: your PEM certificate and key, or `{ selfSigned: true }` for a development certificate. */
  tls?: TlsOptions;
}

export interface Listening {
  url: string;
  port: number;
  host: string;
  /** With TLS: the certificate's SHA-256 fingerprint. */
  fingerprint256?: string;
  /** With a self-signed certificate: the certificate (PEM), for clients to trust. */
  certPem?: string;
  /** With `metrics.port`: the URL of the separate metrics listener. */
  metricsUrl?: string;
}

export interface RemoteServer {
  /**
   * Node request listener for the endpoint: mount it in node:http, express or fastify. Requests for other paths
   * get 404, or go to `next` when one is given (express-style middleware).
   */
  handler: (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;
  /**
   * Node 'upgrade' listener for WebSocket at the endpoint path: `httpServer.on('upgrade', remote.upgrade)`.
   * Returns false, leaving the socket alone, for upgrades to other paths (listen() attaches it for you).
   */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /**
   * Node 'clientError' listener: `httpServer.on('clientError', remote.clientError)` answers what Node's parser
   * refuses (400, 431) and what times out (408) with the security headers and a JSON-RPC body, and audits it,
   * as listen() does. Create the server with `requireHostHeader: false` so a missing Host gets remote-mcp's 400.
   */
  clientError: (error: Error, socket: Duplex) => void;
  /** Starts an HTTP server; resolves with the endpoint URL once it accepts connections. */
  listen(options?: ListenOptions): Promise<Listening>;
  /**
   * Drains, then stops: readiness turns 503 at once, the listener stops accepting connections, new requests
   * get 503 (Connection: close), subscription and session streams end (SSE with a `retry` hint), WebSockets
   * close with 1001 once their requests are answered; requests in flight get up to drainTimeoutMs to finish.
   * Then the instances, the stores and the HTTP servers listen() started are closed.
   */
  close(): Promise<void>;
  /** The Prometheus registry when `metrics` is on: add your own metrics to it. */
  readonly metrics: Registry | undefined;
  /** The operational logger (pino). */
  readonly logger: Logger;
  /** Publishes change events to subscribed clients of both eras. */
  notify: Notifier;
  /** Resolves once the shared instance is built (the factory may be async); rejects if the factory fails. */
  ready: Promise<void>;
  /** The HTTP server started by listen(), if any. */
  readonly httpServer: HttpServer | HttpsServer | undefined;
}

const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Publishes events, dropping repeats of the same event within one turn of the event loop: every instance a
 * factory built may react to the same application change, and clients need to hear about it once. */
function coalescingPublisher(
  bus: () => RuntimeState['bus'] | undefined,
  onError: (error: Error) => void,
): (event: ServerEvent) => void {
  const recent = new Set<string>();
  return (event) => {
    const key = eventKey(event);
    if (recent.has(key)) return;
    if (recent.size === 0) setImmediate(() => recent.clear());
    recent.add(key);
    // Before the stores are open (the factory notifying while it builds) nobody can be subscribed yet.
    bus()
      ?.publish(event)
      .catch((error: unknown) => onError(error as Error));
  };
}

/** The probe and metrics paths must differ from the endpoint and from each other (checked before anything starts). */
function checkOperatorPaths(
  endpoint: string,
  health: ResolvedHealthOptions | undefined,
  metrics: ResolvedMetricsOptions | undefined,
): void {
  const taken = new Map<string, string>([[endpoint, 'path']]);
  const routes: Array<[string, string | undefined]> = [
    ['health.path', health?.path],
    ['health.readyPath', health?.readyPath],
    // On its own port the metrics path shares nothing with the MCP port.
    ['metrics.path', metrics?.port === undefined ? metrics?.path : undefined],
  ];
  for (const [option, path] of routes) {
    if (path === undefined) continue;
    const other = taken.get(path);
    if (other !== undefined)
      throw new RemoteMcpOptionError(
        `remote-mcp: option \`${option}\` must differ from \`${other}\`; both are ${JSON.stringify(path)}.`,
      );
    taken.set(path, option);
  }
}

/** Binds a server; resolves with its address, rejects with the bind error (EADDRINUSE...). */
function listenOn(server: HttpServer | HttpsServer, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function shownHost(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

export function createRemoteServer(input: RemoteServerOptions): RemoteServer {
  const resolved: ResolvedOptions = resolveOptions(input);
  const logger = createLogger(resolved.log);
  // A stdio program or an upstream URL to serve (docs/gateway.md): proxies built by the gateway's factory answer.
  const gateway =
    resolved.stdio !== undefined
      ? new StdioGateway(resolved.stdio, stdioSource(resolved.stdio, logger), logger)
      : resolved.upstream !== undefined
        ? new StdioGateway(resolved.upstream, upstreamSource(resolved.upstream), logger)
        : undefined;
  const options = {
    ...resolved,
    server: gateway?.factory ?? resolved.server,
    onError: resolved.onError ?? ((error: Error) => logger.error({ err: error }, error.message)),
  };
  /** This server's identity on the diagnostics channels. */
  const source = {};
  /** The stores, open once `ready` has opened them (Redis connects asynchronously). */
  let shared: RuntimeState | undefined;
  const publish = coalescingPublisher(() => shared?.bus, options.onError);
  const notify: Notifier = {
    toolsListChanged: () => publish({ kind: 'tools_list_changed' }),
    promptsListChanged: () => publish({ kind: 'prompts_list_changed' }),
    resourcesListChanged: () => publish({ kind: 'resources_list_changed' }),
    resourceUpdated: (uri) => publish({ kind: 'resource_updated', uri }),
  };
  const cors = options.cors === undefined ? undefined : new CorsPolicy(options.cors);
  const headers = options.securityHeaders ? securityHeaders() : [];
  const guard: HandlerState['guard'] = {
    enabled: options.dnsRebindingProtection,
    allowedHosts: options.allowedHosts ?? loopbackHosts(),
    allowedOrigins: options.allowedOrigins,
    ...(cors !== undefined && { corsOrigins: cors.explicitOrigins }),
  };

  // Built now so a bad security configuration throws from createRemoteServer, like every other option.
  if (options.authorization !== undefined && options.auth === undefined) {
    throw new RemoteMcpOptionError(
      'remote-mcp: option `authorization` needs `auth`: a policy decides by principal, and without authentication there is none.',
    );
  }
  const authorizer = options.authorization === undefined ? undefined : new Authorizer(options.authorization);
  const auth =
    options.auth === undefined
      ? undefined
      : new Authenticator(options.auth, options.path, options.onError, () => authorizer?.scopes() ?? []);
  const rateLimits = resolveRateLimitOptions(options.rateLimits);
  const rateLimiter = rateLimits === undefined ? undefined : new RateLimiter(rateLimits, options.onError);
  const trust = resolveTrustProxy(options.trustProxy ?? false);
  const auditOptions = resolveAuditOptions(options.audit);
  const healthOptions = resolveHealthOptions(options.health);
  const metricsOptions = resolveMetricsOptions(options.metrics);
  checkOperatorPaths(options.path, healthOptions, metricsOptions);
  if (options.auth === undefined && (healthOptions?.requireAuth === true || metricsOptions?.requireAuth === true)) {
    throw new RemoteMcpOptionError(
      `remote-mcp: option \`${healthOptions?.requireAuth === true ? 'health' : 'metrics'}.requireAuth\` needs \`auth\`: there is no credential to ask for without it.`,
    );
  }
  const audit = auditOptions === undefined ? undefined : new AuditLog(auditOptions);
  const credentials = new CredentialWatch({ revocations: auth?.apiKeys, audit, onError: options.onError });
  let state: HandlerState | undefined;
  let product: ServerProduct | undefined;
  let tasks: TaskRuntime | undefined;
  let httpServer: HttpServer | HttpsServer | undefined;
  let closed: Promise<void> | undefined;
  const streams = new StreamRegistry(options.maxStreams);
  const drain = new DrainTracker();
  /** TCP connections of the server listen() started (a gauge). */
  let tcpConnections = 0;
  const lifecycle = (): 'starting' | 'serving' | 'draining' =>
    closed !== undefined ? 'draining' : state === undefined ? 'starting' : 'serving';
  // The state stores report on /health too. Required, but not for liveness: a store that is down (Redis away)
  // makes the instance unready (503 on /ready), and restarting it would not bring the store back.
  const storeCheck = (pick: (state: RuntimeState) => { check?(): Promise<unknown> }) => () => {
    if (shared === undefined) return undefined;
    const store = pick(shared);
    return store.check?.();
  };
  const storeChecks: HealthCheck[] = [
    ['sessionStore', storeCheck((s) => s.sessionStore)],
    ['eventStore', storeCheck((s) => s.eventStore)],
    ['eventBus', storeCheck((s) => s.bus)],
    ['rateLimitStore', rateLimiter?.storeCheck],
    // What 2025-era sessions hold in this process: live sessions, shared identities, idle pooled instances.
    ['legacySessions', options.legacy ? () => state?.legacy?.memory() : undefined],
  ].flatMap(([name, check]) =>
    typeof check === 'function'
      ? [{ name: name as string, check: check as () => unknown, liveness: name === 'legacySessions' }]
      : [],
  );
  // Tasks' store, once the factory turned out to register task tools (docs/tasks.md).
  storeChecks.push({
    name: 'taskStore',
    check: () => tasks?.store.check?.(),
    liveness: false,
    applies: () => tasks !== undefined,
  });
  for (const check of healthOptions?.checks ?? []) {
    if (storeChecks.some((store) => store.name === check.name))
      throw new RemoteMcpOptionError(
        `remote-mcp: option \`health.checks\` must not reuse the name ${JSON.stringify(check.name)}: it is one of the built-in checks (the state stores, legacySessions, stdio, upstream).`,
      );
  }
  // The stdio gateway's children: unready (not dead) while none can serve, since a restart would not fix a command.
  if (gateway !== undefined) storeChecks.push(gateway.check);
  const health =
    healthOptions === undefined ? undefined : new HealthMonitor([...storeChecks, ...healthOptions.checks], lifecycle);
  const metrics =
    metricsOptions === undefined
      ? undefined
      : new Metrics({
          source,
          defaultMetrics: metricsOptions.defaultMetrics,
          isRegisteredTool: (name) => product !== undefined && toolInputSchema(product, name) !== undefined,
          counts: {
            connections: () => ({ http: tcpConnections, websocket: state?.websocket?.size ?? 0 }),
            sessions: () => state?.legacy?.sessionCounts() ?? [],
            streams: () => streams.counts(),
            tasksRunning: () => tasks?.runner.size ?? 0,
          },
        });
  const ops = new OpsEndpoints({
    guard,
    auth,
    health: health === undefined ? undefined : { monitor: health, options: healthOptions! },
    metrics: metrics === undefined ? undefined : { metrics, options: metricsOptions! },
    onError: options.onError,
  });
  const unrelated = (message: unknown) => {
    const m = message as { method?: string; params?: unknown; id?: unknown };
    if (m.method === undefined || m.id !== undefined) return;
    const event = eventOfNotification(m.method, m.params);
    if (event !== undefined) publish(event);
  };

  const ready = (async () => {
    shared = await openState(options, options.onError);
    const { bus, sessionStore, eventStore } = shared;
    if (shared.rateLimitStore !== undefined && rateLimiter !== undefined && !rateLimiter.storeGiven)
      rateLimiter.useStore(shared.rateLimitStore);
    product = await options.server({ era: 'modern', notify });
    const transport = await connectModern(product);
    transport.router.onUnrelated = unrelated;
    const server = lowLevelServer(product);
    // Tasks (docs/tasks.md) when the factory registered task tools: every instance's router intercepts them.
    tasks =
      taskToolsOf(product) === undefined
        ? undefined
        : new TaskRuntime(shared.taskStore, options.tasks, randomUUID(), options.onError, source);
    tasks?.attach(transport.router, product);
    const modernProduct = product;
    const validator = options.validateToolArguments
      ? new ArgumentValidator((name) => toolInputSchema(modernProduct, name), options.onError)
      : undefined;
    const runtime: RuntimeContext = {
      options,
      source,
      modern: {
        product,
        router: transport.router,
        capabilities: server.getCapabilities(),
        serverInfo: serverInfoOf(product),
      },
      sealer: new RequestStateSealer(options.requestStateKey, options.requestStateTtlMs),
      bus,
      cluster: shared.cluster,
      notify,
      publish,
      streams,
      drain,
      gate: new RequestGate({
        maxJsonDepth: options.maxJsonDepth,
        maxStringLength: options.maxStringLength,
        maxConcurrentRequestsPerPrincipal: options.maxConcurrentRequestsPerPrincipal,
        auth,
        authorizer,
        rateLimiter,
        validator,
        audit,
        tracing: options.tracing,
        source,
        onError: options.onError,
      }),
      credentials,
      clientIp: (req) => clientIp(req, trust),
      paramHeaderCache: new Map(),
      sessionEnded: gateway === undefined ? undefined : (id) => gateway.sessionEnded(id),
      tasks,
      securityHeaders: headers,
    };
    bus.subscribe((event) => {
      if (event.kind !== 'tools_list_changed') return;
      runtime.paramHeaderCache.clear();
      validator?.clear();
    });
    let legacy: LegacyEndpoint | undefined;
    if (options.legacy) {
      const pool = new LegacyPool({
        factory: options.server,
        context: { era: 'legacy', notify },
        maxIdle: options.maxIdleLegacyInstances,
        maxIdleBytes: options.maxIdleLegacyInstanceBytes,
        onError: options.onError,
        ...(tasks !== undefined && {
          onConnected: (pooled, pooledTransport) =>
            tasks?.attach(pooledTransport.router, pooled, () => lowLevelServer(pooled).getClientCapabilities()),
        }),
      });
      pool.onUnleasedMessage = unrelated;
      legacy = new LegacyEndpoint(runtime, pool, sessionStore, eventStore);
    }
    const websocket = options.websocket
      ? new WebSocketEndpoint(runtime, legacy, {
          maxConnections: options.maxWebSocketConnections,
          pingIntervalMs: options.webSocketPingIntervalMs,
        })
      : undefined;
    state = { runtime, legacy, websocket, guard, auth, closing: false };
  })();
  // A failed start is reported through `ready`, listen() and 500s; keep it from being an unhandled rejection.
  ready.catch(() => {});

  const serve = (req: IncomingMessage, res: ServerResponse, route: Route) => {
    const current = state;
    const run = (s: HandlerState) =>
      handleRequest(s, req, res, route).catch((error: unknown) => {
        // Redis away: 503 that the client (or nginx) may retry, since nothing ran; the connection logs the outage.
        if (isStateUnavailable(error)) return writeError(res, 'STATE_UNAVAILABLE');
        options.onError(error as Error);
        writeError(res, 'INTERNAL');
      });
    if (current !== undefined) {
      void run(current);
      return;
    }
    ready.then(
      () => void run(state!),
      (error: unknown) => {
        options.onError(error as Error);
        writeError(res, 'INTERNAL');
      },
    );
  };

  /** MCP responses not yet finished: a drain tells their clients not to reuse the connection. */
  const responses = new Set<ServerResponse>();
  function forgetResponse(this: ServerResponse): void {
    responses.delete(this);
  }

  const handler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => {
    const route = routeOf(req.url, options);
    const opsRoute = route === undefined ? ops.routeOf(req.url) : undefined;
    if (route === undefined && opsRoute === undefined && next !== undefined) return next();
    for (const [name, value] of headers) res.setHeader(name, value);
    const preflight = cors?.apply(req, res);
    if (preflight === 'refused' && state !== undefined)
      traceRefusal(state.runtime, req, { transport: 'http' }, 'cors-origin-refused', 403);
    if (preflight) return; // a preflight, answered
    if (opsRoute !== undefined) return ops.serve(opsRoute, req, res);
    // Node's own missing-Host refusal is off (requireHostHeader) so that ours, with its headers, answers it.
    if (route === undefined) return writeError(res, hostProblem(req)?.name ?? 'NOT_FOUND');
    if (bytesChannel.hasSubscribers) bindResponseSource(res, source);
    responses.add(res);
    res.on('close', forgetResponse);
    serve(req, res, route);
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (routeOf(req.url, options)?.kind !== 'mcp') return false;
    const current = state;
    if (current !== undefined) handleUpgrade(current, req, socket, head);
    else
      ready.then(
        () => handleUpgrade(state!, req, socket, head),
        () => refuseUpgrade(socket, 'INTERNAL', undefined, {}, headers),
      );
    return true;
  };

  const clientError = (error: Error, socket: Duplex): void =>
    refuseClientError(error as NodeJS.ErrnoException, socket, headers, state?.runtime);

  let metricsServer: HttpServer | undefined;

  async function shutdown(): Promise<void> {
    const started = performance.now();
    logger.info(
      { drainTimeoutMs: options.drainTimeoutMs },
      'draining: readiness is 503, new connections and requests are refused',
    );
    if (state !== undefined) state.closing = true;
    // Answers still to come close their connection: a client that sent its next request on a kept-alive
    // connection just as the server closed it would lose that request.
    for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
    // Stop accepting connections now. net.Server's close, not http.Server's: the latter also drops idle
    // keep-alive connections, and a client that is writing its next request on one at that moment loses it
    // (a reset, not an answer). Kept open, that request gets a clean 503 with Connection: close instead.
    if (httpServer?.listening === true) NetServer.prototype.close.call(httpServer);
    await ready.catch(() => {});
    streams.endAll(options.drainRetryMs);
    state?.websocket?.drain();
    const drained = await drain.idle(options.drainTimeoutMs);
    // Tasks running here get what is left of the drain to finish (their results reach the store); the rest are
    // failed below, at close.
    if (tasks !== undefined && tasks.runner.size > 0) {
      const waited = await tasks.runner.idle(Math.max(0, options.drainTimeoutMs - (performance.now() - started)));
      if (!waited) logger.warn({ tasks: tasks.runner.size }, 'drain timed out: failing the tasks still running');
    }
    // Outwait the proxy's kept-alive connections (drainDelayMs): closing one while the proxy writes a request on
    // it would reset a request nothing can tell was not run; until the proxy closes them, they get 503s.
    const left = options.drainDelayMs - (performance.now() - started);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    if (!drained)
      logger.warn(
        { inFlight: drain.size, drainTimeoutMs: options.drainTimeoutMs },
        'drain timed out: cutting off the requests still in flight',
      );
    state?.websocket?.close();
    if (state?.legacy !== undefined) await state.legacy.close();
    credentials.close();
    // Tasks still running here are failed now ("the server shut down") rather than left to their lease.
    await tasks?.close();
    if (product !== undefined) await product.close().catch((error: unknown) => options.onError(error as Error));
    await gateway?.close();
    // The limiter's store first: the shared one goes with the Redis connection that shared.close() ends.
    await Promise.all([rateLimiter?.close(), audit?.close()]);
    await shared?.close();
    metrics?.close();
    health?.close();
    // http.Server's close now, listening or not: it also stops Node's connection-timeout timer. Its callback
    // runs once every connection is gone (with an error argument when the listener was closed already).
    await Promise.all(
      [httpServer, metricsServer].map(
        (server) =>
          server &&
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    logger.info({ durationMs: Math.round(performance.now() - started), drained }, 'closed');
  }

  /** Metrics on their own port: only GET <metrics.path> there, for a scraper on a private network. */
  async function listenMetrics(port: number, host: string, path: string): Promise<string> {
    // The metrics listener's own bind decides its Host allowlist: loopback names when bound to loopback (a web
    // page cannot rebind its way in), any Host otherwise (a scraper names the pod or node). `allowedHosts` names
    // the MCP endpoint's host and port, not this one.
    const metricsGuard = { ...guard, allowedHosts: LOOPBACK_BINDS.has(host) ? loopbackHosts() : undefined };
    const server = createServer({ requireHostHeader: false }, (req, res) => {
      for (const [name, value] of headers) res.setHeader(name, value);
      if (ops.routeOf(req.url) === undefined && (req.url ?? '/').split('?')[0] === path)
        return ops.serve('metrics', req, res, metricsGuard);
      writeError(res, hostProblem(req)?.name ?? 'NOT_FOUND');
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) =>
      refuseClientError(error, socket, headers, undefined),
    );
    metricsServer = server;
    const address = await listenOn(server, port, host);
    return `http://${shownHost(address)}:${address.port}${path}`;
  }

  return {
    handler,
    upgrade,
    clientError,
    notify,
    ready,
    metrics: metrics?.registry,
    logger,
    get httpServer() {
      return httpServer;
    },
    async listen(listenOptions: ListenOptions = {}) {
      if (httpServer !== undefined) throw new Error('remote-mcp: listen() was called already');
      const host = listenOptions.host ?? '127.0.0.1';
      const port = listenOptions.port ?? 8080;
      // Bound to loopback (or mounted without listen) the Host allowlist defaults to loopback names; bound to a
      // public address, Host names are unknown in advance, so they are accepted unless allowedHosts lists them.
      if (options.allowedHosts === undefined && !LOOPBACK_BINDS.has(host)) guard.allowedHosts = undefined;
      const tls = listenOptions.tls === undefined ? undefined : await tlsMaterial(listenOptions.tls);
      await ready;
      const timeouts = {
        // Node answers a missing Host with a bare 400 of its own; the Host check answers it like every refusal.
        requireHostHeader: false,
        headersTimeout: options.headersTimeoutMs,
        requestTimeout: options.requestTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs,
        // How often Node checks the two timeouts above (its default, 30 s, would let a small timeout run long).
        connectionsCheckingInterval: Math.max(
          Math.min(Math.floor(Math.min(options.headersTimeoutMs, options.requestTimeoutMs) / 2), 1_000),
          50,
        ),
      };
      const server =
        tls === undefined
          ? createServer(timeouts, handler)
          : createHttpsServer({ ...timeouts, cert: tls.cert, key: tls.key }, handler);
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!upgrade(req, socket, head)) refuseUpgrade(socket, 'NOT_FOUND', undefined, {}, headers);
      });
      // Requests Node's parser refuses (400, 431) or that time out (408): answered and traced like the others.
      server.on('clientError', clientError);
      server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
        tcpConnections++;
        socket.once('close', () => tcpConnections--);
      });
      httpServer = server;
      const address = await listenOn(server, port, host);
      const url = `${tls === undefined ? 'http' : 'https'}://${shownHost(address)}:${address.port}${options.path}`;
      const metricsUrl =
        metricsOptions?.port === undefined
          ? undefined
          : await listenMetrics(metricsOptions.port, metricsOptions.host, metricsOptions.path);
      logger.info({ url, ...(metricsUrl !== undefined && { metricsUrl }), tls: tls !== undefined }, 'listening');
      if (!LOOPBACK_BINDS.has(host)) {
        // Reachable from the network: say what is missing, once, where operators look.
        if (auth === undefined)
          logger.warn(
            { host },
            'listening beyond loopback without authentication: anyone who reaches this port can call every tool (configure auth)',
          );
        else if (tls === undefined && options.trustProxy === undefined)
          logger.warn(
            { host },
            'credentials travel over plain http: serve TLS (tls option) or terminate it at a proxy (then set trustProxy)',
          );
      }
      return {
        url,
        port: address.port,
        host: address.address,
        ...(tls !== undefined && { fingerprint256: tls.fingerprint256 }),
        ...(tls?.certPem !== undefined && { certPem: tls.certPem }),
        ...(metricsUrl !== undefined && { metricsUrl }),
      };
    },
    close() {
      closed ??= shutdown();
      return closed;
    },
  };
}
