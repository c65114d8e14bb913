/**
 * What a failed send (or an error the transport reports on its own) means for the bridge: whether the request
 * can have run, whether the connection is still usable, and the server's JSON-RPC error when an HTTP refusal
 * carried one. The SDK's transports report these differently (SdkHttpError for Streamable HTTP, a plain Error
 * naming the status for HTTP+SSE, Node's error codes in `cause` for the network).
 */
import { SdkHttpError, SseError } from '@modelcontextprotocol/client';

import { classifyFailure } from '../../client/index.js';

/** What a failed send or an asynchronous transport error means for the bridge. */
export interface SendFailure {
  status: number | undefined;
  /** The JSON-RPC error the server put in an HTTP error body. */
  rpc: { code: number; message: string; data?: unknown } | undefined;
  /** The server no longer knows the session (404): the request never ran. */
  sessionGone: boolean;
  /** No server took the connection: the request never ran. */
  refused: boolean;
  /** The connection (or session) is unusable: open a new one. */
  linkBroken: boolean;
}

/** Statuses with which a 2024-11-05 (HTTP+SSE only) server refuses a Streamable HTTP initialize. */
export const NOT_STREAMABLE = new Set([400, 404, 405]);

function rpcErrorOf(text: unknown): SendFailure['rpc'] {
  if (typeof text !== 'string' || !text.trimStart().startsWith('{')) return undefined;
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; data?: unknown } }).error;
    if (typeof error?.code !== 'number' || typeof error.message !== 'string') return undefined;
    return { code: error.code, message: error.message, ...(error.data !== undefined && { data: error.data }) };
  } catch {
    return undefined;
  }
}

/** The HTTP status and JSON-RPC body of a failure, whichever SDK transport raised it. */
export function statusOf(error: unknown): { status: number | undefined; text: unknown } {
  if (error instanceof SdkHttpError) {
    const data = error.data as { text?: unknown } | undefined;
    return { status: error.status, text: data?.text };
  }
  // The SDK's HTTP+SSE transport throws a plain Error for a refused POST.
  const match = error instanceof Error ? /\(HTTP (\d{3})\): ([\s\S]*)$/.exec(error.message) : null;
  if (match !== null) return { status: Number(match[1]), text: match[2] };
  return { status: undefined, text: undefined };
}

/** How a send failed: `inSession` once the stdio client's initialize was answered; `linkLost` if already given up. */
export function sendFailure(
  error: unknown,
  context: { method: string; inSession: boolean; linkLost: boolean },
): SendFailure {
  const { status, text } = statusOf(error);
  const rpc = rpcErrorOf(text) ?? (error as { rpcError?: SendFailure['rpc'] }).rpcError;
  const failure = classifyFailure(error);
  // Within a 2025-era session, a 404 on anything but initialize is a session the server no longer knows.
  const sessionGone = status === 404 && context.method !== 'initialize' && context.inSession;
  const refused = failure.kind === 'refused';
  const broken = failure.kind === 'connection' || error instanceof SseError || context.linkLost;
  return { status, rpc, sessionGone, refused, linkBroken: sessionGone || refused || broken };
}
