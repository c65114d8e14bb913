/**
 * When a failed request may be sent again, and after how long. Two questions decide it:
 *
 * - Is the failure worth another try? Connection failures, timeouts and 429/502/503/504 are; a JSON-RPC error
 *   from the server (bad params, unknown tool, a tool's own failure) is an answer, and trying again changes nothing.
 * - Is repeating the request safe? Discovery, lists, reads, prompt gets, pings and completions change nothing on
 *   the server; a `tools/call` is safe only when the tool declares `readOnlyHint` or `idempotentHint`, or the
 *   caller says so for that call. A request that provably never reached a server (connection refused, DNS
 *   failure, or refused with 429/503 before it ran) is safe to send again whatever it is.
 */
import { SdkError, SdkErrorCode, SdkHttpError, type ToolAnnotations } from '@modelcontextprotocol/client';

import { HttpStatusError, RETRYABLE_STATUSES } from './http-status-error.js';
import type { ResolvedRetry } from './options.js';
import { NOT_OPEN } from './websocket-transport.js';

export type FailureKind =
  /** Nothing reached a server: connection refused, no DNS answer, connect timeout. */
  | 'refused'
  /** The connection broke after the request may have been sent (reset, closed, stream ended). */
  | 'connection'
  /** An HTTP status: 429, 502, 503 or 504 (worth retrying) or another one (not). */
  | 'http'
  /** No answer within the request's timeout. */
  | 'timeout'
  /** The 2025-era session is gone on the server (404 on a session request): it must be made again. */
  | 'session-lost'
  /** Anything else: a JSON-RPC error from the server, a local error, a bad result. Not retried. */
  | 'other';

export interface Failure {
  kind: FailureKind;
  status?: number;
  retryAfterMs?: number;
  /** False when the request provably never ran on a server, so repeating it cannot do anything twice. */
  delivered: boolean;
}

/** Node's (and undici's) codes for a connection that never carried the request. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  NOT_OPEN,
]);
/** Codes for a connection that broke with the request possibly sent. */
const BROKEN_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The first Node error code along the cause chain (fetch hides them in `cause`). */
function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NOT_SENT_CODES.has(code) || BROKEN_CODES.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyFailure(error: unknown): Failure {
  // The SDK wraps what went wrong during the version probe; the cause is the failure to classify.
  if (error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed) {
    const cause = (error as { cause?: unknown }).cause ?? (error.data as { cause?: unknown } | undefined)?.cause;
    if (cause !== undefined && cause !== error) return classifyFailure(cause);
  }
  if (error instanceof HttpStatusError) {
    const status = error.status;
    // remote-mcp (and proxies) refuse 429 and 503 before running anything; 502 and 504 may come after it ran.
    const delivered = status !== 429 && status !== 503;
    return {
      kind: 'http',
      status,
      delivered,
      ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
    };
  }
  if (error instanceof SdkHttpError) {
    const status = error.status;
    if (status === 404 && /session/i.test(error.message)) return { kind: 'session-lost', status, delivered: false };
    return { kind: 'http', ...(status !== undefined && { status }), delivered: true };
  }
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout) return { kind: 'timeout', delivered: true };
    if (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected)
      return { kind: 'connection', delivered: error.code === SdkErrorCode.ConnectionClosed };
  }
  const code = errorCode(error);
  if (code !== undefined)
    return { kind: NOT_SENT_CODES.has(code) ? 'refused' : 'connection', delivered: !NOT_SENT_CODES.has(code) };
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return { kind: 'connection', delivered: true };
  if (error instanceof Error && /socket hang up|other side closed/i.test(error.message))
    return { kind: 'connection', delivered: true };
  return { kind: 'other', delivered: true };
}

/** Whether another try could get a different outcome. */
export function isRetryable(failure: Failure): boolean {
  switch (failure.kind) {
    case 'refused':
    case 'connection':
    case 'timeout':
    case 'session-lost':
      return true;
    case 'http':
      return failure.status !== undefined && RETRYABLE_STATUSES.has(failure.status);
    default:
      return false;
  }
}

/** Methods that change nothing on the server, so repeating them is always safe. */
const SAFE_METHODS = new Set([
  'server/discover',
  'initialize',
  'ping',
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
]);

export interface RepeatContext {
  /** The tool's annotations, when the client has listed tools. */
  annotations?: ToolAnnotations | undefined;
  /** The caller's word for this call: true allows repeating it, false forbids it. */
  idempotent?: boolean | undefined;
}

/** Whether sending this request a second time is safe when the first may have run. */
export function isSafeToRepeat(method: string, context: RepeatContext = {}): boolean {
  if (context.idempotent !== undefined) return context.idempotent;
  if (SAFE_METHODS.has(method)) return true;
  if (method === 'tools/call')
    return context.annotations?.readOnlyHint === true || context.annotations?.idempotentHint === true;
  return false;
}

/** Whether a request that failed this way may be sent again. */
export function mayRetry(failure: Failure, method: string, context: RepeatContext = {}): boolean {
  if (!isRetryable(failure)) return false;
  if (context.idempotent === false) return !failure.delivered;
  return !failure.delivered || isSafeToRepeat(method, context);
}

/**
 * The wait before try number `retry` (1 for the first retry): exponential with full jitter, and never shorter
 * than the server's `Retry-After`, both capped at maxDelayMs.
 */
export function retryDelay(retry: number, policy: ResolvedRetry, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (retry - 1));
  const backoff = policy.jitter ? random() * exponential : exponential;
  return Math.min(policy.maxDelayMs, Math.max(backoff, retryAfterMs ?? 0));
}
