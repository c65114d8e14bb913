/**
 * The JSON-RPC shapes the bridge tells apart, and the errors it answers with itself. It forwards messages as they
 * are; it only needs to know which are requests (to answer them if the remote cannot), which are responses (to
 * match them to requests) and which are notifications.
 */
import { type JSONRPCMessage, PROTOCOL_VERSION_META_KEY, type RequestId } from '@modelcontextprotocol/client';

/** JSON-RPC codes the bridge answers with. */
export const BRIDGE_ERRORS = Object.freeze({
  /** A line on stdin that is not JSON. */
  parseError: -32700,
  /** JSON that is not a JSON-RPC 2.0 message (or a batch, which stdio MCP does not use). */
  invalidRequest: -32600,
  /** The remote server could not be reached, or the connection broke before the answer came. */
  internalError: -32603,
});

export type Classified =
  | { kind: 'request'; id: RequestId; method: string; message: JSONRPCMessage }
  | { kind: 'notification'; method: string; message: JSONRPCMessage }
  | { kind: 'response'; id: RequestId; message: JSONRPCMessage }
  | { kind: 'invalid'; id: RequestId | null; reason: string };

const isId = (value: unknown): value is RequestId =>
  typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** What a parsed stdin line is. */
export function classify(value: unknown): Classified {
  if (Array.isArray(value))
    return { kind: 'invalid', id: null, reason: 'JSON-RPC batches are not supported over stdio' };
  if (value === null || typeof value !== 'object')
    return { kind: 'invalid', id: null, reason: 'not a JSON-RPC message' };
  const record = value as Record<string, unknown>;
  const id = isId(record.id) ? record.id : null;
  if (record.jsonrpc !== '2.0') return { kind: 'invalid', id, reason: 'jsonrpc must be "2.0"' };
  const message = value as JSONRPCMessage;
  if (typeof record.method === 'string') {
    if (id !== null) return { kind: 'request', id, method: record.method, message };
    if (record.id === undefined) return { kind: 'notification', method: record.method, message };
    return { kind: 'invalid', id: null, reason: 'id must be a string or a number' };
  }
  if (id !== null && ('result' in record || 'error' in record)) return { kind: 'response', id, message };
  return { kind: 'invalid', id, reason: 'neither a request, a notification nor a response' };
}

/** A map key for a request id (1 and "1" are different ids). */
export const idKey = (id: RequestId): string => `${typeof id}:${String(id)}`;

/** The protocol version a request's 2026-07-28 `_meta` envelope claims, if it has one. */
export function envelopeVersion(message: JSONRPCMessage): string | undefined {
  const meta = (message as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  const version = meta?.[PROTOCOL_VERSION_META_KEY];
  return typeof version === 'string' ? version : undefined;
}

export function errorResponse(id: RequestId | null, code: number, message: string, data?: unknown): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    id,
    error: { code, message, ...(data !== undefined && { data }) },
  } as unknown as JSONRPCMessage;
}
