/**
 * The one error every Redis-backed store rejects with when Redis cannot serve a call: the client is not
 * connected, or the command got no answer within `commandTimeoutMs`. Callers outside src/state/redis/ do not
 * import this module statically (see index.ts): they recognise the error by its `name` or `code`.
 */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
  readonly code = 'REMOTE_MCP_STATE_UNAVAILABLE';
}
