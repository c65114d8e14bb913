/**
 * The `tasks` option: the store and the limits of the io.modelcontextprotocol/tasks extension (docs/tasks.md).
 * Validated once, at construction; the defaults are one frozen object.
 */
import { failOption } from '../errors.js';
import type { TaskStore } from './task-store.js';

export interface TaskOptions {
  /** Where tasks live. Default: in memory, or Redis when the server's `redis` option is set. */
  store?: TaskStore;
  /** ttlMs of a task whose tool names none. */
  defaultTtlMs?: number;
  /** The largest ttlMs a tool may ask for. */
  maxTtlMs?: number;
  /** The pollIntervalMs a task suggests when its tool names none. */
  pollIntervalMs?: number;
  /**
   * How long a task's record says its instance holds it; the instance renews it every third of that. A task
   * whose lease ran out (its instance died) is marked failed by the next instance that reads or sweeps it.
   */
  leaseMs?: number;
  /** Tasks not yet terminal, in total (across the instances sharing a store). */
  maxTasks?: number;
  /** Tasks not yet terminal per principal (anonymous clients share one allowance). */
  maxTasksPerPrincipal?: number;
  /** The largest result or error a task may store (bytes of JSON); a larger one fails the task. */
  maxResultBytes?: number;
  /**
   * The built-in in-memory store's capacity, finished tasks included (they are kept for their ttlMs); a full
   * store refuses new tasks. Not used with Redis or a store of your own.
   */
  maxStoredTasks?: number;
}

export type ResolvedTaskOptions = Readonly<Required<Omit<TaskOptions, 'store'>>> & { readonly store?: TaskStore };

export const TASK_DEFAULTS = Object.freeze({
  /** 1 hour: long enough for the calls tasks exist for, short enough that results do not pile up. */
  defaultTtlMs: 3_600_000,
  /** 24 hours. */
  maxTtlMs: 86_400_000,
  /** 1 s. */
  pollIntervalMs: 1000,
  /** 30 s: a dead instance's tasks are failed within about this long (renewed every 10 s). */
  leaseMs: 30_000,
  maxTasks: 10_000,
  maxTasksPerPrincipal: 100,
  /** 16 MiB. */
  maxResultBytes: 16 * 1024 * 1024,
  /** 100,000: about 100 MB of small results. */
  maxStoredTasks: 100_000,
});

const KEYS = new Set([...Object.keys(TASK_DEFAULTS), 'store']);
const MAX_MS = 7 * 86_400_000;

function integer(options: Record<string, unknown>, key: keyof typeof TASK_DEFAULTS, min: number, max: number): number {
  const value = options[key] ?? TASK_DEFAULTS[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    failOption(`tasks.${key}`, `an integer from ${min} to ${max}`, value);
  return value;
}

export function resolveTaskOptions(value: unknown): ResolvedTaskOptions {
  const options = (value ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object' || Array.isArray(options))
    failOption(
      'tasks',
      'an object { store?, defaultTtlMs?, maxTtlMs?, pollIntervalMs?, leaseMs?, maxTasks?, ... }',
      value,
    );
  for (const key of Object.keys(options))
    if (!KEYS.has(key))
      failOption(`tasks.${key}`, `unset (the tasks options are ${[...KEYS].join(', ')})`, options[key]);
  const store = options.store as TaskStore | undefined;
  const methods = ['create', 'get', 'update', 'renew', 'expiredLeases', 'subscribe', 'close'] as const;
  if (
    store !== undefined &&
    (store === null || typeof store !== 'object' || methods.some((method) => typeof store[method] !== 'function'))
  )
    failOption('tasks.store', `a TaskStore (${methods.join(', ')})`, '(an object without them)');
  const resolved = {
    defaultTtlMs: integer(options, 'defaultTtlMs', 1000, MAX_MS),
    maxTtlMs: integer(options, 'maxTtlMs', 1000, MAX_MS),
    pollIntervalMs: integer(options, 'pollIntervalMs', 1, 3_600_000),
    leaseMs: integer(options, 'leaseMs', 300, 3_600_000),
    maxTasks: integer(options, 'maxTasks', 1, 10_000_000),
    maxTasksPerPrincipal: integer(options, 'maxTasksPerPrincipal', 1, 10_000_000),
    maxResultBytes: integer(options, 'maxResultBytes', 1024, 1024 * 1024 * 1024),
    maxStoredTasks: integer(options, 'maxStoredTasks', 1, 100_000_000),
  };
  if (resolved.defaultTtlMs > resolved.maxTtlMs)
    failOption('tasks.defaultTtlMs', `at most tasks.maxTtlMs (${resolved.maxTtlMs})`, resolved.defaultTtlMs);
  return Object.freeze({ ...resolved, ...(store !== undefined && { store }) });
}
