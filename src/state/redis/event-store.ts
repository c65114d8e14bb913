/**
 * The SSE events of 2025-era streams in Redis, so a stream resumes with Last-Event-ID on any instance, also
 * after the instance that wrote it died. Same semantics and bounds as InMemoryEventStore (see
 * ../event-store.ts): per stream the newest maxEventsPerStream events and at most maxEventBytesPerStream bytes,
 * per session the newest maxStreamsPerSession streams and at most maxEventBytesPerSession bytes (the session's
 * oldest events go first, whichever stream they are on); an event evicted for size is gone as one evicted for
 * count, and its stream stays known.
 *
 * Keys of session S (`<p>` is the connection's keyPrefix; `{S}` is the Redis Cluster hash tag, so one
 * session's keys share a slot and each script stays on one node):
 * - `<p>events:{S}:meta` — hash: `order` (the last event's number in the session), `streams` (the last
 *   stream's number), `bytes` (the session's kept bytes) and per stream s: `n:<s>` (its last sequence: the
 *   per-stream counter, so ids continue whichever instance appends), `l:<s>` (its first kept sequence) and
 *   `b:<s>` (its kept bytes). A stream keeps a contiguous run of sequences, `l` to `n`, because eviction only
 *   ever takes a stream's oldest event.
 * - `<p>events:{S}:streams` — sorted set: stream ids by creation, the first is the one evicted next.
 * - `<p>events:{S}:order` — sorted set: kept event ids by age across the session's streams.
 * - `<p>events:{S}:events` — hash: event id → the message as JSON.
 * - `<p>events:{S}:sizes` — hash: event id → its bytes as the caller measured them.
 *
 * append is one script (one round trip) that counts, stores and trims atomically, so two instances appending
 * to one session never break a bound. Every append and replay renews the TTL (ttlMs) of all five keys: nothing
 * outlives a session abandoned without dropSession.
 */
import { EVENT_BYTE_DEFAULTS, type EventStore, parseEventId, type StoredEvent } from '../event-store.js';
import type { RedisConnection } from './connection.js';
import { LuaScript } from './lua-script.js';

export interface RedisEventStoreOptions {
  maxEventsPerStream: number;
  maxStreamsPerSession: number;
  maxEventBytesPerStream?: number;
  maxEventBytesPerSession?: number;
  /** How long a session's events outlive its last append or replay (the server's sessionIdleTimeoutMs). */
  ttlMs: number;
}

const KEY_NAMES = ['meta', 'streams', 'order', 'events', 'sizes'] as const;

/** KEYS: the five keys. ARGV: stream, JSON, bytes, maxEvents, maxStreams, maxStreamBytes, maxSessionBytes, ttl. */
const APPEND = new LuaScript(`local meta, streams, order, events, sizes = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local stream, bytes = ARGV[1], tonumber(ARGV[3])
local maxEvents, maxStreams = tonumber(ARGV[4]), tonumber(ARGV[5])
local maxStreamBytes, maxSessionBytes = tonumber(ARGV[6]), tonumber(ARGV[7])
local function int(n) return string.format('%d', n) end

-- Drops the oldest count kept events of stream s (all of them with math.huge), keeping the tallies right.
local function forget(s, count)
  local lo = tonumber(redis.call('HGET', meta, 'l:' .. s))
  local last = math.min(tonumber(redis.call('HGET', meta, 'n:' .. s)), lo + count - 1)
  if last < lo then return end
  local freed = 0
  for q = lo, last do
    local id = s .. '.' .. int(q)
    freed = freed + (tonumber(redis.call('HGET', sizes, id)) or 0)
    redis.call('HDEL', events, id)
    redis.call('HDEL', sizes, id)
    redis.call('ZREM', order, id)
  end
  redis.call('HSET', meta, 'l:' .. s, int(last + 1))
  redis.call('HINCRBY', meta, 'b:' .. s, int(-freed))
  redis.call('HINCRBY', meta, 'bytes', int(-freed))
end

if not redis.call('HGET', meta, 'n:' .. stream) then
  redis.call('ZADD', streams, redis.call('HINCRBY', meta, 'streams', 1), stream)
  redis.call('HSET', meta, 'n:' .. stream, 0, 'l:' .. stream, 1, 'b:' .. stream, 0)
  if redis.call('ZCARD', streams) > maxStreams then
    local oldest = redis.call('ZRANGE', streams, 0, 0)[1]
    forget(oldest, math.huge)
    redis.call('ZREM', streams, oldest)
    redis.call('HDEL', meta, 'n:' .. oldest, 'l:' .. oldest, 'b:' .. oldest)
  end
end
local sequence = redis.call('HINCRBY', meta, 'n:' .. stream, 1)
local id = stream .. '.' .. int(sequence)
redis.call('HSET', events, id, ARGV[2])
redis.call('HSET', sizes, id, ARGV[3])
redis.call('ZADD', order, redis.call('HINCRBY', meta, 'order', 1), id)
redis.call('HINCRBY', meta, 'b:' .. stream, ARGV[3])
redis.call('HINCRBY', meta, 'bytes', ARGV[3])
-- An event larger than a bound on its own is not kept either: the bound holds, the event was written live.
while true do
  local kept = sequence - tonumber(redis.call('HGET', meta, 'l:' .. stream)) + 1
  if kept <= maxEvents and tonumber(redis.call('HGET', meta, 'b:' .. stream)) <= maxStreamBytes then break end
  forget(stream, 1)
end
while tonumber(redis.call('HGET', meta, 'bytes')) > maxSessionBytes do
  local oldest = redis.call('ZRANGE', order, 0, 0)[1]
  if not oldest then break end
  forget(string.match(oldest, '^(.*)%.'), 1)
end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[8]) end
return id`);

/**
 * KEYS: the five keys. ARGV: stream, the sequence replayed after, ttl. Returns nil for a stream this session
 * does not know, else [id, JSON, id, JSON, ...] of the kept events after the sequence.
 */
const REPLAY = new LuaScript(`local last = redis.call('HGET', KEYS[1], 'n:' .. ARGV[1])
if not last then return false end
local first = math.max(tonumber(redis.call('HGET', KEYS[1], 'l:' .. ARGV[1])), tonumber(ARGV[2]) + 1)
local out = {}
for q = first, tonumber(last) do
  local id = ARGV[1] .. '.' .. string.format('%d', q)
  local message = redis.call('HGET', KEYS[4], id)
  if message then
    out[#out + 1] = id
    out[#out + 1] = message
  end
end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return out`);

export class RedisEventStore implements EventStore {
  private readonly maxEventsPerStream: number;
  private readonly maxStreamsPerSession: number;
  private readonly maxEventBytesPerStream: number;
  private readonly maxEventBytesPerSession: number;
  private readonly ttlMs: number;

  /** @param connection borrowed, not owned: close() leaves it open (its creator closes it once). */
  constructor(
    private readonly connection: RedisConnection,
    options: RedisEventStoreOptions,
  ) {
    this.maxEventsPerStream = options.maxEventsPerStream;
    this.maxStreamsPerSession = options.maxStreamsPerSession;
    this.maxEventBytesPerStream = options.maxEventBytesPerStream ?? EVENT_BYTE_DEFAULTS.maxEventBytesPerStream;
    this.maxEventBytesPerSession = options.maxEventBytesPerSession ?? EVENT_BYTE_DEFAULTS.maxEventBytesPerSession;
    this.ttlMs = options.ttlMs;
  }

  /** Redis's reachability and latency; event tallies over all sessions would need a scan, so there are none. */
  async check(): Promise<unknown> {
    return this.connection.check();
  }

  async append(sessionId: string, streamId: string, message: unknown, bytes?: number): Promise<string> {
    const json = JSON.stringify(message) ?? 'null';
    // A caller written against the older three-argument interface: measure here, as the in-memory store does.
    const size = bytes ?? Buffer.byteLength(json);
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`event bytes must be an integer >= 0: ${size}`);
    const id = await this.connection.run((client) =>
      APPEND.run(client, this.keys(sessionId), [
        streamId,
        json,
        size,
        this.maxEventsPerStream,
        this.maxStreamsPerSession,
        this.maxEventBytesPerStream,
        this.maxEventBytesPerSession,
        this.ttlMs,
      ]),
    );
    return String(id);
  }

  async replay(
    sessionId: string,
    lastEventId: string,
  ): Promise<{ streamId: string; events: StoredEvent[] } | undefined> {
    const parsed = parseEventId(lastEventId);
    if (parsed === undefined) return undefined;
    const { streamId, sequence } = parsed;
    const reply = await this.connection.run((client) =>
      REPLAY.run(client, this.keys(sessionId), [streamId, sequence, this.ttlMs]),
    );
    if (!Array.isArray(reply)) return undefined;
    const events: StoredEvent[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2)
      events.push({ id: String(reply[i]), message: JSON.parse(String(reply[i + 1])) });
    return { streamId, events };
  }

  async dropSession(sessionId: string): Promise<void> {
    await this.connection.run((client) => client.del(this.keys(sessionId)));
  }

  /** Nothing to release: the events live in Redis (by TTL), and the connection belongs to its creator. */
  async close(): Promise<void> {}

  private keys(sessionId: string): string[] {
    const base = `${this.connection.prefix}events:{${sessionId}}:`;
    return KEY_NAMES.map((name) => base + name);
  }
}
