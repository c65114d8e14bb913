/** The `stdio` option: a stdio MCP server command served remotely, with its limits and lifetimes. */
import { parse } from 'shell-quote';

import { failOption } from '../errors.js';

export type StdioIsolation = 'shared' | 'session';

export interface StdioOptions {
  /** The program to run (found on PATH like a shell would). Required. */
  command: string;
  /** Its arguments. Default none. */
  args?: string[];
  /** Variables added to the gateway's environment for the child. Default none. */
  env?: Record<string, string>;
  /** The child's working directory. Default: the gateway's. */
  cwd?: string;
  /**
   * `shared` (default): one child serves every client (a child per distinct set of client capabilities, for
   * 2025-era sessions); for servers that keep no per-client state. `session`: one child per 2025-era session and
   * a pool for 2026-07-28 requests (one request at a time per child); for servers that keep state per connection.
   */
  isolation?: StdioIsolation;
  /** Most children running at once (sessions' children and the pool together). Default 32. */
  maxChildren?: number;
  /** With `session`: most children serving 2026-07-28 requests (each one request at a time). Default 4. */
  poolSize?: number;
  /** How long a request waits for the child's answer (and, at the cap, for a free child), in ms. Default 60000. */
  requestTimeoutMs?: number;
  /** How long a new child has to answer the handshake (`npx` may download first), in ms. Default 30000. */
  startTimeoutMs?: number;
  /** A child with nothing in flight for this long is stopped (not a `shared` one), in ms. Default 300000. */
  idleTimeoutMs?: number;
  /** A child older than this is replaced once it has nothing in flight, in ms; 0: never. Default 0. */
  maxLifetimeMs?: number;
  /** Between SIGTERM and SIGKILL of a child's process group, in ms. Default 5000. */
  killGraceMs?: number;
  /** Longest message a child may write on stdout, in bytes; a longer one stops the child. Default 16 MiB. */
  maxLineBytes?: number;
  /** First delay before a crashed `shared` child is started again, doubling per failure, in ms. Default 1000. */
  restartDelayMs?: number;
  /** Longest delay between restarts, in ms. Default 30000. */
  maxRestartDelayMs?: number;
}

export const STDIO_DEFAULTS = Object.freeze({
  args: [] as string[],
  isolation: 'shared' as StdioIsolation,
  maxChildren: 32,
  poolSize: 4,
  requestTimeoutMs: 60_000,
  startTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  maxLifetimeMs: 0,
  killGraceMs: 5_000,
  maxLineBytes: 16 * 1024 * 1024,
  restartDelayMs: 1_000,
  maxRestartDelayMs: 30_000,
});

export type ResolvedStdioOptions = Required<Omit<StdioOptions, 'env' | 'cwd'>> & Pick<StdioOptions, 'env' | 'cwd'>;

const INTEGERS = [
  ['maxChildren', 1],
  ['poolSize', 1],
  ['requestTimeoutMs', 1],
  ['startTimeoutMs', 1],
  ['idleTimeoutMs', 1],
  ['maxLifetimeMs', 0],
  ['killGraceMs', 0],
  ['maxLineBytes', 1024],
  ['restartDelayMs', 1],
  ['maxRestartDelayMs', 1],
] as const;

const KNOWN = new Set(['command', 'args', 'env', 'cwd', 'isolation', ...INTEGERS.map(([name]) => name)]);

export function resolveStdioOptions(value: unknown): ResolvedStdioOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    failOption('stdio', 'an object with a command', value);
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input))
    if (!KNOWN.has(key)) failOption(`stdio.${key}`, `one of ${[...KNOWN].join(', ')} (unknown key)`, key);
  if (typeof input.command !== 'string' || input.command.trim() === '')
    failOption('stdio.command', 'a non-empty string', input.command);
  const args = input.args ?? STDIO_DEFAULTS.args;
  if (!Array.isArray(args) || args.some((arg) => typeof arg !== 'string'))
    failOption('stdio.args', 'an array of strings', args);
  const env = input.env;
  if (
    env !== undefined &&
    (env === null || typeof env !== 'object' || Object.values(env).some((v) => typeof v !== 'string'))
  )
    failOption('stdio.env', 'an object of string values', env);
  if (input.cwd !== undefined && (typeof input.cwd !== 'string' || input.cwd === ''))
    failOption('stdio.cwd', 'a directory path', input.cwd);
  const isolation = input.isolation ?? STDIO_DEFAULTS.isolation;
  if (isolation !== 'shared' && isolation !== 'session')
    failOption('stdio.isolation', '"shared" or "session"', isolation);
  const resolved: Record<string, unknown> = {
    command: input.command,
    args: [...(args as string[])],
    ...(env !== undefined && { env: { ...(env as Record<string, string>) } }),
    ...(input.cwd !== undefined && { cwd: input.cwd }),
    isolation,
  };
  for (const [name, min] of INTEGERS) {
    const number = input[name] ?? STDIO_DEFAULTS[name];
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min)
      failOption(`stdio.${name}`, `an integer >= ${min}`, number);
    resolved[name] = number;
  }
  if ((resolved.poolSize as number) > (resolved.maxChildren as number))
    failOption('stdio.poolSize', `at most stdio.maxChildren (${resolved.maxChildren})`, resolved.poolSize);
  return Object.freeze(resolved) as unknown as ResolvedStdioOptions;
}

/**
 * `--stdio "<command> [args]"`: split like a shell splits words (quotes, escapes, $VARS from the environment),
 * but run without a shell; pipes, redirections and `&&` are refused (wrap them in `sh -c '…'`).
 */
export function parseStdioCommand(line: string): { command: string; args: string[] } {
  const words = parse(line, (name) => process.env[name] ?? '');
  const operator = words.find((word) => typeof word !== 'string');
  if (operator !== undefined)
    failOption(
      'stdio',
      'a command and its arguments (no pipes, redirections, globs or comments: run those with sh -c "…")',
      line,
    );
  const [command, ...args] = words as string[];
  if (command === undefined || command === '') failOption('stdio', 'a command, such as "npx -y some-mcp-server"', line);
  return { command, args };
}
