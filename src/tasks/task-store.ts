/**
 * Where tasks live. One small interface, an in-memory default for one process, and a Redis implementation
 * (src/state/redis/task-store.ts) that lets a task created on one instance be read, updated and cancelled from
 * any other. Records are plain JSON (src/tasks/task-record.ts).
 */
import { expiresAt, isTerminal, type TaskRecord } from './task-record.js';

export interface TaskLimits {
  /** Tasks not yet terminal, across every principal (and every instance sharing the store). */
  maxTasks: number;
  /** Tasks not yet terminal per principal (anonymous requests share one allowance). */
  maxTasksPerPrincipal: number;
}

/** `store-full`: the store holds all the tasks it can (an in-memory store's maxRecords, finished ones included). */
export type CreateOutcome = 'created' | 'limit' | 'principal-limit' | 'store-full';

/** Changes a record: returns the new record, or undefined to leave it as it is. */
export type TaskChange = (current: TaskRecord) => TaskRecord | undefined;

export interface TaskStore {
  /** Stores a new record unless a limit is reached; resolves once a get() anywhere would find it. */
  create(record: TaskRecord, limits: TaskLimits): Promise<CreateOutcome>;
  /** The record; undefined when there is none or it expired (ttlMs after its creation). */
  get(taskId: string): Promise<TaskRecord | undefined>;
  /**
   * Applies `change` atomically (a compare-and-set, retried on a concurrent write); resolves with the record
   * as stored afterwards, or undefined when there is none.
   */
  update(taskId: string, change: TaskChange): Promise<TaskRecord | undefined>;
  /**
   * Moves a task's lease on to `leaseUntil` without a change anyone is told of (the record is otherwise as it
   * was); resolves with the record as it is now, or undefined when there is none.
   */
  renew(taskId: string, leaseUntil: number): Promise<TaskRecord | undefined>;
  /** Tasks not yet terminal whose lease ended before `now`: their instance stopped renewing it. */
  expiredLeases(now: number, limit: number): Promise<string[]>;
  /** Every record created or changed, by any instance sharing the store; returns the function that stops it. */
  subscribe(listener: (record: TaskRecord) => void): () => void;
  close(): Promise<void>;
  /** Optional: the store's health for /health and /ready; resolves with details, rejects when it is unreachable. */
  check?(): Promise<unknown>;
}

const ANONYMOUS = '';

export class InMemoryTaskStore implements TaskStore {
  private readonly records = new Map<string, TaskRecord>();
  private readonly activeByOwner = new Map<string, number>();
  /** The ids of the tasks not yet terminal (what the lease sweep looks at). */
  private readonly activeIds = new Set<string>();
  private readonly listeners = new Set<(record: TaskRecord) => void>();
  private readonly pruner: NodeJS.Timeout;

  /**
   * @param maxRecords tasks held at most, finished ones included (they are kept for their ttlMs, and dropping
   *   one early would break that promise, so a full store refuses new tasks instead). Default 100,000.
   * @param pruneIntervalMs how often expired records are dropped (reads never return them either way)
   */
  constructor(
    readonly maxRecords = 100_000,
    pruneIntervalMs = 60_000,
  ) {
    this.pruner = setInterval(() => this.prune(Date.now()), pruneIntervalMs);
    this.pruner.unref();
  }

  async check(): Promise<unknown> {
    return { kind: 'memory', tasks: this.records.size, active: this.activeIds.size };
  }

  async create(record: TaskRecord, limits: TaskLimits): Promise<CreateOutcome> {
    const owner = record.owner ?? ANONYMOUS;
    if (this.activeIds.size >= limits.maxTasks) return 'limit';
    if ((this.activeByOwner.get(owner) ?? 0) >= limits.maxTasksPerPrincipal) return 'principal-limit';
    if (this.records.size >= this.maxRecords) {
      this.prune(Date.now());
      if (this.records.size >= this.maxRecords) return 'store-full';
    }
    this.records.set(record.taskId, structuredClone(record));
    this.countActive(record, 1);
    this.emit(record);
    return 'created';
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const record = this.live(taskId, Date.now());
    return record === undefined ? undefined : structuredClone(record);
  }

  async update(taskId: string, change: TaskChange): Promise<TaskRecord | undefined> {
    const current = this.live(taskId, Date.now());
    if (current === undefined) return undefined;
    const next = change(structuredClone(current));
    if (next === undefined) return structuredClone(current);
    if (!isTerminal(current) && isTerminal(next)) this.countActive(current, -1);
    this.records.set(taskId, structuredClone(next));
    this.emit(next);
    return structuredClone(next);
  }

  async renew(taskId: string, leaseUntil: number): Promise<TaskRecord | undefined> {
    const record = this.live(taskId, Date.now());
    if (record === undefined) return undefined;
    record.leaseUntil = leaseUntil;
    return structuredClone(record);
  }

  async expiredLeases(now: number, limit: number): Promise<string[]> {
    const ids: string[] = [];
    for (const taskId of this.activeIds) {
      if (ids.length >= limit) break;
      const record = this.records.get(taskId);
      if (record !== undefined && record.leaseUntil < now) ids.push(taskId);
    }
    return ids;
  }

  subscribe(listener: (record: TaskRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.pruner);
    this.listeners.clear();
  }

  /** The record unless it expired (an expired one is dropped now). */
  private live(taskId: string, now: number): TaskRecord | undefined {
    const record = this.records.get(taskId);
    if (record === undefined || expiresAt(record) > now) return record;
    this.drop(record);
    return undefined;
  }

  private prune(now: number): void {
    for (const record of this.records.values()) if (expiresAt(record) <= now) this.drop(record);
  }

  private drop(record: TaskRecord): void {
    this.records.delete(record.taskId);
    if (!isTerminal(record)) this.countActive(record, -1);
  }

  private countActive(record: TaskRecord, delta: 1 | -1): void {
    const owner = record.owner ?? ANONYMOUS;
    if (delta === 1) this.activeIds.add(record.taskId);
    else this.activeIds.delete(record.taskId);
    const count = (this.activeByOwner.get(owner) ?? 0) + delta;
    if (count <= 0) this.activeByOwner.delete(owner);
    else this.activeByOwner.set(owner, count);
  }

  private emit(record: TaskRecord): void {
    if (this.listeners.size === 0) return;
    // One copy for every listener: listeners read records, they do not change them.
    const copy = structuredClone(record);
    for (const listener of this.listeners) {
      try {
        listener(copy);
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }
}
