/**
 * POST handling for 2026-07-28 requests: stateless, one request per POST, all served by the one shared server
 * instance. The response is a single JSON body, or an SSE stream when the handler sends progress or log
 * notifications before its result (`responseMode: 'auto'`). Closing the response is cancellation: the
 * handler's abort signal fires and nothing more is written.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/server';

import { ERRORS, JsonRpcCode } from '../errors.js';
import type { Exchange, ResponseMessage } from '../server/exchange-router.js';
import { requestIdentity, type Identity } from '../security/request-principal.js';
import {
  isRefusal,
  type GateMessage,
  type GateRefusal,
  type MessageAdmission,
  type Ticket,
} from '../security/request-gate.js';
import type { RuntimeContext } from '../server/runtime-context.js';
import { requestStateBinding } from '../server/request-state.js';
import { MODERN_EXTRA, toolInputSchema } from '../server/sdk-bridge.js';
import { serveListen } from './listen-stream.js';
import { writeError, writeJson } from './http-io.js';
import type { ParamHeaderDeclaration } from '../server/runtime-context.js';
import { checkParamHeaders, checkStandardHeaders, paramHeaderDeclarations } from './mcp-headers.js';
import { SseStream } from './sse-stream.js';

/** HTTP status of errors the protocol layer raises before any handler runs (the spec's status table). */
const GATE_STATUS: Record<number, number> = {
  [JsonRpcCode.ParseError]: 400,
  [JsonRpcCode.InvalidRequest]: 400,
  [JsonRpcCode.MethodNotFound]: 404,
  [JsonRpcCode.InvalidParams]: 400,
  [JsonRpcCode.HeaderMismatch]: 400,
  [JsonRpcCode.MissingRequiredClientCapability]: 400,
  [JsonRpcCode.UnsupportedProtocolVersion]: 400,
};

export interface ModernRequest {
  jsonrpc: '2.0';
  id: string | number;
  method: string;
  params?: Record<string, unknown>;
}

class ModernExchange implements Exchange {
  private sse: SseStream | undefined;
  private done = false;
  internalId = 0;

  constructor(
    private readonly runtime: RuntimeContext,
    private readonly res: ServerResponse,
    private readonly request: ModernRequest,
    readonly finished: () => void,
    private readonly principalKey: string | undefined,
  ) {}

  related(message: JSONRPCMessage): void {
    if (this.done || this.runtime.options.responseMode === 'json') return;
    this.openStream().send(message);
  }

  respond(message: ResponseMessage, gate: boolean): void {
    if (this.done) return;
    this.done = true;
    this.finished();
    message = sealRequestState(this.runtime, this.request, message, this.principalKey);
    if (this.sse !== undefined) {
      this.sse.send(message);
      this.sse.end();
      return;
    }
    const code = message.error?.code;
    // Errors from the gates that run before a handler map to the spec's statuses; a handler's own errors stay
    // in-band on 200, except -32021, whose 400 the spec ties to the error itself.
    const status =
      code === undefined
        ? 200
        : gate
          ? (GATE_STATUS[code] ?? 200)
          : code === JsonRpcCode.MissingRequiredClientCapability
            ? 400
            : 200;
    writeJson(this.res, status, message);
  }

  /** The client went away before the answer: stop the handler. */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.finished();
    this.runtime.modern.router.cancel(
      this.internalId,
      'The client closed the response stream',
      MODERN_EXTRA,
      cancelMeta,
    );
  }

  openStream(): SseStream {
    this.sse ??= new SseStream(this.res, {
      keepAliveMs: this.runtime.options.keepAliveMs,
      maxBufferedBytes: this.runtime.options.maxStreamBufferBytes,
    });
    return this.sse;
  }

  get answered(): boolean {
    return this.done;
  }
}

/** The envelope the cancellation notification needs to pass the instance's era checks. */
const cancelMeta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Serves one classified 2026-07-28 message. */
export function serveModern(
  runtime: RuntimeContext,
  req: IncomingMessage,
  res: ServerResponse,
  message: JSONRPCMessage,
  kind: 'request' | 'notification',
): void {
  if (kind === 'notification') {
    // Charged and checked like a request; a refusal gets the HTTP status a request would get, with id null.
    const admitted = runtime.gate.admitMessage(
      { identity: requestIdentity(req), clientIp: runtime.clientIp(req), transport: 'http', era: 'modern', req },
      message as GateMessage,
    );
    if (admitted instanceof Promise)
      admitted.then(
        (outcome) => serveNotification(runtime, res, message, outcome),
        (error: unknown) => {
          runtime.options.onError(error as Error);
          writeError(res, 'INTERNAL');
        },
      );
    else serveNotification(runtime, res, message, admitted);
    return;
  }
  const request = message as unknown as ModernRequest;
  const params = request.params;
  const headerProblem = checkStandardHeaders(req, request.method, params);
  if (headerProblem !== undefined) {
    writeError(res, headerProblem.name, { id: request.id, message: headerProblem.message, data: headerProblem.data });
    return;
  }
  const identity = requestIdentity(req);
  const admitted = runtime.gate.admit(
    { identity, clientIp: runtime.clientIp(req), transport: 'http', era: 'modern', req },
    request,
  );
  if (admitted instanceof Promise) {
    admitted.then(
      (outcome) => serveAdmitted(runtime, req, res, request, identity, outcome),
      (error: unknown) => {
        runtime.options.onError(error as Error);
        writeError(res, 'INTERNAL', { id: request.id });
      },
    );
  } else {
    serveAdmitted(runtime, req, res, request, identity, admitted);
  }
}

function serveNotification(
  runtime: RuntimeContext,
  res: ServerResponse,
  message: JSONRPCMessage,
  admitted: MessageAdmission | GateRefusal,
): void {
  if (isRefusal(admitted)) {
    writeError(res, admitted.name, {
      id: null,
      ...(admitted.message !== undefined && { message: admitted.message }),
      data: admitted.data,
      ...(admitted.headers !== undefined && { headers: admitted.headers }),
    });
    return;
  }
  // notifications/cancelled names the client's request id, which means nothing on a shared instance;
  // 2026-07-28 cancels by closing the response stream instead.
  if ((message as { method: string }).method !== 'notifications/cancelled')
    runtime.modern.router.forward(message, MODERN_EXTRA);
  res.writeHead(202, admitted.headers).end();
}

function serveAdmitted(
  runtime: RuntimeContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: ModernRequest,
  identity: Identity | undefined,
  admitted: Ticket | GateRefusal,
): void {
  if (isRefusal(admitted)) {
    writeError(res, admitted.name, {
      id: request.id,
      ...(admitted.message !== undefined && { message: admitted.message }),
      data: admitted.data,
      ...(admitted.headers !== undefined && { headers: admitted.headers }),
    });
    return;
  }
  const ticket = admitted;
  if (ticket.headers !== undefined)
    for (const [name, value] of Object.entries(ticket.headers)) res.setHeader(name, value);
  const params = request.params;
  if (request.method === 'subscriptions/listen') {
    ticket.finish({ jsonrpc: '2.0', id: request.id, result: {} });
    serveListen(runtime, res, request, identity, ticket.context.clientIp);
    return;
  }
  if (request.method === 'tools/call' && typeof params?.name === 'string') {
    const declarations = paramDeclarations(runtime, params.name);
    if (declarations.length > 0) {
      const problem = checkParamHeaders(req, declarations, params.arguments);
      if (problem !== undefined) {
        ticket.finish({
          jsonrpc: '2.0',
          id: request.id,
          error: { code: ERRORS[problem.name].rpcCode, message: problem.message ?? ERRORS[problem.name].message },
        });
        writeError(res, problem.name, { id: request.id, message: problem.message, data: problem.data });
        return;
      }
    }
  }
  const outbound = openRequestState(runtime, request, identity?.key);
  if (outbound === undefined) {
    ticket.finish({
      jsonrpc: '2.0',
      id: request.id,
      error: { code: ERRORS.INVALID_REQUEST_STATE.rpcCode, message: ERRORS.INVALID_REQUEST_STATE.message },
    });
    writeError(res, 'INVALID_REQUEST_STATE', { id: request.id });
    return;
  }
  dispatch(
    runtime,
    res,
    outbound,
    identity === undefined ? MODERN_EXTRA : { ...MODERN_EXTRA, authInfo: identity.authInfo },
    ticket,
  );
}

/** The request with its sealed requestState opened; undefined when the state is not valid. */
export function openRequestState(
  runtime: RuntimeContext,
  request: ModernRequest,
  principalKey: string | undefined,
): ModernRequest | undefined {
  const params = request.params;
  if (params === undefined || params.requestState === undefined) return request;
  const opened =
    typeof params.requestState === 'string'
      ? runtime.sealer.open(params.requestState, requestStateBinding(request.method, params, principalKey))
      : undefined;
  return opened === undefined ? undefined : { ...request, params: { ...params, requestState: opened } };
}

/** The answer with the requestState of an input_required result sealed. */
export function sealRequestState(
  runtime: RuntimeContext,
  request: ModernRequest,
  message: ResponseMessage,
  principalKey: string | undefined,
): ResponseMessage {
  const result = message.result as { resultType?: unknown; requestState?: unknown } | undefined;
  if (result?.resultType !== 'input_required' || typeof result.requestState !== 'string') return message;
  const sealed = runtime.sealer.seal(
    result.requestState,
    requestStateBinding(request.method, request.params, principalKey),
  );
  return { ...message, result: { ...result, requestState: sealed } };
}

function dispatch(
  runtime: RuntimeContext,
  res: ServerResponse,
  request: ModernRequest,
  extra: MessageExtraInfo,
  ticket: Ticket,
): void {
  const drain = runtime.drain;
  drain.begin();
  const exchange = new ModernExchange(
    runtime,
    res,
    request,
    () => {
      drain.end();
      ticket.finish();
    },
    ticket.context.identity?.key,
  );
  res.on('close', () => exchange.abandon());
  try {
    const wrapped = ticket.wrap(exchange);
    exchange.internalId = ticket.run(() => runtime.modern.router.request(request, wrapped, extra));
  } catch (error) {
    runtime.options.onError(error as Error);
    if (!exchange.answered)
      exchange.respond(
        { jsonrpc: '2.0', id: request.id, error: { code: ERRORS.INTERNAL.rpcCode, message: ERRORS.INTERNAL.message } },
        false,
      );
    return;
  }
  if (!exchange.answered && runtime.options.responseMode === 'sse') exchange.openStream();
}

/** x-mcp-header declarations of a tool, computed once per tool name (tool lists do not vary per request). */
function paramDeclarations(runtime: RuntimeContext, toolName: string): ParamHeaderDeclaration[] {
  const cache = runtime.paramHeaderCache;
  let declarations = cache.get(toolName);
  if (declarations === undefined) {
    const schema = toolInputSchema(runtime.modern.product, toolName);
    declarations = schema === undefined ? [] : paramHeaderDeclarations(schema);
    if (cache.size < 10_000) cache.set(toolName, declarations);
  }
  return declarations;
}
