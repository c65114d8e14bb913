/**
 * The Node request listener for the MCP endpoint. The checks run in one explicit order:
 * path → shutting down → Host/Origin → HTTP method → Content-Type → Accept → body size → JSON → era
 * classification (the official SDK's classifier, so both eras are told apart exactly as the SDK does) →
 * the era's own handling.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { classifyInboundRequest, UnsupportedProtocolVersionError } from '@modelcontextprotocol/server';

import { MODERN_REVISION } from '../server/sdk-bridge.js';

import type { RuntimeContext } from '../server/runtime-context.js';
import { checkOrigin, type OriginGuardOptions } from '../security/origin-guard.js';
import { accepts, echoableId, headerValue, mediaType, readBody, writeError, writeRpcError } from './http-io.js';
import type { LegacyEndpoint } from './legacy-http.js';
import { plainModernRequest } from './fast-classify.js';
import { serveModern } from './modern-http.js';

export interface HandlerState {
  runtime: RuntimeContext;
  legacy: LegacyEndpoint | undefined;
  guard: OriginGuardOptions;
  closing: boolean;
}

/** Path of a request target without its query string. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export async function handleRequest(state: HandlerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { legacy } = state;
  if (state.closing) return writeError(res, 'SERVER_CLOSING', { headers: { connection: 'close' } });
  const refused = checkOrigin(req, state.guard);
  if (refused !== undefined) return writeError(res, refused);

  switch (req.method) {
    case 'POST':
      return handlePost(state, req, res);
    case 'GET':
      if (legacy === undefined) return writeError(res, 'METHOD_NOT_ALLOWED', { headers: { allow: 'POST' } });
      return legacy.get(req, res);
    case 'DELETE':
      if (legacy === undefined) return writeError(res, 'METHOD_NOT_ALLOWED', { headers: { allow: 'POST' } });
      return legacy.delete(req, res);
    default:
      return writeError(res, 'METHOD_NOT_ALLOWED', { headers: { allow: legacy === undefined ? 'POST' : 'GET, POST, DELETE' } });
  }
}

async function handlePost(state: HandlerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { runtime, legacy } = state;
  if (mediaType(headerValue(req, 'content-type')) !== 'application/json') return writeError(res, 'UNSUPPORTED_MEDIA_TYPE');
  const accept = headerValue(req, 'accept');
  if (!accepts(accept, 'application/json') || !accepts(accept, 'text/event-stream')) return writeError(res, 'NOT_ACCEPTABLE_POST');

  const read = await readBody(req, runtime.options.maxBodyBytes);
  if (read.kind === 'aborted') return;
  if (read.kind === 'too-large') {
    return writeError(res, 'BODY_TOO_LARGE', { message: `Payload Too Large: the body exceeds maxBodyBytes (${runtime.options.maxBodyBytes} bytes)`, headers: { connection: 'close' } });
  }
  let body: unknown;
  try {
    body = JSON.parse(read.text);
  } catch {
    return writeError(res, 'PARSE_ERROR');
  }

  const plain = plainModernRequest(req, body);
  if (plain !== undefined) return serveModern(runtime, req, res, plain, 'request');

  const outcome = classifyInboundRequest({
    httpMethod: 'POST',
    protocolVersionHeader: headerValue(req, 'mcp-protocol-version'),
    mcpMethodHeader: headerValue(req, 'mcp-method'),
    mcpNameHeader: headerValue(req, 'mcp-name'),
    body,
  });
  switch (outcome.kind) {
    case 'reject':
      return writeRpcError(res, outcome.httpStatus, outcome.code, outcome.message, echoableId(body), outcome.data);
    case 'modern': {
      // The classifier routes every envelope claim here, whatever revision it names; only 2026-07-28 is served.
      const requested = outcome.classification.revision;
      if (requested !== MODERN_REVISION) {
        const error = new UnsupportedProtocolVersionError({ supported: [MODERN_REVISION], requested: requested ?? 'unknown' });
        return writeRpcError(res, 400, error.code, error.message, echoableId(body), error.data);
      }
      return serveModern(runtime, req, res, outcome.message, outcome.messageKind);
    }
    case 'legacy':
      if (legacy === undefined) return writeError(res, 'LEGACY_DISABLED', { id: echoableId(body), data: { supported: ['2026-07-28'], requested: outcome.requestedVersion ?? null } });
      return legacy.post(req, res, body);
  }
}
