/**
 * The events remote-mcp publishes on `node:diagnostics_channel`. The hot path only publishes, and only when a
 * channel has subscribers, so a server with metrics off pays one property read per event. Metrics (and anyone
 * else: these channel names are public, see docs/observability.md) subscribe.
 *
 * Every event carries `source`, the object identifying the server that published it, because channels are
 * process-wide and one process may run several servers.
 */
import { channel } from 'node:diagnostics_channel';

import type { AuditOutcome } from './audit-log.js';

/**
 * A JSON-RPC request ended: answered, refused by the gate, or abandoned by its client; or an attempt was refused
 * by a transport before it became one (outcome `refused`, method `unknown`, era `unknown` unless the path or
 * session tells it, `reason` from src/observability/refusal-reasons.ts).
 */
export interface RequestEvent {
  source: object;
  method: string;
  transport: 'http' | 'sse' | 'websocket';
  era: 'modern' | 'legacy' | 'unknown';
  /** The audit outcome, or `tool-error` for a tools/call answered with `isError: true`. */
  outcome: AuditOutcome | 'tool-error';
  /** Set for tools/call. */
  tool?: string;
  /** Seconds from admission to the end; 0 for a refusal (it never ran). */
  durationSeconds: number;
  /** For refusals: what refused it (`principal`, `global`, `tool`, `concurrency` for rate limits; see audit reasons). */
  reason?: string;
}

/** An attempt was refused by authentication before it became a request. */
export interface AuthFailureEvent {
  source: object;
  /** Bounded: missing, expired, bad-signature, wrong-audience, ... (docs/security.md). */
  reason: string;
  transport: 'http' | 'sse' | 'websocket';
}

/** Bytes of JSON-RPC messages received (`in`) or sent (`out`). */
export interface BytesEvent {
  source: object;
  direction: 'in' | 'out';
  bytes: number;
}

/**
 * A task (the tasks extension) was created on this instance, or ended on it: completed, failed (also: failed
 * here because its lease ran out elsewhere) or cancelled (by a tasks/cancel served here).
 */
export interface TaskEvent {
  source: object;
  /** The tool the task runs (a registered tool: a bounded label). */
  tool: string;
  status: 'created' | 'completed' | 'failed' | 'cancelled';
}

export const CHANNELS = Object.freeze({
  request: 'remote-mcp:request',
  authFailure: 'remote-mcp:auth-failure',
  bytes: 'remote-mcp:bytes',
  task: 'remote-mcp:task',
});

export const requestChannel = channel(CHANNELS.request);
export const authFailureChannel = channel(CHANNELS.authFailure);
export const bytesChannel = channel(CHANNELS.bytes);
export const taskChannel = channel(CHANNELS.task);

export function publishTask(source: object, tool: string, status: TaskEvent['status']): void {
  if (taskChannel.hasSubscribers) taskChannel.publish({ source, tool, status } satisfies TaskEvent);
}

/** Publishes a message size; the caller passes the text so the byte count is computed only when someone listens. */
export function publishBytes(source: object, direction: 'in' | 'out', text: string | number): void {
  if (!bytesChannel.hasSubscribers) return;
  const bytes = typeof text === 'number' ? text : Buffer.byteLength(text);
  bytesChannel.publish({ source, direction, bytes } satisfies BytesEvent);
}

/**
 * Which server an HTTP response belongs to, recorded on the response only while someone listens for bytes. A
 * symbol property rather than a WeakMap: a weak entry per request made the garbage collector's work grow with
 * the request rate.
 */
const SOURCE = Symbol('remote-mcp.source');

export function bindResponseSource(res: object, source: object): void {
  (res as { [SOURCE]?: object })[SOURCE] = source;
}

/** Publishes the size of a message read from an HTTP request or written to its response (a JSON body or an SSE frame). */
export function publishResponseBytes(res: object, direction: 'in' | 'out', text: string | number): void {
  if (!bytesChannel.hasSubscribers) return;
  const source = (res as { [SOURCE]?: object })[SOURCE];
  if (source === undefined) return;
  const bytes = typeof text === 'number' ? text : Buffer.byteLength(text);
  bytesChannel.publish({ source, direction, bytes } satisfies BytesEvent);
}
