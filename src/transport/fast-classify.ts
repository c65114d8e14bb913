/**
 * A fast path past the SDK's classifier for the one shape that dominates 2026-07-28 traffic: a single request
 * whose headers and envelope plainly agree. The SDK's `classifyInboundRequest` validates the envelope with
 * schema parsers, and the server instance validates the same envelope again when the request is delivered;
 * on the hot path the first pass costs about a sixth of a tools/call. For a request that matches this shape the
 * instance's own check remains (an envelope it rejects is answered 400 / -32602 exactly as the classifier
 * would answer it); anything else — notifications, batches, other versions, mismatches — goes through the
 * classifier unchanged.
 */
import type { IncomingMessage } from 'node:http';

import type { JSONRPCMessage } from '@modelcontextprotocol/server';

import { MODERN_REVISION } from '../server/sdk-bridge.js';

const PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A message body that is plainly a 2026-07-28 request (no transport headers to agree with: WebSocket). */
export function plainModernMessage(body: unknown): JSONRPCMessage | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0') return undefined;
  const { id, method, params } = body;
  if (typeof method !== 'string' || (typeof id !== 'number' && typeof id !== 'string') || !isPlainObject(params))
    return undefined;
  const meta = params._meta;
  if (!isPlainObject(meta) || meta[PROTOCOL_VERSION] !== MODERN_REVISION || !isPlainObject(meta[CLIENT_CAPABILITIES]))
    return undefined;
  return body as unknown as JSONRPCMessage;
}

/** The body as a 2026-07-28 request when it and its HTTP headers plainly agree; undefined otherwise. */
export function plainModernRequest(req: IncomingMessage, body: unknown): JSONRPCMessage | undefined {
  const message = plainModernMessage(body);
  if (message === undefined) return undefined;
  if (
    req.headers['mcp-protocol-version'] !== MODERN_REVISION ||
    req.headers['mcp-method'] !== (message as { method: string }).method
  )
    return undefined;
  return message;
}
