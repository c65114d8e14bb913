/**
 * The `redis` option: where several instances keep their shared state. Validated here, without loading the
 * Redis client, so that a bad value throws from createRemoteServer like every other option and a server
 * without Redis never loads node-redis (src/state/redis/ is imported only when this option is set).
 */
import { failOption } from '../errors.js';

export interface RedisOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). Required. */
  url: string;
  /** Prefix of every key and channel, so several deployments can share one Redis. Default `remote-mcp:`. */
  keyPrefix?: string;
  /** How long connecting (and each reconnect attempt) may take, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** How long a command may go unanswered before it fails (the request gets 503), in ms. Default 2000. */
  commandTimeoutMs?: number;
  /** The longest wait between reconnect attempts while Redis is away, in ms. Default 2000. */
  reconnectMaxDelayMs?: number;
}

export type ResolvedRedisOptions = Required<RedisOptions>;

export const REDIS_DEFAULTS = Object.freeze({
  keyPrefix: 'remote-mcp:',
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 2_000,
  reconnectMaxDelayMs: 2_000,
});

const KNOWN = new Set(['url', ...Object.keys(REDIS_DEFAULTS)]);

function positive(options: RedisOptions, name: keyof typeof REDIS_DEFAULTS & `${string}Ms`): number {
  const value = options[name] ?? REDIS_DEFAULTS[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    failOption(`redis.${name}`, 'an integer >= 1', value);
  return value;
}

/** Validates the `redis` option; undefined when it is not set (the in-memory stores serve one process). */
export function resolveRedisOptions(value: unknown): ResolvedRedisOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    failOption(
      'redis',
      'an object { url, keyPrefix?, connectTimeoutMs?, commandTimeoutMs?, reconnectMaxDelayMs? }',
      value,
    );
  const options = value as RedisOptions;
  for (const key of Object.keys(options))
    if (!KNOWN.has(key)) failOption(`redis.${key}`, `one of ${[...KNOWN].join(', ')} (unknown key)`, key);
  let url: URL | undefined;
  try {
    url = typeof options.url === 'string' ? new URL(options.url) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '')
    failOption('redis.url', 'a redis:// or rediss:// URL with a host', redactedUrl(options.url));
  const keyPrefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0)
    failOption('redis.keyPrefix', 'a non-empty string', keyPrefix);
  return Object.freeze({
    url: options.url,
    keyPrefix,
    connectTimeoutMs: positive(options, 'connectTimeoutMs'),
    commandTimeoutMs: positive(options, 'commandTimeoutMs'),
    reconnectMaxDelayMs: positive(options, 'reconnectMaxDelayMs'),
  });
}

/** The URL without its password, for messages and the health report. */
export function redactedUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@');
  }
}
