/**
 * The SDK v2 Client, with what a remote connection needs on top: a default timeout and total bound on every
 * request, retries where repeating is safe (each try is a new request, so a new JSON-RPC id), and a new
 * connection when the old one broke or its 2025-era session ended on the server. Everything else (the protocol,
 * version negotiation, the response cache, input_required rounds) is the SDK's.
 */
import {
  Client,
  type CallToolRequest,
  type CallToolRequestOptions,
  type CompleteRequest,
  type GetPromptRequest,
  type JSONRPCResponse,
  type ListPromptsRequest,
  type ListResourcesRequest,
  type ListResourceTemplatesRequest,
  type ListToolsRequest,
  type ReadResourceRequest,
  type RequestOptions,
  type ToolAnnotations,
} from '@modelcontextprotocol/client';

import type { ResolvedConnectOptions } from './options.js';
import {
  carriedTask,
  parseTask,
  ResultObject,
  taskCarrier,
  waitForTask,
  type ClientTask,
  type TaskOrResult,
  type TaskRequests,
  type WaitForTaskOptions,
} from './tasks.js';
import { sleep } from './sleep.js';
import { classifyFailure, mayRetry, retryDelay, type RepeatContext } from './retry-policy.js';
import type { WireKind } from './transports.js';

type CacheableOptions = Parameters<Client['listTools']>[1];

/** Per-call options: the SDK's, plus the caller's word on whether this call may be repeated. */
export type CallOptions = CallToolRequestOptions & {
  /** true: repeat on a retryable failure even if the tool does not say it is idempotent; false: never repeat. */
  idempotent?: boolean;
};

/** How a RemoteClient (re)opens its connection; connect.ts supplies it. */
export type Opener = (client: RemoteClient) => Promise<WireKind>;

export class RemoteClient extends Client {
  /** The URL this client connects to. */
  readonly url: URL;
  readonly #policy: ResolvedConnectOptions;
  readonly #open: Opener;
  readonly #annotations = new Map<string, ToolAnnotations | undefined>();
  #wire: WireKind | undefined;
  #reopening: Promise<void> | undefined;
  #closedByUser = false;
  #needsReopen = false;

  constructor(url: URL, policy: ResolvedConnectOptions, open: Opener) {
    super(policy.clientInfo, {
      ...policy.client,
      ...(policy.capabilities !== undefined && { capabilities: policy.capabilities }),
      ...(policy.cache !== undefined && {
        ...(policy.cache.store !== undefined && { responseCacheStore: policy.cache.store }),
        ...(policy.cache.partition !== undefined && { cachePartition: policy.cache.partition }),
      }),
    });
    this.url = url;
    this.#policy = policy;
    this.#open = open;
  }

  /** The wire in use: `streamable-http`, `sse` or `websocket`. */
  get wire(): WireKind | undefined {
    return this.#wire;
  }

  /** Opens the connection, retrying (with backoff) failures worth it. connect() calls it. */
  async open(): Promise<void> {
    await this.#withRetry('server/discover', {}, undefined, async () => {
      this.#wire = await this.#open(this);
    });
  }

  /** Called by the opener when the transport closed without close(): the next request reconnects first. */
  connectionLost(): void {
    if (!this.#closedByUser) this.#needsReopen = true;
  }

  override async close(): Promise<void> {
    this.#closedByUser = true;
    await super.close();
  }

  /**
   * The SDK runs notification handlers a microtask after a message arrives but handles a response at once, so a
   * progress notification that arrives right before its request's response (same WebSocket frame batch, same SSE
   * chunk) finds its handler already gone and is dropped. Handling responses one microtask later too keeps them
   * in arrival order.
   */
  protected override _onresponse(response: JSONRPCResponse): void {
    const result = (response as { result?: { resultType?: unknown } }).result;
    // A CreateTaskResult (the tasks extension), which the SDK would refuse: carried as a complete result.
    if (result?.resultType === 'task')
      response = { ...response, result: taskCarrier(result as Record<string, unknown>) } as JSONRPCResponse;
    queueMicrotask(() => super._onresponse(response));
  }

  /** The annotations of a tool, as the last tools/list said (undefined when it was never listed). */
  toolAnnotations(name: string): ToolAnnotations | undefined {
    return this.#annotations.get(name);
  }

  override async listTools(params?: ListToolsRequest['params'], options?: CacheableOptions) {
    const result = await this.#withRetry('tools/list', {}, options, (o) => super.listTools(params, o));
    for (const tool of result.tools) this.#annotations.set(tool.name, tool.annotations);
    return result;
  }

  /**
   * Calls a tool. A task tool's call that comes back as a task (the tasks extension) is followed to its end and
   * its final result returned, as if the call had waited; a failed task rejects with its JSON-RPC error.
   */
  override async callTool(params: CallToolRequest['params'], options?: CallOptions) {
    const outcome = await this.#callOnce(params, options);
    if (outcome.kind === 'result') return outcome.result as Awaited<ReturnType<Client['callTool']>>;
    // A task outlives any one request's timeout; only the caller's signal and the call's total bound end the wait.
    const total = options?.maxTotalTimeout ?? this.#policy.totalTimeoutMs;
    const signals = [options?.signal, total === undefined ? undefined : AbortSignal.timeout(total)].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    const wait: WaitForTaskOptions = {
      ...(signals.length > 0 && { signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals) }),
      ...(this.#policy.onInputRequests !== undefined && { onInputRequests: this.#policy.onInputRequests }),
    };
    return (await this.waitForTask(outcome.task, wait)) as Awaited<ReturnType<Client['callTool']>>;
  }

  /**
   * Calls a tool and hands over the task when the server runs the call as one (`{ kind: 'task', task }`), or the
   * result when it answered at once (`{ kind: 'result', result }`). Needs `tasks` on (the default).
   */
  async callToolAsTask(params: CallToolRequest['params'], options?: CallOptions): Promise<TaskOrResult> {
    return this.#callOnce(params, options);
  }

  /** tasks/get: the task as it is now (with its result or error once it ended). */
  async getTask(taskId: string, options?: RequestOptions): Promise<ClientTask> {
    const result = await this.#withRetry('tasks/get', { idempotent: true }, options, (o) =>
      this.request({ method: 'tasks/get', params: { taskId } }, ResultObject, o),
    );
    const task = parseTask(result);
    if (task === undefined)
      throw new TypeError(`tasks/get answered something that is not a task: ${JSON.stringify(result).slice(0, 200)}`);
    return task;
  }

  /** tasks/update: answers some or all of a task's input requests, by key. */
  async updateTask(taskId: string, inputResponses: Record<string, unknown>, options?: RequestOptions): Promise<void> {
    await this.#withRetry('tasks/update', {}, options, (o) =>
      this.request({ method: 'tasks/update', params: { taskId, inputResponses } }, ResultObject, o),
    );
  }

  /** tasks/cancel: asks the server to stop the task (it acknowledges; the task ends `cancelled` unless done). */
  async cancelTask(taskId: string, options?: RequestOptions): Promise<void> {
    await this.#withRetry('tasks/cancel', { idempotent: true }, options, (o) =>
      this.request({ method: 'tasks/cancel', params: { taskId } }, ResultObject, o),
    );
  }

  /** Follows a task (or a task id) to its end; resolves with the tool's result (see waitForTask in ./tasks.ts). */
  async waitForTask(task: ClientTask | string, options?: WaitForTaskOptions): Promise<Record<string, unknown>> {
    const first = typeof task === 'string' ? await this.getTask(task, { signal: options?.signal }) : task;
    const requests: TaskRequests = {
      get: (taskId, signal) => this.getTask(taskId, { signal }),
      update: (taskId, responses, signal) => this.updateTask(taskId, responses, { signal }),
      cancel: (taskId, signal) => this.cancelTask(taskId, { signal }),
    };
    return waitForTask(requests, first, options);
  }

  /** One tools/call (with the retry policy), told apart into a task or a result. */
  async #callOnce(params: CallToolRequest['params'], options?: CallOptions): Promise<TaskOrResult> {
    const annotations = options?.toolDefinition?.annotations ?? this.#annotations.get(params.name);
    const result = await this.#withRetry('tools/call', { annotations, idempotent: options?.idempotent }, options, (o) =>
      super.callTool(params, o),
    );
    const task = carriedTask(result);
    return task === undefined ? { kind: 'result', result } : { kind: 'task', task };
  }

  override readResource(params: ReadResourceRequest['params'], options?: CacheableOptions) {
    return this.#withRetry('resources/read', {}, options, (o) => super.readResource(params, o));
  }

  override getPrompt(params: GetPromptRequest['params'], options?: RequestOptions) {
    return this.#withRetry('prompts/get', {}, options, (o) => super.getPrompt(params, o));
  }

  override listPrompts(params?: ListPromptsRequest['params'], options?: CacheableOptions) {
    return this.#withRetry('prompts/list', {}, options, (o) => super.listPrompts(params, o));
  }

  override listResources(params?: ListResourcesRequest['params'], options?: CacheableOptions) {
    return this.#withRetry('resources/list', {}, options, (o) => super.listResources(params, o));
  }

  override listResourceTemplates(params?: ListResourceTemplatesRequest['params'], options?: CacheableOptions) {
    return this.#withRetry('resources/templates/list', {}, options, (o) => super.listResourceTemplates(params, o));
  }

  override complete(params: CompleteRequest['params'], options?: RequestOptions) {
    return this.#withRetry('completion/complete', {}, options, (o) => super.complete(params, o));
  }

  override ping(options?: RequestOptions) {
    return this.#withRetry('ping', {}, options, (o) => super.ping(o));
  }

  /** The options of one try: the defaults, the caller's, and what is left of the total bound. */
  #tryOptions<O extends RequestOptions>(options: O | undefined, deadline: number | undefined): O {
    const policy = this.#policy;
    const timeout = options?.timeout ?? policy.timeoutMs;
    const tryOptions = {
      resetTimeoutOnProgress: policy.resetTimeoutOnProgress,
      ...options,
      timeout,
    } as O;
    if (deadline !== undefined) {
      const left = Math.max(1, deadline - Date.now());
      tryOptions.timeout = Math.min(timeout, left);
      tryOptions.maxTotalTimeout = Math.min(options?.maxTotalTimeout ?? left, left);
    }
    return tryOptions;
  }

  async #withRetry<T, O extends RequestOptions>(
    method: string,
    context: RepeatContext,
    options: O | undefined,
    run: (options: O) => Promise<T>,
  ): Promise<T> {
    const { retry, totalTimeoutMs, onRetry } = this.#policy;
    const deadline = totalTimeoutMs === undefined ? undefined : Date.now() + totalTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        if (method !== 'server/discover') await this.#reconnectIfNeeded();
        return await run(this.#tryOptions(options, deadline));
      } catch (error) {
        const failure = classifyFailure(error);
        // Whether or not this call tries again, the next request must not reuse a session the server ended.
        if (failure.kind === 'session-lost') this.#needsReopen = true;
        if (attempt >= retry.attempts || options?.signal?.aborted || !mayRetry(failure, method, context)) throw error;
        const delayMs = retryDelay(attempt, retry, failure.retryAfterMs);
        if (deadline !== undefined && Date.now() + delayMs >= deadline) throw error;
        onRetry?.({ method, attempt, delayMs, error });
        await sleep(delayMs, options?.signal);
      }
    }
  }

  /** A broken connection (WebSocket closed, session gone) is opened again before the next try. */
  async #reconnectIfNeeded(): Promise<void> {
    if (this.#closedByUser) return;
    if (!this.#needsReopen && this.transport !== undefined) return;
    this.#reopening ??= (async () => {
      try {
        await this.transport?.close().catch(() => {});
        this.#wire = await this.#open(this);
        this.#needsReopen = false;
      } finally {
        this.#reopening = undefined;
      }
    })();
    await this.#reopening;
  }
}
