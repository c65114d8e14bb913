/**
 * The factory's side of tasks: `registerTaskTool` registers a tool on an McpServer whose handler runs as a task
 * of the io.modelcontextprotocol/tasks extension when the client declared it, and inline otherwise. The handler
 * gets a {@link TaskContext} (status messages, input requests, an abort signal) and returns the tool's result;
 * remote-mcp does the protocol: the CreateTaskResult, tasks/get, tasks/update, tasks/cancel, notifications/tasks,
 * the durable record and its lease.
 *
 * @example
 * registerTaskTool(server, 'build_report', { inputSchema: z.object({ month: z.string() }), taskSupport: 'required' },
 *   async ({ month }, task) => {
 *     await task.status(`collecting ${month}`);
 *     const answer = await task.elicit({ message: 'Include drafts?', requestedSchema: { type: 'object', properties: { drafts: { type: 'boolean' } } } });
 *     return { content: [{ type: 'text', text: `report for ${month}, drafts: ${answer.content?.drafts}` }] };
 *   });
 */
import type {
  AuthInfo,
  CallToolResult,
  McpServer,
  ServerContext,
  StandardSchemaV1,
} from '@modelcontextprotocol/server';

import { TASKS_EXTENSION, type InputRequest, type TaskSupport } from './task-record.js';

/** What a task handler can do while it runs. */
export interface TaskContext {
  /** The task's id; undefined when the call runs inline (the client did not declare the extension). */
  readonly taskId: string | undefined;
  /** Aborted when the client cancels the task (tasks/cancel), its ttlMs runs out, or the server shuts down. */
  readonly signal: AbortSignal;
  /** What `beforeTask` returned (undefined without one). */
  readonly prepared: unknown;
  /** The caller's credentials, when auth is on. */
  readonly authInfo: AuthInfo | undefined;
  /** Sets the task's statusMessage (shown by tasks/get and notifications/tasks). */
  status(message: string): Promise<void>;
  /**
   * Asks the client for input: the task turns `input_required` with these requests until tasks/update answers
   * every one; resolves with the answers by key. Keys must be new for the task (a key is never reused). Inline
   * (no task): on a 2025-era session the requests go to the client as server-to-client requests; a 2026-07-28
   * request cannot be asked (it rejects).
   */
  input(requests: Record<string, InputRequest>): Promise<Record<string, unknown>>;
  /** One `elicitation/create` request (a fresh key); resolves with the client's ElicitResult. */
  elicit(params: Record<string, unknown>): Promise<ElicitAnswer>;
}

export interface ElicitAnswer {
  action: 'accept' | 'decline' | 'cancel' | string;
  content?: Record<string, unknown>;
}

/** A tool handler run as a task: returns the CallToolResult; throwing `TaskFailedError` fails the task. */
export type TaskHandler<Args> = (args: Args, task: TaskContext) => Promise<CallToolResult> | CallToolResult;

/** The arguments a tool's input schema describes (none without a schema). */
export type ArgsOf<Schema> = Schema extends StandardSchemaV1
  ? StandardSchemaV1.InferOutput<Schema>
  : Record<string, never>;

export interface TaskToolConfig<Schema extends StandardSchemaV1 | undefined = undefined> {
  title?: string;
  description?: string;
  /** A zod object (or any Standard Schema with JSON Schema the SDK accepts) for the arguments. */
  inputSchema?: Schema;
  /** The result's structuredContent schema: listed, and checked for task results as the SDK checks inline ones. */
  outputSchema?: StandardSchemaV1;
  annotations?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
  /**
   * The extension's three levels: 'required' (a client without the extension gets -32021), 'optional' (a task
   * when the client declared the extension, inline otherwise), 'forbidden' (always inline). Default 'optional'.
   */
  taskSupport?: TaskSupport;
  /** The task's ttlMs (default: the server's `tasks.defaultTtlMs`, at most its `tasks.maxTtlMs`). */
  ttlMs?: number;
  /** The pollIntervalMs the task suggests (default: the server's `tasks.pollIntervalMs`). */
  pollIntervalMs?: number;
  /**
   * Runs on the tools/call request itself, before any task exists, with the SDK's context: return an
   * `inputRequired(...)` result to gather input first (multi-round-trip), a CallToolResult to answer at once
   * (no task: the immediate-result shortcut), or anything else, which becomes `task.prepared`.
   */
  beforeTask?: (args: ArgsOf<Schema>, ctx: ServerContext) => Promise<unknown> | unknown;
}

/** Thrown by a task handler to fail the task with a JSON-RPC error (status `failed`, the error inlined). */
export class TaskFailedError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'TaskFailedError';
  }
}

/** A registered task tool, as the runtime reads it. */
export interface TaskToolSpec {
  readonly support: TaskSupport;
  readonly ttlMs: number | undefined;
  readonly pollIntervalMs: number | undefined;
  readonly handler: TaskHandler<unknown>;
}

/** What the runtime tells the handler about the tools/call being served (set around its delivery). */
export interface TaskCall {
  /** Whether this call may become a task (the client declared the extension and the tool allows it). */
  readonly asTask: boolean;
  readonly authInfo: AuthInfo | undefined;
  /** Creates the task and answers the tools/call with its CreateTaskResult; the handler then runs detached. */
  start(spec: TaskToolSpec, args: unknown, prepared: unknown): Promise<void>;
}

/**
 * The calls the runtime is delivering, per product and by the id the instance sees (`ctx.mcpReq.id`): set just
 * before delivery, taken by the handler. (Not an AsyncLocalStorage: on Node 20 one turns on promise hooks for
 * every promise of the process.)
 */
const pendingCalls = new WeakMap<object, Map<number | string, TaskCall>>();

/** Tells the handler of `product` that the request it will see as `id` is this call. */
export function expectTaskCall(product: object, id: number | string, call: TaskCall): void {
  let calls = pendingCalls.get(product);
  if (calls === undefined) {
    calls = new Map();
    pendingCalls.set(product, calls);
  }
  calls.set(id, call);
}

/** Forgets a call whose handler never ran (the instance refused the request first). */
export function forgetTaskCall(product: object, id: number | string): void {
  pendingCalls.get(product)?.delete(id);
}

function takeTaskCall(product: object, id: number | string): TaskCall | undefined {
  const calls = pendingCalls.get(product);
  const call = calls?.get(id);
  if (call !== undefined) calls!.delete(id);
  return call;
}

const registries = new WeakMap<object, Map<string, TaskToolSpec>>();

/** The task tools registered on a factory product (an McpServer), by name; undefined when it has none. */
export function taskToolsOf(product: object): ReadonlyMap<string, TaskToolSpec> | undefined {
  return registries.get(product);
}

const SUPPORT = new Set<TaskSupport>(['forbidden', 'optional', 'required']);

function positiveInteger(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new TypeError(`remote-mcp: registerTaskTool ${what} must be a positive integer (milliseconds)`);
  return value;
}

/** Whether a value returned by beforeTask answers the call itself (a tool result or an input_required round). */
function answersCall(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { content?: unknown; resultType?: unknown; structuredContent?: unknown };
  return Array.isArray(v.content) || v.resultType === 'input_required' || v.structuredContent !== undefined;
}

/**
 * The context of a call run inline (no task). A 2025-era session can still be asked for input the 2025 way, with
 * server-to-client requests on the session; a 2026-07-28 request cannot (there is no task to park).
 */
function inlineContext(ctx: ServerContext, authInfo: AuthInfo | undefined, prepared: unknown): TaskContext {
  const modern = (ctx.mcpReq as { envelope?: unknown }).envelope !== undefined;
  const input = async (requests: Record<string, InputRequest>): Promise<Record<string, unknown>> => {
    if (modern)
      throw new Error(
        `This tool asks for input while it runs, which needs the ${TASKS_EXTENSION} extension; the request did not declare it`,
      );
    const send = ctx.mcpReq.send as (request: InputRequest) => Promise<unknown>;
    const entries = await Promise.all(
      Object.entries(requests).map(async ([key, request]) => [key, await send(request)] as const),
    );
    return Object.fromEntries(entries);
  };
  let elicitations = 0;
  return {
    taskId: undefined,
    signal: ctx.mcpReq.signal,
    prepared,
    authInfo,
    status: async () => {},
    input,
    elicit: async (params) => {
      const key = `elicitation-${++elicitations}`;
      const answers = await input({ [key]: { method: 'elicitation/create', params } });
      return answers[key] as ElicitAnswer;
    },
  };
}

/**
 * Checks a result against the tool's output schema as the SDK checks an inline call's: a result without the
 * structuredContent the schema asks for, or with content that does not match, becomes a tool error.
 */
async function checkedOutput(name: string, schema: StandardSchemaV1 | undefined, result: CallToolResult) {
  if (schema === undefined || result.isError === true) return result;
  const failure = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true });
  if (result.structuredContent === undefined)
    return failure(`Output validation error: Tool ${name} has an output schema but no structured content was provided`);
  const checked = await schema['~standard'].validate(result.structuredContent);
  if (checked.issues === undefined) return result;
  const issues = checked.issues.map((issue) => issue.message).join('; ');
  return failure(`Output validation error: Invalid structured content for tool ${name}: ${issues}`);
}

/**
 * Registers `name` on `server` as a tool that runs as a task. The tool is listed and its arguments validated by
 * the SDK as any other; what differs is how a call is answered.
 */
export function registerTaskTool<Schema extends StandardSchemaV1 | undefined = undefined>(
  server: McpServer,
  name: string,
  config: TaskToolConfig<Schema>,
  handler: TaskHandler<ArgsOf<Schema>>,
): void {
  type Args = ArgsOf<Schema>;
  const { taskSupport = 'optional', ttlMs, pollIntervalMs, beforeTask, ...toolConfig } = config;
  if (!SUPPORT.has(taskSupport))
    throw new TypeError(`remote-mcp: registerTaskTool taskSupport must be 'forbidden', 'optional' or 'required'`);
  const outputSchema = toolConfig.outputSchema;
  const spec: TaskToolSpec = {
    support: taskSupport,
    ttlMs: positiveInteger(ttlMs, 'ttlMs'),
    pollIntervalMs: positiveInteger(pollIntervalMs, 'pollIntervalMs'),
    handler: async (args, task) => checkedOutput(name, outputSchema, await handler(args as Args, task)),
  };
  const run = async (args: unknown, ctx: ServerContext): Promise<CallToolResult> => {
    const call = takeTaskCall(server, ctx.mcpReq.id);
    const prepared = beforeTask === undefined ? undefined : await beforeTask(args as Args, ctx);
    if (answersCall(prepared)) return prepared as CallToolResult;
    if (call?.asTask === true && spec.support !== 'forbidden') {
      await call.start(spec, args, prepared);
      // The client has its CreateTaskResult already; the runtime discards this answer.
      return { content: [] };
    }
    // Inline, the SDK checks the result against the output schema itself.
    const authInfo = (ctx as { http?: { authInfo?: AuthInfo } }).http?.authInfo ?? call?.authInfo;
    return handler(args as Args, inlineContext(ctx, authInfo, prepared));
  };
  // The SDK calls a handler with (args, ctx) when the tool has an input schema, with (ctx) when it has none.
  const callback =
    toolConfig.inputSchema === undefined
      ? (ctx: ServerContext) => run({}, ctx)
      : (args: unknown, ctx: ServerContext) => run(args, ctx);
  (server.registerTool as (name: string, config: unknown, cb: unknown) => unknown)(name, toolConfig, callback);
  let registry = registries.get(server);
  if (registry === undefined) {
    registry = new Map();
    registries.set(server, registry);
    // The extension is advertised in server/discover (2026-07-28) and initialize (2025-era) capabilities.
    server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } } as never);
  }
  registry.set(name, spec);
}
