/**
 * The `redis` option: where the shared state of several instances lives. Validated here, without loading
 * node-redis (src/state/redis/ is imported only when the option is set), so a bad value throws from
 * createRemoteServer like every other option. Validated once, before anything
 * connects; the defaults are listed in one frozen object.
 */
import { failOption } from '../errors.js';

export interface RedisOptions {
  /** redis://[user:password@]host[:port][/db] or rediss:// (TLS). */
  url: string;
  /** Prepended to every key and channel (default 'remote-mcp:'), so several deployments can share one Redis. */
  keyPrefix?: string;
  /** How long one connection attempt may take. */
  connectTimeoutMs?: number;
  /** A command not answered by then rejects with StateUnavailableError. */
  commandTimeoutMs?: number;
  /** The cap of the reconnect backoff. */
  reconnectMaxDelayMs?: number;
}

export type ResolvedRedisOptions = Readonly<Required<RedisOptions>>;

export const REDIS_DEFAULTS = Object.freeze({
  keyPrefix: 'remote-mcp:',
  /** 5 s: one TCP (and TLS) connection attempt. */
  connectTimeoutMs: 5000,
  /** 2 s: a request waiting on shared state fails after this, instead of hanging with Redis. */
  commandTimeoutMs: 2000,
  /** 2 s: a Redis that comes back is used again within about this long. */
  reconnectMaxDelayMs: 2000,
});

/** The largest duration option: one hour (and far below setTimeout's 2^31 - 1 ms limit). */
const MAX_DURATION_MS = 3_600_000;

const KEYS = new Set(['url', 'keyPrefix', 'connectTimeoutMs', 'commandTimeoutMs', 'reconnectMaxDelayMs']);

function duration(options: Record<string, unknown>, key: keyof typeof REDIS_DEFAULTS): number {
  const value = options[key] ?? REDIS_DEFAULTS[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_DURATION_MS)
    failOption(`redis.${key}`, `an integer from 1 to ${MAX_DURATION_MS} (milliseconds)`, value);
  return value;
}

/** Validates the `redis` option (an object; a bare URL string is accepted as `{ url }`). */
export function resolveRedisOptions(value: unknown): ResolvedRedisOptions {
  if (typeof value === 'string') value = { url: value };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    failOption(
      'redis',
      'an object { url, keyPrefix?, connectTimeoutMs?, commandTimeoutMs?, reconnectMaxDelayMs? }',
      value,
    );
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key))
      failOption(`redis.${key}`, `unset (the redis options are ${[...KEYS].join(', ')})`, options[key]);
  }
  const { url, keyPrefix = REDIS_DEFAULTS.keyPrefix } = options;
  if (typeof url !== 'string') failOption('redis.url', 'a redis:// or rediss:// URL', url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The value may hold a password: it is not echoed.
    failOption('redis.url', 'a redis:// or rediss:// URL', '(a string that is not a URL)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    failOption('redis.url', 'a redis:// or rediss:// URL', redactUrl(url));
  // A brace would make the prefix, not the session id, the Redis Cluster hash tag of the event store's keys.
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || /[{}]/.test(keyPrefix))
    failOption('redis.keyPrefix', 'a non-empty string without { or }', keyPrefix);
  return Object.freeze({
    url,
    keyPrefix,
    connectTimeoutMs: duration(options, 'connectTimeoutMs'),
    commandTimeoutMs: duration(options, 'commandTimeoutMs'),
    reconnectMaxDelayMs: duration(options, 'reconnectMaxDelayMs'),
  });
}

/** The URL without its password, for messages and health reports. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return parsed.href;
    parsed.password = '';
    return parsed.href;
  } catch {
    return '(invalid URL)';
  }
}
