/**
 * What a gateway answers when the server behind it cannot: each condition has a local name and the JSON-RPC
 * code the client sees. They are in-band errors of the request (HTTP 200 on 2026-07-28, like any handler's
 * error): the HTTP exchange itself succeeded. docs/gateway.md and docs/errors.md list them.
 */

export const GatewayCode = {
  /** The stdio server could not be started, exited, broke the framing, or every child is busy at the cap. */
  Unavailable: -32050,
  /** The server behind the gateway did not answer within the request timeout. */
  Timeout: -32054,
} as const;

export const GATEWAY_ERRORS = {
  /** spawn failed (ENOENT, EACCES, EAGAIN) or the child exited, crashed or was stopped for flooding stdout. */
  CHILD_EXITED: { rpcCode: GatewayCode.Unavailable },
  /** The child did not answer within stdio.requestTimeoutMs. */
  CHILD_TIMEOUT: { rpcCode: GatewayCode.Timeout },
  /** stdio.maxChildren children are running and none could take the request. */
  AT_CAPACITY: { rpcCode: GatewayCode.Unavailable },
  /** The gateway is shutting down. */
  CLOSED: { rpcCode: GatewayCode.Unavailable },
  /** The child answered with a JSON-RPC error: passed on with the child's own code. */
  CHILD_ERROR: { rpcCode: -32603 },
  /** The client cancelled (it never sees this: a cancelled request gets no answer). */
  CANCELLED: { rpcCode: -32800 },
} as const;

export type GatewayErrorName = keyof typeof GATEWAY_ERRORS;

export class GatewayError extends Error {
  override readonly name: GatewayErrorName;
  /** The JSON-RPC code to answer with: the child's own for CHILD_ERROR. */
  readonly code: number;
  readonly data: unknown;

  constructor(name: GatewayErrorName, message: string, rpc?: { code: number; data?: unknown }) {
    super(message);
    this.name = name;
    this.code = rpc?.code ?? GATEWAY_ERRORS[name].rpcCode;
    this.data = rpc?.data ?? (name === 'CHILD_ERROR' ? undefined : { gateway: name });
  }
}
