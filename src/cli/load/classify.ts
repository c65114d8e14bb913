/**
 * What one answer was: a success, or an error of one of the kinds the report counts (docs/cli.md lists them):
 *   `http <status>`      a non-2xx HTTP answer
 *   `jsonrpc <code>`     a JSON-RPC error response
 *   `tool isError`       a tools/call result with isError: true
 *   `input required`     a 2026-07-28 input_required result (bench does not answer the server's questions)
 *   `bad response`       not JSON-RPC, no answer with the request's id, or an answer over the size limit
 *   `timeout`            no answer within --timeout
 *   `connection <code>`  the socket failed (ECONNRESET, ...), or `connection closed`: the stream or WebSocket
 *                        ended while the request waited
 */
import { sseData } from './sse-parser.js';

export interface Failure {
  kind: string;
  /** What the server (or the socket) said, for the report's first example of the kind. */
  message: string;
}

/** The longest error message the report keeps. */
const MESSAGE_CHARS = 200;

const clip = (text: string) => (text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text);

export const badResponse = (message: string): Failure => ({ kind: 'bad response', message });

export function connectionFailure(error: unknown): Failure {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    kind: typeof code === 'string' ? `connection ${code}` : 'connection',
    message: clip(error instanceof Error ? error.message : String(error)),
  };
}

/** A JSON-RPC response: undefined for a successful result, else the failure it carries. */
export function classifyMessage(message: Record<string, unknown>): Failure | undefined {
  const error = message.error as { code?: unknown; message?: unknown } | undefined;
  if (error !== undefined && error !== null)
    return { kind: `jsonrpc ${String(error.code)}`, message: clip(String(error.message ?? '')) };
  const result = message.result as Record<string, unknown> | undefined;
  if (result === null || typeof result !== 'object') return badResponse('a response with neither result nor error');
  if (result.isError === true) {
    const content = result.content as Array<{ type?: unknown; text?: unknown }> | undefined;
    const text = Array.isArray(content) ? content.find((part) => part?.type === 'text')?.text : undefined;
    return { kind: 'tool isError', message: clip(typeof text === 'string' ? text : '') };
  }
  if (result.resultType === 'input_required')
    return { kind: 'input required', message: 'the tool asked for input (an input_required result)' };
  return undefined;
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The response with this id among a JSON or SSE body's messages (notifications before it are skipped). */
function answerIn(body: string, sse: boolean, id: number, maxBytes: number): Record<string, unknown> | undefined {
  if (!sse) {
    const message = parse(body);
    return message?.id === id ? message : undefined;
  }
  for (const data of sseData(body, maxBytes)) {
    const message = parse(data);
    if (message?.id === id) return message;
  }
  return undefined;
}

/** A complete HTTP answer to request `id`: undefined for a success, else its failure. */
export function classifyHttp(
  status: number,
  contentType: string,
  body: string,
  id: number,
  maxBytes: number,
): Failure | undefined {
  const sse = contentType.startsWith('text/event-stream');
  if (status < 200 || status > 299) {
    const error = (sse ? undefined : parse(body))?.error as { code?: unknown; message?: unknown } | undefined;
    const said =
      error !== undefined && error !== null
        ? `${String(error.message ?? '')} (JSON-RPC ${String(error.code)})`
        : body.trim() || `HTTP ${status}`;
    return { kind: `http ${status}`, message: clip(said) };
  }
  const answer = answerIn(body, sse, id, maxBytes);
  if (answer === undefined)
    return badResponse(`no JSON-RPC response with id ${id} in the ${sse ? 'SSE' : 'JSON'} answer: ${clip(body)}`);
  return classifyMessage(answer);
}

export { parse as parseObject };
