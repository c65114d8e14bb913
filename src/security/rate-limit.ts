// TEMPORARY STUB (lead engineer): replaced by the rate-limit helper's module.
export interface RateLimitWindow { points: number; durationSeconds: number }
export interface RateLimitOptions { perPrincipal?: RateLimitWindow; global?: RateLimitWindow; toolCosts?: Record<string, number> }
export type ResolvedRateLimits = RateLimitOptions;
export function resolveRateLimitOptions(value: unknown): ResolvedRateLimits | undefined { return value as ResolvedRateLimits | undefined; }
export interface RateLimitVerdict { allowed: boolean; scope?: 'global' | 'principal'; retryAfterSeconds?: number; headers: Record<string, string> }
export class RateLimiter {
  constructor(readonly resolved: ResolvedRateLimits) {}
  async check(_key: string, _tool: string | undefined): Promise<RateLimitVerdict> { return { allowed: true, headers: {} }; }
  async close(): Promise<void> {}
}
