/**
 * A task of the io.modelcontextprotocol/tasks extension as remote-mcp stores it, and the wire shapes built from
 * it (CreateTaskResult, the DetailedTask of tasks/get and notifications/tasks). A record is plain JSON so that a
 * store can keep it anywhere (in memory, in Redis) and any instance can answer for it.
 */
import { randomFillSync } from 'node:crypto';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
export type TaskSupport = 'forbidden' | 'optional' | 'required';

/** A server-to-client request the task waits on (elicitation/create, sampling/createMessage, roots/list...). */
export interface InputRequest {
  method: string;
  params?: Record<string, unknown>;
}

export interface TaskError {
  code: number;
  message: string;
  data?: unknown;
}

export interface TaskRecord {
  readonly taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  lastUpdatedAt: string;
  /** The task and its result are kept this long from creation (integer milliseconds). */
  readonly ttlMs: number;
  readonly pollIntervalMs: number;
  /** The principal key that created it; undefined without auth (then the unguessable id is the only key). */
  readonly owner?: string;
  /** The tool the task runs. */
  readonly tool: string;
  /** The instance running it, and until when (ms since the epoch) its lease holds. */
  instance: string;
  leaseUntil: number;
  /** Outstanding input requests by key (status input_required). */
  inputRequests?: Record<string, InputRequest>;
  /** Answers that arrived through tasks/update and that the running instance has not taken yet. */
  inputResponses?: Record<string, unknown>;
  /** Every key ever issued for this task: a key is never reused (the extension requires it). */
  issuedKeys?: string[];
  result?: Record<string, unknown>;
  error?: TaskError;
}

export const TERMINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

export const isTerminal = (record: TaskRecord): boolean => TERMINAL.has(record.status);

const ID_BYTES = 18;
/** Random bytes for 256 ids, refilled when used up: one system call per 256 ids instead of one per id. */
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

/** 144 random bits, base64url: a task id is a bearer token for its state, so it must not be guessable. */
export function newTaskId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('base64url', idOffset, idOffset + ID_BYTES);
  idOffset += ID_BYTES;
  return id;
}

/** The milliseconds since the epoch at which a record may be discarded. */
export function expiresAt(record: TaskRecord): number {
  return Date.parse(record.createdAt) + record.ttlMs;
}

/** The Task fields every shape shares. */
function taskFields(record: TaskRecord): Record<string, unknown> {
  return {
    taskId: record.taskId,
    status: record.status,
    ...(record.statusMessage !== undefined && { statusMessage: record.statusMessage }),
    createdAt: record.createdAt,
    lastUpdatedAt: record.lastUpdatedAt,
    ttlMs: record.ttlMs,
    pollIntervalMs: record.pollIntervalMs,
  };
}

/** The answer to the tools/call that created the task: `Result & Task`, flat, with resultType "task". */
export function createTaskResult(record: TaskRecord): Record<string, unknown> {
  return { resultType: 'task', ...taskFields(record) };
}

/** The DetailedTask: the Task with what its status carries (inputRequests, result or error). */
export function detailedTask(record: TaskRecord): Record<string, unknown> {
  const detailed = taskFields(record);
  if (record.status === 'input_required') detailed.inputRequests = record.inputRequests ?? {};
  if (record.status === 'completed' && record.result !== undefined) detailed.result = record.result;
  if (record.status === 'failed' && record.error !== undefined) detailed.error = record.error;
  return detailed;
}

/** The client capabilities a 2026-07-28 request declares in its envelope. */
export function requestCapabilities(params: unknown): unknown {
  return (params as { _meta?: Record<string, unknown> } | undefined)?._meta?.[
    'io.modelcontextprotocol/clientCapabilities'
  ];
}

/** Whether a request's declared client capabilities include the tasks extension. */
export function declaresTasks(capabilities: unknown): boolean {
  const extensions = (capabilities as { extensions?: unknown } | undefined)?.extensions;
  return (
    extensions !== null &&
    typeof extensions === 'object' &&
    (extensions as Record<string, unknown>)[TASKS_EXTENSION] !== undefined
  );
}

/** The -32021 error of a request that needs the extension and did not declare it. */
export function missingTasksCapability(id: string | number, what: string) {
  return {
    jsonrpc: '2.0' as const,
    id,
    error: {
      code: -32021,
      message: `Missing required client capability: ${what} needs the ${TASKS_EXTENSION} extension, which this request did not declare`,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    },
  };
}
