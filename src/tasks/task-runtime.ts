/**
 * The protocol side of the tasks extension, for every transport and both eras: it intercepts, at the exchange
 * router of each instance that has task tools, the tools/call of those tools and the tasks/* methods.
 *
 * - tools/call of a task tool: a client that did not declare the extension gets -32021 for a `required` tool
 *   and the inline call otherwise; one that did gets the call delivered as usual, with the call's context
 *   around it, so the tool's handler (src/tasks/task-tool.ts) can create the task, which answers the request
 *   with its CreateTaskResult once the store has it (durably: a tasks/get anywhere finds it).
 * - tasks/get, tasks/update, tasks/cancel: answered here from the store, on whichever instance the request
 *   lands; a task of another principal is answered as unknown. tasks/result and tasks/list (removed from the
 *   extension) get -32601.
 */
import type { AuthInfo } from '@modelcontextprotocol/server';

import { ERRORS, JsonRpcCode } from '../errors.js';
import { publishTask } from '../observability/channels.js';
import { storeFailure } from '../state/state-unavailable.js';
import { principalKey, type Principal } from '../security/principal.js';
import type { Exchange, ExchangeRouter, ResponseMessage, RouterRequest } from '../server/exchange-router.js';
import {
  createTaskResult,
  declaresTasks,
  detailedTask,
  isTerminal,
  missingTasksCapability,
  newTaskId,
  requestCapabilities,
  type TaskRecord,
} from './task-record.js';
import type { ResolvedTaskOptions } from './task-options.js';
import { TaskRunner } from './task-runner.js';
import type { TaskStore } from './task-store.js';
import { expectTaskCall, forgetTaskCall, taskToolsOf, type TaskCall, type TaskToolSpec } from './task-tool.js';

const TASK_METHODS = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);
const REMOVED_METHODS = new Set(['tasks/result', 'tasks/list']);

/** The principal key of a request, from the AuthInfo the transports deliver with it. */
export function ownerOf(authInfo: AuthInfo | undefined): string | undefined {
  const principal = (authInfo?.extra as { principal?: Principal } | undefined)?.principal;
  return principal === undefined ? undefined : principalKey(principal);
}

function errorAnswer(id: ResponseMessage['id'], code: number, message: string, data?: unknown): ResponseMessage {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined && { data }) } };
}

const unknownTask = (id: ResponseMessage['id'], taskId: unknown) =>
  errorAnswer(id, JsonRpcCode.InvalidParams, `${ERRORS.TASK_NOT_FOUND.message}: ${JSON.stringify(taskId)}`);

export class TaskRuntime {
  readonly runner: TaskRunner;

  constructor(
    readonly store: TaskStore,
    private readonly options: ResolvedTaskOptions,
    instance: string,
    readonly onError: (error: Error) => void,
    /** The server's identity on the diagnostics channels (task events feed the metrics). */
    readonly source: object = {},
  ) {
    this.runner = new TaskRunner(store, options, instance, onError, source);
  }

  /**
   * Intercepts the task methods at an instance's router, when the instance has task tools. `sessionCapabilities`
   * gives a 2025-era instance's initialize-declared client capabilities (a request's own envelope counts too).
   */
  attach(router: ExchangeRouter, product: object, sessionCapabilities?: () => unknown): void {
    const tools = taskToolsOf(product);
    if (tools === undefined) return;
    router.intercept = (message, exchange, extra) => {
      const method = message.method;
      if (method === 'tools/call') {
        const name = (message.params as { name?: unknown } | undefined)?.name;
        const spec = typeof name === 'string' ? tools.get(name) : undefined;
        if (spec === undefined) return undefined;
        const declared = declaresTasks(requestCapabilities(message.params)) || declaresTasks(sessionCapabilities?.());
        if (!declared && spec.support === 'required') {
          exchange.respond(missingTasksCapability(message.id, `the tool ${name}`), false);
          return 0;
        }
        if (!declared || spec.support === 'forbidden') return undefined;
        const id = router.nextRequestId;
        const call = new TaskCallExchange(this, exchange, message, extra?.authInfo, () => forgetTaskCall(product, id));
        expectTaskCall(product, id, call);
        return router.deliverNew(message, call, extra);
      }
      if (REMOVED_METHODS.has(method)) {
        exchange.respond(
          errorAnswer(
            message.id,
            JsonRpcCode.MethodNotFound,
            `Method not found: ${method} is not part of the tasks extension any more`,
          ),
          true,
        );
        return 0;
      }
      if (!TASK_METHODS.has(method)) return undefined;
      if (!declaresTasks(requestCapabilities(message.params)) && !declaresTasks(sessionCapabilities?.())) {
        exchange.respond(missingTasksCapability(message.id, method), false);
        return 0;
      }
      this.serveTaskMethod(message, ownerOf(extra?.authInfo)).then(
        (answer) => exchange.respond(answer, false),
        (error: unknown) => {
          const { rpcCode, message: text } = ERRORS[storeFailure(error, this.onError)];
          exchange.respond(errorAnswer(message.id, rpcCode, text), false);
        },
      );
      return 0;
    };
  }

  /** The record for `owner`: undefined when there is none, it expired, or another principal created it. */
  async read(taskId: string, owner: string | undefined): Promise<TaskRecord | undefined> {
    let record = await this.store.get(taskId);
    if (record === undefined || record.owner !== owner) return undefined;
    if (!isTerminal(record) && record.leaseUntil < Date.now() && record.instance !== this.runner.instance)
      record = (await this.runner.failExpired(taskId)) ?? record;
    return record;
  }

  /** Creates the record of a new task (the caller answers with its CreateTaskResult once this resolves). */
  async create(
    spec: TaskToolSpec,
    tool: string,
    owner: string | undefined,
  ): Promise<{ record: TaskRecord } | { refusal: NonNullable<ResponseMessage['error']> }> {
    const ttlMs = Math.min(spec.ttlMs ?? this.options.defaultTtlMs, this.options.maxTtlMs);
    const created = new Date().toISOString();
    const record: TaskRecord = {
      taskId: newTaskId(),
      status: 'working',
      createdAt: created,
      lastUpdatedAt: created,
      ttlMs,
      pollIntervalMs: spec.pollIntervalMs ?? this.options.pollIntervalMs,
      ...(owner !== undefined && { owner }),
      tool,
      instance: this.runner.instance,
      leaseUntil: Date.now() + this.options.leaseMs,
    };
    const outcome = await this.store.create(record, this.options);
    if (outcome === 'created') {
      publishTask(this.source, tool, 'created');
      return { record };
    }
    const limit =
      outcome === 'limit'
        ? `tasks.maxTasks (${this.options.maxTasks})`
        : outcome === 'principal-limit'
          ? `tasks.maxTasksPerPrincipal (${this.options.maxTasksPerPrincipal})`
          : 'the task store is full: it keeps finished tasks for their ttlMs (a shorter tasks.defaultTtlMs, or Redis, holds more)';
    return { refusal: { code: ERRORS.TASK_LIMIT.rpcCode, message: `${ERRORS.TASK_LIMIT.message}: ${limit}` } };
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  private async serveTaskMethod(message: RouterRequest, owner: string | undefined): Promise<ResponseMessage> {
    const params = (message.params ?? {}) as { taskId?: unknown; inputResponses?: unknown };
    const taskId = params.taskId;
    if (typeof taskId !== 'string' || taskId.length === 0 || taskId.length > 256)
      return errorAnswer(message.id, JsonRpcCode.InvalidParams, 'Invalid params: taskId must be a non-empty string');
    const record = await this.read(taskId, owner);
    if (record === undefined) return unknownTask(message.id, taskId);
    const done: ResponseMessage = { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete' } };
    switch (message.method) {
      case 'tasks/get':
        return { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete', ...detailedTask(record) } };
      case 'tasks/cancel': {
        if (isTerminal(record)) return done; // idempotent: the extension reserves errors for unknown ids
        let cancelledHere = false;
        const changed = await this.store.update(taskId, (current) => {
          if (isTerminal(current)) return undefined;
          cancelledHere = true;
          const at = new Date().toISOString();
          return { ...current, status: 'cancelled', statusMessage: 'Cancelled by the client', lastUpdatedAt: at };
        });
        if (changed === undefined) return unknownTask(message.id, taskId);
        if (cancelledHere) publishTask(this.source, changed.tool, 'cancelled');
        this.runner.stop(taskId, 'Cancelled by the client');
        return done;
      }
      default: {
        const answers = params.inputResponses;
        if (answers === null || typeof answers !== 'object' || Array.isArray(answers))
          return errorAnswer(message.id, JsonRpcCode.InvalidParams, 'Invalid params: inputResponses must be an object');
        await this.store.update(taskId, (current) => {
          const pending = { ...current.inputRequests };
          const accepted = Object.keys(answers).filter((key) => key in pending);
          // Keys that are not outstanding (never issued, answered already) are ignored, as the extension asks.
          if (accepted.length === 0 || isTerminal(current)) return undefined;
          const responses = { ...current.inputResponses };
          for (const key of accepted) {
            responses[key] = (answers as Record<string, unknown>)[key];
            delete pending[key];
          }
          const next: TaskRecord = { ...current, inputResponses: responses, lastUpdatedAt: new Date().toISOString() };
          if (Object.keys(pending).length === 0) {
            delete next.inputRequests;
            next.status = 'working';
          } else next.inputRequests = pending;
          return next;
        });
        return done;
      }
    }
  }
}

/**
 * The exchange of a tools/call that may become a task: it passes everything through until the handler starts
 * the task; then it answers the CreateTaskResult, and what the instance answers afterwards is dropped.
 */
class TaskCallExchange implements Exchange, TaskCall {
  readonly asTask = true;
  private started = false;

  constructor(
    private readonly tasks: TaskRuntime,
    private readonly inner: Exchange,
    private readonly request: RouterRequest,
    readonly authInfo: AuthInfo | undefined,
    /** Drops the handler's expectation of this call (an answer came without the handler taking it). */
    private readonly forget: () => void,
  ) {}

  related(message: Parameters<Exchange['related']>[0]): void {
    if (!this.started) this.inner.related(message);
  }

  respond(message: ResponseMessage, gate: boolean): void {
    this.forget();
    if (!this.started) this.inner.respond(message, gate);
  }

  async start(spec: TaskToolSpec, args: unknown, prepared: unknown): Promise<void> {
    if (this.started) return;
    this.started = true;
    const name = (this.request.params as { name: string }).name;
    let created: Awaited<ReturnType<TaskRuntime['create']>>;
    try {
      created = await this.tasks.create(spec, name, ownerOf(this.authInfo));
    } catch (error) {
      const { rpcCode, message } = ERRORS[storeFailure(error, this.tasks.onError)];
      this.inner.respond(errorAnswer(this.request.id, rpcCode, message), false);
      return;
    }
    if ('refusal' in created) {
      this.inner.respond({ jsonrpc: '2.0', id: this.request.id, error: created.refusal }, false);
      return;
    }
    const { record } = created;
    this.inner.respond({ jsonrpc: '2.0', id: this.request.id, result: createTaskResult(record) }, false);
    this.tasks.runner.launch(record, spec, args, prepared, this.authInfo);
  }
}
