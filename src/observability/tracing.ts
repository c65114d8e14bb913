/**
 * Tracing through @opentelemetry/api: a SERVER span per JSON-RPC request, named `<method> <tool, prompt or
 * resource>` (so every tool call is its own span, `tools/call <tool>`), continuing the caller's W3C trace.
 * The API is a no-op until the application registers an OpenTelemetry SDK, so this costs a few hundred
 * nanoseconds a request when nobody collects spans.
 *
 * The parent comes from the request's `_meta.traceparent`/`tracestate` (the spec's keys, which work on every
 * transport) or else the HTTP `traceparent`/`tracestate` headers. remote-mcp parses them itself rather than
 * through the globally registered propagator: the trace id must reach the audit log even when no SDK is there.
 */
import {
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

import { VERSION } from '../version.js';

const tracer = trace.getTracer('remote-mcp', VERSION);

/** version-traceid-spanid-flags, lowercase hex; all-zero ids are invalid (W3C Trace Context §3.2). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const MAX_TRACESTATE_LENGTH = 512;

/** The remote parent a traceparent (and tracestate) describe, or undefined when absent or malformed. */
export function parseTraceparent(traceparent: unknown, tracestate?: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string' || traceparent.length > 512) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  // Version ff is forbidden; version 00 has no trailing fields.
  if (version === 'ff' || (version === '00' && traceparent.trim().length !== 55)) return undefined;
  const parent: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 1, isRemote: true };
  if (!isSpanContextValid(parent)) return undefined;
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH)
    parent.traceState = createTraceState(tracestate);
  return parent;
}

function header(req: IncomingMessage | undefined, name: string): string | undefined {
  const value = req?.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller's trace context: `_meta` first (it travels with the message), then the HTTP headers. */
export function remoteParent(meta: unknown, req: IncomingMessage | undefined): SpanContext | undefined {
  const fields = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>) : undefined;
  if (fields?.traceparent !== undefined) {
    const parent = parseTraceparent(fields.traceparent, fields.tracestate);
    if (parent !== undefined) return parent;
  }
  const traceparent = header(req, 'traceparent');
  return traceparent === undefined ? undefined : parseTraceparent(traceparent, header(req, 'tracestate'));
}

export interface RequestSpan {
  span: Span;
  context: Context;
  /** The trace id when there is a trace (a parent or a recording SDK); undefined otherwise. */
  traceId: string | undefined;
}

export interface SpanDescription {
  method: string;
  target: string | undefined;
  rpcId: string | number | null;
  transport: 'http' | 'sse' | 'websocket';
  era: 'modern' | 'legacy';
  meta: unknown;
  req: IncomingMessage | undefined;
}

/** Starts the span of one request, child of the caller's trace when it sent one. */
export function startRequestSpan(description: SpanDescription): RequestSpan {
  const parent = remoteParent(description.meta, description.req);
  const parentContext = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
  const span = tracer.startSpan(
    description.target === undefined ? description.method : `${description.method} ${description.target}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'mcp.method.name': description.method,
        ...(description.rpcId !== null && { 'jsonrpc.request.id': String(description.rpcId) }),
        ...(description.method === 'tools/call' &&
          description.target !== undefined && {
            'gen_ai.tool.name': description.target,
            'gen_ai.operation.name': 'execute_tool',
          }),
        'network.transport': 'tcp',
        'network.protocol.name': description.transport === 'websocket' ? 'websocket' : 'http',
        'mcp.era': description.era,
      },
    },
    parentContext,
  );
  const spanContext = span.spanContext();
  const traceId = isSpanContextValid(spanContext) ? spanContext.traceId : parent?.traceId;
  return { span, context: trace.setSpan(parentContext, span), traceId };
}

/** Ends a request's span: errors (JSON-RPC error or a tool's isError) set the error status. */
export function endRequestSpan(
  span: Span,
  outcome: { errorCode?: number; toolError?: boolean; cancelled?: boolean },
): void {
  if (outcome.errorCode !== undefined) {
    span.setAttribute('rpc.jsonrpc.error_code', outcome.errorCode);
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else if (outcome.toolError === true) {
    span.setAttribute('error.type', 'tool_error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  } else if (outcome.cancelled === true) {
    span.setAttribute('error.type', 'cancelled');
  }
  span.end();
}

/** Runs `fn` with the request's span active, so spans the handler starts are its children (with an SDK's context manager). */
export function withSpan<T>(active: Context, fn: () => T): T {
  return context.with(active, fn);
}
