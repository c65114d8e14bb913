/**
 * The instance side of the tasks it runs: the handler, detached from the tools/call that created it; its input
 * requests and the answers that arrive for them (through tasks/update on any instance); cancellation; the lease
 * that tells the other instances this one still holds the task; and the sweep that fails tasks whose instance
 * stopped renewing theirs.
 *
 * Every change goes through the store (a compare-and-set), so whichever instance serves tasks/get, tasks/update
 * or tasks/cancel sees and changes the same record. The running instance learns of changes from the store's
 * subscription, and, should a message be lost, from the record it reads back at every lease renewal.
 */
import type { AuthInfo, CallToolResult } from '@modelcontextprotocol/server';

import { expiresAt, isTerminal, type InputRequest, type TaskError, type TaskRecord } from './task-record.js';
import type { ResolvedTaskOptions } from './task-options.js';
import type { TaskStore } from './task-store.js';
import { TaskFailedError, type ElicitAnswer, type TaskContext, type TaskToolSpec } from './task-tool.js';
import { publishTask } from '../observability/channels.js';

interface Waiter {
  keys: string[];
  answers: Record<string, unknown>;
  resolve: (answers: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

interface Running {
  readonly abort: AbortController;
  readonly waiters: Set<Waiter>;
  readonly ttlTimer: NodeJS.Timeout;
}

/** How many lease-expired tasks one sweep fails at most. */
const SWEEP_BATCH = 100;

const now = () => new Date().toISOString();

export class TaskRunner {
  private readonly running = new Map<string, Running>();
  private readonly renewer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(
    private readonly store: TaskStore,
    private readonly options: ResolvedTaskOptions,
    /** This instance's id, written into the records it runs. */
    readonly instance: string,
    private readonly onError: (error: Error) => void,
    private readonly source: object = {},
  ) {
    this.unsubscribe = store.subscribe((record) => {
      if (this.running.has(record.taskId)) queueMicrotask(() => this.observe(record));
    });
    this.renewer = setInterval(() => void this.renewAndSweep(), Math.max(100, Math.floor(options.leaseMs / 3)));
    this.renewer.unref();
  }

  /** Tasks this instance runs now. */
  get size(): number {
    return this.running.size;
  }

  /** Runs a created task's handler, detached from the request that created it. */
  launch(
    record: TaskRecord,
    spec: TaskToolSpec,
    args: unknown,
    prepared: unknown,
    authInfo: AuthInfo | undefined,
  ): void {
    const taskId = record.taskId;
    const abort = new AbortController();
    const ttlTimer = setTimeout(
      () => {
        // The record expires now: nobody can read the result any more, so the work stops.
        abort.abort(new Error(`The task outlived its ttlMs (${record.ttlMs} ms)`));
        this.forget(taskId, new Error('The task expired'));
      },
      Math.max(0, expiresAt(record) - Date.now()),
    );
    ttlTimer.unref();
    const running: Running = { abort, waiters: new Set(), ttlTimer };
    this.running.set(taskId, running);
    let keyCount = 0;
    const context: TaskContext = {
      taskId,
      signal: abort.signal,
      prepared,
      authInfo,
      // Best effort: a status message the store cannot take now (Redis away) is not worth failing the work for.
      status: async (message) => {
        await this.change(taskId, (current) => ({ ...current, statusMessage: message, lastUpdatedAt: now() })).catch(
          (error: unknown) => this.onError(error as Error),
        );
      },
      input: (requests) => this.ask(taskId, running, requests),
      elicit: async (params) => {
        const key = `elicitation-${++keyCount}`;
        const answers = await this.ask(taskId, running, { [key]: { method: 'elicitation/create', params } });
        return answers[key] as ElicitAnswer;
      },
    };
    Promise.resolve()
      .then(() => spec.handler(args, context))
      .then(
        (result) => this.settle(taskId, { result }),
        (error: unknown) => this.settle(taskId, { thrown: error }),
      )
      .catch((error: unknown) => this.onError(error as Error));
  }

  /** Stops a task this instance runs (it was cancelled, here or elsewhere). */
  stop(taskId: string, reason: string): void {
    const running = this.running.get(taskId);
    if (running === undefined) return;
    running.abort.abort(new Error(reason));
    this.forget(taskId, new Error(reason));
  }

  /**
   * Fails a task whose lease ran out: its instance stopped without finishing it. Resolves with the record as
   * it is now (failed, or unchanged when its lease was renewed meanwhile).
   */
  async failExpired(taskId: string): Promise<TaskRecord | undefined> {
    let failedHere = false;
    const record = await this.store.update(taskId, (current) => {
      if (isTerminal(current) || current.leaseUntil >= Date.now()) return undefined;
      const message = `The instance running this task stopped before it finished (its lease of ${this.options.leaseMs} ms ran out)`;
      failedHere = true;
      return failed(current, { code: -32603, message });
    });
    if (failedHere && record?.status === 'failed') publishTask(this.source, record.tool, 'failed');
    return record;
  }

  /** Resolves once no task runs here, or after `timeoutMs`; with whether none runs. */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    return this.running.size === 0;
  }

  /** At shutdown: every task still running here is stopped and failed, so nobody waits for its lease. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewer);
    this.unsubscribe();
    const ids = [...this.running.keys()];
    for (const taskId of ids) this.stop(taskId, 'The server shut down');
    await Promise.allSettled(
      ids.map((taskId) =>
        this.store.update(taskId, (current) =>
          isTerminal(current)
            ? undefined
            : failed(current, { code: -32603, message: 'The server shut down before the task finished' }),
        ),
      ),
    );
  }

  private async ask(
    taskId: string,
    running: Running,
    requests: Record<string, InputRequest>,
  ): Promise<Record<string, unknown>> {
    const keys = Object.keys(requests);
    if (keys.length === 0) return {};
    for (const key of keys) {
      const request = requests[key];
      if (request === null || typeof request !== 'object' || typeof request.method !== 'string')
        throw new TypeError(`task input ${JSON.stringify(key)} must be { method, params }`);
    }
    if (running.abort.signal.aborted) throw running.abort.signal.reason as Error;
    const waiter: Waiter = { keys, answers: {}, resolve: () => {}, reject: () => {} };
    const answered = new Promise<Record<string, unknown>>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    answered.catch(() => {}); // rejected at shutdown while nobody awaits it yet
    running.waiters.add(waiter);
    try {
      await this.change(taskId, (current) => {
        const issued = new Set(current.issuedKeys ?? []);
        const reused = keys.find((key) => issued.has(key));
        if (reused !== undefined) throw new TypeError(`task input key ${JSON.stringify(reused)} was used before`);
        return {
          ...current,
          status: 'input_required',
          inputRequests: { ...current.inputRequests, ...requests },
          issuedKeys: [...issued, ...keys],
          lastUpdatedAt: now(),
        };
      });
    } catch (error) {
      running.waiters.delete(waiter);
      throw error;
    }
    return answered;
  }

  /** A change to a task this instance runs: cancellation stops it, answers go to the input they wait for. */
  private observe(record: TaskRecord): void {
    const running = this.running.get(record.taskId);
    if (running === undefined) return;
    if (record.status === 'cancelled') {
      this.stop(record.taskId, record.statusMessage ?? 'The task was cancelled');
      return;
    }
    if (isTerminal(record)) return;
    const answers = record.inputResponses;
    if (answers === undefined || Object.keys(answers).length === 0) return;
    const taken = Object.keys(answers);
    void this.change(record.taskId, (current) => {
      const left = { ...current.inputResponses };
      for (const key of taken) delete left[key];
      const next = { ...current };
      if (Object.keys(left).length === 0) delete next.inputResponses;
      else next.inputResponses = left;
      return next;
    }).catch((error: unknown) => this.onError(error as Error));
    for (const waiter of [...running.waiters]) {
      for (const key of waiter.keys) if (key in answers) waiter.answers[key] = answers[key];
      if (waiter.keys.every((key) => key in waiter.answers)) {
        running.waiters.delete(waiter);
        waiter.resolve(waiter.answers);
      }
    }
  }

  private async settle(taskId: string, outcome: { result: CallToolResult } | { thrown: unknown }): Promise<void> {
    // A task stopped (cancelled, expired, shut down) is off the books already, and its record says how it ended.
    const running = this.running.get(taskId);
    if (running === undefined) return;
    clearTimeout(running.ttlTimer);
    this.running.delete(taskId);
    let ended: TaskRecord | undefined;
    await this.retrying(taskId, (current) => {
      ended = isTerminal(current) ? undefined : this.settled(current, outcome);
      return ended;
    });
    if (ended !== undefined) publishTask(this.source, ended.tool, ended.status as 'completed' | 'failed' | 'cancelled');
  }

  /** The final state of a task whose handler ended with `outcome`. */
  private settled(current: TaskRecord, outcome: { result: CallToolResult } | { thrown: unknown }): TaskRecord {
    const tooLarge = () =>
      failed(current, {
        code: -32603,
        message: `The task's result is larger than tasks.maxResultBytes (${this.options.maxResultBytes} bytes)`,
      });
    if ('result' in outcome)
      return jsonBytes(outcome.result) > this.options.maxResultBytes
        ? tooLarge()
        : completed(current, outcome.result as Record<string, unknown>);
    const error = outcome.thrown;
    if (error instanceof TaskFailedError || isProtocolError(error)) {
      const { code, message, data } = error as TaskFailedError;
      const rpcError = { code, message, ...(data !== undefined && { data }) };
      return jsonBytes(rpcError) > this.options.maxResultBytes ? tooLarge() : failed(current, rpcError);
    }
    // A handler that throws anything else reports a tool error, as the SDK does for a tool called inline.
    const text = error instanceof Error ? error.message : String(error);
    return completed(current, { content: [{ type: 'text', text }], isError: true });
  }

  /**
   * A task's final state, retried while the store cannot take it (Redis away) for up to one lease: after that
   * the lease has run out and another instance fails the task anyway.
   */
  private async retrying(taskId: string, change: (current: TaskRecord) => TaskRecord | undefined): Promise<void> {
    const deadline = Date.now() + this.options.leaseMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.change(taskId, change);
        return;
      } catch (error) {
        if (this.closed || Date.now() + delay > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  /** Takes a task off this instance's books (its answers will not come). */
  private forget(taskId: string, reason: Error): void {
    const running = this.running.get(taskId);
    if (running === undefined) return;
    clearTimeout(running.ttlTimer);
    this.running.delete(taskId);
    for (const waiter of running.waiters) waiter.reject(reason);
    running.waiters.clear();
  }

  private async change(taskId: string, change: (current: TaskRecord) => TaskRecord | undefined) {
    return this.store.update(taskId, (current) => {
      const next = change(current);
      // Whoever writes a running task's record renews its lease.
      return next === undefined || isTerminal(next)
        ? next
        : { ...next, instance: this.instance, leaseUntil: Date.now() + this.options.leaseMs };
    });
  }

  /** Renews the leases of the tasks running here (and reads back what may have been missed); fails orphans. */
  private async renewAndSweep(): Promise<void> {
    if (this.closed) return;
    for (const taskId of [...this.running.keys()]) {
      try {
        const record = await this.store.renew(taskId, Date.now() + this.options.leaseMs);
        if (record === undefined) this.stop(taskId, 'The task no longer exists');
        else this.observe(record);
      } catch (error) {
        this.onError(error as Error);
      }
    }
    try {
      const expired = await this.store.expiredLeases(Date.now(), SWEEP_BATCH);
      for (const taskId of expired) if (!this.running.has(taskId)) await this.failExpired(taskId);
    } catch (error) {
      this.onError(error as Error);
    }
  }
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');

function isProtocolError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' && Number.isInteger(code) && error.name !== 'Error';
}

function completed(current: TaskRecord, result: Record<string, unknown>): TaskRecord {
  const next: TaskRecord = { ...current, status: 'completed', result, lastUpdatedAt: now() };
  delete next.inputRequests;
  delete next.inputResponses;
  return next;
}

function failed(current: TaskRecord, error: TaskError): TaskRecord {
  const next: TaskRecord = {
    ...current,
    status: 'failed',
    statusMessage: error.message,
    error,
    lastUpdatedAt: now(),
  };
  delete next.inputRequests;
  delete next.inputResponses;
  return next;
}
