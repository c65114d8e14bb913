/**
 * The error a request gets when the server (or a proxy in front of it) answers 429, 502, 503 or 504. It is the
 * SDK's SdkHttpError, so code that checks for that keeps working, with what the SDK's error leaves out: the
 * `Retry-After` the server asked for, and the JSON-RPC error in the body when there is one.
 */
import { SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';

/** The statuses that say "not now" rather than "not this": worth trying again, here or elsewhere. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Longest body kept on the error (it is for messages, not for parsing whole pages). */
const MAX_BODY_CHARS = 2048;

export class HttpStatusError extends SdkHttpError {
  override readonly name = 'HttpStatusError';
  /** Milliseconds the server asked to wait (`Retry-After`, seconds or an HTTP date), when it said. */
  readonly retryAfterMs: number | undefined;
  /** The JSON-RPC error of the body, when the server sent one (remote-mcp does: DRAINING, RATE_LIMITED, ...). */
  readonly rpcError: { code: number; message: string; data?: unknown } | undefined;

  constructor(status: number, statusText: string, body: string, retryAfterMs: number | undefined) {
    const rpcError = rpcErrorOf(body);
    const detail = rpcError?.message ?? (body.trim().slice(0, 200) || statusText);
    super(SdkErrorCode.ClientHttpNotImplemented, `HTTP ${status}: ${detail}`, {
      status,
      statusText,
      text: body.slice(0, MAX_BODY_CHARS),
    });
    this.retryAfterMs = retryAfterMs;
    this.rpcError = rpcError;
  }
}

function rpcErrorOf(body: string): HttpStatusError['rpcError'] {
  if (!body.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    const error = parsed.error;
    if (error === undefined || typeof error.code !== 'number' || typeof error.message !== 'string') return undefined;
    return { code: error.code, message: error.message, ...(error.data !== undefined && { data: error.data }) };
  } catch {
    return undefined;
  }
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
