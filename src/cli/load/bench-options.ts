/**
 * What one `remote-mcp bench` run is: the target, the tool call it repeats, and the bounds of the load. Every
 * default and limit is named here and in docs/cli.md.
 */

/** How the load reaches the server. */
export type TransportName = 'http' | 'legacy' | 'sse' | 'ws';
export const TRANSPORTS: readonly TransportName[] = ['http', 'legacy', 'sse', 'ws'];

/** What the report calls each transport. */
export const TRANSPORT_LABELS: Readonly<Record<TransportName, string>> = {
  http: 'Streamable HTTP, 2026-07-28 (stateless)',
  legacy: 'Streamable HTTP, 2025-11-25 sessions',
  sse: 'HTTP+SSE, 2024-11-05',
  ws: 'WebSocket, 2026-07-28',
};

export const BENCH_DEFAULTS = Object.freeze({
  /** Connections, each with one request in flight (a closed loop). */
  connections: 10,
  /** Length of the measured run. */
  durationSeconds: 10,
  /** An unmeasured run before it, on the same connections, so the JIT and the server's caches settle. */
  warmupSeconds: 0,
  /** A request without an answer after this counts as `timeout`; also bounds each connection's handshake. */
  timeoutMs: 10_000,
});

export const BENCH_LIMITS = Object.freeze({
  maxConnections: 10_000,
  /** One day: a run longer than that is a soak test, not a bench. */
  maxDurationSeconds: 86_400,
  /** Connections opened at once while setting up (a server's accept queue is finite). */
  openConcurrency: 64,
  /** A response body or SSE frame past this is a `bad response` and its connection is dropped. */
  maxResponseBytes: 16 * 1024 * 1024,
  /** Before a lost connection (2025-era session, SSE stream, WebSocket) is opened again. */
  reopenDelayMs: 100,
  /** How long closing (DELETE of a session, WebSocket close handshake) may take at the end. */
  closeTimeoutMs: 2_000,
});

export interface BenchOptions {
  url: URL;
  transport: TransportName;
  tool: string;
  /** The tool's arguments, sent unchanged on every call. */
  args: Record<string, unknown>;
  /** Sent with every request and handshake (credentials included). */
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  /** Stop after this many requests (over all connections) if the duration has not ended first. */
  requests: number | undefined;
  warmupSeconds: number;
  timeoutMs: number;
}
