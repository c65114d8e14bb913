/**
 * The 2026-07-28 request headers (SEP-2243) that mirror the body so proxies and gateways can route without
 * parsing JSON: MCP-Protocol-Version, Mcp-Method, Mcp-Name, and Mcp-Param-{Name} for tool arguments declared
 * with `x-mcp-header`. A header that is missing or disagrees with the body is answered 400 / -32020.
 * Values that are not plain ASCII arrive as `=?base64?<utf-8 base64>?=` and are decoded before comparison.
 */
import type { IncomingMessage } from 'node:http';

import type { ParamHeaderDeclaration } from '../server/runtime-context.js';
import { headerValue } from './http-io.js';

export interface HeaderProblem {
  name: 'HEADER_MISSING' | 'HEADER_MISMATCH';
  message: string;
  data: { header: string; body?: unknown };
}

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a `=?base64?…?=` value; plain values pass through. undefined when the encoding is invalid. */
export function decodeHeaderValue(raw: string): string | undefined {
  const value = raw.trim();
  if (
    !(
      value.startsWith(SENTINEL_PREFIX) &&
      value.endsWith(SENTINEL_SUFFIX) &&
      value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length
    )
  )
    return value;
  const encoded = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    return utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}

/** Which params field Mcp-Name mirrors for a method (tools/call and prompts/get: name; resources/read: uri). */
function nameField(method: string): 'name' | 'uri' | 'taskId' | undefined {
  switch (method) {
    case 'tools/call':
    case 'prompts/get':
      return 'name';
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return 'uri';
    case 'tasks/get':
    case 'tasks/update':
    case 'tasks/cancel':
      return 'taskId';
    default:
      return undefined;
  }
}

const missing = (header: string, what: string): HeaderProblem => ({
  name: 'HEADER_MISSING',
  message: `Header mismatch: the required ${header} header is absent (${what})`,
  data: { header },
});
const mismatch = (header: string, message: string, body?: unknown): HeaderProblem => ({
  name: 'HEADER_MISMATCH',
  message: `Header mismatch: ${message}`,
  data: { header, body },
});

/**
 * Presence and Mcp-Name checks for a 2026-07-28 request. Version and method *mismatches* are already refused by
 * the SDK's classifier; this adds what it leaves to the HTTP entry.
 */
export function checkStandardHeaders(
  req: IncomingMessage,
  method: string,
  params: Record<string, unknown> | undefined,
): HeaderProblem | undefined {
  if (headerValue(req, 'mcp-protocol-version') === undefined)
    return missing('MCP-Protocol-Version', 'every 2026-07-28 request carries it');
  if (headerValue(req, 'mcp-method') === undefined) return missing('Mcp-Method', `the body names method ${method}`);
  const field = nameField(method);
  if (field === undefined) return undefined;
  const bodyValue = params?.[field];
  const header = headerValue(req, 'mcp-name');
  if (header === undefined) {
    return typeof bodyValue === 'string' ? missing('Mcp-Name', `the body carries params.${field}`) : undefined;
  }
  const decoded = decodeHeaderValue(header);
  if (decoded === undefined) return mismatch('Mcp-Name', 'the Mcp-Name header carries an invalid base64 value');
  if (typeof bodyValue === 'string' && decoded !== bodyValue) {
    return mismatch(
      'Mcp-Name',
      `the body carries params.${field}=${JSON.stringify(bodyValue)} but Mcp-Name names ${JSON.stringify(decoded)}`,
      bodyValue,
    );
  }
  return undefined;
}

/** The `x-mcp-header` declarations reachable through `properties` chains of a tool's input schema. */
export function paramHeaderDeclarations(schema: Record<string, unknown>): ParamHeaderDeclaration[] {
  const found: ParamHeaderDeclaration[] = [];
  const visit = (node: unknown, path: string[]) => {
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const header = record['x-mcp-header'];
    if (path.length > 0 && typeof header === 'string' && header.length > 0) {
      found.push({ path, header, type: typeof record.type === 'string' ? record.type : 'string' });
    }
    const properties = record.properties;
    if (properties !== null && typeof properties === 'object') {
      for (const [key, child] of Object.entries(properties as Record<string, unknown>)) visit(child, [...path, key]);
    }
  };
  visit(schema, []);
  return found;
}

function primitiveText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Checks each declared Mcp-Param-{Name} header against the argument it mirrors. */
export function checkParamHeaders(
  req: IncomingMessage,
  declarations: ParamHeaderDeclaration[],
  args: unknown,
): HeaderProblem | undefined {
  for (const declaration of declarations) {
    let value: unknown = args;
    for (const key of declaration.path)
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const text = primitiveText(value);
    if (text === undefined) continue; // absent or not a primitive: nothing for a header to mirror
    const headerName = `Mcp-Param-${declaration.header}`;
    const raw = headerValue(req, headerName.toLowerCase());
    if (raw === undefined) return missing(headerName, `the body carries ${declaration.path.join('.')}`);
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return mismatch(headerName, `the ${headerName} header carries an invalid base64 value`);
    const equal =
      typeof value === 'number' && /^-?\d+(\.\d+)?$/.test(decoded) ? Number(decoded) === value : decoded === text;
    if (!equal)
      return mismatch(
        headerName,
        `the ${headerName} header decodes to ${JSON.stringify(decoded)} but the body carries ${JSON.stringify(value)}`,
        value,
      );
  }
  return undefined;
}
