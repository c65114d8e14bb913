/**
 * The `serve` flags that configure security (authentication, tool authorization, rate limits, the audit log,
 * proxies), and the `keys` command that manages API keys. A JWT secret
 * is read from the environment only (REMOTE_MCP_JWT_SECRET): a command-line argument would show in `ps` output
 * and shell history.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { SignJWT } from 'jose';

import { Command, InvalidArgumentError, Option } from 'commander';

import type { RemoteServerOptions } from '../server/options.js';
import { integer } from './option-flags.js';

import type { AuthOptions } from '../security/authenticator.js';
import { RATE_LIMIT_STORE_FAILURES, type RateLimitStoreFailure } from '../security/rate-limit.js';
import { mintApiKey, readKeysFile, writeKeysFile } from '../security/api-keys.js';

export const DEFAULT_KEYS_FILE = 'remote-mcp-keys.json';

export interface AuthFlags {
  apiKeys?: string;
  jwtPublicKey?: string;
  jwksUrl?: string;
  jwtIssuer?: string[];
  jwtAudience?: string[];
  requiredScopes?: string[];
  authorizationServers?: string[];
  resource?: string;
  toolScope?: string[];
  resourceScope?: string[];
  promptScope?: string[];
  toolCost?: string[];
  auditSensitiveArguments?: string[];
  auditMaxLineBytes?: number;
  rateLimit?: { points: number; durationSeconds: number };
  globalRateLimit?: { points: number; durationSeconds: number };
  rateLimitStoreFailure?: RateLimitStoreFailure;
  auditLog?: string;
  auditArguments?: boolean;
  trustProxy?: string;
}

/** `--rate-limit 100/60`: 100 requests per 60 seconds. */
function window(value: string): { points: number; durationSeconds: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError(`expected <requests>/<seconds>, e.g. 100/60; received "${value}"`);
  return { points: Number(match[1]), durationSeconds: Number(match[2]) };
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const list = (value: string) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);

export function addAuthFlags(command: Command): Command {
  return command
    .option('--api-keys <file>', `accept API keys from this keys file (see "remote-mcp keys create")`)
    .option('--jwt-public-key <file>', 'accept bearer JWTs signed with the key in this PEM file')
    .option('--jwks-url <url>', "accept bearer JWTs signed with the authorization server's keys at this JWKS URL")
    .option('--jwt-issuer <list>', 'accepted JWT issuers (iss), comma-separated; required with JWTs', list)
    .option('--jwt-audience <list>', "accepted JWT audiences (aud): this server's URL; required with JWTs", list)
    .option('--required-scopes <list>', 'scopes every request needs, comma-separated', list)
    .option(
      '--authorization-servers <list>',
      'authorization servers for /.well-known/oauth-protected-resource (default: the JWT issuers)',
      list,
    )
    .option('--resource <url>', "this server's canonical URL in the resource metadata (default: from the Host header)")
    .option(
      '--tool-scope <rule>',
      'authorize tools: <pattern>=<scope>[,<scope>|subject:<sub>...], e.g. "admin_*=admin" (repeatable)',
      collect,
    )
    .option(
      '--resource-scope <rule>',
      'authorize resources: <uri pattern>=<scope>[,...], e.g. "secret://*=admin" (repeatable)',
      collect,
    )
    .option('--prompt-scope <rule>', 'authorize prompts: <pattern>=<scope>[,...] (repeatable)', collect)
    .option(
      '--rate-limit <n/s>',
      'per-principal (client IP without auth) rate limit: requests/seconds, e.g. 100/60',
      window,
    )
    .option('--global-rate-limit <n/s>', 'server-wide rate limit: requests/seconds', window)
    .addOption(
      new Option(
        '--rate-limit-store-failure <mode>',
        'while the shared (Redis) counters do not answer: count in each process, admit, or refuse with 503 (local)',
      ).choices(RATE_LIMIT_STORE_FAILURES as RateLimitStoreFailure[]),
    )
    .option(
      '--tool-cost <tool=points>',
      'points a call of the tool costs against the rate limits (repeatable)',
      collect,
    )
    .option('--audit-log <dest>', 'write the audit log (one JSON line per request) to "stdout" or a file')
    .option('--audit-arguments', 'include tool arguments in the audit log (sensitive names redacted)')
    .option('--audit-sensitive-arguments <list>', 'argument names always redacted in the audit log', list)
    .option('--audit-max-line-bytes <n>', 'longest audit line; longer fields are cut with a marker (65536)', integer)
    .option(
      '--trust-proxy <value>',
      'believe X-Forwarded-For from: "true", a hop count, or comma-separated proxy addresses/CIDRs',
    );
}

export const AUTH_ENVIRONMENT =
  '  REMOTE_MCP_JWT_SECRET         accept bearer JWTs signed with this HMAC secret (>= 32 bytes)\n';

/** The `auth` option the flags and environment describe; undefined when they configure none. */
export function authFromFlags(flags: AuthFlags, env: NodeJS.ProcessEnv = process.env): AuthOptions | undefined {
  const secret = env.REMOTE_MCP_JWT_SECRET === '' ? undefined : env.REMOTE_MCP_JWT_SECRET;
  const sources = [secret !== undefined, flags.jwtPublicKey !== undefined, flags.jwksUrl !== undefined].filter(
    Boolean,
  ).length;
  if (sources > 1) throw new Error('choose one JWT key source: REMOTE_MCP_JWT_SECRET, --jwt-public-key or --jwks-url');
  const auth: AuthOptions = {};
  if (sources === 1) {
    if (flags.jwtIssuer === undefined || flags.jwtAudience === undefined)
      throw new Error('JWT authentication needs --jwt-issuer and --jwt-audience');
    auth.jwt = {
      issuer: flags.jwtIssuer,
      audience: flags.jwtAudience,
      ...(secret !== undefined && { secret }),
      ...(flags.jwtPublicKey !== undefined && { publicKey: readFileSync(flags.jwtPublicKey, 'utf8') }),
      ...(flags.jwksUrl !== undefined && { jwksUrl: flags.jwksUrl }),
    };
  } else if (flags.jwtIssuer !== undefined || flags.jwtAudience !== undefined) {
    throw new Error(
      '--jwt-issuer and --jwt-audience need a JWT key source: REMOTE_MCP_JWT_SECRET, --jwt-public-key or --jwks-url',
    );
  }
  if (flags.apiKeys !== undefined) auth.apiKeys = { file: flags.apiKeys };
  if (auth.jwt === undefined && auth.apiKeys === undefined) {
    if (
      flags.requiredScopes !== undefined ||
      flags.authorizationServers !== undefined ||
      flags.resource !== undefined
    ) {
      throw new Error(
        '--required-scopes, --authorization-servers and --resource need an authentication method (--api-keys, or JWTs)',
      );
    }
    return undefined;
  }
  if (flags.requiredScopes !== undefined) auth.requiredScopes = flags.requiredScopes;
  if (flags.authorizationServers !== undefined || flags.resource !== undefined) {
    auth.resourceMetadata = {
      ...(flags.authorizationServers !== undefined && { authorizationServers: flags.authorizationServers }),
      ...(flags.resource !== undefined && { resource: flags.resource }),
    };
  }
  return auth;
}

type SecurityOptions = Pick<RemoteServerOptions, 'authorization' | 'rateLimits' | 'audit' | 'trustProxy'>;

/** `<pattern>=<scope>[,...]` rules of one --*-scope flag, as policy rules. */
function rules(flag: string, given: string[]): Record<string, string[]> {
  const parsed: Record<string, string[]> = {};
  for (const rule of given) {
    const equals = rule.indexOf('=');
    if (equals <= 0 || equals === rule.length - 1)
      throw new Error(`--${flag} must be <pattern>=<scope>[,...]; received "${rule}"`);
    parsed[rule.slice(0, equals)] = list(rule.slice(equals + 1));
  }
  return parsed;
}

/**
 * The security options (other than `auth`) the flags describe, on top of the config file's (`base`): a flag
 * replaces the one setting it names and keeps the file's others (`--tool-scope` adds or replaces rules for its
 * patterns; `--tool-cost` one tool's cost).
 */
export function securityFromFlags(flags: AuthFlags, base: SecurityOptions = {}): SecurityOptions {
  const options: SecurityOptions = {};
  const policy = {
    ...(flags.toolScope !== undefined && { tools: rules('tool-scope', flags.toolScope) }),
    ...(flags.resourceScope !== undefined && { resources: rules('resource-scope', flags.resourceScope) }),
    ...(flags.promptScope !== undefined && { prompts: rules('prompt-scope', flags.promptScope) }),
  };
  if (Object.keys(policy).length > 0) {
    const merged = { ...base.authorization };
    for (const [kind, kindRules] of Object.entries(policy) as Array<[keyof typeof merged, Record<string, string[]>]>)
      merged[kind] = { ...merged[kind], ...kindRules };
    options.authorization = merged;
  }
  if (
    flags.rateLimit !== undefined ||
    flags.globalRateLimit !== undefined ||
    flags.toolCost !== undefined ||
    flags.rateLimitStoreFailure !== undefined
  ) {
    const toolCosts: Record<string, number> = {};
    for (const entry of flags.toolCost ?? []) {
      const match = /^(.+)=(\d+)$/.exec(entry.trim());
      if (match === null) throw new Error(`--tool-cost must be <tool>=<points>; received "${entry}"`);
      toolCosts[match[1]!] = Number(match[2]);
    }
    options.rateLimits = {
      ...base.rateLimits,
      ...(flags.rateLimit !== undefined && { perPrincipal: flags.rateLimit }),
      ...(flags.globalRateLimit !== undefined && { global: flags.globalRateLimit }),
      ...(flags.rateLimitStoreFailure !== undefined && { storeFailure: flags.rateLimitStoreFailure }),
      ...(flags.toolCost !== undefined && { toolCosts: { ...base.rateLimits?.toolCosts, ...toolCosts } }),
    };
  }
  const audit =
    flags.auditLog !== undefined ||
    flags.auditArguments === true ||
    flags.auditSensitiveArguments !== undefined ||
    flags.auditMaxLineBytes !== undefined;
  if (audit) {
    if (flags.auditLog === undefined && base.audit === undefined)
      throw new Error('--audit-arguments, --audit-sensitive-arguments and --audit-max-line-bytes need --audit-log');
    options.audit = {
      ...base.audit,
      ...(flags.auditLog !== undefined && { destination: flags.auditLog }),
      ...(flags.auditArguments === true && { includeArguments: true }),
      ...(flags.auditSensitiveArguments !== undefined && { sensitiveArguments: flags.auditSensitiveArguments }),
      ...(flags.auditMaxLineBytes !== undefined && { maxLineBytes: flags.auditMaxLineBytes }),
    };
  }
  if (flags.trustProxy !== undefined) {
    const value = flags.trustProxy.trim();
    options.trustProxy =
      value === 'true' ? true : value === 'false' ? false : /^\d+$/.test(value) ? Number(value) : list(value);
  }
  return options;
}

/** `remote-mcp keys create|list|revoke`: API keys in a keys file that stores only their hashes. */
export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'Create, list and revoke API keys (the keys file stores only their SHA-256 hashes).',
  );
  keys
    .command('create')
    .description('Mint a key and print it once; only its hash is stored.')
    .requiredOption('--name <name>', 'a label for the key (shown as the principal subject)')
    .option('--scopes <list>', 'comma-separated scopes the key grants', list, [])
    .option('--file <file>', 'the keys file', DEFAULT_KEYS_FILE)
    .action((flags: { name: string; scopes: string[]; file: string }) => {
      const file = readKeysFile(flags.file);
      const { key, entry } = mintApiKey(flags.name, flags.scopes);
      writeKeysFile(flags.file, { version: 1, keys: [...file.keys, entry] });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `remote-mcp: key ${entry.id} "${entry.name}" (scopes: ${entry.scopes.join(' ') || 'none'}) added to ${flags.file}. It is shown only now; store it safely.\n`,
      );
    });
  keys
    .command('list')
    .description('List the keys of a keys file (ids, names, scopes; never the keys).')
    .option('--file <file>', 'the keys file', DEFAULT_KEYS_FILE)
    .action((flags: { file: string }) => {
      for (const entry of readKeysFile(flags.file).keys) {
        process.stdout.write(
          `${entry.id}  ${entry.name}  scopes: ${entry.scopes.join(' ') || '-'}  created ${entry.createdAt}${entry.revokedAt === undefined ? '' : `  REVOKED ${entry.revokedAt}`}\n`,
        );
      }
    });
  keys
    .command('revoke')
    .description('Revoke a key by id; a running server stops accepting it within a second.')
    .argument('<id>', 'the key id (the part after "rmcp_")')
    .option('--file <file>', 'the keys file', DEFAULT_KEYS_FILE)
    .action((id: string, flags: { file: string }) => {
      const file = readKeysFile(flags.file);
      const entry = file.keys.find((candidate) => candidate.id === id);
      if (entry === undefined) throw new Error(`no key with id ${id} in ${flags.file}`);
      entry.revokedAt ??= new Date().toISOString();
      writeKeysFile(flags.file, file);
      process.stderr.write(`remote-mcp: key ${id} "${entry.name}" revoked\n`);
    });
  return keys;
}

/**
 * `remote-mcp token`: signs an HS256 JWT with REMOTE_MCP_JWT_SECRET, for development and tests against a server
 * started with the same secret. Production tokens come from your authorization server.
 */
export function tokenCommand(): Command {
  return new Command('token')
    .description('Sign a development JWT (HS256) with REMOTE_MCP_JWT_SECRET for a server started with the same secret.')
    .requiredOption('--subject <sub>', 'the principal (sub claim)')
    .requiredOption('--issuer <iss>', 'the issuer (must be one the server accepts: --jwt-issuer)')
    .requiredOption('--audience <aud>', 'the audience (must be one the server accepts: --jwt-audience)')
    .option('--scopes <list>', 'comma-separated scopes (scope claim)', list, [])
    .option(
      '--expires-in <seconds>',
      'lifetime in seconds',
      (value: string) => {
        const seconds = Number(value);
        if (!Number.isSafeInteger(seconds) || seconds <= 0)
          throw new InvalidArgumentError(`expected a whole number of seconds > 0, received "${value}"`);
        return seconds;
      },
      3600,
    )
    .action(
      async (flags: { subject: string; issuer: string; audience: string; scopes: string[]; expiresIn: number }) => {
        const secret = process.env.REMOTE_MCP_JWT_SECRET;
        if (secret === undefined || Buffer.byteLength(secret) < 32)
          throw new Error('set REMOTE_MCP_JWT_SECRET (at least 32 bytes) to the secret the server uses');
        const token = await new SignJWT({ ...(flags.scopes.length > 0 && { scope: flags.scopes.join(' ') }) })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setSubject(flags.subject)
          .setIssuer(flags.issuer)
          .setAudience(flags.audience)
          .setIssuedAt()
          .setJti(randomUUID())
          .setExpirationTime(Math.floor(Date.now() / 1000) + flags.expiresIn)
          .sign(new TextEncoder().encode(secret));
        process.stdout.write(`${token}\n`);
      },
    );
}
