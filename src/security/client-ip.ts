/**
 * The client's IP address, for rate limits, concurrency and the audit log. X-Forwarded-For is believed only as
 * far as `trustProxy` says: by default not at all (the socket's address), because any client can send the header
 * and would otherwise choose its own rate-limit key.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

import { RemoteMcpOptionError } from '../errors.js';

/** false: ignore X-Forwarded-For; true: trust every hop; n: trust n proxies; list: trust these addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

export type ResolvedTrustProxy =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'hops'; hops: number }
  | { kind: 'list'; trusted: BlockList };

export function resolveTrustProxy(value: unknown): ResolvedTrustProxy {
  if (value === undefined || value === false) return { kind: 'none' };
  if (value === true) return { kind: 'all' };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return { kind: 'hops', hops: value };
  if (Array.isArray(value) && value.length > 0) {
    const trusted = new BlockList();
    for (const entry of value) {
      const [address, prefix] = typeof entry === 'string' ? entry.split('/') : [];
      const family = address === undefined ? 0 : isIP(address);
      const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
      if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) {
        throw new RemoteMcpOptionError(
          `remote-mcp: option \`trustProxy\` entries must be IP addresses or CIDR blocks like "10.0.0.0/8"; received ${JSON.stringify(entry)}.`,
        );
      }
      trusted.addSubnet(address!, bits, family === 6 ? 'ipv6' : 'ipv4');
    }
    return { kind: 'list', trusted };
  }
  throw new RemoteMcpOptionError(
    `remote-mcp: option \`trustProxy\` must be false, true, a hop count >= 1, or an array of addresses/CIDR blocks; received ${JSON.stringify(value)}.`,
  );
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; undefined for anything that is not an IP address. */
function normalize(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const trimmed = address.trim();
  const unmapped =
    trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
  return isIP(unmapped) === 0 ? undefined : unmapped;
}

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** The peer's address of a socket (for attempts refused before there was a request to read headers from). */
export function socketAddress(socket: { remoteAddress?: string | undefined }): string {
  return normalize(socket.remoteAddress) ?? 'unknown';
}

export function clientIp(req: IncomingMessage, trust: ResolvedTrustProxy): string {
  const socketAddress = normalize(req.socket.remoteAddress) ?? 'unknown';
  if (trust.kind === 'none') return socketAddress;
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return socketAddress;
  const forwarded = (Array.isArray(header) ? header.join(',') : header).split(',').map(normalize);
  if (forwarded.some((entry) => entry === undefined)) return socketAddress; // a malformed chain is not believed
  const chain = [...(forwarded as string[]), socketAddress]; // client first, nearest proxy last
  switch (trust.kind) {
    case 'all':
      return chain[0]!;
    case 'hops':
      // The last `hops` addresses are trusted proxies; the one before them is the client.
      return chain[Math.max(chain.length - 1 - trust.hops, 0)]!;
    case 'list': {
      let index = chain.length - 1;
      while (index > 0 && isTrusted(trust.trusted, chain[index]!)) index--;
      return chain[index]!;
    }
  }
}
