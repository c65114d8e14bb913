/**
 * The first three checks: the URL parses with a scheme doctor can speak, its host resolves (through the
 * system resolver, /etc/hosts included, as clients resolve it), and a TCP connection reaches the port.
 */
import { type LookupAddress, promises as dns } from 'node:dns';
import { connect, isIP } from 'node:net';

import { type Check, type DoctorContext, fail, pass, type Target } from './check.js';
import { errorCode } from './http-probe.js';

const SCHEMES = ['http', 'https', 'ws', 'wss'] as const;
const DEFAULT_PORTS: Record<Target['scheme'], number> = { http: 80, https: 443, ws: 80, wss: 443 };

/** The http(s) and ws(s) forms of a parsed URL, or a reason it cannot be probed. */
export function parseTarget(input: string): Target | { problem: string } {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { problem: `"${input}" is not a URL` };
  }
  const scheme = url.protocol.slice(0, -1);
  if (!(SCHEMES as readonly string[]).includes(scheme))
    return { problem: `the scheme "${scheme}:" is not http, https, ws or wss` };
  if (url.hostname === '') return { problem: 'the URL has no host' };
  const kind = scheme as Target['scheme'];
  const secure = kind === 'https' || kind === 'wss';
  const http = new URL(url.href);
  http.protocol = secure ? 'https:' : 'http:';
  http.hash = '';
  const ws = new URL(http.href);
  ws.protocol = secure ? 'wss:' : 'ws:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    http,
    ws,
    scheme: kind,
    secure,
    host,
    port: url.port === '' ? DEFAULT_PORTS[kind] : Number(url.port),
    isIp: isIP(host) !== 0,
  };
}

export const urlCheck: Check = {
  name: 'url',
  label: 'URL',
  async run(context) {
    const target = parseTarget(context.options.url);
    if ('problem' in target)
      return fail(
        target.problem,
        'give the full URL of the MCP endpoint with its scheme, e.g. https://mcp.example.com/mcp or ws://127.0.0.1:8080/mcp',
      );
    context.target = target;
    const port = target.port === DEFAULT_PORTS[target.scheme] && target.http.port === '' ? ' (the default)' : '';
    return pass(`${target.scheme}, host ${target.host}, port ${target.port}${port}, path ${target.http.pathname}`);
  },
};

/** Resolves with the lookup, or rejects when the signal aborts first (getaddrinfo cannot be cancelled). */
function lookup(host: string, signal: AbortSignal): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    const aborted = () => reject(new Error('aborted'));
    signal.addEventListener('abort', aborted, { once: true });
    dns
      .lookup(host, { all: true, verbatim: true })
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', aborted));
  });
}

export const dnsCheck: Check = {
  name: 'dns',
  label: 'DNS',
  skipIf: (context) => (context.target === undefined ? 'no URL to resolve' : undefined),
  async run(context, signal) {
    const { host, isIp } = context.target!;
    if (isIp) {
      context.addresses = [{ address: host, family: isIP(host) }];
      return pass(`${host} is an IP address (nothing to resolve)`);
    }
    try {
      const addresses = await lookup(host, signal);
      if (addresses.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
      context.addresses = addresses;
      return pass(`${host} → ${addresses.map((entry) => entry.address).join(', ')}`);
    } catch (error) {
      const code = errorCode(error);
      if (signal.aborted || code === 'EAI_AGAIN')
        return fail(
          `the resolver did not answer for ${host} (${signal.aborted ? `${context.options.timeoutMs} ms` : code})`,
          'check this machine’s network and DNS resolver (/etc/resolv.conf, VPN), then retry',
        );
      return fail(
        `${host} does not resolve (${code ?? (error as Error).message})`,
        `check the spelling of ${host}; if it is right, its DNS record (A/AAAA) is missing — add it, or an /etc/hosts entry for a local name`,
      );
    }
  },
};

type Connected = { ok: true } | { ok: false; code: string; message: string };

/** One TCP connection attempt, closed as soon as it opens. */
function tryConnect(entry: LookupAddress, port: number, signal: AbortSignal): Promise<Connected> {
  return new Promise((resolve) => {
    const socket = connect({ host: entry.address, port, family: entry.family });
    const done = (result: Connected) => {
      signal.removeEventListener('abort', aborted);
      socket.destroy();
      resolve(result);
    };
    const aborted = () => done({ ok: false, code: 'ETIMEDOUT', message: 'no answer' });
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error) => done({ ok: false, code: errorCode(error) ?? 'ERROR', message: error.message }));
  });
}

const at = (entry: LookupAddress, port: number) =>
  entry.family === 6 ? `[${entry.address}]:${port}` : `${entry.address}:${port}`;

/** What a failed connection means, and what to do about it. */
function connectFailure(entry: LookupAddress, port: number, result: Extract<Connected, { ok: false }>, ms: number) {
  const where = at(entry, port);
  switch (result.code) {
    case 'ECONNREFUSED':
      return fail(
        `connection refused at ${where}`,
        `nothing listens on port ${port} at ${entry.address}: start the server, check the port number, and check that the server binds an address this machine can reach (one bound to 127.0.0.1 is not reachable from other machines: serve --host 0.0.0.0)`,
      );
    case 'ETIMEDOUT':
      return fail(
        `no answer from ${where} within ${ms} ms`,
        `a firewall drops connections to port ${port}, or the host is down: open port ${port} in the firewall or security group, and check that the host is up`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fail(
        `${entry.address} is unreachable (${result.code})`,
        `there is no network route to ${entry.address}: check the address, the VPN and the routes${entry.family === 6 ? ', and that this machine has IPv6 connectivity' : ''}`,
      );
    default:
      return fail(
        `cannot connect to ${where}: ${result.message}`,
        `check that the host and port ${port} are right and reachable from here`,
      );
  }
}

export const tcpCheck: Check = {
  name: 'tcp',
  label: 'TCP connect',
  skipIf: (context: DoctorContext) => (context.addresses === undefined ? 'no address to connect to' : undefined),
  async run(context, signal) {
    const { port } = context.target!;
    const failures: Array<{ entry: LookupAddress; result: Extract<Connected, { ok: false }> }> = [];
    // In the resolver's order, as clients try them: the first that connects is the one every later probe uses.
    for (const entry of context.addresses!) {
      const result = await tryConnect(entry, port, signal);
      if (result.ok) {
        context.connected = entry;
        const others = failures.map((failure) => `${at(failure.entry, port)}: ${failure.result.code}`).join(', ');
        return pass(`connected to ${at(entry, port)}${others === '' ? '' : ` (before it, ${others})`}`);
      }
      failures.push({ entry, result });
      if (signal.aborted) break;
    }
    const first = failures[0]!;
    const outcome = connectFailure(first.entry, port, first.result, context.options.timeoutMs);
    if (failures.length > 1)
      outcome.detail += `; also ${failures
        .slice(1)
        .map((failure) => `${at(failure.entry, port)}: ${failure.result.code}`)
        .join(', ')}`;
    return outcome;
  },
};
