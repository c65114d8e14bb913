/**
 * `connect(url, options)`: a connected SDK Client for any remote MCP server, on the wire the URL and the server's
 * answers call for.
 *
 * - `ws://` and `wss://`: the WebSocket transport shipped here, in whichever era the server speaks.
 * - `http://` and `https://`: Streamable HTTP. The SDK's negotiation (`versionNegotiation: 'auto'`) probes
 *   2026-07-28 with `server/discover` and falls back to a 2025-era `initialize` session. When the URL is an
 *   HTTP+SSE endpoint (its path ends in `/sse` or `/events`), or the server refuses the POST with 400, 404 or 405
 *   (what a 2024-11-05 server does, as the spec's backwards-compatibility section says), HTTP+SSE.
 */
import { SdkHttpError, type VersionNegotiationOptions } from '@modelcontextprotocol/client';

import { resolveConnectOptions, type ConnectOptions, type ResolvedConnectOptions } from './options.js';
import { RemoteClient } from './remote-client.js';
import { createTransport, type WireKind } from './transports.js';

/** The 2026-07-28 revision, pinned when `protocol: 'modern'`. */
export const MODERN_REVISION = '2026-07-28';

/** Statuses with which a 2024-11-05 (HTTP+SSE only) server refuses a Streamable HTTP POST. */
const NOT_STREAMABLE_STATUSES = new Set([400, 404, 405]);

/** The wires to try, in order, for a URL. */
export function wiresFor(url: URL, choice: ResolvedConnectOptions['transport']): WireKind[] {
  const websocket = url.protocol === 'ws:' || url.protocol === 'wss:';
  const http = url.protocol === 'http:' || url.protocol === 'https:';
  if (!websocket && !http)
    throw new TypeError(`remote-mcp client: the URL must be http(s):// or ws(s)://, got ${url.protocol}//`);
  if (choice === 'websocket' || (choice === 'auto' && websocket)) {
    if (!websocket) throw new TypeError('remote-mcp client: transport websocket needs a ws:// or wss:// URL');
    return ['websocket'];
  }
  if (websocket) throw new TypeError(`remote-mcp client: transport ${choice} needs an http:// or https:// URL`);
  if (choice === 'sse' || (choice === 'auto' && /\/(sse|events)\/?$/.test(url.pathname))) return ['sse'];
  return choice === 'auto' ? ['streamable-http', 'sse'] : ['streamable-http'];
}

function negotiation(protocol: ResolvedConnectOptions['protocol'], wire: WireKind): VersionNegotiationOptions {
  // HTTP+SSE is a 2024-11-05 transport: nothing newer runs over it.
  if (wire === 'sse' || protocol === 'legacy') return { mode: 'legacy' };
  if (protocol === 'modern') return { mode: { pin: MODERN_REVISION } };
  return { mode: 'auto' };
}

function refusedAsNotStreamable(error: unknown): boolean {
  if (!(error instanceof SdkHttpError)) return false;
  return NOT_STREAMABLE_STATUSES.has(error.status);
}

/** Connects `client` on the first wire that works and says which one it was. */
async function openOn(client: RemoteClient, url: URL, policy: ResolvedConnectOptions): Promise<WireKind> {
  const wires = wiresFor(url, policy.transport);
  for (let index = 0; ; index++) {
    const wire = wires[index]!;
    const transport = createTransport(url, wire, {
      headers: policy.headers,
      ...(policy.auth !== undefined && { auth: policy.auth }),
      handshakeTimeoutMs: policy.connectTimeoutMs,
    });
    client.setVersionNegotiation(negotiation(policy.protocol, wire));
    try {
      await client.connect(transport, { timeout: policy.connectTimeoutMs });
      // A WebSocket or HTTP+SSE stream that ends by itself (server restart, network) is made again on next use.
      const protocolOnClose = transport.onclose;
      transport.onclose = () => {
        protocolOnClose?.();
        client.connectionLost();
      };
      return wire;
    } catch (error) {
      await transport.close().catch(() => {});
      if (index + 1 < wires.length && refusedAsNotStreamable(error)) continue;
      throw error;
    }
  }
}

/**
 * Connects to a remote MCP server and returns the SDK Client (a RemoteClient) once the handshake is done.
 *
 * @example
 * const client = await connect('https://mcp.example.com/mcp', { auth: { token }, timeoutMs: 120_000 });
 * const result = await client.callTool({ name: 'search', arguments: { q: 'mcp' } });
 * await client.close();
 */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<RemoteClient> {
  const target = new URL(url);
  const policy = resolveConnectOptions(options);
  wiresFor(target, policy.transport);
  const client = new RemoteClient(target, policy, (c) => openOn(c, target, policy));
  await client.open();
  return client;
}
