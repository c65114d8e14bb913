/**
 * Request bodies built once: a tools/call with a fixed-width slot for the JSON-RPC id, so each request only
 * writes its id's digits into a buffer its connection owns (one request in flight per connection, so the buffer is
 * free again once the answer is in) and Content-Length never changes. JSON allows the spaces that pad the slot.
 */
import { VERSION } from '../../version.js';

export const MODERN_VERSION = '2026-07-28';
export const LEGACY_VERSION = '2025-11-25';
export const SSE_VERSION = '2024-11-05';

/** Digits the id slot holds: ids count up from 1 and wrap before 10^ID_DIGITS. */
const ID_DIGITS = 12;
export const MAX_ID = 10 ** ID_DIGITS - 1;
const SPACE = 0x20;
const ZERO = 0x30;

export const CLIENT_INFO = { name: 'remote-mcp-bench', version: VERSION };

/** The `_meta` envelope every 2026-07-28 request carries. */
export const MODERN_ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
};

/** One connection's copy of a request body. */
export class CallBuffer {
  readonly bytes: Buffer;
  constructor(
    template: Buffer,
    private readonly slot: number,
  ) {
    this.bytes = Buffer.from(template);
  }

  /** The body with this id, in this connection's own buffer (valid until its next call). */
  withId(id: number): Buffer {
    const { bytes, slot } = this;
    bytes.fill(SPACE, slot, slot + ID_DIGITS);
    let digits = 1;
    for (let power = 10; power <= id; power *= 10) digits++;
    for (let at = slot + digits, rest = id; at > slot; rest = Math.floor(rest / 10)) bytes[--at] = ZERO + (rest % 10);
    return bytes;
  }
}

export class CallTemplate {
  private readonly template: Buffer;
  private readonly slot: number;

  /** A JSON-RPC request for `method` with these params (the id is written per request). */
  constructor(method: string, params: Record<string, unknown>) {
    const head = Buffer.from('{"jsonrpc":"2.0","id":');
    const tail = Buffer.from(`,"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`);
    this.slot = head.length;
    this.template = Buffer.concat([head, Buffer.alloc(ID_DIGITS, SPACE), tail]);
    this.template[this.slot] = ZERO + 1;
  }

  get byteLength(): number {
    return this.template.length;
  }

  /** A connection's own copy, after `head` (an HTTP request head) when given. */
  buffer(head?: Buffer): CallBuffer {
    return head === undefined
      ? new CallBuffer(this.template, this.slot)
      : new CallBuffer(Buffer.concat([head, this.template]), head.length + this.slot);
  }
}

/** The tools/call params of each era: 2026-07-28 requests carry the envelope, session requests do not. */
export function callParams(tool: string, args: Record<string, unknown>, modern: boolean): Record<string, unknown> {
  return modern ? { name: tool, arguments: args, _meta: MODERN_ENVELOPE } : { name: tool, arguments: args };
}

/** Header values that are not plain printable ASCII travel as `=?base64?<utf-8 base64>?=` (2026-07-28). */
export function headerSafe(value: string): string {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value)
    ? value
    : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The 2026-07-28 headers of a tools/call POST (Mcp-Param-* for x-mcp-header arguments come from the tool's schema). */
export function modernCallHeaders(tool: string, paramHeaders: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': 'tools/call',
    'mcp-name': headerSafe(tool),
    ...paramHeaders,
  };
}

/**
 * Mcp-Param-{Name} headers for the arguments a tool's input schema marks with `x-mcp-header` (reached through
 * `properties`), for the primitive values the arguments hold there.
 */
export function paramHeaders(inputSchema: unknown, args: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  const visit = (schema: unknown, value: unknown, depth: number) => {
    if (schema === null || typeof schema !== 'object') return;
    const node = schema as Record<string, unknown>;
    const header = node['x-mcp-header'];
    if (depth > 0 && typeof header === 'string' && header.length > 0) {
      const text =
        typeof value === 'string'
          ? value
          : typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
            ? String(value)
            : undefined;
      if (text !== undefined) headers[`mcp-param-${header.toLowerCase()}`] = headerSafe(text);
    }
    const properties = node.properties;
    if (properties === null || typeof properties !== 'object' || value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(properties as Record<string, unknown>))
      visit(child, (value as Record<string, unknown>)[key], depth + 1);
  };
  visit(inputSchema, args, 0);
  return headers;
}
