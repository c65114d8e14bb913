/**
 * DNS-rebinding protection. A web page on evil.example whose name is re-pointed at 127.0.0.1 can make the
 * victim's browser talk to a local server; the request then carries `Host: evil.example` and
 * `Origin: http://evil.example`. Checking Host against the names the server is reached by, and a present Origin
 * against an allowlist, refuses it (403). Requests without Origin (non-browser clients) pass the Origin check.
 */
import type { IncomingMessage } from 'node:http';

import type { ErrorName } from '../errors.js';
import type { RefusalReason } from '../observability/refusal-reasons.js';

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

/**
 * A Host value is `name[:port]` (RFC 9110 §7.2): a DNS name or IPv4 address, or a bracketed IPv6 address, and
 * an optional port. Anything else, userinfo (`localhost:1@evil.example`) above all, is refused before the value
 * is compared with the allowlist or used to build a URL (the resource metadata and challenges reflect it).
 */
const HOST_SYNTAX = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{1,5})?$/;

export function isValidHost(host: string | undefined): host is string {
  return host !== undefined && HOST_SYNTAX.test(host);
}

export interface GuardRefusal {
  name: Extract<ErrorName, 'BAD_HOST' | 'FORBIDDEN_HOST' | 'FORBIDDEN_ORIGIN'>;
  reason: Extract<
    RefusalReason,
    'host-missing' | 'host-duplicate' | 'host-invalid' | 'host-not-allowed' | 'origin-not-allowed'
  >;
}

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without Host, with more than one, or with an invalid one is answered 400.
 * Node keeps the first of repeated Host lines, so a proxy that routed by the last one and remote-mcp would
 * disagree about the host; rawHeaders shows every line.
 */
export function hostProblem(req: IncomingMessage): GuardRefusal | undefined {
  const host = req.headers.host;
  if (host === undefined) {
    // HTTP/1.0 has no Host requirement; without one it meets the allowlist check below.
    return req.httpVersion === '1.0' ? undefined : { name: 'BAD_HOST', reason: 'host-missing' };
  }
  const raw = req.rawHeaders;
  let lines = 0;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    if (name.length === 4 && name.toLowerCase() === 'host') lines++;
  }
  if (lines > 1) return { name: 'BAD_HOST', reason: 'host-duplicate' };
  if (!isValidHost(host)) return { name: 'BAD_HOST', reason: 'host-invalid' };
  return undefined;
}

/**
 * Returns the refusal to answer with, or undefined when the request may proceed. The Host syntax is checked
 * even with the protection off: it is HTTP's rule, and the value ends up in URLs remote-mcp builds.
 */
export function checkOrigin(req: IncomingMessage, options: OriginGuardOptions): GuardRefusal | undefined {
  const problem = hostProblem(req);
  if (problem !== undefined) return problem;
  if (!options.enabled) return undefined;
  if (options.allowedHosts !== undefined && !hostAllowed(req.headers.host, options.allowedHosts))
    return { name: 'FORBIDDEN_HOST', reason: 'host-not-allowed' };
  const origin = req.headers.origin;
  if (
    origin !== undefined &&
    !originAllowed(origin, options.allowedOrigins) &&
    !(options.corsOrigins?.includes(origin.toLowerCase()) ?? false)
  )
    return { name: 'FORBIDDEN_ORIGIN', reason: 'origin-not-allowed' };
  return undefined;
}
