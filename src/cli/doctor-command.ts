/**
 * `remote-mcp doctor <url>`: checks, in order, everything between this machine and an MCP endpoint (URL, DNS,
 * TCP, TLS, HTTP status, /health and /ready, CORS, authentication, which protocols answer, latency) and prints
 * one line per check with a fix for each failure. The checks live in ./doctor/, one file per group; the probes
 * are raw (node:http, node:tls, node:dns, node:net, ws) so doctor sees what client libraries hide.
 *
 * Exit codes: 0 no check failed, 1 a check failed, 2 bad usage.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import type { DoctorOptions } from './doctor/check.js';
import { DEFAULT_PINGS, MAX_PINGS } from './doctor/latency-check.js';
import { formatJson, formatLine, formatSummary } from './doctor/report.js';
import { runDoctor } from './doctor/run-doctor.js';

export const DOCTOR_DEFAULTS = Object.freeze({
  /** Each check's bound (each round trip's, for latency), in ms. */
  timeoutMs: 5_000,
  /** The longest --timeout accepted: 10 minutes. */
  maxTimeoutMs: 600_000,
  pings: DEFAULT_PINGS,
  maxPings: MAX_PINGS,
});

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** Environment variables the credential flags fall back to, as for the other client commands. */
const ENVIRONMENT = { token: 'REMOTE_MCP_TOKEN', apiKey: 'REMOTE_MCP_API_KEY' } as const;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}, received "${value}"`);
    return parsed;
  };
}

/** `--header 'name: value'`, repeatable; a later one with the same name wins. */
function collectHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  const name = colon === -1 ? '' : value.slice(0, colon).trim();
  if (!HEADER_NAME.test(name))
    throw new InvalidArgumentError(`expected "name: value" with a valid header name, received "${value}"`);
  const headerValue = value.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(headerValue)) throw new InvalidArgumentError('header values cannot hold CR, LF or NUL');
  return { ...previous, [name.toLowerCase()]: headerValue };
}

/** `--origin`: what a browser sends, scheme://host[:port] and nothing more. */
function browserOrigin(value: string): string {
  if (!/^https?:\/\/[^/\s?#]+$/i.test(value))
    throw new InvalidArgumentError(`expected an origin such as https://app.example.com (no path), received "${value}"`);
  return value;
}

interface DoctorFlags {
  origin?: string;
  header: Record<string, string>;
  token?: string;
  apiKey?: string;
  insecure?: boolean;
  pings: number;
  timeout: number;
  json?: boolean;
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === '') resolve();
    else process.stdout.write(text, () => resolve());
  });
}

async function doctor(url: string, flags: DoctorFlags, command: Command): Promise<void> {
  if (flags.token !== undefined && flags.apiKey !== undefined) command.error('give --token or --api-key, not both');
  const options: DoctorOptions = {
    url,
    ...(flags.origin !== undefined && { origin: flags.origin }),
    headers: flags.header,
    ...(flags.token !== undefined && { token: flags.token }),
    ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
    insecure: flags.insecure === true,
    pings: flags.pings,
    timeoutMs: flags.timeout,
  };
  const results = await runDoctor(options, (result) => {
    if (flags.json !== true) process.stdout.write(`${formatLine(result)}\n`);
  });
  await writeOut(flags.json === true ? formatJson(url, results) : `${formatSummary(results)}\n`);
  // Exit here: nothing a probe left behind (a socket closing, a resolver lookup) holds the process open.
  process.exit(results.some((result) => result.status === 'fail') ? EXIT_FAILED : EXIT_OK);
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'Check an MCP endpoint step by step (URL, DNS, TCP, TLS, HTTP, /health, /ready, CORS, authentication, protocols, latency) and say how to fix what fails.',
    )
    .argument('<url>', 'the MCP endpoint: http(s)://host:port/mcp, ws(s)://… for WebSocket, or an HTTP+SSE …/sse URL')
    .option(
      '--origin <origin>',
      'check CORS for a browser page at this origin (https://app.example.com)',
      browserOrigin,
    )
    .option('--header <name:value>', 'send this HTTP header with every probe; repeatable', collectHeader, {})
    .addOption(new Option('--token <token>', 'bearer token (Authorization: Bearer)').env(ENVIRONMENT.token))
    .addOption(new Option('--api-key <key>', 'API key (sent as X-API-Key)').env(ENVIRONMENT.apiKey))
    .option('--insecure', 'accept a TLS certificate that does not verify (still reported) and run the other checks')
    .option(
      '--pings <n>',
      `round trips the latency check times (0 to ${MAX_PINGS})`,
      wholeNumber(0, MAX_PINGS),
      DOCTOR_DEFAULTS.pings,
    )
    .option(
      '--timeout <ms>',
      'bound of each check (of each round trip, for latency)',
      wholeNumber(1, DOCTOR_DEFAULTS.maxTimeoutMs),
      DOCTOR_DEFAULTS.timeoutMs,
    )
    .option('--json', 'print one JSON document ({ url, ok, checks: [{ name, label, ok, status, detail, fix }] })')
    .addHelpText(
      'after',
      '\nExit codes: 0 no check failed, 1 a check failed, 2 bad usage. Every check is described in docs/troubleshooting.md.',
    )
    .showHelpAfterError()
    .exitOverride((error) => {
      // Commander exits 1 on a usage error; 1 means a check failed here.
      process.exit(error.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
    })
    .action(doctor);
}
