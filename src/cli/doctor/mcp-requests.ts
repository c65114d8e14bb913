/**
 * The MCP requests doctor sends, written out byte for byte (a 2026-07-28 request with its `_meta` envelope and
 * MCP headers, a 2025-era initialize), so the probes show what a server does with a well-formed request.
 */
import { VERSION } from '../../version.js';
import type { DoctorContext } from './check.js';
import { answerTo, type ProbeResponse, probe, type RpcMessage } from './http-probe.js';

export const MODERN_VERSION = '2026-07-28';
/** The 2025-era revision doctor initializes with; servers answer with the one they speak. */
export const LEGACY_VERSION = '2025-11-25';
export const CLIENT_INFO = { name: 'remote-mcp-doctor', version: VERSION };

const ACCEPT = 'application/json, text/event-stream';

/** Headers of a 2026-07-28 POST of `method`. */
export function modernHeaders(method: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: ACCEPT,
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
  };
}

/** A 2026-07-28 request: the envelope in `_meta` names the version and (no) client capabilities. */
export function modernBody(id: number | string, method: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method,
    params: {
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
}

export const LEGACY_POST_HEADERS = { 'content-type': 'application/json', accept: ACCEPT };

export function initializeBody(id: number | string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
  });
}

/** Headers of a request inside a 2025-era session. */
export function sessionHeaders(sessionId: string | undefined, protocolVersion: string): Record<string, string> {
  return {
    ...LEGACY_POST_HEADERS,
    'mcp-protocol-version': protocolVersion,
    ...(sessionId !== undefined && { 'mcp-session-id': sessionId }),
  };
}

/** POSTs a 2026-07-28 `server/discover` to the endpoint. */
export function discover(
  context: DoctorContext,
  headers: Record<string, string>,
  signal: AbortSignal,
  id: number | string = 'doctor-discover',
): Promise<ProbeResponse> {
  return probe(context, {
    url: context.target!.http,
    method: 'POST',
    headers: { ...modernHeaders('server/discover'), ...headers },
    body: modernBody(id, 'server/discover'),
    signal,
  });
}

/** What a server's `server/discover` result says about it, in one phrase. */
export function describeDiscover(result: Record<string, unknown>): string {
  const info = (result._meta as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/serverInfo'] as
    | { name?: unknown; version?: unknown }
    | undefined;
  const versions = Array.isArray(result.supportedVersions) ? result.supportedVersions.join(', ') : 'none named';
  const capabilities =
    result.capabilities !== null && typeof result.capabilities === 'object'
      ? Object.keys(result.capabilities).join(', ') || 'none'
      : 'none';
  const server = info?.name === undefined ? 'a server' : `${String(info.name)} ${String(info.version ?? '')}`.trim();
  return `${server}, versions ${versions}, capabilities ${capabilities}`;
}

/** A 2025-era session opened by initialize: what the server said and the id it gave. */
export interface OpenedSession {
  sessionId: string | undefined;
  protocolVersion: string;
  serverInfo: string;
}

/**
 * Opens a 2025-era session (initialize, then notifications/initialized). Resolves with the session and the
 * status notifications/initialized got, or with the response that refused it (and its JSON-RPC answer, if any).
 */
export async function openSession(
  context: DoctorContext,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<
  | { session: OpenedSession; initialized: number; refused?: undefined }
  | { refused: ProbeResponse; answer: RpcMessage | undefined }
> {
  const url = context.target!.http;
  const init = await probe(context, {
    url,
    method: 'POST',
    headers: { ...LEGACY_POST_HEADERS, ...headers },
    body: initializeBody('doctor-initialize'),
    signal,
  });
  const answer = answerTo(init, 'doctor-initialize');
  if (init.status !== 200 || answer?.result === undefined) return { refused: init, answer };
  const sessionHeader = init.headers['mcp-session-id'];
  const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
  const protocolVersion = typeof answer.result.protocolVersion === 'string' ? answer.result.protocolVersion : '?';
  const info = answer.result.serverInfo as { name?: unknown; version?: unknown } | undefined;
  const initialized = await probe(context, {
    url,
    method: 'POST',
    headers: { ...sessionHeaders(sessionId, protocolVersion), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    signal,
  });
  return {
    initialized: initialized.status,
    session: {
      sessionId,
      protocolVersion,
      serverInfo: info?.name === undefined ? 'a server' : `${String(info.name)} ${String(info.version ?? '')}`.trim(),
    },
  };
}

/** Ends a session with DELETE; resolves with the status (405: the server does not let clients end sessions). */
export async function closeSession(
  context: DoctorContext,
  session: OpenedSession,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<number | undefined> {
  if (session.sessionId === undefined) return undefined;
  const response = await probe(context, {
    url: context.target!.http,
    method: 'DELETE',
    headers: { ...sessionHeaders(session.sessionId, session.protocolVersion), ...headers },
    signal,
  });
  return response.status;
}
