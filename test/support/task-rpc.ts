/** Raw 2026-07-28 requests of the tasks extension, for the tasks tests (one process and cluster). */
import { ENVELOPE, modernHeaders, type OpenStream, openStream, raw } from '../helpers.js';

export const TASKS = 'io.modelcontextprotocol/tasks';
/** The request envelope with the tasks extension declared. */
export const DECLARED = { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { extensions: { [TASKS]: {} } } };

let nextId = 1;

/**
 * One 2026-07-28 request (Mcp-Name from params.taskId or params.name unless `name` says); `declare: false`
 * leaves the extension out of the envelope.
 */
export async function rpc(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: { declare?: boolean; name?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; message: any }> {
  const name =
    options.name ??
    (typeof params.taskId === 'string' ? params.taskId : typeof params.name === 'string' ? params.name : undefined);
  const response = await raw(url, {
    headers: { ...modernHeaders(method, name), ...options.headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: nextId++,
      method,
      params: { ...params, _meta: options.declare === false ? ENVELOPE : DECLARED },
    }),
  });
  return { status: response.status, message: response.json() };
}

/** Polls tasks/get until `done` says so (bounded by `ms`, default 5 s). */
export async function until(
  url: string,
  taskId: string,
  done: (task: any) => boolean,
  headers?: Record<string, string>,
  ms = 5000,
): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { message } = await rpc(url, 'tasks/get', { taskId }, { ...(headers && { headers }) });
    if (done(message.result)) return message.result;
    if (Date.now() > deadline) throw new Error(`task ${taskId} never got there: ${JSON.stringify(message)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Opens subscriptions/listen for notifications/tasks of `taskIds`, the extension declared (request id `id`). */
export function listenToTasks(
  url: string,
  id: string,
  taskIds: string[],
  headers: Record<string, string> = {},
): Promise<OpenStream> {
  return openStream(url, {
    headers: { ...modernHeaders('subscriptions/listen'), ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'subscriptions/listen',
      params: { notifications: { taskIds }, _meta: DECLARED },
    }),
  });
}
