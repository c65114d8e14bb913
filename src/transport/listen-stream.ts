/**
 * `subscriptions/listen` (2026-07-28): a POST whose response is a long-lived SSE stream of list-changed and
 * resource-updated notifications. The first message acknowledges the filter the server honours (what the
 * client asked for, less what the server's capabilities cannot deliver); every message carries the listen
 * request's id as `_meta["io.modelcontextprotocol/subscriptionId"]`. Events come from the event bus, so a
 * notification published on any instance reaches listeners on every instance once the bus is shared. With the
 * tasks extension, `notifications.taskIds` also subscribes to notifications/tasks of the caller's tasks, fed by
 * the task store's own change feed (shared the same way).
 */
import type { ServerResponse } from 'node:http';

import { ERRORS } from '../errors.js';
import { CREDENTIAL_ENDED } from '../security/credential-watch.js';
import type { Identity } from '../security/request-principal.js';
import type { RuntimeContext } from '../server/runtime-context.js';
import { eventNotification, type ServerEvent } from '../state/event-bus.js';
import { writeRpcError } from './http-io.js';
import { storeFailure } from '../state/state-unavailable.js';
import {
  declaresTasks,
  detailedTask,
  missingTasksCapability,
  requestCapabilities,
  type TaskRecord,
} from '../tasks/task-record.js';
import { SseStream } from './sse-stream.js';

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
  /** Tasks whose status changes the client wants as notifications/tasks (the tasks extension). */
  taskIds?: string[];
}

/** Task ids one subscription may name at most. */
export const MAX_LISTEN_TASK_IDS = 1000;

/** The requested filter, or undefined when it is not a valid SubscriptionFilter. */
export function parseFilter(params: Record<string, unknown> | undefined): ListenFilter | undefined {
  const raw = params?.notifications;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const filter = raw as Record<string, unknown>;
  for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    if (filter[key] !== undefined && typeof filter[key] !== 'boolean') return undefined;
  }
  const uris = filter.resourceSubscriptions;
  if (uris !== undefined && (!Array.isArray(uris) || uris.some((uri) => typeof uri !== 'string'))) return undefined;
  const taskIds = filter.taskIds;
  if (
    taskIds !== undefined &&
    (!Array.isArray(taskIds) || taskIds.length > MAX_LISTEN_TASK_IDS || taskIds.some((id) => typeof id !== 'string'))
  )
    return undefined;
  return filter as ListenFilter;
}

/** What of `requested` the server's capabilities can deliver. */
export function honoredFilter(
  requested: ListenFilter,
  capabilities: RuntimeContext['modern']['capabilities'],
): ListenFilter {
  const honored: ListenFilter = {};
  if (requested.toolsListChanged === true && capabilities.tools?.listChanged === true) honored.toolsListChanged = true;
  if (requested.promptsListChanged === true && capabilities.prompts?.listChanged === true)
    honored.promptsListChanged = true;
  if (requested.resourcesListChanged === true && capabilities.resources?.listChanged === true)
    honored.resourcesListChanged = true;
  if (
    requested.resourceSubscriptions !== undefined &&
    requested.resourceSubscriptions.length > 0 &&
    capabilities.resources?.subscribe === true
  ) {
    honored.resourceSubscriptions = [...requested.resourceSubscriptions];
  }
  return honored;
}

export function filterAccepts(filter: ListenFilter, event: ServerEvent): boolean {
  switch (event.kind) {
    case 'tools_list_changed':
      return filter.toolsListChanged === true;
    case 'prompts_list_changed':
      return filter.promptsListChanged === true;
    case 'resources_list_changed':
      return filter.resourcesListChanged === true;
    case 'resource_updated':
      return filter.resourceSubscriptions?.includes(event.uri) === true;
  }
}

export const INVALID_FILTER = `Invalid params: 'notifications' is required and must be a SubscriptionFilter (taskIds: at most ${MAX_LISTEN_TASK_IDS} strings)`;

/** A notification tagged with the subscription it belongs to. */
export function stampSubscription(
  message: { jsonrpc: '2.0'; method: string; params: Record<string, unknown> },
  subscriptionId: string | number,
) {
  return { ...message, params: { ...message.params, _meta: { [SUBSCRIPTION_ID]: subscriptionId } } };
}

/** The listen request's result, which ends a subscription gracefully. */
export function listenResult(runtime: RuntimeContext, subscriptionId: string | number) {
  const meta = {
    [SUBSCRIPTION_ID]: subscriptionId,
    ...(runtime.modern.serverInfo && { [SERVER_INFO]: runtime.modern.serverInfo }),
  };
  return { jsonrpc: '2.0' as const, id: subscriptionId, result: { resultType: 'complete', _meta: meta } };
}

/** The acknowledgement that opens a subscription. */
export function listenAck(honored: ListenFilter, subscriptionId: string | number) {
  return stampSubscription(
    { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored } },
    subscriptionId,
  );
}

export function serveListen(
  runtime: RuntimeContext,
  res: ServerResponse,
  request: { id: string | number; params?: Record<string, unknown> },
  identity: Identity | undefined,
  clientIp: string,
): void {
  const requested = parseFilter(request.params);
  if (requested === undefined) {
    writeRpcError(res, 200, -32602, INVALID_FILTER, request.id);
    return;
  }
  if ((requested.taskIds ?? []).length === 0 || runtime.tasks === undefined) {
    openListen(runtime, res, request, identity, clientIp, honoredFilter(requested, runtime.modern.capabilities));
    return;
  }
  honoredTaskFilter(runtime, request, identity?.key, requested).then(
    (honored) => {
      if ('error' in honored) {
        const { code, message, data } = honored.error;
        writeRpcError(res, 400, code, message, request.id, data);
      } else openListen(runtime, res, request, identity, clientIp, honored);
    },
    (error: unknown) => {
      const spec = ERRORS[storeFailure(error, runtime.options.onError)];
      writeRpcError(res, spec.status, spec.rpcCode, spec.message, request.id);
    },
  );
}

/**
 * The honoured filter of a subscription that names taskIds: only the tasks that exist and belong to `owner`
 * (the others are left out of the acknowledgement); the -32021 answer when the request did not declare the
 * tasks extension.
 */
export async function honoredTaskFilter(
  runtime: RuntimeContext,
  request: { id: string | number; params?: Record<string, unknown> },
  owner: string | undefined,
  requested: ListenFilter,
): Promise<ListenFilter | ReturnType<typeof missingTasksCapability>> {
  if (!declaresTasks(requestCapabilities(request.params)))
    return missingTasksCapability(request.id, 'subscribing to task status notifications');
  const honored = honoredFilter(requested, runtime.modern.capabilities);
  const tasks = runtime.tasks;
  if (tasks === undefined) return honored;
  const records = await Promise.all([...new Set(requested.taskIds)].map((id) => tasks.read(id, owner)));
  const known = records.flatMap((record) => (record === undefined ? [] : [record.taskId]));
  if (known.length > 0) honored.taskIds = known;
  return honored;
}

/**
 * Sends notifications/tasks for the honoured task ids, each with the DetailedTask as tasks/get would answer it
 * at that moment: first each task as it is now (read once the watch is on, so no change falls in between, and
 * skipped for a task whose change arrived first), then every change a client can see. Returns the function that
 * stops it.
 */
export function watchTasks(
  runtime: RuntimeContext,
  honored: ListenFilter,
  owner: string | undefined,
  send: (notification: { jsonrpc: '2.0'; method: string; params: Record<string, unknown> }) => void,
): () => void {
  const tasks = runtime.tasks;
  if (honored.taskIds === undefined || tasks === undefined) return () => {};
  const watched = new Set(honored.taskIds);
  /** What was last sent per task: a write that changes nothing a client sees (answers taken off it) sends nothing. */
  const sent = new Map<string, string>();
  let stopped = false;
  const notify = (record: TaskRecord) => {
    const seen = `${record.status}\u0000${record.lastUpdatedAt}\u0000${record.statusMessage ?? ''}`;
    if (sent.get(record.taskId) === seen) return;
    sent.set(record.taskId, seen);
    send({ jsonrpc: '2.0', method: 'notifications/tasks', params: detailedTask(record) });
  };
  const unsubscribe = tasks.store.subscribe((record) => {
    if (!stopped && watched.has(record.taskId) && record.owner === owner) notify(record);
  });
  Promise.all([...watched].map((id) => tasks.read(id, owner))).then(
    (records) => {
      for (const record of records) if (!stopped && record !== undefined && !sent.has(record.taskId)) notify(record);
    },
    (error: unknown) => runtime.options.onError(error as Error),
  );
  return () => {
    stopped = true;
    unsubscribe();
  };
}

function openListen(
  runtime: RuntimeContext,
  res: ServerResponse,
  request: { id: string | number; params?: Record<string, unknown> },
  identity: Identity | undefined,
  clientIp: string,
  honored: ListenFilter,
): void {
  const subscriptionId = request.id;
  const stamp = (message: { jsonrpc: '2.0'; method: string; params: Record<string, unknown> }) =>
    stampSubscription(message, subscriptionId);
  const closing = listenResult(runtime, subscriptionId);

  let stream: SseStream | undefined;
  let unsubscribe: (() => void) | undefined;
  const end = (retryMs?: number) => {
    // Graceful end (server closing, or nothing to deliver): the listen request's result closes the stream.
    stream?.send(closing);
    stream?.end(retryMs);
  };
  if (!runtime.streams.add(end, 'listen')) {
    writeRpcError(
      res,
      200,
      -32603,
      `Subscription limit reached (maxStreams ${runtime.options.maxStreams})`,
      request.id,
    );
    return;
  }
  stream = new SseStream(res, {
    keepAliveMs: runtime.options.keepAliveMs,
    maxBufferedBytes: runtime.options.maxStreamBufferBytes,
  });
  const open = stream;
  // The subscription must not outlive the credential it was opened with: its expiry or revocation answers the
  // listen request with an error (the client re-authenticates to listen again) and ends the stream.
  const release = runtime.credentials.watch(
    identity,
    { kind: 'listen', transport: 'http', era: 'modern', clientIp },
    (reason) => {
      open.send({
        jsonrpc: '2.0',
        id: subscriptionId,
        error: { code: ERRORS.AUTH_INVALID.rpcCode, message: CREDENTIAL_ENDED[reason].message },
      });
      open.end();
    },
  );
  let unwatchTasks: (() => void) | undefined;
  stream.onClose(() => {
    runtime.streams.delete(end);
    unsubscribe?.();
    unwatchTasks?.();
    release();
  });
  stream.send(listenAck(honored, subscriptionId));
  if (Object.keys(honored).length === 0) {
    end();
    return;
  }
  unsubscribe = runtime.bus.subscribe((event) => {
    if (filterAccepts(honored, event)) open.send(stamp(eventNotification(event)));
  });
  unwatchTasks = watchTasks(runtime, honored, identity?.key, (notification) => open.send(stamp(notification)));
}
