/**
 * Tasks (the io.modelcontextprotocol/tasks extension) in one process: the wire shapes and statuses, input
 * requests through tasks/update, cancellation reaching the handler, ownership by principal, the limits, ttlMs,
 * notifications/tasks on subscriptions/listen (HTTP and WebSocket), both eras through remote-mcp/client (the
 * official SDK v2 client) on every transport, and `remote-mcp call --task`.
 */
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';

import { connect } from '../src/client/index.js';
import { createRemoteServer, InMemoryTaskStore, registerTaskTool, type RemoteServerOptions } from '../src/index.js';
import createTaskServer from './fixtures/task-server.js';
import {
  ENVELOPE,
  LEGACY_HEADERS,
  connectWebSocket,
  initializeBody,
  modernHeaders,
  openSession,
  raw,
  sessionHeaders,
  sseMessages,
  start,
  untilServing,
  withServer,
  withTimeout,
  type Started,
} from './helpers.js';
import { CLI, runCli } from './support/run-cli.js';
import { DECLARED, listenToTasks, rpc, TASKS, until } from './support/task-rpc.js';

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const taskServer = (options: Partial<RemoteServerOptions> = {}) =>
  start({ server: createTaskServer, ...options } as Partial<RemoteServerOptions>);

const byUser = (user: string) => ({ 'x-user': user });
const userAuth = {
  auth: {
    authenticate: (req: IncomingMessage) => {
      const user = req.headers['x-user'];
      return typeof user === 'string' ? { kind: 'custom' as const, subject: user, scopes: [] } : undefined;
    },
  },
};

test('a task tool answers CreateTaskResult, tasks/get follows it, and the result is inlined once completed', async () => {
  const s = await taskServer();
  try {
    const created = await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 150 } });
    assert.equal(created.status, 200);
    const task = created.message.result;
    assert.deepEqual(Object.keys(task).sort(), [
      'createdAt',
      'lastUpdatedAt',
      'pollIntervalMs',
      'resultType',
      'status',
      'taskId',
      'ttlMs',
    ]);
    assert.equal(task.resultType, 'task');
    assert.equal(task.status, 'working');
    assert.equal(task.ttlMs, 3_600_000);
    assert.equal(task.pollIntervalMs, 50);
    assert.match(task.taskId, /^[A-Za-z0-9_-]{24}$/);
    // Durable before the answer: the very next tasks/get finds it.
    const working = await rpc(s.url, 'tasks/get', { taskId: task.taskId });
    assert.equal(working.status, 200);
    assert.equal(working.message.result.resultType, 'complete');
    assert.equal(working.message.result.status, 'working');
    assert.equal(working.message.result.result, undefined);
    const done = await until(s.url, task.taskId, (t) => t.status === 'completed');
    assert.match(done.result.content[0].text, /^worked 150 ms on \d+$/);
    assert.equal(done.statusMessage, `working on ${process.pid}`);
    assert.equal(done.createdAt, task.createdAt);
    assert.ok(Date.parse(done.lastUpdatedAt) >= Date.parse(task.createdAt));
  } finally {
    await s.close();
  }
});

test('tool errors complete with isError; JSON-RPC errors fail the task with the error inlined', async () => {
  const s = await taskServer();
  try {
    const oops = (await rpc(s.url, 'tools/call', { name: 'oops' })).message.result;
    const oopsDone = await until(s.url, oops.taskId, (t) => t.status !== 'working');
    assert.equal(oopsDone.status, 'completed');
    assert.deepEqual(oopsDone.result, { content: [{ type: 'text', text: 'oops on purpose' }], isError: true });
    const crash = (await rpc(s.url, 'tools/call', { name: 'crash' })).message.result;
    const crashed = await until(s.url, crash.taskId, (t) => t.status !== 'working');
    assert.equal(crashed.status, 'failed');
    assert.deepEqual(crashed.error, { code: -32001, message: 'crashed on purpose', data: { pid: process.pid } });
    assert.equal(crashed.statusMessage, 'crashed on purpose');
    assert.equal('result' in crashed, false);
    const refuse = (await rpc(s.url, 'tools/call', { name: 'refuse' })).message.result;
    const refused = await until(s.url, refuse.taskId, (t) => t.status !== 'working');
    assert.equal(refused.status, 'failed');
    assert.deepEqual(refused.error, { code: -32602, message: 'refused on purpose' });
  } finally {
    await s.close();
  }
});

test('input requests: input_required with the requests, partial and unknown answers acked, resumed to the end', async () => {
  const s = await taskServer();
  try {
    const one = (await rpc(s.url, 'tools/call', { name: 'ask' })).message.result;
    const asking = await until(s.url, one.taskId, (t) => t.status === 'input_required');
    assert.deepEqual(asking.inputRequests, {
      'elicitation-1': {
        method: 'elicitation/create',
        params: {
          mode: 'form',
          message: 'Your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        },
      },
    });
    const ignored = await rpc(s.url, 'tasks/update', {
      taskId: one.taskId,
      inputResponses: { nope: { action: 'accept' } },
    });
    assert.deepEqual(ignored.message.result, { resultType: 'complete' });
    assert.equal((await rpc(s.url, 'tasks/get', { taskId: one.taskId })).message.result.status, 'input_required');
    const answered = await rpc(s.url, 'tasks/update', {
      taskId: one.taskId,
      inputResponses: { 'elicitation-1': { action: 'accept', content: { name: 'Ada' } } },
    });
    assert.deepEqual(answered.message.result, { resultType: 'complete' });
    const done = await until(s.url, one.taskId, (t) => t.status === 'completed');
    assert.equal(done.result.content[0].text, 'hello Ada');

    const two = (await rpc(s.url, 'tools/call', { name: 'pair' })).message.result;
    const both = await until(s.url, two.taskId, (t) => Object.keys(t.inputRequests ?? {}).length === 2);
    assert.deepEqual(Object.keys(both.inputRequests).sort(), ['first', 'second']);
    await rpc(s.url, 'tasks/update', {
      taskId: two.taskId,
      inputResponses: { first: { action: 'accept', content: { name: 'a' } } },
    });
    const half = (await rpc(s.url, 'tasks/get', { taskId: two.taskId })).message.result;
    assert.equal(half.status, 'input_required');
    assert.deepEqual(Object.keys(half.inputRequests), ['second']);
    await rpc(s.url, 'tasks/update', {
      taskId: two.taskId,
      inputResponses: { second: { action: 'accept', content: { name: 'b' } } },
    });
    const pair = await until(s.url, two.taskId, (t) => t.status === 'completed');
    assert.deepEqual(JSON.parse(pair.result.content[0].text), {
      first: { action: 'accept', content: { name: 'a' } },
      second: { action: 'accept', content: { name: 'b' } },
    });
  } finally {
    await s.close();
  }
});

test('tasks/cancel stops the handler (its signal fires), settles cancelled, and is idempotent', async () => {
  const s = await taskServer();
  try {
    const stats = async () =>
      JSON.parse((await rpc(s.url, 'tools/call', { name: 'stats' })).message.result.content[0].text).aborted;
    const before = await stats();
    const task = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    await until(s.url, task.taskId, (t) => t.statusMessage !== undefined);
    const ack = await rpc(s.url, 'tasks/cancel', { taskId: task.taskId });
    assert.deepEqual(ack.message.result, { resultType: 'complete' });
    const cancelled = (await rpc(s.url, 'tasks/get', { taskId: task.taskId })).message.result;
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.statusMessage, 'Cancelled by the client');
    assert.equal(await stats(), before + 1);
    assert.deepEqual((await rpc(s.url, 'tasks/cancel', { taskId: task.taskId })).message.result, {
      resultType: 'complete',
    });
  } finally {
    await s.close();
  }
});

test('errors: unknown task -32602, undeclared -32021 (400, with data), removed methods -32601, Mcp-Name checked', async () => {
  const s = await taskServer();
  try {
    const unknown = await rpc(s.url, 'tasks/get', { taskId: 'no-such-task' });
    assert.equal(unknown.status, 200);
    assert.equal(unknown.message.error.code, -32602);
    assert.match(unknown.message.error.message, /no such task/);
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      const refused = await rpc(s.url, method, { taskId: 'x', inputResponses: {} }, { declare: false });
      assert.equal(refused.status, 400, method);
      assert.equal(refused.message.error.code, -32021, method);
      assert.deepEqual(refused.message.error.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });
    }
    const required = await rpc(s.url, 'tools/call', { name: 'must' }, { declare: false });
    assert.equal(required.status, 400);
    assert.equal(required.message.error.code, -32021);
    assert.deepEqual(required.message.error.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });
    // An optional task tool called without the extension runs inline.
    const inline = await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 1 } }, { declare: false });
    assert.equal(inline.message.result.resultType, 'complete');
    assert.match(inline.message.result.content[0].text, /^worked 1 ms/);
    for (const method of ['tasks/result', 'tasks/list']) {
      const removed = await rpc(s.url, method, { taskId: 'x' });
      assert.equal(removed.status, 404, method);
      assert.equal(removed.message.error.code, -32601, method);
    }
    const mismatch = await rpc(s.url, 'tasks/get', { taskId: 'abc' }, { name: 'other' });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.message.error.code, -32020);
    const noName = await raw(s.url, {
      headers: modernHeaders('tasks/get'),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { taskId: 'abc', _meta: DECLARED } }),
    });
    assert.equal(noName.status, 400);
    assert.equal(noName.json().error.code, -32020);
    const badId = await rpc(s.url, 'tasks/get', { taskId: 42 }, { name: '42' });
    assert.equal(badId.message.error.code, -32602);
    const badResponses = await rpc(s.url, 'tasks/update', { taskId: 'abc', inputResponses: [1] });
    assert.equal(badResponses.message.error.code, -32602);
  } finally {
    await s.close();
  }
});

test("a task belongs to its principal: another principal's tasks/get, update, cancel and listen see no such task", async () => {
  const s = await taskServer(userAuth);
  try {
    const task = (await rpc(s.url, 'tools/call', { name: 'ask' }, { headers: byUser('alice') })).message.result;
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      const other = await rpc(s.url, method, { taskId: task.taskId, inputResponses: {} }, { headers: byUser('bob') });
      assert.equal(other.message.error.code, -32602, method);
    }
    const stream = await listenToTasks(s.url, 'bob-listen', [task.taskId], byUser('bob'));
    const ack = await stream.waitFor((e) => e.message?.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.message.params.notifications, {});
    stream.destroy();
    const mine = await rpc(s.url, 'tasks/get', { taskId: task.taskId }, { headers: byUser('alice') });
    assert.equal(mine.message.result.taskId, task.taskId);
  } finally {
    await s.close();
  }
});

test('limits: maxTasksPerPrincipal and maxTasks refuse new tasks with -32029 until one ends', async () => {
  const s = await taskServer({ ...userAuth, tasks: { maxTasksPerPrincipal: 1, maxTasks: 2 } });
  try {
    const first = (await rpc(s.url, 'tools/call', { name: 'ask' }, { headers: byUser('a') })).message.result;
    const second = await rpc(s.url, 'tools/call', { name: 'ask' }, { headers: byUser('a') });
    assert.equal(second.message.error.code, -32029);
    assert.match(second.message.error.message, /tasks\.maxTasksPerPrincipal \(1\)/);
    const other = (await rpc(s.url, 'tools/call', { name: 'ask' }, { headers: byUser('b') })).message.result;
    const third = await rpc(s.url, 'tools/call', { name: 'ask' }, { headers: byUser('c') });
    assert.equal(third.message.error.code, -32029);
    assert.match(third.message.error.message, /tasks\.maxTasks \(2\)/);
    await rpc(s.url, 'tasks/cancel', { taskId: first.taskId }, { headers: byUser('a') });
    const again = await rpc(s.url, 'tools/call', { name: 'ask' }, { headers: byUser('a') });
    assert.equal(again.message.result.resultType, 'task');
    await rpc(s.url, 'tasks/cancel', { taskId: other.taskId }, { headers: byUser('b') });
  } finally {
    await s.close();
  }
});

test('ttlMs: a task is kept that long from creation, then unknown; one still running is stopped', async () => {
  const s = await taskServer({ tasks: { defaultTtlMs: 1000 } });
  try {
    const quick = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 1 } })).message.result;
    assert.equal(quick.ttlMs, 1000);
    const slow = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    await until(s.url, quick.taskId, (t) => t.status === 'completed');
    await sleep(1100);
    for (const taskId of [quick.taskId, slow.taskId]) {
      const gone = await rpc(s.url, 'tasks/get', { taskId });
      assert.equal(gone.message.error.code, -32602);
    }
    const stats = JSON.parse((await rpc(s.url, 'tools/call', { name: 'stats' })).message.result.content[0].text);
    assert.ok(stats.aborted >= 1);
  } finally {
    await s.close();
  }
});

test('a result over tasks.maxResultBytes fails the task instead of being stored', async () => {
  const s = await taskServer({ tasks: { maxResultBytes: 2048 } });
  try {
    const task = (await rpc(s.url, 'tools/call', { name: 'big', arguments: { bytes: 4096 } })).message.result;
    const failed = await until(s.url, task.taskId, (t) => t.status !== 'working');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error.code, -32603);
    assert.match(failed.error.message, /tasks\.maxResultBytes \(2048 bytes\)/);
  } finally {
    await s.close();
  }
});

test('notifications/tasks on subscriptions/listen: each status as a DetailedTask, the result inlined', async () => {
  const s = await taskServer();
  try {
    const task = (await rpc(s.url, 'tools/call', { name: 'ask' })).message.result;
    const stream = await listenToTasks(s.url, 'tasks-1', [task.taskId, 'unknown-task']);
    const ack = await stream.waitFor((e) => e.message?.method === 'notifications/subscriptions/acknowledged');
    assert.deepEqual(ack.message.params.notifications, { taskIds: [task.taskId] });
    const asking = await stream.waitFor((e) => e.message?.params?.status === 'input_required');
    assert.equal(asking.message.method, 'notifications/tasks');
    assert.equal(asking.message.params.taskId, task.taskId);
    assert.deepEqual(Object.keys(asking.message.params.inputRequests), ['elicitation-1']);
    assert.equal(asking.message.params._meta[SUBSCRIPTION_ID], 'tasks-1');
    await rpc(s.url, 'tasks/update', {
      taskId: task.taskId,
      inputResponses: { 'elicitation-1': { action: 'accept', content: { name: 'Lin' } } },
    });
    const done = await stream.waitFor((e) => e.message?.params?.status === 'completed');
    assert.deepEqual(done.message.params.result, { content: [{ type: 'text', text: 'hello Lin' }] });
    stream.destroy();

    const refused = await raw(s.url, {
      headers: modernHeaders('subscriptions/listen'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'subscriptions/listen',
        params: { notifications: { taskIds: [task.taskId] }, _meta: ENVELOPE },
      }),
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().error.code, -32021);
  } finally {
    await s.close();
  }
});

test('over WebSocket: a task created, followed by listen notifications and tasks/get on the socket', async () => {
  const s = await taskServer();
  try {
    const socket = await connectWebSocket(s.url);
    try {
      socket.send({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'work', arguments: { ms: 100 }, _meta: DECLARED },
      });
      const created = await socket.waitFor((m) => m.id === 1, 'the CreateTaskResult');
      const taskId = created.result.taskId;
      assert.equal(created.result.resultType, 'task');
      socket.send({
        jsonrpc: '2.0',
        id: 2,
        method: 'subscriptions/listen',
        params: { notifications: { taskIds: [taskId] }, _meta: DECLARED },
      });
      const ack = await socket.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged', 'the ack');
      assert.deepEqual(ack.params.notifications, { taskIds: [taskId] });
      const done = await socket.waitFor(
        (m) => m.method === 'notifications/tasks' && m.params.status === 'completed',
        'the completed notification',
      );
      assert.match(done.params.result.content[0].text, /^worked 100 ms/);
      socket.send({ jsonrpc: '2.0', id: 3, method: 'tasks/get', params: { taskId, _meta: DECLARED } });
      const got = await socket.waitFor((m) => m.id === 3, 'tasks/get');
      assert.equal(got.result.status, 'completed');
      socket.send({
        jsonrpc: '2.0',
        id: 4,
        method: 'subscriptions/listen',
        params: { notifications: { taskIds: [taskId] }, _meta: ENVELOPE },
      });
      const refused = await socket.waitFor((m) => m.id === 4, 'the refused listen');
      assert.equal(refused.error.code, -32021);
      assert.deepEqual(refused.error.data, { requiredCapabilities: { extensions: { [TASKS]: {} } } });
    } finally {
      socket.ws.close();
    }
  } finally {
    await s.close();
  }
});

test('a 2025-era session: the extension in initialize capabilities makes task tools tasks; without it, -32021', async () => {
  const s = await taskServer();
  try {
    const open = (capabilities: Record<string, unknown>) => openSession(s.url, '2025-11-25', capabilities);
    const post = async (session: string, id: number, method: string, params: Record<string, unknown>) => {
      const response = await raw(s.url, {
        headers: sessionHeaders(session),
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      });
      const streamed = String(response.headers['content-type']).startsWith('text/event-stream');
      return streamed ? sseMessages(response.body).find((m) => m.id === id) : response.json();
    };
    const declared = await open({ extensions: { [TASKS]: {} } });
    const init = await raw(s.url, { headers: LEGACY_HEADERS, body: initializeBody('2025-11-25', {}) });
    assert.deepEqual(init.json().result.capabilities.extensions, { [TASKS]: {} });
    const created = await post(declared, 2, 'tools/call', { name: 'work', arguments: { ms: 10 } });
    assert.equal(created.result.resultType, 'task');
    let got: any;
    for (let i = 0; i < 100; i++) {
      got = await post(declared, 3, 'tasks/get', { taskId: created.result.taskId });
      if (got.result?.status === 'completed') break;
      await sleep(20);
    }
    assert.equal(got.result.status, 'completed');
    const plain = await open({});
    const refused = await post(plain, 2, 'tools/call', { name: 'must' });
    assert.equal(refused.error.code, -32021);
    const gated = await post(plain, 3, 'tasks/get', { taskId: created.result.taskId });
    assert.equal(gated.error.code, -32021);
  } finally {
    await s.close();
  }
});

test('remote-mcp/client on every wire and era: callTool follows a task to its result, callToolAsTask hands it over', async () => {
  await withServer({ server: createTaskServer }, async (s: Started) => {
    const ws = s.url.replace('http://', 'ws://');
    const sse = `${new URL(s.url).origin}/sse`;
    const cases: Array<[string, string, Parameters<typeof connect>[1]]> = [
      ['2026-07-28 HTTP', s.url, { protocol: 'modern' }],
      ['2025-era HTTP session', s.url, { protocol: 'legacy' }],
      ['HTTP+SSE', sse, {}],
      ['WebSocket 2026-07-28', ws, { protocol: 'modern' }],
      ['WebSocket 2025-era', ws, { protocol: 'legacy' }],
    ];
    for (const [label, url, options] of cases) {
      const client = await connect(url, {
        ...options,
        onInputRequests: (requests) =>
          Object.fromEntries(Object.keys(requests).map((key) => [key, { action: 'accept', content: { name: 'Kim' } }])),
      });
      try {
        const result = await client.callTool({ name: 'ask', arguments: {} });
        assert.deepEqual(result.content, [{ type: 'text', text: 'hello Kim' }], label);
        const handed = await client.callToolAsTask({ name: 'work', arguments: { ms: 50 } });
        assert.equal(handed.kind, 'task', label);
        if (handed.kind !== 'task') continue;
        const statuses: string[] = [];
        const final = await client.waitForTask(handed.task.taskId, { onStatus: (task) => statuses.push(task.status) });
        assert.match(String((final.content as any)[0].text), /^worked 50 ms/, label);
        assert.equal(statuses.at(-1), 'completed', label);
        await assert.rejects(client.callTool({ name: 'crash', arguments: {} }), (error: any) => {
          assert.equal(error.code, -32001, label);
          assert.match(error.message, /crashed on purpose/);
          return true;
        });
      } finally {
        await client.close();
      }
    }
    // A client with tasks off: an optional task tool runs inline, a required one is refused.
    const inline = await connect(s.url, { tasks: false });
    try {
      const result = await inline.callTool({ name: 'work', arguments: { ms: 1 } });
      assert.match(String((result.content as any)[0].text), /^worked 1 ms/);
      await assert.rejects(inline.callTool({ name: 'must', arguments: {} }), (error: any) => error.code === -32021);
    } finally {
      await inline.close();
    }
  });
});

test('the client cancels a task when its wait is aborted, and fails one that asks for input nobody answers', async () => {
  await withServer({ server: createTaskServer }, async (s: Started) => {
    const client = await connect(s.url);
    try {
      const handed = await client.callToolAsTask({ name: 'work', arguments: { ms: 60_000 } });
      assert.equal(handed.kind, 'task');
      if (handed.kind !== 'task') return;
      const abort = new AbortController();
      setTimeout(() => abort.abort(new Error('enough')), 100);
      await assert.rejects(client.waitForTask(handed.task, { signal: abort.signal }), /enough/);
      assert.equal((await client.getTask(handed.task.taskId)).status, 'cancelled');
      await assert.rejects(client.callTool({ name: 'ask', arguments: {} }), /asks for input \(elicitation\/create\)/);
    } finally {
      await client.close();
    }
  });
});

test('shutdown gives running tasks the rest of the drain, then fails them; a server sharing the store reads both', async () => {
  const store = new InMemoryTaskStore();
  const a = await taskServer({ tasks: { store }, drainTimeoutMs: 1000 });
  const b = await taskServer({ tasks: { store } });
  try {
    const quick = (await rpc(a.url, 'tools/call', { name: 'work', arguments: { ms: 300 } })).message.result;
    const long = (await rpc(a.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    assert.equal((await rpc(b.url, 'tasks/get', { taskId: long.taskId })).message.result.status, 'working');
    await a.close();
    const finished = (await rpc(b.url, 'tasks/get', { taskId: quick.taskId })).message.result;
    assert.equal(finished.status, 'completed');
    assert.match(finished.result.content[0].text, /^worked 300 ms/);
    const failed = (await rpc(b.url, 'tasks/get', { taskId: long.taskId })).message.result;
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { code: -32603, message: 'The server shut down before the task finished' });
  } finally {
    await b.close();
    await store.close();
  }
});

test('metrics: mcp_tasks_total by tool and status, mcp_tasks_running', async () => {
  const s = await taskServer({ metrics: true });
  try {
    const done = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 1 } })).message.result;
    await until(s.url, done.taskId, (t) => t.status === 'completed');
    const running = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    await rpc(s.url, 'tasks/cancel', { taskId: running.taskId });
    const crash = (await rpc(s.url, 'tools/call', { name: 'crash' })).message.result;
    await until(s.url, crash.taskId, (t) => t.status === 'failed');
    const again = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    const text = (await raw(`${new URL(s.url).origin}/metrics`, { method: 'GET' })).body;
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('mcp_tasks_total{tool="work",status="created"}'), 3);
    assert.equal(value('mcp_tasks_total{tool="work",status="completed"}'), 1);
    assert.equal(value('mcp_tasks_total{tool="work",status="cancelled"}'), 1);
    assert.equal(value('mcp_tasks_total{tool="crash",status="failed"}'), 1);
    assert.equal(value('mcp_tasks_running'), 1);
    await rpc(s.url, 'tasks/cancel', { taskId: again.taskId });
  } finally {
    await s.close();
  }
});

test('a task whose instance stopped renewing its lease is failed by the next reader, not left working', async () => {
  const store = new InMemoryTaskStore();
  const b = await taskServer({ tasks: { store, leaseMs: 300 } });
  try {
    const now = new Date().toISOString();
    // The record an instance that died mid-task leaves behind: working, its lease over.
    await store.create(
      {
        taskId: 'orphan-task-id',
        status: 'working',
        createdAt: now,
        lastUpdatedAt: now,
        ttlMs: 60_000,
        pollIntervalMs: 1000,
        tool: 'work',
        instance: 'an-instance-that-died',
        leaseUntil: Date.now() - 1,
      },
      { maxTasks: 10, maxTasksPerPrincipal: 10 },
    );
    const read = (await rpc(b.url, 'tasks/get', { taskId: 'orphan-task-id' })).message.result;
    assert.equal(read.status, 'failed');
    assert.equal(read.error.code, -32603);
    assert.match(read.error.message, /stopped before it finished \(its lease of 300 ms ran out\)/);
  } finally {
    await b.close();
    await store.close();
  }
});

test('remote-mcp call --task shows the task id and each status on stderr, then the result; a failed task exits 1', async () => {
  await withServer({ server: createTaskServer }, async (s: Started) => {
    const run = await withTimeout(runCli(['call', s.url, 'work', '--arg', 'ms=100', '--task']), 20_000, 'call --task');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^worked 100 ms on \d+\n$/);
    assert.match(run.stderr, /^task [A-Za-z0-9_-]{24}: working\n/m);
    assert.match(run.stderr, /^task [A-Za-z0-9_-]{24}: completed \(working on \d+\)\n/m);
    const failed = await withTimeout(runCli(['call', s.url, 'crash', '--task']), 20_000, 'call --task crash');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /crashed on purpose \(JSON-RPC error -32001\)/);
    const plain = await withTimeout(runCli(['call', s.url, 'work', '--arg', 'ms=10']), 20_000, 'call');
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^worked 10 ms/);
  });
});

test('the README example: serve examples/tasks-server.js, then call build_report --task and from the client', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', 'build/examples/tasks-server.js', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const serving = await untilServing(child, 15_000, 'serve build/examples/tasks-server.js');
    const run = await runCli(['call', serving.url, 'build_report', '--arg', 'month=2026-11', '--task']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Report 2026-11: 3 sections\n');
    const lines = run.stderr.trim().split('\n');
    assert.match(lines[0]!, /^task [A-Za-z0-9_-]{24}: working$/);
    assert.match(lines.at(-1)!, /^task [A-Za-z0-9_-]{24}: completed \(section 3 of 3\)$/);
    const client = await connect(serving.url, {
      onInputRequests: (requests) =>
        Object.fromEntries(Object.keys(requests).map((key) => [key, { action: 'accept', content: { drafts: true } }])),
    });
    try {
      const result = await client.callTool({
        name: 'build_report',
        arguments: { month: '2026-12', sections: 1, askAboutDrafts: true },
      });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Report 2026-12: 1 sections, drafts included' }]);
    } finally {
      await client.close();
    }
    // Without --task the CLI waits the task out quietly.
    const quiet = await runCli(['call', serving.url, 'build_report', '--arg', 'month=2026-10', '--arg', 'sections=1']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, 'Report 2026-10: 1 sections\n');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a full in-memory store (tasks.maxStoredTasks, finished tasks included) refuses new tasks with -32029', async () => {
  const s = await taskServer({ tasks: { maxStoredTasks: 2 } });
  try {
    for (let i = 0; i < 2; i++) {
      const done = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 1 } })).message.result;
      await until(s.url, done.taskId, (t) => t.status === 'completed');
    }
    const refused = await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 1 } });
    assert.equal(refused.message.error.code, -32029);
    assert.match(refused.message.error.message, /the task store is full/);
  } finally {
    await s.close();
  }
});

test('lease renewals change nothing a listener sees: notifications/tasks only when the task changes', async () => {
  const s = await taskServer({ tasks: { leaseMs: 300 } });
  try {
    const task = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 800 } })).message.result;
    const stream = await listenToTasks(s.url, 'renewals', [task.taskId]);
    try {
      await stream.waitFor((e) => e.message?.params?.status === 'completed', 5000);
      const seen = stream.events
        .filter((e) => e.message?.method === 'notifications/tasks')
        .map((e) => `${e.message.params.status}:${e.message.params.statusMessage ?? ''}`);
      // Renewed about 8 times in 800 ms (every 100 ms); none of them is a notification.
      assert.ok(seen.length <= 3, JSON.stringify(seen));
      assert.equal(seen.at(-1), `completed:working on ${process.pid}`);
    } finally {
      stream.destroy();
    }
  } finally {
    await s.close();
  }
});

test("a task's result is checked against the tool's output schema, as an inline call's is", async () => {
  const s = await taskServer();
  try {
    const good = (await rpc(s.url, 'tools/call', { name: 'typed', arguments: { bad: false } })).message.result;
    const fine = await until(s.url, good.taskId, (t) => t.status === 'completed');
    assert.deepEqual(fine.result.structuredContent, { n: 1 });
    const bad = (await rpc(s.url, 'tools/call', { name: 'typed', arguments: { bad: true } })).message.result;
    const refused = await until(s.url, bad.taskId, (t) => t.status === 'completed');
    assert.equal(refused.result.isError, true);
    assert.match(refused.result.content[0].text, /^Output validation error: Invalid structured content for tool typed/);
    const inline = await rpc(s.url, 'tools/call', { name: 'typed', arguments: { bad: true } }, { declare: false });
    assert.equal(inline.message.result.isError, true);
    assert.match(inline.message.result.content[0].text, /Output validation error/);
  } finally {
    await s.close();
  }
});

test('inline (no extension), a task tool asks a 2025-era session for input the 2025 way; a 2026-07-28 call cannot', async () => {
  await withServer({ server: createTaskServer }, async (s: Started) => {
    const legacy = await connect(s.url, {
      protocol: 'legacy',
      tasks: false,
      capabilities: { elicitation: { form: {} } },
    });
    try {
      legacy.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Old' } }));
      const result = await legacy.callTool({ name: 'ask', arguments: {} });
      assert.deepEqual(result.content, [{ type: 'text', text: 'hello Old' }]);
    } finally {
      await legacy.close();
    }
    const modern = await connect(s.url, { protocol: 'modern', tasks: false });
    try {
      const result = await modern.callTool({ name: 'ask', arguments: {} });
      assert.equal(result.isError, true);
      assert.match(String((result.content as any)[0].text), /needs the io\.modelcontextprotocol\/tasks extension/);
    } finally {
      await modern.close();
    }
  });
});

test('remote-mcp task <url> <id> follows a task an earlier call created; --cancel cancels it', async () => {
  await withServer({ server: createTaskServer }, async (s: Started) => {
    const quick = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 200 } })).message.result;
    const followed = await runCli(['task', s.url, quick.taskId]);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /^worked 200 ms on \d+\n$/);
    assert.match(followed.stderr, new RegExp(`^task ${quick.taskId}: completed \\(working on \\d+\\)$`, 'm'));
    const long = (await rpc(s.url, 'tools/call', { name: 'work', arguments: { ms: 60_000 } })).message.result;
    const cancelled = await runCli(['task', s.url, long.taskId, '--cancel']);
    assert.equal(cancelled.code, 1);
    assert.match(cancelled.stderr, new RegExp(`^task ${long.taskId}: cancelled \\(Cancelled by the client\\)$`, 'm'));
    const unknown = await runCli(['task', s.url, 'no-such-task']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no such task .*\(JSON-RPC error -32602\)/);
  });
});

test("the client's totalTimeoutMs bounds the wait for a task, and the task is cancelled when it runs out", async () => {
  await withServer({ server: createTaskServer }, async (s: Started) => {
    const client = await connect(s.url, { totalTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(client.callTool({ name: 'work', arguments: { ms: 60_000 } }), /timeout|aborted/i);
      assert.ok(Date.now() - started < 5000);
      const stats = await client.callTool({ name: 'stats', arguments: {} });
      assert.ok(JSON.parse(String((stats.content as any)[0].text)).aborted >= 1);
    } finally {
      await client.close();
    }
  });
});

test('bad tasks options are refused at construction, naming the key; registerTaskTool checks its own', () => {
  const make = (tasks: unknown) => () => createRemoteServer({ server: createTaskServer, tasks } as RemoteServerOptions);
  assert.throws(make({ leaseMs: 5 }), /option `tasks\.leaseMs` must be an integer from 300 to 3600000; received 5/);
  assert.throws(make({ maxTasks: 0 }), /option `tasks\.maxTasks` must be an integer from 1/);
  assert.throws(make({ ttl: 5 }), /option `tasks\.ttl` must be unset/);
  assert.throws(
    make({ defaultTtlMs: 10_000, maxTtlMs: 5000 }),
    /option `tasks\.defaultTtlMs` must be at most tasks\.maxTtlMs \(5000\)/,
  );
  assert.throws(
    make({ store: { get() {} } }),
    /option `tasks\.store` must be a TaskStore \(create, get, update, renew/,
  );
  const server = createTaskServer();
  assert.throws(
    () => registerTaskTool(server, 'x', { taskSupport: 'sometimes' as never }, async () => ({ content: [] })),
    /taskSupport must be 'forbidden', 'optional' or 'required'/,
  );
  assert.throws(
    () => registerTaskTool(server, 'y', { ttlMs: -1 }, async () => ({ content: [] })),
    /ttlMs must be a positive integer/,
  );
});
