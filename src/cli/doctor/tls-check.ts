/**
 * The TLS check for https/wss: a handshake with node:tls that accepts any certificate, so doctor can read it
 * and say what is wrong with it (expired, not yet valid, issued for another name, self-signed, an issuer this
 * machine does not trust) instead of the one error a client stops at. Trust is the system's (Node's CA store
 * plus NODE_EXTRA_CA_CERTS), as for any Node client.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';

import { type Check, type DoctorContext, fail, note, type Outcome, pass } from './check.js';
import { errorCode } from './http-probe.js';

interface Handshake {
  socket: TLSSocket;
  certificate: DetailedPeerCertificate;
}

function handshake(context: DoctorContext, signal: AbortSignal): Promise<Handshake> {
  const target = context.target!;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: context.connected!.address,
      port: target.port,
      ...(!target.isIp && { servername: target.host }),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const aborted = () => {
      socket.destroy();
      reject(Object.assign(new Error('aborted'), { code: 'ETIMEDOUT' }));
    };
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', aborted);
      resolve({ socket, certificate: socket.getPeerCertificate(true) });
    });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', aborted);
      reject(error);
    });
  });
}

/** `CN=localhost, O=Example` from the parsed subject or issuer. */
function distinguishedName(name: Record<string, string | string[] | undefined> | undefined): string {
  if (name === undefined) return 'nobody';
  const parts = Object.entries(name)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`);
  return parts.length === 0 ? 'nobody' : parts.join(', ');
}

/** The names a certificate covers: its subjectAltName entries, else its CN. */
function coveredNames(certificate: DetailedPeerCertificate): string[] {
  const alt = certificate.subjectaltname;
  if (alt !== undefined && alt !== '') return alt.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
  const cn = certificate.subject?.CN;
  return cn === undefined ? [] : [Array.isArray(cn) ? cn.join('+') : cn];
}

const day = (date: Date) => (Number.isNaN(date.getTime()) ? 'an unreadable date' : date.toISOString());

const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
/** Verification errors the dates already explain. */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

interface Problem {
  what: string;
  fix: string;
}

/** Everything wrong with the certificate, in the order a user should fix them. */
function problemsOf(context: DoctorContext, { socket, certificate }: Handshake, now: Date): Problem[] {
  const host = context.target!.host;
  const problems: Problem[] = [];
  const from = new Date(certificate.valid_from);
  const to = new Date(certificate.valid_to);
  if (now > to)
    problems.push({
      what: `expired on ${day(to)}`,
      fix: 'renew the certificate (certbot renew, or ask your CA) and reload the server',
    });
  if (now < from)
    problems.push({
      what: `not valid until ${day(from)}`,
      fix: 'check the clocks of this machine and the server (NTP), or issue a certificate valid from now',
    });
  const names = coveredNames(certificate);
  // checkServerIdentity wants the host as a client would send it: an IPv6 literal without brackets is fine.
  if (checkServerIdentity(isIP(host) !== 0 ? host : host.toLowerCase(), certificate) !== undefined)
    problems.push({
      what: `issued for ${names.join(', ') || 'no name'}, not ${host}`,
      fix: `use a URL whose host the certificate covers (${names.join(', ') || 'none'}), or issue one whose subjectAltName includes ${host}`,
    });
  const code = socket.authorizationError === null ? undefined : String(socket.authorizationError);
  // OpenSSL reports one error: an expired self-signed certificate says only CERT_HAS_EXPIRED.
  const selfIssued =
    certificate.issuerCertificate !== undefined &&
    certificate.issuerCertificate.fingerprint256 === certificate.fingerprint256;
  if (code !== undefined && (SELF_SIGNED.has(code) || (DATE_ERRORS.has(code) && selfIssued)))
    problems.push({
      what: SELF_SIGNED.has(code) ? `self-signed (${code})` : 'self-signed',
      fix: 'serve a certificate from a CA clients trust (e.g. Let’s Encrypt); in development, trust this one instead (NODE_EXTRA_CA_CERTS=cert.pem for Node clients) or pin its fingerprint',
    });
  else if (code !== undefined && UNKNOWN_ISSUER.has(code))
    problems.push({
      what: `issued by ${distinguishedName(certificate.issuer)}, which this machine does not trust (${code})`,
      fix: 'make the server send its intermediate certificates too (the full chain, e.g. fullchain.pem); for a private CA, trust it with NODE_EXTRA_CA_CERTS=ca.pem',
    });
  else if (code !== undefined && !DATE_ERRORS.has(code))
    problems.push({
      what: `not trusted (${code})`,
      fix: 'check the certificate chain the server sends (openssl s_client -showcerts)',
    });
  return problems;
}

function describe({ socket, certificate }: Handshake): string {
  const names = coveredNames(certificate);
  return (
    `${socket.getProtocol() ?? 'TLS'}, subject ${distinguishedName(certificate.subject)}` +
    `${names.length > 0 ? ` (${names.join(', ')})` : ''}, issuer ${distinguishedName(certificate.issuer)}, ` +
    `valid ${day(new Date(certificate.valid_from))} to ${day(new Date(certificate.valid_to))}, ` +
    `SHA-256 ${certificate.fingerprint256}`
  );
}

const LOOPBACK = /^(localhost|127(\.\d+){3}|::1)$/i;

export const tlsCheck: Check = {
  name: 'tls',
  label: 'TLS',
  skipIf: (context) => (context.connected === undefined ? 'no TCP connection' : undefined),
  async run(context, signal): Promise<Outcome> {
    const target = context.target!;
    if (!target.secure)
      return LOOPBACK.test(target.host)
        ? note(`not used (${target.scheme}://)`)
        : note(
            `not used (${target.scheme}://): requests and credentials cross the network unencrypted`,
            `serve ${target.scheme === 'ws' ? 'wss' : 'https'} when clients reach the server over a network`,
          );
    let shaken: Handshake;
    try {
      shaken = await handshake(context, signal);
    } catch (error) {
      context.tlsFailure = 'handshake';
      if (signal.aborted || errorCode(error) === 'ETIMEDOUT')
        return fail(
          `no TLS handshake within ${context.options.timeoutMs} ms`,
          'the port accepts connections but does not speak TLS: check that it is the https port of the server',
        );
      // OpenSSL's message is a file-and-line trace; its reason is the part a person can read.
      const reason = (error as { reason?: unknown }).reason;
      return fail(
        `the handshake failed: ${typeof reason === 'string' ? reason : (error as Error).message}`,
        `the port may speak plain HTTP (try ${target.scheme === 'wss' ? 'ws' : 'http'}://), or the server's TLS setup is broken: check its certificate and key`,
      );
    }
    const problems = problemsOf(context, shaken, new Date());
    const described = describe(shaken);
    shaken.socket.destroy();
    if (problems.length === 0) {
      context.tlsAccepted = true;
      return pass(described);
    }
    const what = `${problems.map((problem) => problem.what).join('; ')} — ${described}`;
    const fix = problems.map((problem) => problem.fix).join('; ');
    if (context.options.insecure) {
      context.tlsAccepted = true;
      return note(`${what}; accepted because of --insecure`, fix);
    }
    context.tlsAccepted = false;
    context.tlsFailure = 'certificate';
    return fail(what, `${fix} (doctor --insecure runs the other checks despite it)`);
  },
};
