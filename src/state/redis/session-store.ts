/**
 * The 2025-era session registry in Redis, shared by every instance.
 *
 * Keys (`<p>` is the connection's keyPrefix):
 * - `<p>session:<id>` — a hash: `record` (the SessionRecord as JSON) and `lastSeenAt` (ms, written by touch
 *   without rewriting the record). Its TTL (PEXPIRE) is idleTimeoutMs, renewed by touch and update: an idle
 *   session's key goes by TTL, no scan ever looks for it.
 * - `<p>sessions` — a sorted set of the live session ids, scored by the time their key expires (ms, on Redis's
 *   clock). It is what makes `maxSessions` one limit for the cluster: create() counts and adds in one script.
 *   Members whose score has passed are pruned by create(), count() and sweep().
 *
 * Times that decide expiry come from Redis (TIME inside the scripts), so instances with skewed clocks agree.
 * Every method is one round trip. Under Redis Cluster the scripts touch `<p>sessions` and a session key, so
 * both would need one hash tag (one slot for all sessions, which the cluster-wide limit needs anyway).
 */
import type { SessionRecord, SessionStore } from '../session-store.js';
import type { RedisConnection } from './connection.js';
import { LuaScript } from './lua-script.js';

/** Expired ids one sweep returns at most (the next sweep returns the rest): bounds one script's run time. */
export const SWEEP_BATCH = 1000;

/** Redis's clock in ms, as an integer string (math.floor keeps Lua's number formatting out of the way). */
const CLOCK = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function ms(n) return string.format('%d', n) end
`;

/** KEYS: sessions, session. ARGV: id, record JSON, lastSeenAt, idleTimeoutMs, limit. */
const CREATE = new LuaScript(`${CLOCK}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ms(now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'record', ARGV[2], 'lastSeenAt', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[1], ms(now + tonumber(ARGV[4])), ARGV[1])
return 1`);

/** KEYS: sessions, session. ARGV: id, lastSeenAt, idleTimeoutMs, record JSON (update) or nothing (touch). */
const REFRESH = new LuaScript(`${CLOCK}
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if ARGV[4] then
  redis.call('HSET', KEYS[2], 'record', ARGV[4], 'lastSeenAt', ARGV[2])
else
  redis.call('HSET', KEYS[2], 'lastSeenAt', ARGV[2])
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], ms(now + tonumber(ARGV[3])), ARGV[1])
return 1`);

/** KEYS: sessions, session. ARGV: id. */
const DELETE = new LuaScript(`local deleted = redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return deleted`);

/** KEYS: sessions. */
const COUNT = new LuaScript(`${CLOCK}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ms(now))
return redis.call('ZCARD', KEYS[1])`);

/** KEYS: sessions, session. ARGV: id, lastSeenAt, idleTimeoutMs. The record, touched; nil when it is gone. */
const GET_AND_TOUCH = new LuaScript(`${CLOCK}
local json = redis.call('HGET', KEYS[2], 'record')
if not json then return false end
redis.call('HSET', KEYS[2], 'lastSeenAt', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], ms(now + tonumber(ARGV[3])), ARGV[1])
return json`);

/** KEYS: sessions. ARGV: batch. */
const SWEEP = new LuaScript(`${CLOCK}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ms(now), 'LIMIT', 0, ARGV[1])
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
return ids`);

export class RedisSessionStore implements SessionStore {
  private readonly setKey: string;

  /**
   * @param connection borrowed, not owned: close() leaves it open (its creator closes it once, after every
   *   store that uses it)
   * @param idleTimeoutMs the server's sessionIdleTimeoutMs: a session not touched for this long expires
   */
  constructor(
    private readonly connection: RedisConnection,
    private readonly idleTimeoutMs: number,
  ) {
    this.setKey = `${connection.prefix}sessions`;
  }

  async check(): Promise<unknown> {
    const started = performance.now();
    const sessions = await this.count();
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return { kind: 'redis', url: this.connection.url, sessions, latencyMs };
  }

  async create(record: SessionRecord, limit: number): Promise<boolean> {
    const created = await this.connection.run((client) =>
      CREATE.run(
        client,
        [this.setKey, this.key(record.id)],
        [record.id, JSON.stringify(record), record.lastSeenAt, this.idleTimeoutMs, limit],
      ),
    );
    return created === 1;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const [json, lastSeenAt] = await this.connection.run((client) =>
      client.hmGet(this.key(id), ['record', 'lastSeenAt']),
    );
    if (json === null || json === undefined) return undefined;
    const record = JSON.parse(String(json)) as SessionRecord;
    if (lastSeenAt !== null && lastSeenAt !== undefined) record.lastSeenAt = Number(lastSeenAt);
    return record;
  }

  /** get() and touch() in one round trip: what serving a request needs. */
  async getAndTouch(id: string, now: number): Promise<SessionRecord | undefined> {
    const json = await this.connection.run((client) =>
      GET_AND_TOUCH.run(client, [this.setKey, this.key(id)], [id, now, this.idleTimeoutMs]),
    );
    if (typeof json !== 'string') return undefined;
    const record = JSON.parse(json) as SessionRecord;
    record.lastSeenAt = now;
    return record;
  }

  async touch(id: string, now: number): Promise<boolean> {
    const touched = await this.connection.run((client) =>
      REFRESH.run(client, [this.setKey, this.key(id)], [id, now, this.idleTimeoutMs]),
    );
    return touched === 1;
  }

  /** Rewrites the record if it still exists (a session that expired meanwhile stays gone), renewing its TTL. */
  async update(record: SessionRecord): Promise<void> {
    await this.connection.run((client) =>
      REFRESH.run(
        client,
        [this.setKey, this.key(record.id)],
        [record.id, record.lastSeenAt, this.idleTimeoutMs, JSON.stringify(record)],
      ),
    );
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.connection.run((client) => DELETE.run(client, [this.setKey, this.key(id)], [id]));
    return deleted === 1;
  }

  /** Live sessions of the whole cluster. */
  async count(): Promise<number> {
    return Number(await this.connection.run((client) => COUNT.run(client, [this.setKey], [])));
  }

  /**
   * The ids of sessions that expired since the last prune, taken off the set (their keys are gone already, by
   * TTL), at most SWEEP_BATCH per call. `cutoff` is the in-memory store's notion (idle since before it): here a
   * session expires when it was not touched for idleTimeoutMs on Redis's clock, which is the same bound when the
   * caller's cutoff is `now - idleTimeoutMs`, so `cutoff` itself is not read. Each expired id is returned to
   * one caller only, the first instance that sweeps (or none, when create() or count() pruned it first).
   */
  async sweep(_cutoff: number): Promise<string[]> {
    const ids = await this.connection.run((client) => SWEEP.run(client, [this.setKey], [SWEEP_BATCH]));
    return (ids as unknown[]).map(String);
  }

  /**
   * Which of `ids` are still live sessions (their expiry, as the set scores it, is ahead), in one round trip
   * (ZMSCORE). Each instance asks this of the sessions it opened, since an expiry is seen by one sweep only.
   */
  async alive(ids: string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const scores = (await this.connection.run((client) => client.zmScore(this.setKey, ids))) as Array<number | null>;
    const now = Date.now();
    return scores.map((score) => score !== null && Number(score) > now);
  }

  /** Nothing to release: the records live in Redis, and the connection belongs to whoever created it. */
  async close(): Promise<void> {}

  private key(id: string): string {
    return `${this.connection.prefix}session:${id}`;
  }
}
