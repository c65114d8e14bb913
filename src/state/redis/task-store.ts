/**
 * Tasks in Redis, shared by every instance: a task created on one is read, updated and cancelled from any other,
 * and every change reaches the instance running the task (and any listener) through pub/sub.
 *
 * Keys (`<p>` is the connection's keyPrefix):
 * - `<p>task:<id>` — a hash: `json` (the TaskRecord), `v` (its version, for compare-and-set) and `lease` (when
 *   its lease ends, kept apart so that renewing it rewrites nothing and tells no one). It expires (PEXPIREAT)
 *   ttlMs after the task's creation, result and all.
 * - `<p>tasks:active` and `<p>tasks:active:<owner>` — sorted sets of the tasks not yet terminal, scored by
 *   their lease's end: what makes maxTasks and maxTasksPerPrincipal limits for the cluster, and where the sweep
 *   finds the tasks of instances that died.
 * - channel `<p>tasks` — `{ origin, record }` after every create and change, published by the script that
 *   made it (an instance that misses a message reads the record back at its next renewal).
 *
 * Each method is one round trip, but update() and renew(): a read, then a script; update's compare-and-set is
 * retried when another instance wrote the record in between.
 */
import { randomUUID } from 'node:crypto';

import { expiresAt, isTerminal, type TaskRecord } from '../../tasks/task-record.js';
import type { CreateOutcome, TaskChange, TaskLimits, TaskStore } from '../../tasks/task-store.js';
import type { RedisConnection } from './connection.js';
import { LuaScript } from './lua-script.js';

/** How many times update() retries a compare-and-set that lost a race. */
const MAX_CAS_ATTEMPTS = 20;

/**
 * KEYS: task, active, activeOwner. ARGV: id, json, expireAtMs, leaseUntil, maxTasks, maxPerOwner, taskKeyPrefix,
 * channel, origin. Publishes the record once stored (in the script: no round trip of its own).
 * Members of the owner's set whose task key is gone (expired) are pruned first: the set is at most maxPerOwner.
 */
const CREATE = new LuaScript(`
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if redis.call('EXISTS', ARGV[7] .. id) == 0 then
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZREM', KEYS[2], id)
  end
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'limit' end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[6]) then return 'principal-limit' end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', '1', 'json', ARGV[2], 'lease', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('PUBLISH', ARGV[8], '{"origin":"' .. ARGV[9] .. '","record":' .. ARGV[2] .. '}')
return 'created'`);

/** KEYS: task, active, activeOwner. ARGV: id, expected version, json, terminal (1/0), leaseUntil, channel, origin. */
const COMPARE_AND_SET = new LuaScript(`
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return -1 end
if v ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(v) + 1), 'json', ARGV[3], 'lease', ARGV[5])
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[2], 'XX', ARGV[5], ARGV[1])
  redis.call('ZADD', KEYS[3], 'XX', ARGV[5], ARGV[1])
end
redis.call('PUBLISH', ARGV[6], '{"origin":"' .. ARGV[7] .. '","record":' .. ARGV[3] .. '}')
return 1`);

/**
 * KEYS: task, active, activeOwner. ARGV: id, leaseUntil. The record's json (with the new lease), or nil.
 * ZADD XX: a task that is no longer active (terminal) is not put back among the active ones.
 */
const RENEW = new LuaScript(`
local json = redis.call('HGET', KEYS[1], 'json')
if not json then return false end
redis.call('HSET', KEYS[1], 'lease', ARGV[2])
redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', ARGV[2], ARGV[1])
return json`);

/** KEYS: active. ARGV: now, limit, taskKeyPrefix. Lease-expired ids whose task still exists; the others pruned. */
const EXPIRED_LEASES = new LuaScript(`
local alive = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[2])) do
  if redis.call('EXISTS', ARGV[3] .. id) == 1 then table.insert(alive, id) else redis.call('ZREM', KEYS[1], id) end
end
return alive`);

/** The record in `json`, with the lease its hash keeps apart. */
function withLease(json: string, lease: string | null | undefined): TaskRecord {
  const record = JSON.parse(json) as TaskRecord;
  const until = Number(lease);
  if (lease !== null && lease !== undefined && Number.isFinite(until)) record.leaseUntil = until;
  return record;
}

export class RedisTaskStore implements TaskStore {
  private readonly listeners = new Set<(record: TaskRecord) => void>();
  private readonly origin = randomUUID();
  private readonly channel: string;
  private readonly activeKey: string;
  private readonly taskPrefix: string;
  private readonly onMessage = (message: string) => this.receive(message);
  /** Settles when the first SUBSCRIBE is answered. */
  readonly subscribed: Promise<void>;

  /** @param connection borrowed, not owned: close() ends this store's subscription, not the connection */
  constructor(
    private readonly connection: RedisConnection,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.channel = `${connection.prefix}tasks`;
    this.activeKey = `${connection.prefix}tasks:active`;
    this.taskPrefix = `${connection.prefix}task:`;
    this.subscribed = connection.subscribe(this.channel, this.onMessage).then(
      () => {},
      (error: unknown) => this.onError(error),
    );
  }

  async check(): Promise<unknown> {
    const details = await this.connection.check();
    const active = await this.connection.run((client) => client.zCard(this.activeKey));
    return { ...details, active };
  }

  async create(record: TaskRecord, limits: TaskLimits): Promise<CreateOutcome> {
    const json = JSON.stringify(record);
    const outcome = await this.connection.run((client) =>
      CREATE.run(
        client,
        [this.taskPrefix + record.taskId, this.activeKey, this.ownerKey(record)],
        [
          record.taskId,
          json,
          expiresAt(record),
          record.leaseUntil,
          limits.maxTasks,
          limits.maxTasksPerPrincipal,
          this.taskPrefix,
          this.channel,
          this.origin,
        ],
      ),
    );
    if (outcome === 'created') this.deliver(JSON.parse(json) as TaskRecord);
    return outcome as CreateOutcome;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const [json, lease] = await this.connection.run((client) =>
      client.hmGet(this.taskPrefix + taskId, ['json', 'lease']),
    );
    return typeof json === 'string' ? withLease(json, lease) : undefined;
  }

  async renew(taskId: string, leaseUntil: number): Promise<TaskRecord | undefined> {
    const key = this.taskPrefix + taskId;
    const current = await this.get(taskId);
    if (current === undefined) return undefined;
    const json = await this.connection.run((client) =>
      RENEW.run(client, [key, this.activeKey, this.ownerKey(current)], [taskId, leaseUntil]),
    );
    return typeof json === 'string' ? withLease(json, String(leaseUntil)) : undefined;
  }

  async update(taskId: string, change: TaskChange): Promise<TaskRecord | undefined> {
    const key = this.taskPrefix + taskId;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const [version, json, lease] = await this.connection.run((client) => client.hmGet(key, ['v', 'json', 'lease']));
      if (typeof version !== 'string' || typeof json !== 'string') return undefined;
      const current = withLease(json, lease);
      const next = change(current);
      if (next === undefined) return current;
      const nextJson = JSON.stringify(next);
      const written = await this.connection.run((client) =>
        COMPARE_AND_SET.run(
          client,
          [key, this.activeKey, this.ownerKey(current)],
          [taskId, version, nextJson, isTerminal(next) ? 1 : 0, next.leaseUntil, this.channel, this.origin],
        ),
      );
      if (written === -1) return undefined;
      if (written === 1) {
        this.deliver(JSON.parse(nextJson) as TaskRecord);
        return next;
      }
    }
    throw new Error(`task ${taskId}: ${MAX_CAS_ATTEMPTS} concurrent writes in a row; the change was not made`);
  }

  async expiredLeases(now: number, limit: number): Promise<string[]> {
    const ids = await this.connection.run((client) =>
      EXPIRED_LEASES.run(client, [this.activeKey], [now, limit, this.taskPrefix]),
    );
    return Array.isArray(ids) ? (ids as string[]) : [];
  }

  subscribe(listener: (record: TaskRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.connection.unsubscribe(this.channel, this.onMessage);
  }

  private ownerKey(record: TaskRecord): string {
    return `${this.activeKey}:${record.owner ?? ''}`;
  }

  private receive(message: string): void {
    let parsed: { origin?: unknown; record?: unknown } | undefined;
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    const record = parsed?.record as TaskRecord | undefined;
    if (typeof parsed?.origin !== 'string' || typeof record?.taskId !== 'string') {
      this.onError(new Error(`task store: dropped a message on ${this.channel} that is not a task record`));
      return;
    }
    if (parsed.origin !== this.origin) this.deliver(record);
  }

  private deliver(record: TaskRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
