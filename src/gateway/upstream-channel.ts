/**
 * A channel to a remote MCP server, through the SDK's client transports (built by remote-mcp/client's
 * createTransport, with the upstream's credentials on every request): Streamable HTTP for http(s) URLs, the
 * 2024-11-05 HTTP+SSE transport for URLs ending in /sse or /events, WebSocket for ws(s). The SDK transport
 * derives the 2026-07-28 headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) from each request's envelope and
 * keeps a 2025-era session's id, so requests of either era pass through as they are.
 */
import type { FetchLike, Transport } from '@modelcontextprotocol/client';

import { createTransport, type WireKind } from '../client/transports.js';
import type { Channel, ChildExit } from './channel.js';

export interface UpstreamTarget {
  url: URL;
  headers: Record<string, string>;
}

/** The transport a URL asks for. */
export function wireOf(url: URL): WireKind {
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return 'websocket';
  return /\/(sse|events)\/?$/.test(url.pathname) ? 'sse' : 'streamable-http';
}

export class UpstreamChannel implements Channel {
  readonly label: string;
  readonly pid = undefined;
  private readonly transport: Transport;
  private readonly started: Promise<void>;
  private exitInfo: ChildExit | undefined;
  private readonly standaloneStream: Promise<void>;
  onMessage: (message: unknown) => void = () => {};
  onExit: (exit: ChildExit) => void = () => {};

  constructor(target: UpstreamTarget) {
    this.label = `the upstream server ${target.url.origin}${target.url.pathname}`;
    const wire = wireOf(target.url);
    let streamOpened: () => void = () => {};
    this.standaloneStream =
      wire === 'streamable-http' ? new Promise<void>((resolve) => (streamOpened = resolve)) : Promise.resolve();
    // The SDK transport opens the session's GET stream after notifications/initialized; a server that sends its
    // requests there (the SDK's own does) drops them until it is open, so the handshake waits for its answer.
    const watching: FetchLike = async (url, init) => {
      const response = fetch(url, init);
      if ((init?.method ?? 'GET') === 'GET') response.then(streamOpened, streamOpened);
      return response;
    };
    this.transport = createTransport(target.url, wire, { headers: target.headers, fetch: watching });
    this.transport.onmessage = (message) => this.onMessage(message);
    this.transport.onclose = () => this.finish(`${this.label} closed the connection`);
    // Stream errors (a GET stream that drops and is retried) are not fatal; failed sends reject where they are made.
    this.transport.onerror = () => {};
    this.started = this.transport.start().catch((error: unknown) => {
      this.finish(`${this.label} could not be reached: ${(error as Error).message}`);
      throw error;
    });
    this.started.catch(() => {});
  }

  get exit(): ChildExit | undefined {
    return this.exitInfo;
  }

  async send(message: Record<string, unknown>): Promise<void> {
    await this.started;
    try {
      await this.transport.send(message as never);
    } catch (error) {
      // A 2025-era session the upstream no longer knows: this channel is done; the next request opens another.
      const inSession = (this.transport as { sessionId?: string }).sessionId !== undefined;
      if (inSession && (error as { status?: unknown }).status === 404)
        this.finish(`${this.label} no longer knows the session (404)`);
      throw error;
    }
  }

  /** Resolves once the session's GET stream answered (or after 2 s: a server may never answer it at all). */
  afterInitialized(): Promise<void> {
    return Promise.race([this.standaloneStream, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]);
  }

  negotiated(protocolVersion: string): void {
    (this.transport as { setProtocolVersion?: (version: string) => void }).setProtocolVersion?.(protocolVersion);
  }

  async stop(): Promise<void> {
    const session = this.transport as { sessionId?: string; terminateSession?: () => Promise<void> };
    // A 2025-era session is ended upstream too (DELETE), so it does not wait there for its idle timeout.
    if (this.exitInfo === undefined && session.sessionId !== undefined)
      await session.terminateSession?.().catch(() => {});
    this.finish(`${this.label}: the gateway closed the connection`);
    await this.transport.close().catch(() => {});
  }

  private finish(reason: string): void {
    if (this.exitInfo !== undefined) return;
    this.exitInfo = { reason };
    this.onExit(this.exitInfo);
  }
}
