/**
 * The flags every client command shares (call, list, read, bridge; doctor and bench reuse them), their mapping to
 * the client library's ConnectOptions, the exit codes, and how a failure is told to the user.
 *
 * Exit codes: 0 success, 1 the operation failed (connection, HTTP status, JSON-RPC error, a tool result with
 * isError), 2 bad usage (unknown flag, missing argument, a flag value that does not parse).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ProtocolError, SdkError, SdkHttpError } from '@modelcontextprotocol/client';

import {
  type AuthOption,
  CLIENT_DEFAULTS,
  type ConnectOptions,
  HttpStatusError,
  type ProtocolChoice,
  type TransportKind,
} from '../client/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Environment variables the credential flags fall back to (so tokens stay out of shell history and `ps`). */
export const CLIENT_ENVIRONMENT = Object.freeze({ token: 'REMOTE_MCP_TOKEN', apiKey: 'REMOTE_MCP_API_KEY' });

const TRANSPORTS: TransportKind[] = ['auto', 'streamable-http', 'sse', 'websocket'];
const PROTOCOLS: ProtocolChoice[] = ['auto', 'modern', 'legacy'];
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface ClientFlags {
  header?: Record<string, string>;
  token?: string;
  apiKey?: string;
  timeout: number;
  totalTimeout?: number;
  transport: TransportKind;
  protocol: ProtocolChoice;
  retries?: number;
  json?: boolean;
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError(`expected a whole number > 0, received "${value}"`);
  return parsed;
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError(`expected a whole number >= 0, received "${value}"`);
  return parsed;
}

/** `--header 'name: value'`, repeatable; a later one with the same name wins. */
export function collectHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  const name = colon === -1 ? '' : value.slice(0, colon).trim();
  if (!HEADER_NAME.test(name))
    throw new InvalidArgumentError(`expected "name: value" with a valid header name, received "${value}"`);
  const headerValue = value.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(headerValue)) throw new InvalidArgumentError(`header values cannot hold CR, LF or NUL`);
  return { ...previous, [name.toLowerCase()]: headerValue };
}

/** Adds the flags that say how to reach the server (bridge takes only these), and makes usage errors exit 2. */
export function addConnectionFlags(
  command: Command,
  retries = `retries of a failed request where repeating is safe (default ${CLIENT_DEFAULTS.retry.attempts - 1}; 0 turns them off)`,
): Command {
  return usageExitsTwo(command)
    .option(
      '--header <name:value>',
      'send this HTTP header (and WebSocket handshake header); repeatable',
      collectHeader,
    )
    .addOption(new Option('--token <token>', 'bearer token (Authorization: Bearer)').env(CLIENT_ENVIRONMENT.token))
    .addOption(
      new Option('--api-key <key>', `API key (sent as ${CLIENT_DEFAULTS.apiKeyHeader})`).env(CLIENT_ENVIRONMENT.apiKey),
    )
    .addOption(
      new Option('--transport <kind>', 'the wire; auto picks from the URL and the server')
        .choices(TRANSPORTS)
        .default('auto'),
    )
    .option('--retries <n>', retries, wholeNumber);
}

/** Adds the shared client flags (call, list, read, doctor, bench), and makes usage errors exit 2. */
export function addClientFlags(command: Command): Command {
  return addConnectionFlags(command)
    .option(
      '--timeout <ms>',
      'per request; restarts when the server reports progress',
      positiveInteger,
      CLIENT_DEFAULTS.timeoutMs,
    )
    .option('--total-timeout <ms>', 'bound on a whole request, its retries included (default: none)', positiveInteger)
    .addOption(
      new Option('--protocol <era>', 'modern (2026-07-28), legacy (2025-era session) or auto (modern, else legacy)')
        .choices(PROTOCOLS)
        .default('auto'),
    )
    .option('--json', 'print machine-readable JSON on stdout');
}

/** Commander exits 1 on a usage error; client commands exit 2 (1 means the operation failed). */
export function usageExitsTwo(command: Command): Command {
  return command.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
  });
}

/** The credential the flags give (--token or --api-key, or their environment variables). */
export function authFromFlags(flags: Pick<ClientFlags, 'token' | 'apiKey'>): AuthOption | undefined {
  if (flags.token !== undefined && flags.apiKey !== undefined)
    throw new UsageError('give --token or --api-key, not both');
  if (flags.token !== undefined) return { token: flags.token };
  if (flags.apiKey !== undefined) return { apiKey: flags.apiKey };
  return undefined;
}

/** The ConnectOptions the flags describe. */
export function connectOptionsFromFlags(flags: ClientFlags): ConnectOptions {
  const auth = authFromFlags(flags);
  return {
    transport: flags.transport,
    protocol: flags.protocol,
    headers: flags.header ?? {},
    ...(auth !== undefined && { auth }),
    timeoutMs: flags.timeout,
    ...(flags.totalTimeout !== undefined && { totalTimeoutMs: flags.totalTimeout }),
    // A long tool that reports progress is working, not stuck (typescript-sdk #245).
    resetTimeoutOnProgress: true,
    ...(flags.retries !== undefined && { retry: { attempts: flags.retries + 1 } }),
  };
}

/** A usage error found after parsing (conflicting flags): exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The JSON-RPC error in an HTTP error body, when there is one. */
function rpcErrorInBody(text: unknown): { code: number; message: string } | undefined {
  if (typeof text !== 'string' || !text.trimStart().startsWith('{')) return undefined;
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code === 'number' && typeof error.message === 'string')
      return { code: error.code, message: error.message };
  } catch {
    // Not JSON after all: the status says it.
  }
  return undefined;
}

/** What an error wraps: `cause`, or the SDK's `data.cause`. */
function causeOf(error: unknown): unknown {
  if (error === null || typeof error !== 'object') return undefined;
  const direct = (error as { cause?: unknown }).cause;
  if (direct !== undefined) return direct;
  const data = (error as { data?: unknown }).data;
  return data !== null && typeof data === 'object' ? (data as { cause?: unknown }).cause : undefined;
}

/** The first error along the cause chain with a Node or undici error code (fetch hides them in `cause`). */
function systemCause(error: unknown): { code: string; message: string } | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code))
      return { code, message: typeof message === 'string' ? message : code };
    current = causeOf(current);
  }
  return undefined;
}

/**
 * One line saying what went wrong: the server's JSON-RPC message and code, the HTTP status and its reason, or the
 * network error (ECONNREFUSED ...), rather than the SDK's wrapping.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof ProtocolError)
    return `${error.message.replace(/^MCP error -?\d+: /, '')} (JSON-RPC error ${error.code})`;
  if (error instanceof HttpStatusError) {
    const rpc = error.rpcError;
    return rpc === undefined ? error.message : `HTTP ${error.status}: ${rpc.message} (JSON-RPC error ${rpc.code})`;
  }
  if (error instanceof SdkHttpError) {
    const data = error.data as { status?: number; statusText?: string; text?: unknown } | undefined;
    const status = error.status ?? data?.status;
    const rpc = rpcErrorInBody(data?.text);
    if (rpc !== undefined) return `HTTP ${status}: ${rpc.message} (JSON-RPC error ${rpc.code})`;
    return status === undefined ? error.message : `HTTP ${status}: ${data?.statusText || error.message}`;
  }
  const system = systemCause(error);
  if (system !== undefined)
    return system.message.includes(system.code) ? system.message : `${system.code}: ${system.message}`;
  const cause = causeOf(error);
  // The SDK wraps what failed during version negotiation; what failed is the news.
  if (error instanceof SdkError && cause !== undefined && cause !== error) return describeFailure(cause);
  const message = error instanceof Error ? error.message : String(error);
  if (cause instanceof Error && cause.message !== '' && !message.includes(cause.message))
    return `${message} (${cause.message})`;
  return message;
}

/** Writes to stdout and resolves once the bytes are handed to the OS, so exiting right after loses nothing. */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === '') resolve();
    else process.stdout.write(text, () => resolve());
  });
}

/**
 * Runs a client command's body and exits with its code: 1 for any failure (with one `remote-mcp: ...` line on
 * stderr), 2 for a UsageError. The process exits here, so nothing (a keep-alive socket, a timer) holds it open.
 */
export async function runClientCommand(body: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await body();
  } catch (error) {
    code = error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
    process.stderr.write(`remote-mcp: ${describeFailure(error).replace(/^remote-mcp( client)?: /, '')}\n`);
  }
  await writeOut('');
  process.exit(code);
}
