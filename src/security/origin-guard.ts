/**
 * DNS-rebinding protection. A web page on evil.example whose name is re-pointed at 127.0.0.1 can make the
 * victim's browser talk to a local server; the request then carries `Host: evil.example` and
 * `Origin: http://evil.example`. Checking Host against the names the server is reached by, and a present Origin
 * against an allowlist, refuses it (403). Requests without Origin (non-browser clients) pass the Origin check.
 */
import type { IncomingMessage } from 'node:http';

import type { ErrorName } from '../errors.js';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export interface OriginGuardOptions {
  enabled: boolean;
  /** Accepted Host values: a bare name accepts any port, `name:port` only that port. undefined = any host. */
  allowedHosts: string[] | undefined;
  /** Accepted Origin values (exact, lower-case). undefined = http(s) origins on loopback names, any port. */
  allowedOrigins: string[] | undefined;
  /** Origins the CORS policy allows: accepted on top of the above (a browser app on them is invited). */
  corsOrigins?: string[];
}

/** The loopback host allowlist used when none is configured and the server listens on loopback. */
export function loopbackHosts(): string[] {
  return [...LOOPBACK_HOSTS];
}

/** Splits `name:port` / `[v6]:port` into the name part (brackets kept for IPv6). */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function hostAllowed(host: string | undefined, allowed: string[]): boolean {
  if (host === undefined) return false;
  const lower = host.toLowerCase();
  const name = hostName(lower);
  return allowed.some((entry) => entry === lower || entry === name);
}

function originAllowed(origin: string, allowed: string[] | undefined): boolean {
  const lower = origin.toLowerCase();
  if (allowed !== undefined) return allowed.includes(lower);
  const match = /^https?:\/\/([^/]+)$/.exec(lower);
  return match !== null && LOOPBACK_HOSTS.includes(hostName(match[1]!));
}

/** Returns the error to answer with, or undefined when the request may proceed. */
export function checkOrigin(req: IncomingMessage, options: OriginGuardOptions): ErrorName | undefined {
  if (!options.enabled) return undefined;
  if (options.allowedHosts !== undefined && !hostAllowed(req.headers.host, options.allowedHosts))
    return 'FORBIDDEN_HOST';
  const origin = req.headers.origin;
  if (
    origin !== undefined &&
    !originAllowed(origin, options.allowedOrigins) &&
    !(options.corsOrigins?.includes(origin.toLowerCase()) ?? false)
  )
    return 'FORBIDDEN_ORIGIN';
  return undefined;
}
