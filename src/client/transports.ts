/**
 * Builds the SDK transport for one wire, with the caller's headers and credentials on every request, and with the
 * answers that mean "try again" (429, 502, 503, 504) turned into HttpStatusError, which keeps the `Retry-After`
 * and the JSON-RPC error that the SDK's own error drops.
 */
import {
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type FetchLike,
  type Transport,
} from '@modelcontextprotocol/client';

import { HttpStatusError, parseRetryAfter, RETRYABLE_STATUSES } from './http-status-error.js';
import { authHeaders, type AuthOption } from './options.js';
import { WebSocketClientTransport } from './websocket-transport.js';

export type WireKind = 'streamable-http' | 'sse' | 'websocket';

export interface TransportOptions {
  headers?: Record<string, string>;
  auth?: AuthOption;
  /** The fetch the HTTP transports use underneath (default the global fetch). */
  fetch?: FetchLike;
  /** For WebSocket: the handshake bound. */
  handshakeTimeoutMs?: number;
}

/** The headers of one request: the caller's static ones, then the credential (which wins). */
export async function requestHeaders(options: TransportOptions): Promise<Record<string, string>> {
  return { ...options.headers, ...(await authHeaders(options.auth)) };
}

/** A fetch that adds the headers and credentials and raises HttpStatusError for the retryable statuses. */
export function headerFetch(options: TransportOptions): FetchLike {
  const base: FetchLike = options.fetch ?? fetch;
  const constant = options.auth === undefined || typeof options.auth !== 'function';
  let fixed: Record<string, string> | undefined;
  return async function remoteMcpFetch(url, init) {
    if (!constant || fixed === undefined) fixed = await requestHeaders(options);
    const extra = fixed;
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) if (!headers.has(name)) headers.set(name, value);
    const response = await base(url, { ...init, headers });
    if (RETRYABLE_STATUSES.has(response.status)) {
      const body = await response.text().catch(() => '');
      throw new HttpStatusError(
        response.status,
        response.statusText,
        body,
        parseRetryAfter(response.headers.get('retry-after')),
      );
    }
    return response;
  };
}

/** The transport for a wire. The URL's scheme must fit it (ws/wss for websocket, http/https otherwise). */
export function createTransport(url: string | URL, kind: WireKind, options: TransportOptions = {}): Transport {
  const target = new URL(url);
  if (kind === 'websocket') {
    return new WebSocketClientTransport(target, {
      headers: () => requestHeaders(options),
      ...(options.handshakeTimeoutMs !== undefined && { handshakeTimeoutMs: options.handshakeTimeoutMs }),
    });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new TypeError(`a ${kind} transport needs an http: or https: URL, got ${target.protocol}`);
  const wrapped = headerFetch(options);
  if (kind === 'sse') {
    // The EventSource GET goes through the same fetch, so it carries the credentials too.
    return new SSEClientTransport(target, { fetch: wrapped, eventSourceInit: { fetch: wrapped } });
  }
  return new StreamableHTTPClientTransport(target, { fetch: wrapped });
}
