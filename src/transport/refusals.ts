/**
 * Refusals a transport answers before a message becomes a JSON-RPC request the gate admits (Host, framing,
 * sessions, upgrades). Each one is answered with its registered error and leaves a trace: one audit line with a
 * reason code (outcome `refused`, src/observability/refusal-reasons.ts) and a request event the metrics count
 * as `status="refused"`, both through the gate's recordRefusedAttempt, like authentication refusals.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import { ERRORS, type ErrorName } from '../errors.js';
import type { RefusalReason } from '../observability/refusal-reasons.js';
import type { RuntimeContext } from '../server/runtime-context.js';
import { socketAddress } from '../security/client-ip.js';
import { requestIdentity } from '../security/request-principal.js';
import { rawErrorResponse, writeError, type JsonRpcId } from './http-io.js';

export interface Refusal {
  name: ErrorName;
  reason: RefusalReason;
  message?: string;
  headers?: Record<string, string | string[]>;
  id?: JsonRpcId;
  data?: unknown;
}

export interface RefusalSite {
  transport: 'http' | 'sse' | 'websocket';
  /** Known from the path (HTTP+SSE) or the session; otherwise the attempt was refused before its era was. */
  era?: 'modern' | 'legacy';
}

/** Writes the audit line and publishes the request event of a refused attempt. */
export function traceRefusal(
  runtime: RuntimeContext,
  req: IncomingMessage,
  site: RefusalSite,
  reason: RefusalReason,
  status: number,
): void {
  // Who tried, when the request was authenticated already (another principal's session id, say).
  const identity = requestIdentity(req);
  runtime.gate.recordRefusedAttempt(
    {
      ...(identity !== undefined && { principal: identity.key, subject: identity.principal.subject }),
      clientIp: runtime.clientIp(req),
      transport: site.transport,
      ...(site.era !== undefined && { era: site.era }),
      outcome: 'refused',
      reason,
      status,
    },
    req,
  );
}

/** Answers an HTTP request with a refusal and traces it. */
export function refuseRequest(
  runtime: RuntimeContext,
  req: IncomingMessage,
  res: ServerResponse,
  site: RefusalSite,
  refusal: Refusal,
): void {
  traceRefusal(runtime, req, site, refusal.reason, ERRORS[refusal.name].status);
  writeError(res, refusal.name, {
    ...(refusal.id !== undefined && { id: refusal.id }),
    ...(refusal.message !== undefined && { message: refusal.message }),
    ...(refusal.data !== undefined && { data: refusal.data }),
    ...(refusal.headers !== undefined && { headers: refusal.headers }),
  });
}

/** Answers a WebSocket upgrade with a refusal on its socket (security headers, JSON-RPC body) and traces it. */
export function refuseUpgradeAttempt(
  runtime: RuntimeContext,
  req: IncomingMessage,
  socket: Duplex,
  refusal: Refusal,
): void {
  traceRefusal(runtime, req, { transport: 'websocket' }, refusal.reason, ERRORS[refusal.name].status);
  socket.end(
    rawErrorResponse(refusal.name, {
      ...(refusal.message !== undefined && { message: refusal.message }),
      ...(refusal.headers !== undefined && { headers: refusal.headers }),
      securityHeaders: runtime.securityHeaders,
    }),
  );
}

/** What Node's HTTP parser and timeouts refuse, by error code; any other parse error is a 400. */
const NODE_REFUSALS: Record<string, Refusal> = {
  HPE_HEADER_OVERFLOW: { name: 'HEADERS_TOO_LARGE', reason: 'headers-too-large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    name: 'BODY_TOO_LARGE',
    reason: 'body-too-large',
    message: 'Payload Too Large: the chunk extensions are too long',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { name: 'REQUEST_TIMEOUT', reason: 'request-timeout' },
};
const MALFORMED: Refusal = { name: 'BAD_REQUEST', reason: 'bad-request' };

/**
 * The http.Server 'clientError' listener: a request Node's parser refused (malformed, headers over
 * maxHeaderSize) or that missed headersTimeout/requestTimeout. With a listener Node writes nothing itself, so
 * the answer is the same as every other refusal's (security headers, a JSON-RPC body), and it is traced.
 * `runtime` is undefined where nothing is traced (the separate metrics port).
 */
export function refuseClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex & { remoteAddress?: string },
  securityHeaders: ReadonlyArray<readonly [string, string]>,
  runtime: RuntimeContext | undefined,
): void {
  // Node's own rule: answer only when no response of this connection has started (the in-flight response is
  // Node's internal `_httpMessage`); a reset connection or one already closed gets nothing.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const refusal = (error.code !== undefined ? NODE_REFUSALS[error.code] : undefined) ?? MALFORMED;
  const clientIp = socketAddress(socket); // read now: a destroyed socket has no address
  socket.write(
    rawErrorResponse(refusal.name, {
      ...(refusal.message !== undefined && { message: refusal.message }),
      securityHeaders,
    }),
  );
  // As Node does: the parser cannot go on after an error, so the connection ends with this answer.
  socket.destroy();
  runtime?.gate.recordRefusedAttempt({
    clientIp,
    transport: 'http',
    outcome: 'refused',
    reason: refusal.reason,
    status: ERRORS[refusal.name].status,
  });
}
