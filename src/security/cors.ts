/**
 * CORS for browser clients: an explicit allowlist of origins, never `*` together with credentials, preflights
 * answered here, and the MCP and rate-limit response headers exposed so browser code can read them (a browser
 * hides `Mcp-Session-Id` from scripts unless it is listed in Access-Control-Expose-Headers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { failOption } from '../errors.js';
import { writeError } from '../transport/http-io.js';

export interface CorsOptions {
  /** Exact origins (`https://app.example.com`), or `['*']` for any origin without credentials. */
  allowedOrigins: string[];
  /** Let browsers send cookies/Authorization set by the browser (Access-Control-Allow-Credentials). Default false. */
  allowCredentials?: boolean;
  /** How long a browser may cache a preflight, in seconds. Default 600. */
  maxAgeSeconds?: number;
}

const EXPOSED =
  'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy';
const ALLOWED_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'x-api-key',
];
const ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';

function fail(name: string, expected: string, value: unknown): never {
  failOption(`cors${name}`, expected, value);
}

export class CorsPolicy {
  private readonly origins: Set<string>;
  private readonly any: boolean;
  private readonly credentials: boolean;
  private readonly maxAge: string;

  constructor(options: CorsOptions) {
    if (options === null || typeof options !== 'object')
      fail('', 'an object { allowedOrigins, allowCredentials?, maxAgeSeconds? }', options);
    const origins = options.allowedOrigins;
    if (!Array.isArray(origins) || origins.length === 0)
      fail('.allowedOrigins', 'a non-empty array of origins', origins);
    this.credentials = options.allowCredentials ?? false;
    if (typeof this.credentials !== 'boolean') fail('.allowCredentials', 'a boolean', this.credentials);
    this.any = origins.includes('*');
    if (this.any && this.credentials)
      fail('.allowedOrigins', 'explicit origins when allowCredentials is true (not "*")', origins);
    for (const origin of origins) {
      if (origin !== '*' && !/^https?:\/\/[^/\s]+$/i.test(origin))
        fail('.allowedOrigins', 'origins like "https://app.example.com" (scheme://host[:port], no path)', origin);
    }
    this.origins = new Set(origins.map((origin) => origin.toLowerCase()));
    const maxAge = options.maxAgeSeconds ?? 600;
    if (!Number.isSafeInteger(maxAge) || maxAge < 0) fail('.maxAgeSeconds', 'an integer >= 0', maxAge);
    this.maxAge = String(maxAge);
  }

  /** Explicit origins, which the DNS-rebinding Origin check must accept too. */
  get explicitOrigins(): string[] {
    return [...this.origins].filter((origin) => origin !== '*');
  }

  /**
   * Adds the CORS headers an allowed Origin gets, or answers a preflight. Returns `answered` or `refused` when
   * the response is complete (a preflight), false when the request goes on.
   */
  apply(req: IncomingMessage, res: ServerResponse): false | 'answered' | 'refused' {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const allowed = this.any || this.origins.has(origin.toLowerCase());
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!allowed) {
      if (!preflight) return false;
      writeError(res, 'CORS_ORIGIN_REFUSED');
      return 'refused';
    }
    res.setHeader('access-control-allow-origin', this.any ? '*' : origin);
    if (!this.any) res.setHeader('vary', 'Origin');
    if (this.credentials) res.setHeader('access-control-allow-credentials', 'true');
    if (!preflight) {
      res.setHeader('access-control-expose-headers', EXPOSED);
      return false;
    }
    const requested = String(req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name.startsWith('mcp-param-'));
    res.writeHead(204, {
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': [...ALLOWED_HEADERS, ...requested].join(', '),
      'access-control-max-age': this.maxAge,
    });
    res.end();
    return 'answered';
  }
}
