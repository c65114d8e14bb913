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

/**
 * The error to answer a failure of the state store with: STATE_UNAVAILABLE when it is away (nothing to report:
 * the connection logs the outage once), else INTERNAL, after `onError` has it.
 */
export function storeFailure(error: unknown, onError: (error: Error) => void): 'STATE_UNAVAILABLE' | 'INTERNAL' {
  if (isStateUnavailable(error)) return 'STATE_UNAVAILABLE';
  onError(error as Error);
  return 'INTERNAL';
}
