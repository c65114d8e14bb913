/**
 * The client side of the io.modelcontextprotocol/tasks extension, for RemoteClient: the shapes, and the loop
 * that follows a task (tasks/get at the pollIntervalMs it suggests) until it ends, answering input requests
 * through tasks/update when the caller gives a way to.
 *
 * The SDK v2 client does not know the extension: it refuses a tools/call result whose resultType is "task".
 * RemoteClient therefore carries a CreateTaskResult to its callers as a complete result whose `_meta` holds the
 * task ({@link TASK_META}); nothing else of the SDK's decoding changes.
 */
import { ProtocolError, type StandardSchemaV1 } from '@modelcontextprotocol/client';

import { sleep } from './sleep.js';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Where RemoteClient puts a CreateTaskResult inside the complete result the SDK lets through. */
export const TASK_META = 'remote-mcp/task';

export type ClientTaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** A task as tasks/get (or the CreateTaskResult) describes it. */
export interface ClientTask {
  taskId: string;
  status: ClientTaskStatus;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number | null;
  pollIntervalMs?: number;
  /** Outstanding requests by key (status input_required). */
  inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }>;
  /** The tool's result (status completed). */
  result?: Record<string, unknown>;
  /** The JSON-RPC error (status failed). */
  error?: { code: number; message: string; data?: unknown };
}

const STATUSES = new Set(['working', 'input_required', 'completed', 'failed', 'cancelled']);

/** The task in a tasks/get result (or a CreateTaskResult); undefined when it is not one. */
export function parseTask(value: unknown): ClientTask | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const task = value as Record<string, unknown>;
  if (typeof task.taskId !== 'string' || typeof task.status !== 'string' || !STATUSES.has(task.status))
    return undefined;
  if (typeof task.createdAt !== 'string' || typeof task.lastUpdatedAt !== 'string') return undefined;
  return task as unknown as ClientTask;
}

/**
 * A Standard Schema for the results of the extension's methods, which the SDK's request() needs for methods it
 * does not know: any object passes (parseTask checks a task's shape).
 */
export const ResultObject: StandardSchemaV1<Record<string, unknown>> = {
  '~standard': {
    version: 1,
    vendor: 'remote-mcp',
    validate: (value) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? { value: value as Record<string, unknown> }
        : { issues: [{ message: 'the result is not an object' }] },
  },
};

/** What a tools/call may come back with when the client declared the extension. */
export type TaskOrResult = { kind: 'task'; task: ClientTask } | { kind: 'result'; result: Record<string, unknown> };

/** Answers a task's input requests (elicitation/create, sampling/createMessage...): the responses by key. */
export type InputRequestsHandler = (
  requests: NonNullable<ClientTask['inputRequests']>,
  task: ClientTask,
) => Promise<Record<string, unknown>> | Record<string, unknown>;

export interface WaitForTaskOptions {
  signal?: AbortSignal;
  /** Called with every state the task is seen in that differs from the last (status or statusMessage). */
  onStatus?: (task: ClientTask) => void;
  /** Answers input requests; without it, a task that asks for input is cancelled and the wait fails. */
  onInputRequests?: InputRequestsHandler;
  /** The poll interval when the task suggests none, in ms. Default 1000. */
  pollIntervalMs?: number;
  /** Polls at least this far apart whatever the task suggests, in ms. Default 50. */
  minPollIntervalMs?: number;
}

/** The client's view of a task that ended other than `completed`. */
export class TaskEndedError extends Error {
  constructor(
    readonly task: ClientTask,
    message: string,
  ) {
    super(message);
    this.name = 'TaskEndedError';
  }
}

/** The complete result RemoteClient hands the SDK in place of a CreateTaskResult. */
export function taskCarrier(createTaskResult: Record<string, unknown>): Record<string, unknown> {
  const { resultType: _resultType, ...task } = createTaskResult;
  return { resultType: 'complete', content: [], _meta: { [TASK_META]: task } };
}

/** The task a result carries, if it carries one. */
export function carriedTask(result: unknown): ClientTask | undefined {
  return parseTask((result as { _meta?: Record<string, unknown> } | undefined)?._meta?.[TASK_META]);
}

/** The requests of the extension's three methods, as RemoteClient sends them. */
export interface TaskRequests {
  get(taskId: string, signal?: AbortSignal): Promise<ClientTask>;
  update(taskId: string, inputResponses: Record<string, unknown>, signal?: AbortSignal): Promise<void>;
  cancel(taskId: string, signal?: AbortSignal): Promise<void>;
}

/**
 * Follows a task until it ends: resolves with the tool's result when it completes; rejects with the task's
 * JSON-RPC error (a ProtocolError) when it failed, with TaskEndedError when it was cancelled or asks for input
 * nobody answers. Aborting the signal cancels the task (tasks/cancel) and rejects.
 */
export async function waitForTask(
  requests: TaskRequests,
  first: ClientTask,
  options: WaitForTaskOptions = {},
): Promise<Record<string, unknown>> {
  const { signal, onStatus, onInputRequests } = options;
  const floor = options.minPollIntervalMs ?? 50;
  let task = first;
  let shown = '';
  const answered = new Set<string>();
  for (;;) {
    const seen = `${task.status}\u0000${task.statusMessage ?? ''}`;
    if (seen !== shown) {
      shown = seen;
      onStatus?.(task);
    }
    if (task.status === 'completed') return task.result ?? { content: [] };
    if (task.status === 'failed')
      throw new ProtocolError(task.error?.code ?? -32603, task.error?.message ?? 'The task failed', task.error?.data);
    if (task.status === 'cancelled') throw new TaskEndedError(task, task.statusMessage ?? 'The task was cancelled');
    if (task.status === 'input_required') {
      // The same requests show up on every poll until answered: each key is answered once.
      const open = Object.fromEntries(Object.entries(task.inputRequests ?? {}).filter(([key]) => !answered.has(key)));
      if (Object.keys(open).length > 0) {
        if (onInputRequests === undefined) {
          await requests.cancel(task.taskId).catch(() => {});
          throw new TaskEndedError(
            task,
            `The task asks for input (${Object.values(open)
              .map((request) => request.method)
              .join(', ')}) and no onInputRequests handler was given; it was cancelled`,
          );
        }
        const responses = await onInputRequests(open, task);
        for (const key of Object.keys(responses)) answered.add(key);
        await requests.update(task.taskId, responses, signal);
        task = await requests.get(task.taskId, signal);
        continue;
      }
    }
    const interval = Math.max(floor, task.pollIntervalMs ?? options.pollIntervalMs ?? 1000);
    try {
      await sleep(interval, signal);
    } catch (error) {
      await requests.cancel(task.taskId).catch(() => {});
      throw error;
    }
    task = await requests.get(task.taskId, signal);
  }
}
