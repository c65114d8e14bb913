/**
 * Every error remote-mcp answers on the wire, listed once: a stable local code, the HTTP status and the
 * JSON-RPC error code it is sent with, and the message. Wire codes (HTTP, JSON-RPC) stay separate from the local
 * code so a log line or a test can name the condition, not a number shared by several conditions.
 * docs/errors.md documents each entry; a test checks that every code appears there.
 */

/** JSON-RPC error codes used on the wire. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** 2026-07-28: an MCP header is missing or disagrees with the body (SEP-2243 HeaderMismatch). */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability its envelope did not declare. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the protocol version is not served here; data names the supported ones. */
  UnsupportedProtocolVersion: -32022,
  /** remote-mcp: the request carries no valid credential (HTTP 401). */
  Unauthorized: -32001,
  /** remote-mcp: the principal may not do this (HTTP 403). */
  Forbidden: -32003,
  /** remote-mcp: a rate limit or the per-principal concurrency limit is reached (HTTP 429). */
  RateLimited: -32029,
} as const;

interface ErrorSpec {
  readonly status: number;
  readonly rpcCode: number;
  readonly message: string;
}

export const ERRORS = {
  PARSE_ERROR: { status: 400, rpcCode: JsonRpcCode.ParseError, message: 'Parse error: the body is not valid JSON' },
  INVALID_MESSAGE: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Invalid Request: the body is not a JSON-RPC 2.0 message',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Unsupported Media Type: Content-Type must be application/json',
  },
  NOT_ACCEPTABLE_POST: {
    status: 406,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Not Acceptable: Accept must list both application/json and text/event-stream',
  },
  NOT_ACCEPTABLE_GET: {
    status: 406,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Not Acceptable: Accept must list text/event-stream',
  },
  BODY_TOO_LARGE: {
    status: 413,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Payload Too Large: the body exceeds maxBodyBytes',
  },
  BATCH_TOO_LARGE: {
    status: 413,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Payload Too Large: the batch has more messages than maxBatchLength',
  },
  BATCH_NOT_ALLOWED: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Invalid Request: JSON-RPC batches are only accepted on 2025-03-26 sessions',
  },
  METHOD_NOT_ALLOWED: { status: 405, rpcCode: JsonRpcCode.InvalidRequest, message: 'Method Not Allowed' },
  HEADER_MISSING: {
    status: 400,
    rpcCode: JsonRpcCode.HeaderMismatch,
    message: 'Header mismatch: a required MCP header is missing',
  },
  HEADER_MISMATCH: {
    status: 400,
    rpcCode: JsonRpcCode.HeaderMismatch,
    message: 'Header mismatch: an MCP header disagrees with the body',
  },
  MISSING_CLIENT_CAPABILITY: {
    status: 400,
    rpcCode: JsonRpcCode.MissingRequiredClientCapability,
    message: 'Missing required client capability',
  },
  INVALID_REQUEST_STATE: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidParams,
    message: 'Invalid params: requestState was not issued by this server, was altered, or has expired',
  },
  SESSION_ID_REQUIRED: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Bad Request: Mcp-Session-Id header is required',
  },
  SESSION_NOT_FOUND: { status: 404, rpcCode: JsonRpcCode.InvalidRequest, message: 'Session not found' },
  SESSION_LIMIT: {
    status: 503,
    rpcCode: JsonRpcCode.InternalError,
    message: 'Service Unavailable: the session limit (maxSessions) is reached',
  },
  STREAM_LIMIT: {
    status: 503,
    rpcCode: JsonRpcCode.InternalError,
    message: 'Service Unavailable: the open stream limit (maxStreams) is reached',
  },
  LISTEN_LIMIT: {
    status: 429,
    rpcCode: JsonRpcCode.RateLimited,
    message: 'Too Many Requests: this connection has maxListensPerConnection subscriptions open',
  },
  STREAM_CONFLICT: {
    status: 409,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Conflict: this session already has an open standalone SSE stream',
  },
  UNKNOWN_EVENT_ID: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Not Found: Last-Event-ID names no stream of this session that can be resumed',
  },
  LEGACY_DISABLED: {
    status: 400,
    rpcCode: JsonRpcCode.UnsupportedProtocolVersion,
    message: 'Unsupported protocol version: this endpoint serves 2026-07-28 only',
  },
  FORBIDDEN_ORIGIN: { status: 403, rpcCode: JsonRpcCode.InvalidRequest, message: 'Forbidden: Origin is not allowed' },
  CORS_ORIGIN_REFUSED: {
    status: 403,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Forbidden: this Origin is not allowed by the CORS policy',
  },
  FORBIDDEN_HOST: { status: 403, rpcCode: JsonRpcCode.InvalidRequest, message: 'Forbidden: Host is not allowed' },
  BAD_HOST: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Bad Request: the Host header must be one name[:port] (missing, repeated or malformed)',
  },
  BAD_REQUEST: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Bad Request: the request is not valid HTTP',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Request Timeout: the request did not arrive within headersTimeoutMs / requestTimeoutMs',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    rpcCode: JsonRpcCode.InvalidRequest,
    message:
      "Request Header Fields Too Large: the headers exceed the HTTP server's maxHeaderSize (Node's default: 16 KiB)",
  },
  UPGRADE_INVALID: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidRequest,
    message: 'Bad Request: the WebSocket handshake is invalid',
  },
  STATE_UNAVAILABLE: {
    status: 503,
    rpcCode: JsonRpcCode.InternalError,
    message: 'Service Unavailable: the shared state store (Redis) did not answer; retry shortly',
  },
  SERVER_CLOSING: {
    status: 503,
    rpcCode: JsonRpcCode.InternalError,
    message: 'Service Unavailable: the server is shutting down',
  },
  INTERNAL: { status: 500, rpcCode: JsonRpcCode.InternalError, message: 'Internal error' },
  NOT_FOUND: { status: 404, rpcCode: JsonRpcCode.InvalidRequest, message: 'Not Found' },
  AUTH_REQUIRED: {
    status: 401,
    rpcCode: JsonRpcCode.Unauthorized,
    message: 'Unauthorized: a credential is required (see WWW-Authenticate)',
  },
  AUTH_INVALID: { status: 401, rpcCode: JsonRpcCode.Unauthorized, message: 'Unauthorized: the credential is invalid' },
  AUTH_QUERY_CREDENTIAL: {
    status: 400,
    rpcCode: JsonRpcCode.Unauthorized,
    message: 'Bad Request: credentials are not accepted in the query string; send them in the Authorization header',
  },
  AUTH_UNAVAILABLE: {
    status: 503,
    rpcCode: JsonRpcCode.InternalError,
    message: 'Service Unavailable: the token signing keys could not be fetched',
  },
  FORBIDDEN_OPERATION: {
    status: 403,
    rpcCode: JsonRpcCode.Forbidden,
    message: 'Forbidden: this principal may not use this tool, resource or prompt',
  },
  RATE_LIMITED: {
    status: 429,
    rpcCode: JsonRpcCode.RateLimited,
    message: 'Too Many Requests: a rate limit is reached',
  },
  CONCURRENCY_LIMIT: {
    status: 429,
    rpcCode: JsonRpcCode.RateLimited,
    message: 'Too Many Requests: too many requests of this client are in flight',
  },
  RATE_LIMIT_UNAVAILABLE: {
    status: 503,
    rpcCode: JsonRpcCode.InternalError,
    message: 'Service Unavailable: the rate limit store did not answer',
  },
  INPUT_LIMIT: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidParams,
    message: 'Invalid params: the request exceeds an input limit',
  },
  INVALID_TOOL_NAME: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidParams,
    message: 'Invalid params: a tool name is 1 to 128 characters of A-Z, a-z, 0-9, _, - and .',
  },
  INVALID_ARGUMENTS: {
    status: 400,
    rpcCode: JsonRpcCode.InvalidParams,
    message: "Invalid params: the arguments do not match the tool's input schema",
  },
  AUTH_INSUFFICIENT_SCOPE: { status: 403, rpcCode: JsonRpcCode.Forbidden, message: 'Forbidden: insufficient scope' },
  TASK_NOT_FOUND: {
    status: 200,
    rpcCode: JsonRpcCode.InvalidParams,
    message: 'Invalid params: no such task (unknown, expired, or created by another principal)',
  },
  TASK_LIMIT: {
    status: 200,
    rpcCode: JsonRpcCode.RateLimited,
    message: 'Too Many Requests: the limit of tasks not yet finished is reached',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERRORS;

/** Thrown for invalid options; the message names the option, what was expected and what was received. */
export class RemoteMcpOptionError extends TypeError {
  readonly code = 'REMOTE_MCP_INVALID_OPTION';
}

/** Refuses an option value: `remote-mcp: option \`<key>\` must be <expected>; received <value as JSON>.` */
export function failOption(key: string, expected: string, value: unknown): never {
  throw new RemoteMcpOptionError(
    `remote-mcp: option \`${key}\` must be ${expected}; received ${JSON.stringify(value) ?? String(value)}.`,
  );
}

/** Thrown when the installed SDK does not have the shape remote-mcp binds to (see src/server/sdk-bridge.ts). */
export class RemoteMcpSdkError extends Error {
  readonly code = 'REMOTE_MCP_SDK_INCOMPATIBLE';
}
