/**
 * The shared state store did not answer (Redis unreachable, or slower than redis.commandTimeoutMs). Defined
 * outside src/state/redis/ so the transports can recognise it without loading the Redis client; a request that
 * meets it is answered 503 STATE_UNAVAILABLE (nothing ran, a retry is safe).
 */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
  readonly code = 'REMOTE_MCP_STATE_UNAVAILABLE';
}

/** Whether an error means the shared state store is unavailable (by name: the Redis module may be another copy). */
export function isStateUnavailable(error: unknown): boolean {
  return error instanceof Error && error.name === 'StateUnavailableError';
}
