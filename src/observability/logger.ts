/**
 * The operational log (start, stop, warnings, errors): pino JSON lines, separate from the audit log, or
 * pino-pretty's readable lines when written to a terminal.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

import { failOption } from '../errors.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LogOptions {
  /** Least severe level written. Default `warn` for the library (an embedding application hears only problems); the CLI's default is `info`. */
  level?: LogLevel;
  /** Human-readable lines instead of JSON. Default: when the destination is a terminal. */
  pretty?: boolean;
  /** `stderr` (default), `stdout`, or a file path (appended to, its directory created). */
  destination?: string;
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_DEFAULTS = Object.freeze({ level: 'warn' as LogLevel, destination: 'stderr' });

function fail(name: string, expected: string, value: unknown): never {
  failOption(`log${name}`, expected, value);
}

/** The operational logger the `log` option describes. */
export function createLogger(value: unknown): Logger {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value)))
    fail('', 'an object', value);
  const options = (value ?? {}) as LogOptions;
  for (const key of Object.keys(options))
    if (!['level', 'pretty', 'destination'].includes(key))
      fail(`.${key}`, 'one of level, pretty, destination (unknown key)', key);
  const level = options.level ?? LOG_DEFAULTS.level;
  if (!LOG_LEVELS.includes(level)) fail('.level', `one of ${LOG_LEVELS.join(', ')}`, level);
  const destination = options.destination ?? LOG_DEFAULTS.destination;
  if (typeof destination !== 'string' || destination.length === 0)
    fail('.destination', '"stderr", "stdout" or a file path', destination);
  const fd = destination === 'stderr' ? 2 : destination === 'stdout' ? 1 : undefined;
  const isTerminal = fd === 2 ? process.stderr.isTTY === true : fd === 1 ? process.stdout.isTTY === true : false;
  const readable = options.pretty ?? isTerminal;
  if (typeof readable !== 'boolean') fail('.pretty', 'a boolean', readable);
  const base = { level, base: { log: 'remote-mcp' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (readable)
    return pino(
      base,
      pretty({ destination: fd ?? destination, colorize: isTerminal, sync: true, mkdir: fd === undefined }),
    );
  // Synchronous writes: the operational log is a few lines per start, stop and problem, and the last of them
  // (the process exiting after a drain) must not be lost in a buffer.
  return pino(base, pino.destination({ dest: fd ?? destination, sync: true, mkdir: fd === undefined }));
}
