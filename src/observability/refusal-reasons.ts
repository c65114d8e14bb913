/**
 * The reason codes of refusals the transports answer before a message becomes a JSON-RPC request the gate
 * admits (docs/security.md, "Audit log"). The list is closed: each code is an audit line's `reason` and a label
 * value of `mcp_refusals_total`, so a client cannot mint new series, and an operator can alert on a code.
 * Authentication refusals keep their own reasons (`missing`, `expired`, ...) and the gate's refusals theirs
 * (`concurrency`, `input-depth`, ...).
 */
export const REFUSAL_REASONS = [
  // The Host header: absent on HTTP/1.1, repeated, or not `name[:port]` (userinfo, spaces, quotes...): 400.
  'host-missing',
  'host-duplicate',
  'host-invalid',
  // DNS-rebinding protection and the CORS policy: 403.
  'host-not-allowed',
  'origin-not-allowed',
  'cors-origin-refused',
  // HTTP framing: 405, 415, 406, 413, 400 (a body that is not JSON, not JSON-RPC, a batch where none is allowed).
  'method-not-allowed',
  'unsupported-media-type',
  'not-acceptable',
  'body-too-large',
  'batch-too-large',
  'batch-not-allowed',
  'parse-error',
  'invalid-message',
  'unsupported-protocol-version',
  'legacy-disabled',
  // 2025-era sessions: 400, 404. The client sees the same 404 for all three; only the audit line tells them apart.
  'session-id-required',
  'session-not-found',
  'session-transport-mismatch',
  'session-principal-mismatch',
  // Node's HTTP parser: a malformed request (400), a slow one (408), oversized headers (431).
  'bad-request',
  'request-timeout',
  'headers-too-large',
  // WebSocket upgrades: WebSocket off (404), an invalid handshake (400/405), a subprotocol other than `mcp`
  // (400), the connection limit (503). Host/Origin refusals of an upgrade use the codes above.
  'websocket-disabled',
  'upgrade-invalid',
  'subprotocol-refused',
  'connection-limit',
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const REFUSAL_REASON_SET: ReadonlySet<string> = new Set(REFUSAL_REASONS);
