/**
 * Rate-limit counters in Redis with rate-limiter-flexible's RateLimiterRedis, so a window is one window for the
 * cluster: a 10/60 limit admits 10 requests a minute across all instances, not 10 per instance. Keyed as
 * InMemoryRateLimitStore: one limiter per window (`<points>/<durationSeconds>`), its counters at
 * `<p>ratelimit:<points>/<durationSeconds>:<key>`, each a counter with the window's TTL. One consume is one
 * script (one round trip). Over the limit the decision says allowed: false; a Redis failure rejects with
 * StateUnavailableError (RateLimiter decides whether that fails open or closed).
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

import {
  decisionOf,
  type RateLimitDecision,
  type RateLimitStore,
  type RateLimitWindow,
} from '../../security/rate-limit.js';
import type { RedisClient, RedisConnection } from './connection.js';

export class RedisRateLimitStore implements RateLimitStore {
  private readonly limiters = new Map<string, RateLimiterRedis>();

  /** @param connection borrowed, not owned: close() leaves it open (its creator closes it once). */
  constructor(private readonly connection: RedisConnection) {}

  async check(): Promise<unknown> {
    return this.connection.check();
  }

  async consume(key: string, cost: number, window: RateLimitWindow): Promise<RateLimitDecision> {
    return this.connection.run(async (client) => {
      try {
        return decisionOf(true, window, await this.limiter(client, window).consume(key, cost));
      } catch (rejection) {
        // Over the limit, the limiter rejects with its result; anything else is the store failing.
        if (rejection instanceof RateLimiterRes) return decisionOf(false, window, rejection);
        throw rejection;
      }
    });
  }

  async close(): Promise<void> {
    this.limiters.clear();
  }

  private limiter(client: RedisClient, window: RateLimitWindow): RateLimiterRedis {
    const id = `${window.points}/${window.durationSeconds}`;
    let limiter = this.limiters.get(id);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: client,
        useRedisPackage: true,
        points: window.points,
        duration: window.durationSeconds,
        keyPrefix: `${this.connection.prefix}ratelimit:${id}`,
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
