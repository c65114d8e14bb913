/**
 * What a doctor check is, what it reports, and the state later checks read from earlier ones (the address TCP
 * reached, whether TLS was accepted, whether authentication passed, which protocols answered).
 */
import type { LookupAddress } from 'node:dns';

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'note';

/** One line of the report; `--json` prints these as they are. */
export interface CheckResult {
  /** A stable id for scripts: `url`, `dns`, `tcp`, `tls`, `http`, `health`, `ready`, `cors`, `auth`, ... */
  name: string;
  /** What the line calls it: `TCP connect`, `2025-era session`, ... */
  label: string;
  /** False only for `fail`: a note (something absent on purpose) and a skip are not failures. */
  ok: boolean;
  status: CheckStatus;
  detail: string;
  /** What to do, in plain words: set on failures, and on notes that have a way to change them. */
  fix: string | null;
}

/** What a check's run reports (the runner adds name, label and ok). */
export interface Outcome {
  status: Exclude<CheckStatus, 'skip'>;
  detail: string;
  fix?: string;
}

export const pass = (detail: string): Outcome => ({ status: 'pass', detail });
export const fail = (detail: string, fix: string): Outcome => ({ status: 'fail', detail, fix });
export const note = (detail: string, fix?: string): Outcome => ({
  status: 'note',
  detail,
  ...(fix !== undefined && { fix }),
});

export interface DoctorOptions {
  /** The URL as given on the command line. */
  url: string;
  /** Checked as a browser origin (CORS) when set. */
  origin?: string;
  /** `--header` values, names lower-cased. */
  headers: Record<string, string>;
  token?: string;
  apiKey?: string;
  /** Accept a certificate that does not verify (the TLS line still reports why). */
  insecure: boolean;
  /** Round trips the latency check times; 0 skips it. */
  pings: number;
  /** The bound of each check (of each round trip, for latency), in ms. */
  timeoutMs: number;
}

/** The URL, split into what the probes need. */
export interface Target {
  /** The http(s) form: Streamable HTTP, the probes at the origin, and the WebSocket handshake all use it. */
  http: URL;
  /** The ws(s) form of the same endpoint. */
  ws: URL;
  /** The scheme the user gave: a ws(s) URL makes WebSocket the protocol that must answer. */
  scheme: 'http' | 'https' | 'ws' | 'wss';
  secure: boolean;
  /** The host name without IPv6 brackets. */
  host: string;
  port: number;
  /** The host is an IP literal (no DNS lookup, no TLS server name). */
  isIp: boolean;
}

/** The protocol checks' verdicts, read by the latency check and the WebSocket probe. */
export interface Answered {
  modern: boolean;
  legacy: boolean;
  sse: boolean;
  websocket: boolean;
}

export interface DoctorContext {
  options: DoctorOptions;
  target?: Target;
  /** What DNS returned (the IP itself for an IP literal). */
  addresses?: LookupAddress[];
  /** The address TCP reached; every later probe connects to it, so each line is about the same machine. */
  connected?: LookupAddress;
  /** TLS is in use and its certificate was accepted (it verified, or --insecure). */
  tlsAccepted?: boolean;
  /** Why TLS failed: no handshake at all, or a certificate that does not verify (which --insecure accepts). */
  tlsFailure?: 'handshake' | 'certificate';
  /** The endpoint answered the HTTP check like an MCP endpoint (JSON-RPC, or an authentication challenge). */
  endpointAnswers?: boolean;
  /** `none`: nothing is required; `accepted`: the credential given passed; `missing`/`refused`: it did not. */
  auth?: 'none' | 'accepted' | 'missing' | 'refused';
  answered: Answered;
}

export interface Check {
  name: string;
  label: string;
  /** Why the check cannot run after what earlier checks found; undefined when it can. */
  skipIf?: (context: DoctorContext) => string | undefined;
  /** How long the check may take, in ms. Default: the --timeout. */
  deadlineMs?: (context: DoctorContext) => number;
  /** Runs the check; `signal` aborts at the deadline, and every probe it makes stops with it. */
  run: (context: DoctorContext, signal: AbortSignal) => Promise<Outcome>;
}

/** The headers every probe sends: --header values, then the credential flags (which win). */
export function credentialHeaders(options: DoctorOptions): Record<string, string> {
  return {
    ...options.headers,
    ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
    ...(options.apiKey !== undefined && { 'x-api-key': options.apiKey }),
  };
}

/** --header names treated as credentials: left out of the anonymous request the authentication check compares with. */
export const CREDENTIAL_HEADER = /auth|key|token|cookie|secret/i;

/** The headers without anything that looks like a credential (what an unauthenticated client sends). */
export function anonymousHeaders(options: DoctorOptions): Record<string, string> {
  return Object.fromEntries(Object.entries(options.headers).filter(([name]) => !CREDENTIAL_HEADER.test(name)));
}

/** Whether the user gave a credential (--token, --api-key, or a --header that looks like one). */
export function hasCredential(options: DoctorOptions): boolean {
  return (
    options.token !== undefined ||
    options.apiKey !== undefined ||
    Object.keys(options.headers).some((name) => CREDENTIAL_HEADER.test(name))
  );
}

/** Why probes over HTTP cannot run (no connection, or a certificate that was not accepted); undefined when they can. */
export function unreachable(context: DoctorContext): string | undefined {
  if (context.connected === undefined) return 'no TCP connection';
  if (context.target!.secure && context.tlsAccepted !== true)
    return context.tlsFailure === 'certificate'
      ? 'the certificate was not accepted: see TLS, or run with --insecure'
      : 'no TLS connection: see TLS';
  return undefined;
}

export const ENDPOINT_SILENT = 'the endpoint does not answer: see HTTP status';

/** Why probes of the MCP endpoint cannot run: unreachable, the endpoint does not answer, or no credential passed. */
export function endpointUnavailable(context: DoctorContext): string | undefined {
  const reason = unreachable(context);
  if (reason !== undefined) return reason;
  if (context.endpointAnswers !== true) return ENDPOINT_SILENT;
  if (context.auth === 'missing') return 'a credential is required: see authentication';
  if (context.auth === 'refused') return 'the credential was refused: see authentication';
  return undefined;
}
