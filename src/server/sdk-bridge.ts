/**
 * The one place remote-mcp touches the official SDK beyond its public API.
 *
 * remote-mcp keeps one long-lived server instance for all 2026-07-28 traffic instead of constructing one per
 * HTTP request (the official `createMcpHandler` does the latter; see typescript-sdk #2090 for its cost). The SDK
 * binds an instance to the 2026-07-28 era when it is connected to a `PerRequestHTTPServerTransport` whose
 * revision the instance lists as supported; that is public behaviour, and {@link ModernInstanceTransport}
 * subclasses the public class to get it. Two steps are not public:
 *
 *  1. adding 2026-07-28 to the instance's supported versions (what passing `supportedProtocolVersions` to the
 *     constructor would do; the default list of SDK 2.4 names 2025-era revisions only), and
 *  2. installing the SDK's own `server/discover` handler, which its constructor installs only in that case.
 *
 * `createMcpHandler` performs both steps on every instance through package-internal helpers. Two reads are not
 * public either and degrade gracefully when absent: `Protocol._onrequest` (see attachDirectDelivery) and
 * `Server._serverInfo` (see serverInfoOf). Here they are
 * checked for shape at start-up and fail with {@link RemoteMcpSdkError} rather than misbehave, and the result
 * is verified through the public `getNegotiatedProtocolVersion()`.
 *
 * The SDK recognises the transport with `instanceof`, so the transport extends the class of the copy of the SDK
 * the product was built from (src/server/sdk-copies.ts: another copy of the same version is served, another
 * version refused).
 */
import type {
  Implementation,
  JSONRPCMessage,
  MessageClassification,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import type { McpServer, PerRequestHTTPServerTransport, Server } from '@modelcontextprotocol/server';

import { RemoteMcpSdkError } from '../errors.js';
import { ExchangeRouter } from './exchange-router.js';
import { knownCopyOf, sdkCopyOf, type SdkCopy } from './sdk-copies.js';

export const MODERN_REVISION = '2026-07-28';
export const MODERN_CLASSIFICATION: MessageClassification = {
  era: 'modern',
  revision: MODERN_REVISION,
} as MessageClassification;
export const MODERN_EXTRA: MessageExtraInfo = { classification: MODERN_CLASSIFICATION };

/** What a server factory may return. */
export type ServerProduct = McpServer | Server;

/** The low-level `Server` behind a factory product. */
export function lowLevelServer(product: ServerProduct): Server {
  return product instanceof knownCopyOf(product).McpServer ? (product as McpServer).server : (product as Server);
}

/** Transport of the shared 2026-07-28 instance: a long-lived multiplexer that the SDK binds to the modern era. */
export type ModernInstanceTransport = PerRequestHTTPServerTransport & { readonly router: ExchangeRouter };

const modernTransports = new WeakMap<SdkCopy, new () => ModernInstanceTransport>();

/** The modern transport class for a copy of the SDK: a subclass of that copy's public per-request transport. */
function modernTransportOf(copy: SdkCopy): new () => ModernInstanceTransport {
  let transport = modernTransports.get(copy);
  if (transport === undefined) {
    transport = class extends copy.PerRequestHTTPServerTransport {
      readonly router: ExchangeRouter;

      constructor() {
        super({ classification: MODERN_CLASSIFICATION });
        this.router = new ExchangeRouter(this);
      }

      override async start(): Promise<void> {}

      override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
        this.router.route(message, options);
      }

      override async close(): Promise<void> {
        this.router.failAll('The server is shutting down');
        this.onclose?.();
      }
    };
    modernTransports.set(copy, transport);
  }
  return transport;
}

/** Transport of a pooled 2025-era instance; `sessionId` names the session it is leased to. */
export class LegacyInstanceTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  sessionId?: string;
  readonly router = new ExchangeRouter(this);

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.router.route(message, options);
  }

  async close(): Promise<void> {
    this.router.failAll('The server is shutting down');
    this.onclose?.();
  }
}

interface ServerInternals {
  _supportedProtocolVersions?: unknown;
  _ondiscover?: unknown;
  _onrequest?: unknown;
}

/**
 * Lets the router hand requests to `Protocol._onrequest` directly. `connect()` wraps the transport's inbound
 * callback with three schema-validating type guards per message, about a tenth of a tools/call's CPU; the
 * router already knows what it delivers. Without that method (another SDK version) the public path is used.
 */
function attachDirectDelivery(server: Server, router: ExchangeRouter): void {
  const onrequest = (server as unknown as ServerInternals)._onrequest;
  if (typeof onrequest === 'function')
    router.deliverRequest = (message, extra) => onrequest.call(server, message, extra);
}

function assertFresh(server: Server): void {
  if (server.transport !== undefined) {
    throw new RemoteMcpSdkError(
      'The server factory returned an instance that is already connected to a transport; return a new instance from each call.',
    );
  }
}

/** Connects a factory product as the shared 2026-07-28 instance. */
export async function connectModern(product: ServerProduct): Promise<ModernInstanceTransport> {
  const copy = await sdkCopyOf(product);
  const server = lowLevelServer(product);
  assertFresh(server);
  const internals = server as unknown as ServerInternals;
  if (!Array.isArray(internals._supportedProtocolVersions) || typeof internals._ondiscover !== 'function') {
    throw new RemoteMcpSdkError(
      'This version of @modelcontextprotocol/server does not have the shape remote-mcp binds to (Server._supportedProtocolVersions, Server._ondiscover); install a version within the peer range of remote-mcp.',
    );
  }
  const versions = internals._supportedProtocolVersions as string[];
  if (!versions.includes(MODERN_REVISION)) internals._supportedProtocolVersions = [...versions, MODERN_REVISION];
  const ondiscover = internals._ondiscover as () => unknown;
  server.setRequestHandler('server/discover', () => ondiscover.call(server) as never);

  const transport = new (modernTransportOf(copy))();
  await product.connect(transport);
  attachDirectDelivery(server, transport.router);
  if (server.getNegotiatedProtocolVersion() !== MODERN_REVISION) {
    throw new RemoteMcpSdkError(
      'The server instance did not bind to protocol 2026-07-28: this version of @modelcontextprotocol/server binds differently; install a version within the peer range of remote-mcp.',
    );
  }
  return transport;
}

/** Connects a factory product as a pooled 2025-era instance. */
export async function connectLegacy(product: ServerProduct): Promise<LegacyInstanceTransport> {
  await sdkCopyOf(product);
  assertFresh(lowLevelServer(product));
  const transport = new LegacyInstanceTransport();
  await product.connect(transport);
  attachDirectDelivery(lowLevelServer(product), transport.router);
  return transport;
}

/**
 * The server's name and version, for the result that closes a `subscriptions/listen` stream (the runtime writes
 * that result itself). `Server` keeps it private; undefined when the shape differs, and the result goes without.
 */
export function serverInfoOf(product: ServerProduct): Implementation | undefined {
  const info = (lowLevelServer(product) as unknown as { _serverInfo?: unknown })._serverInfo;
  return info !== null && typeof info === 'object' ? (info as Implementation) : undefined;
}

/** The JSON Schema of a tool's input, when the product is an McpServer that registered it. */
export function toolInputSchema(product: ServerProduct, toolName: string): Record<string, unknown> | undefined {
  return product instanceof knownCopyOf(product).McpServer
    ? (product as McpServer).toolInputSchemaJson(toolName)
    : undefined;
}
