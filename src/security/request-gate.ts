/**
 * The one place every JSON-RPC request passes before a server instance sees it, whatever its transport or era:
 * per-principal concurrency, rate limits, input limits (depth, string length, tool-name format), the
 * authorization policy, and tool arguments against the tool's input schema. It also filters list results by
 * the policy and writes the audit line when the request ends. Transports only frame what it decides.
 * Notifications and the client's answers to server requests pass it too (`admitMessage`): rate limits and input
 * limits, with no ticket since nothing of them stays in flight.
 *
 * Order: concurrency and rate limits first (abuse costs the abuser even when the request is bad), then the
 * checks on what the request says. A refusal names a registered error (src/errors.ts), so every transport
 * answers it the same way: an HTTP status and JSON-RPC error, or a JSON-RPC error on a stream or socket.
 */
import type { IncomingMessage } from 'node:http';

import type { RequestId } from '@modelcontextprotocol/server';

import { ERRORS, type ErrorName } from '../errors.js';
import type { Exchange, ResponseMessage } from '../server/exchange-router.js';
import type { AuditEntry, AuditLog } from '../observability/audit-log.js';
import { newRequestId } from '../observability/audit-log.js';
import {
  authFailureChannel,
  requestChannel,
  type AuthFailureEvent,
  type RequestEvent,
} from '../observability/channels.js';
import {
  endRequestSpan,
  remoteParent,
  startRequestSpan,
  withSpan,
  type RequestSpan,
} from '../observability/tracing.js';
import type { ArgumentValidator } from './argument-validator.js';
import { FILTERED_LISTS, subjectOf, type Authorizer } from './authorization.js';
import type { Authenticator } from './authenticator.js';
import { checkInputLimits, isValidToolName } from './input-limits.js';
import type { RateLimiter } from './rate-limit.js';
import type { Identity } from './request-principal.js';

export interface GateContext {
  identity: Identity | undefined;
  clientIp: string;
  transport: 'http' | 'sse' | 'websocket';
  era: 'modern' | 'legacy';
  /** The HTTP request that carried it, when there is one: challenges name the metadata URL it reached. */
  req?: IncomingMessage;
}

export interface GateRequest {
  id: RequestId;
  method: string;
  params?: Record<string, unknown> | undefined;
}

/**
 * A message that is not a request: a notification (`method`, no id) or the client's answer to a server-to-client
 * request (`id` with `result` or `error`). Nothing of it is in flight, so it gets no ticket.
 */
export interface GateMessage {
  id?: RequestId | null;
  method?: unknown;
  params?: Record<string, unknown> | undefined;
  result?: unknown;
  error?: unknown;
}

/** An admitted notification or answer; headers (RateLimit-*) go on its HTTP answer. */
export interface MessageAdmission {
  refused: false;
  headers?: Record<string, string>;
}

const ADMITTED: MessageAdmission = Object.freeze({ refused: false });

export interface GateRefusal {
  refused: true;
  name: ErrorName;
  message?: string;
  data?: unknown;
  headers?: Record<string, string | string[]>;
}

export interface GateOptions {
  maxJsonDepth: number;
  maxStringLength: number;
  maxConcurrentRequestsPerPrincipal: number;
  auth: Authenticator | undefined;
  authorizer: Authorizer | undefined;
  rateLimiter: RateLimiter | undefined;
  validator: ArgumentValidator | undefined;
  audit: AuditLog | undefined;
  /** A span per request through @opentelemetry/api. */
  tracing: boolean;
  /** The server's identity on the diagnostics channels. */
  source: object;
  onError: (error: Error) => void;
}

/** An admitted request: call finish() when it ends (answered or abandoned); headers go on its HTTP answer. */
export class Ticket {
  private finished = false;
  readonly startedAt: number;
  readonly span: RequestSpan | undefined;

  constructor(
    private readonly gate: RequestGate,
    readonly context: GateContext,
    readonly request: GateRequest,
    readonly limiterKey: string,
    readonly headers: Record<string, string> | undefined,
  ) {
    this.startedAt = gate.timing ? performance.now() : 0;
    this.span = gate.tracing
      ? startRequestSpan({
          method: request.method,
          target: subjectOf(request.method, request.params)?.name,
          rpcId: request.id,
          transport: context.transport,
          era: context.era,
          meta: request.params?._meta,
          req: context.req,
        })
      : undefined;
  }

  /** Runs the instance's handling of the request with its span active. */
  run<T>(fn: () => T): T {
    return this.span === undefined ? fn() : withSpan(this.span.context, fn);
  }

  /** Ends the request: with its response, or without one (the client went away: cancelled). Idempotent. */
  finish(response?: ResponseMessage): void {
    if (this.finished) return;
    this.finished = true;
    this.gate.release(this, response);
  }

  /** The exchange the instance answers through: filters list results by the policy and finishes the ticket. */
  wrap(inner: Exchange): Exchange {
    return {
      related: (message) => inner.related(message),
      respond: (message, gate) => {
        const filtered = this.gate.filter(this.context, this.request.method, message);
        this.finish(filtered);
        inner.respond(filtered, gate);
      },
    };
  }
}

export class RequestGate {
  private readonly active = new Map<string, number>();

  constructor(private readonly options: GateOptions) {}

  /** Whether tickets note their start time: for the audit log, or for whoever listens to request events. */
  get timing(): boolean {
    return this.options.audit !== undefined || requestChannel.hasSubscribers;
  }

  get tracing(): boolean {
    return this.options.tracing;
  }

  /** Admits a request (a Ticket) or refuses it; a promise only when a rate limit has to be consulted. */
  admit(context: GateContext, request: GateRequest): Ticket | GateRefusal | Promise<Ticket | GateRefusal> {
    const key = context.identity?.key ?? `ip:${context.clientIp}`;
    const active = this.active.get(key) ?? 0;
    if (active >= this.options.maxConcurrentRequestsPerPrincipal) {
      return this.refuse(context, request, 'rate-limited', 'concurrency', {
        refused: true,
        name: 'CONCURRENCY_LIMIT',
        message: `Too Many Requests: ${this.options.maxConcurrentRequestsPerPrincipal} requests of this client are in flight (maxConcurrentRequestsPerPrincipal)`,
        headers: { 'retry-after': '1' },
      });
    }
    // The slot is taken now, before any await, so concurrent arrivals cannot all pass the check; a refusal gives it back.
    this.active.set(key, active + 1);
    const limiter = this.options.rateLimiter;
    if (limiter === undefined) return this.released(key, this.inspect(context, request, key, undefined));
    const tool =
      request.method === 'tools/call' && typeof request.params?.name === 'string' ? request.params.name : undefined;
    return limiter.check(key, tool).then(
      (verdict) => {
        if (verdict.allowed) return this.released(key, this.inspect(context, request, key, verdict.headers));
        this.decrement(key);
        return this.refuse(context, request, 'rate-limited', verdict.scope ?? 'principal', {
          refused: true,
          name: 'RATE_LIMITED',
          message: `Too Many Requests: the ${verdict.scope === 'global' ? 'server-wide' : "client's"} rate limit is reached; retry after ${verdict.retryAfterSeconds ?? 1} s`,
          headers: verdict.headers,
        });
      },
      (error: unknown) => {
        // A limiter store that fails must not take the service down with it, nor let traffic through unmetered
        // silently: report it and refuse with 503 so clients retry.
        this.options.onError(error as Error);
        this.decrement(key);
        return this.refuse(context, request, 'error', 'rate-limit-store', {
          refused: true,
          name: 'RATE_LIMIT_UNAVAILABLE',
          headers: { 'retry-after': '1' },
        });
      },
    );
  }

  /**
   * Admits a notification or an answer, or refuses it (audited and published like a request's refusal). A
   * notification costs 1 point of the rate limits, exactly like a request, so a flood of notifications is
   * metered; an answer costs nothing (the server asked for it, and charging it would let the client's own
   * budget stall the handler waiting for it). Both pass the input limits before anything reads them.
   * No concurrency slot: nothing stays in flight. A promise only when a rate limit has to be consulted.
   */
  admitMessage(
    context: GateContext,
    message: GateMessage,
  ): MessageAdmission | GateRefusal | Promise<MessageAdmission | GateRefusal> {
    const limiter = this.options.rateLimiter;
    if (typeof message.method !== 'string' || limiter === undefined) return this.inspectMessage(context, message);
    const key = context.identity?.key ?? `ip:${context.clientIp}`;
    return limiter.check(key, undefined).then(
      (verdict) => {
        if (!verdict.allowed)
          return this.refuseMessage(context, message, 'rate-limited', verdict.scope ?? 'principal', {
            refused: true,
            name: 'RATE_LIMITED',
            message: `Too Many Requests: the ${verdict.scope === 'global' ? 'server-wide' : "client's"} rate limit is reached; retry after ${verdict.retryAfterSeconds ?? 1} s`,
            headers: verdict.headers,
          });
        const inspected = this.inspectMessage(context, message);
        return isRefusal(inspected) || Object.keys(verdict.headers).length === 0
          ? inspected
          : { refused: false, headers: verdict.headers };
      },
      (error: unknown) => {
        this.options.onError(error as Error);
        return this.refuseMessage(context, message, 'error', 'rate-limit-store', {
          refused: true,
          name: 'RATE_LIMIT_UNAVAILABLE',
          headers: { 'retry-after': '1' },
        });
      },
    );
  }

  private inspectMessage(context: GateContext, message: GateMessage): MessageAdmission | GateRefusal {
    // An answer's pointer starts at its member (/result/..., /error/...); a notification's at its params.
    const answer = typeof message.method !== 'string';
    const value = answer
      ? 'result' in message
        ? { result: message.result }
        : { error: message.error }
      : message.params;
    if (value === undefined) return ADMITTED;
    const refusal = this.inputLimitRefusal(value, answer ? 'Invalid message' : 'Invalid params');
    if (refusal === undefined) return ADMITTED;
    return this.refuseMessage(context, message, 'invalid', refusal.reason, refusal.refusal);
  }

  private refuseMessage(
    context: GateContext,
    message: GateMessage,
    outcome: AuditEntry['outcome'],
    reason: string,
    refusal: GateRefusal,
  ): GateRefusal {
    const method = typeof message.method === 'string' ? message.method : undefined;
    // A refused notification is counted with the requests (mcp_requests_total, mcp_rate_limited_total); an answer
    // is not a request of any method, so it is audited only.
    if (method !== undefined && requestChannel.hasSubscribers)
      this.publish(context, { id: 0, method }, outcome, 0, reason);
    const audit = this.options.audit;
    if (audit === undefined) return refusal;
    const entry: AuditEntry = {
      ...whoAndWhere(context),
      ...(method !== undefined && { method }),
      ...(method === undefined && message.id !== undefined && { rpcId: message.id }),
      outcome,
    };
    audit.record(this.refusalEntry(entry, context, message.params?._meta, reason, refusal));
    return refusal;
  }

  /** The depth and string limits on `value`: the refusal and its audit reason, or undefined when within them. */
  private inputLimitRefusal(value: unknown, prefix: string): { reason: string; refusal: GateRefusal } | undefined {
    const problem = checkInputLimits(value, this.options);
    if (problem === undefined) return undefined;
    const message =
      problem.problem === 'depth'
        ? `${prefix}: nested deeper than maxJsonDepth (${problem.limit}) at ${problem.path}`
        : `${prefix}: a string longer than maxStringLength (${problem.limit}) at ${problem.path}`;
    return {
      reason: `input-${problem.problem}`,
      refusal: { refused: true, name: 'INPUT_LIMIT', message, data: { path: problem.path, limit: problem.limit } },
    };
  }

  /** The checks on what the request says; all synchronous. */
  private inspect(
    context: GateContext,
    request: GateRequest,
    key: string,
    headers: Record<string, string> | undefined,
  ): Ticket | GateRefusal {
    const params = request.params;
    if (params !== undefined) {
      const limited = this.inputLimitRefusal(params, 'Invalid params');
      if (limited !== undefined) return this.refuse(context, request, 'invalid', limited.reason, limited.refusal);
    }
    const isToolCall = request.method === 'tools/call';
    if (isToolCall && !isValidToolName(params?.name)) {
      return this.refuse(context, request, 'invalid', 'tool-name', { refused: true, name: 'INVALID_TOOL_NAME' });
    }
    const authorizer = this.options.authorizer;
    if (authorizer !== undefined) {
      const subject = subjectOf(request.method, params);
      if (subject !== undefined) {
        const decision = authorizer.decide(
          subject.kind,
          subject.name,
          context.identity?.principal,
          context.identity?.key,
        );
        if (!decision.allowed) {
          if (decision.scopes.length > 0 && this.options.auth !== undefined) {
            const refusal = this.options.auth.insufficientScope(context.req, decision.scopes);
            return this.refuse(context, request, 'denied', 'insufficient-scope', {
              refused: true,
              name: 'AUTH_INSUFFICIENT_SCOPE',
              ...(refusal.message !== undefined && { message: refusal.message }),
              data: { requiredScopes: decision.scopes },
              headers: refusal.headers,
            });
          }
          return this.refuse(context, request, 'denied', 'not-permitted', {
            refused: true,
            name: 'FORBIDDEN_OPERATION',
            message: `Forbidden: this principal may not use ${subject.name}`,
          });
        }
      }
    }
    const validator = this.options.validator;
    if (isToolCall && validator !== undefined) {
      const verdict = validator.validate(params!.name as string, params!.arguments);
      if (!verdict.ok)
        return this.refuse(context, request, 'invalid', 'arguments', {
          refused: true,
          name: 'INVALID_ARGUMENTS',
          message: verdict.message,
          data: verdict.data,
        });
    }
    return new Ticket(this, context, request, key, headers);
  }

  /** Gives the concurrency slot back when the checks refused the request. */
  private released(key: string, outcome: Ticket | GateRefusal): Ticket | GateRefusal {
    if (isRefusal(outcome)) this.decrement(key);
    return outcome;
  }

  private decrement(key: string): void {
    const count = (this.active.get(key) ?? 1) - 1;
    if (count <= 0) this.active.delete(key);
    else this.active.set(key, count);
  }

  /** Called once per ticket: frees its concurrency slot, ends its span, publishes its event and writes its audit line. */
  release(ticket: Ticket, response: ResponseMessage | undefined): void {
    this.decrement(ticket.limiterKey);
    const code = response?.error?.code;
    const toolError =
      ticket.request.method === 'tools/call' &&
      (response?.result as { isError?: unknown } | undefined)?.isError === true;
    if (ticket.span !== undefined)
      endRequestSpan(ticket.span.span, {
        ...(code !== undefined && { errorCode: code }),
        toolError,
        cancelled: response === undefined,
      });
    const audit = this.options.audit;
    const publishing = requestChannel.hasSubscribers;
    if (audit === undefined && !publishing) return;
    const outcome: AuditEntry['outcome'] = response === undefined ? 'cancelled' : code === undefined ? 'ok' : 'error';
    // 0 when nobody was timing at admission (a subscriber that came later): no duration rather than a wrong one.
    const seconds = ticket.startedAt === 0 ? 0 : (performance.now() - ticket.startedAt) / 1000;
    if (publishing) this.publish(ticket.context, ticket.request, toolError ? 'tool-error' : outcome, seconds);
    if (audit === undefined) return;
    const traceId = ticket.span?.traceId;
    audit.record({
      ...this.entry(ticket.context, ticket.request),
      outcome,
      ...(toolError && { toolError }),
      ...(code !== undefined && { errorCode: code }),
      durationMs: Math.round(seconds * 1_000_000) / 1000,
      ...(traceId !== undefined && { traceId }),
    });
  }

  private publish(
    context: GateContext,
    request: GateRequest,
    outcome: RequestEvent['outcome'],
    durationSeconds: number,
    reason?: string,
  ): void {
    const tool =
      request.method === 'tools/call' && typeof request.params?.name === 'string' ? request.params.name : undefined;
    requestChannel.publish({
      source: this.options.source,
      method: request.method,
      transport: context.transport,
      era: context.era,
      outcome,
      ...(tool !== undefined && { tool }),
      durationSeconds,
      ...(reason !== undefined && { reason }),
    } satisfies RequestEvent);
  }

  /** Removes what the policy denies the principal from a list result. */
  filter(context: GateContext, method: string, message: ResponseMessage): ResponseMessage {
    const authorizer = this.options.authorizer;
    const list = FILTERED_LISTS[method];
    if (authorizer === undefined || list === undefined || message.result === undefined) return message;
    const [field, itemKey, kind] = list;
    const items = message.result[field];
    if (!Array.isArray(items)) return message;
    const visible = items.filter(
      (item: Record<string, unknown>) =>
        authorizer.decide(kind, String(item[itemKey]), context.identity?.principal, context.identity?.key).allowed,
    );
    // What a principal sees depends on who it is: a shared cache must not serve it to anyone else.
    const result: Record<string, unknown> = { ...message.result, [field]: visible };
    if ('cacheScope' in result) result.cacheScope = 'private';
    return { ...message, result };
  }

  /**
   * Audits an attempt refused before it became a request: by authentication (at the HTTP or upgrade level), or
   * by a transport (outcome `refused`, a reason of src/observability/refusal-reasons.ts), which is also a
   * request event with method `unknown`.
   */
  recordRefusedAttempt(entry: Omit<AuditEntry, 'requestId'>, req?: IncomingMessage): void {
    if (entry.outcome === 'refused') {
      if (requestChannel.hasSubscribers)
        requestChannel.publish({
          source: this.options.source,
          method: 'unknown',
          transport: entry.transport,
          era: entry.era ?? 'unknown',
          outcome: 'refused',
          durationSeconds: 0,
          ...(entry.reason !== undefined && { reason: entry.reason }),
        } satisfies RequestEvent);
    } else if (authFailureChannel.hasSubscribers)
      authFailureChannel.publish({
        source: this.options.source,
        reason: entry.reason ?? 'unknown',
        transport: entry.transport,
      } satisfies AuthFailureEvent);
    const audit = this.options.audit;
    if (audit === undefined) return;
    const traceId = this.options.tracing ? remoteParent(undefined, req)?.traceId : undefined;
    audit.record({ requestId: newRequestId(), ...entry, ...(traceId !== undefined && { traceId }) });
  }

  private refuse(
    context: GateContext,
    request: GateRequest,
    outcome: AuditEntry['outcome'],
    reason: string,
    refusal: GateRefusal,
  ): GateRefusal {
    if (requestChannel.hasSubscribers) this.publish(context, request, outcome, 0, reason);
    const audit = this.options.audit;
    if (audit === undefined) return refusal;
    audit.record(
      this.refusalEntry({ ...this.entry(context, request), outcome }, context, request.params?._meta, reason, refusal),
    );
    return refusal;
  }

  /** A refusal's audit line: `entry` with the reason, the status and code it was answered with, the trace id. */
  private refusalEntry(
    entry: AuditEntry,
    context: GateContext,
    meta: unknown,
    reason: string,
    refusal: GateRefusal,
  ): AuditEntry {
    const traceId = this.options.tracing ? remoteParent(meta, context.req)?.traceId : undefined;
    return {
      ...entry,
      reason,
      status: ERRORS[refusal.name].status,
      errorCode: ERRORS[refusal.name].rpcCode,
      ...(traceId !== undefined && { traceId }),
    };
  }

  private entry(context: GateContext, request: GateRequest): AuditEntry {
    const subject = subjectOf(request.method, request.params);
    return {
      ...whoAndWhere(context),
      method: request.method,
      ...(subject !== undefined && { name: subject.name }),
      rpcId: request.id,
      outcome: 'ok',
      // The audit log keeps arguments only when configured to (includeArguments), redacted.
      ...(request.method === 'tools/call' && { arguments: request.params?.arguments }),
    };
  }
}

export function isRefusal(value: Ticket | GateRefusal | MessageAdmission): value is GateRefusal {
  return (value as GateRefusal).refused === true;
}

/** The fields every audit line of a message the gate saw starts with: a fresh id, who sent it, and how. */
function whoAndWhere(
  context: GateContext,
): Pick<AuditEntry, 'requestId' | 'principal' | 'subject' | 'clientIp' | 'transport' | 'era'> {
  return {
    requestId: newRequestId(),
    ...(context.identity !== undefined && {
      principal: context.identity.key,
      subject: context.identity.principal.subject,
    }),
    clientIp: context.clientIp,
    transport: context.transport,
    era: context.era,
  };
}
