/**
 * The Node request listener for the MCP endpoint. The checks run in one explicit order:
 * path → shutting down → Host syntax/Host/Origin → HTTP method → Content-Type → Accept → body size → JSON → era
 * classification (the official SDK's classifier, so both eras are told apart exactly as the SDK does) →
 * the era's own handling. The 2024-11-05 HTTP+SSE paths share the checks up to the body. Every refusal here
 * is traced (src/transport/refusals.ts): an audit line with a reason code and a `refused` request event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import { classifyInboundRequest, UnsupportedProtocolVersionError } from '@modelcontextprotocol/server';

import { MODERN_REVISION } from '../server/sdk-bridge.js';
import { isStateUnavailable } from '../state/state-unavailable.js';
import { ERRORS } from '../errors.js';
import { publishResponseBytes } from '../observability/channels.js';

import type { RuntimeContext } from '../server/runtime-context.js';
import { checkOrigin, type OriginGuardOptions } from '../security/origin-guard.js';
import type { Authenticator, AuthRefusal } from '../security/authenticator.js';
import { identityOf, setIdentity, type Identity } from '../security/request-principal.js';
import {
  accepts,
  echoableId,
  headerValue,
  mediaType,
  readBody,
  writeError,
  writeJson,
  writeRpcError,
} from './http-io.js';
import type { LegacyEndpoint } from './legacy-http.js';
import { plainModernRequest } from './fast-classify.js';
import { serveModern } from './modern-http.js';
import { refuseUpgrade, type WebSocketEndpoint } from './websocket.js';
import { refuseRequest, refuseUpgradeAttempt, traceRefusal, type Refusal, type RefusalSite } from './refusals.js';

export interface HandlerState {
  runtime: RuntimeContext;
  legacy: LegacyEndpoint | undefined;
  websocket: WebSocketEndpoint | undefined;
  guard: OriginGuardOptions;
  /** Authentication; undefined when the `auth` option is not set. */
  auth: Authenticator | undefined;
  closing: boolean;
}

/** What a request path reaches: the MCP endpoint, or the 2024-11-05 HTTP+SSE stream or messages URL. */
export type Route =
  | { kind: 'mcp' }
  | { kind: 'sse-events'; messagesPath: string }
  | { kind: 'sse-messages' }
  | { kind: 'resource-metadata' };

const WELL_KNOWN_RESOURCE = '/.well-known/oauth-protected-resource';

/** The route of a request target (query string ignored), or undefined when it is not remote-mcp's. */
export function routeOf(
  url: string | undefined,
  options: { path: string; legacy: boolean; legacySse: boolean; auth?: unknown },
): Route | undefined {
  const target = url ?? '/';
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (path === options.path) return { kind: 'mcp' };
  if (options.auth !== undefined && (path === WELL_KNOWN_RESOURCE || path === `${WELL_KNOWN_RESOURCE}${options.path}`))
    return { kind: 'resource-metadata' };
  if (!options.legacy || !options.legacySse) return undefined;
  if (path === `${options.path}/events`) return { kind: 'sse-events', messagesPath: `${options.path}/messages` };
  if (path === '/sse') return { kind: 'sse-events', messagesPath: '/messages' };
  if (path === `${options.path}/messages` || path === '/messages') return { kind: 'sse-messages' };
  return undefined;
}

/** Where a route's refusals are traced: the HTTP+SSE paths are 2024-11-05 (legacy) traffic. */
const HTTP_SITE: RefusalSite = { transport: 'http' };
const SSE_SITE: RefusalSite = { transport: 'sse', era: 'legacy' };

function methodNotAllowed(allow: string): Refusal {
  return { name: 'METHOD_NOT_ALLOWED', reason: 'method-not-allowed', headers: { allow } };
}

export async function handleRequest(
  state: HandlerState,
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
): Promise<void> {
  const { legacy, runtime } = state;
  if (state.closing) return writeError(res, 'SERVER_CLOSING', { headers: { connection: 'close', 'retry-after': '1' } });
  const site = route.kind === 'sse-events' || route.kind === 'sse-messages' ? SSE_SITE : HTTP_SITE;
  const refused = checkOrigin(req, state.guard);
  if (refused !== undefined) return refuseRequest(runtime, req, res, site, refused);
  if (route.kind === 'resource-metadata') return serveResourceMetadata(state, req, res);
  if (state.auth !== undefined) {
    const identity = await authenticate(state.auth, req);
    if (!('key' in identity)) {
      auditRefusal(state, req, identity, route.kind === 'mcp' ? 'http' : 'sse');
      return writeAuthRefusal(res, identity);
    }
    setIdentity(req, identity);
  }

  if (route.kind !== 'mcp' && legacy !== undefined) {
    if (route.kind === 'sse-events') {
      if (req.method !== 'GET') return refuseRequest(runtime, req, res, site, methodNotAllowed('GET'));
      return legacy.openSseSession(req, res, route.messagesPath);
    }
    if (req.method !== 'POST') return refuseRequest(runtime, req, res, site, methodNotAllowed('POST'));
    if (mediaType(headerValue(req, 'content-type')) !== 'application/json')
      return refuseRequest(runtime, req, res, site, {
        name: 'UNSUPPORTED_MEDIA_TYPE',
        reason: 'unsupported-media-type',
      });
    const body = await readJsonBody(state, req, res, site);
    if (body !== NO_BODY) return legacy.postToSseSession(req, res, body);
    return;
  }

  switch (req.method) {
    case 'POST':
      return handlePost(state, req, res);
    case 'GET':
      if (legacy === undefined) return refuseRequest(runtime, req, res, site, methodNotAllowed('POST'));
      return legacy.get(req, res);
    case 'DELETE':
      if (legacy === undefined) return refuseRequest(runtime, req, res, site, methodNotAllowed('POST'));
      return legacy.delete(req, res);
    default:
      return refuseRequest(
        runtime,
        req,
        res,
        site,
        methodNotAllowed(legacy === undefined ? 'POST' : 'GET, POST, DELETE'),
      );
  }
}

/** The request's identity, or the refusal to answer (401/400/403/503). */
async function authenticate(auth: Authenticator, req: IncomingMessage): Promise<Identity | AuthRefusal> {
  const outcome = await auth.authenticate(req);
  if (outcome.refusal !== undefined) return outcome.refusal;
  return auth.checkRequiredScopes(req, outcome.principal) ?? identityOf(outcome.principal);
}

/** An attempt refused before it became a JSON-RPC request still leaves an audit line. */
function auditRefusal(
  state: HandlerState,
  req: IncomingMessage,
  refusal: AuthRefusal,
  transport: 'http' | 'sse' | 'websocket',
): void {
  state.runtime.gate.recordRefusedAttempt(
    {
      clientIp: state.runtime.clientIp(req),
      transport,
      // The era of an HTTP+SSE attempt is known from its path; others were refused before their body was read.
      ...(transport === 'sse' && { era: 'legacy' as const }),
      outcome: refusal.name === 'AUTH_INSUFFICIENT_SCOPE' ? 'denied' : 'unauthenticated',
      reason: refusal.reason,
      status: ERRORS[refusal.name].status,
    },
    req,
  );
}

export function writeAuthRefusal(res: ServerResponse, refusal: AuthRefusal): void {
  writeError(res, refusal.name, {
    ...(refusal.message !== undefined && { message: refusal.message }),
    headers: refusal.headers,
  });
}

/** RFC 9728 metadata: unauthenticated by design (it is how a client learns to authenticate). */
function serveResourceMetadata(state: HandlerState, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return refuseRequest(state.runtime, req, res, HTTP_SITE, methodNotAllowed('GET'));
  const document = state.auth!.resourceMetadata(req);
  if (document === undefined)
    return writeError(res, 'NOT_FOUND', {
      message: 'Not Found: no authorization server is configured (auth.resourceMetadata.authorizationServers)',
    });
  writeJson(res, 200, document, { 'cache-control': 'max-age=3600' });
}

const NO_BODY = Symbol('no body');

/** Size and JSON checks of a POST body (its Content-Type checked by the caller); NO_BODY once an error has been answered. */
async function readJsonBody(
  state: HandlerState,
  req: IncomingMessage,
  res: ServerResponse,
  site: RefusalSite,
): Promise<unknown> {
  const { maxBodyBytes } = state.runtime.options;
  const read = await readBody(req, maxBodyBytes);
  if (read.kind === 'aborted') return NO_BODY;
  if (read.kind === 'too-large') {
    refuseRequest(state.runtime, req, res, site, {
      name: 'BODY_TOO_LARGE',
      reason: 'body-too-large',
      message: `Payload Too Large: the body exceeds maxBodyBytes (${maxBodyBytes} bytes)`,
      headers: { connection: 'close' },
    });
    return NO_BODY;
  }
  publishResponseBytes(res, 'in', read.bytes);
  try {
    return JSON.parse(read.text);
  } catch {
    refuseRequest(state.runtime, req, res, site, { name: 'PARSE_ERROR', reason: 'parse-error' });
    return NO_BODY;
  }
}

async function handlePost(state: HandlerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { runtime, legacy } = state;
  if (mediaType(headerValue(req, 'content-type')) !== 'application/json')
    return refuseRequest(runtime, req, res, HTTP_SITE, {
      name: 'UNSUPPORTED_MEDIA_TYPE',
      reason: 'unsupported-media-type',
    });
  const accept = headerValue(req, 'accept');
  if (!accepts(accept, 'application/json') || !accepts(accept, 'text/event-stream'))
    return refuseRequest(runtime, req, res, HTTP_SITE, { name: 'NOT_ACCEPTABLE_POST', reason: 'not-acceptable' });
  const body = await readJsonBody(state, req, res, HTTP_SITE);
  if (body === NO_BODY) return;

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
      traceRefusal(runtime, req, HTTP_SITE, 'invalid-message', outcome.httpStatus);
      return writeRpcError(res, outcome.httpStatus, outcome.code, outcome.message, echoableId(body), outcome.data);
    case 'modern': {
      // The classifier routes every envelope claim here, whatever revision it names; only 2026-07-28 is served.
      const requested = outcome.classification.revision;
      if (requested !== MODERN_REVISION) {
        const error = new UnsupportedProtocolVersionError({
          supported: [MODERN_REVISION],
          requested: requested ?? 'unknown',
        });
        traceRefusal(runtime, req, { transport: 'http', era: 'modern' }, 'unsupported-protocol-version', 400);
        return writeRpcError(res, 400, error.code, error.message, echoableId(body), error.data);
      }
      return serveModern(runtime, req, res, outcome.message, outcome.messageKind);
    }
    case 'legacy':
      if (legacy === undefined)
        return refuseRequest(
          runtime,
          req,
          res,
          { transport: 'http', era: 'legacy' },
          {
            name: 'LEGACY_DISABLED',
            reason: 'legacy-disabled',
            id: echoableId(body),
            data: { supported: ['2026-07-28'], requested: outcome.requestedVersion ?? null },
          },
        );
      // Redis away while the session or its events are looked up: the 503 names the request it refuses.
      return legacy.post(req, res, body).catch((error: unknown) => {
        if (!isStateUnavailable(error) || res.headersSent) throw error;
        writeError(res, 'STATE_UNAVAILABLE', { id: echoableId(body) });
      });
  }
}

/** An HTTP upgrade to WebSocket on the endpoint path: the same shutdown and Host/Origin checks as requests. */
export function handleUpgrade(state: HandlerState, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const { runtime } = state;
  if (state.websocket === undefined)
    return refuseUpgradeAttempt(runtime, req, socket, {
      name: 'NOT_FOUND',
      reason: 'websocket-disabled',
      message: 'Not Found: WebSocket is not enabled on this server',
    });
  if (state.closing) return refuseUpgrade(socket, 'SERVER_CLOSING', undefined, {}, runtime.securityHeaders);
  const refused = checkOrigin(req, state.guard);
  if (refused !== undefined) return refuseUpgradeAttempt(runtime, req, socket, refused);
  const websocket = state.websocket;
  if (state.auth === undefined) return websocket.upgrade(req, socket, head, undefined);
  // The connection is authenticated once, at the upgrade: every message on it is that principal's.
  authenticate(state.auth, req).then(
    (identity) => {
      if ('key' in identity) {
        setIdentity(req, identity); // an upgrade refused after this (the connection limit) names who tried
        websocket.upgrade(req, socket, head, identity);
      } else {
        auditRefusal(state, req, identity, 'websocket');
        refuseUpgrade(socket, identity.name, identity.message, identity.headers, runtime.securityHeaders);
      }
    },
    (error: unknown) => {
      runtime.options.onError(error as Error);
      refuseUpgrade(socket, 'INTERNAL', undefined, {}, runtime.securityHeaders);
    },
  );
}
