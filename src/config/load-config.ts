/**
 * Configuration files for `remote-mcp serve --config <file>`: YAML or JSON (JSON is YAML), `${VAR}` interpolation,
 * REMOTE_MCP_* environment overrides, and validation against CONFIG_SCHEMA. Every problem is reported with the
 * file position of the value at fault, all at once, so a file is fixed in one pass:
 *
 *   remote-mcp.yaml:3:7: `port` expected an integer from 0 to 65535; received the string "eighty"
 *
 * Precedence: built-in defaults < config file < environment variables < command-line flags (the CLI applies
 * its flags on top of what configToServe returns).
 *
 * @example
 *   const loaded = await loadConfigFile('remote-mcp.yaml');
 *   const { modulePath, exportName, options, listen } = await configToServe(loaded);
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import type { RemoteServerOptions } from '../server/options.js';
import type { AuthOptions } from '../security/authenticator.js';
import type { RateLimitOptions } from '../security/rate-limit.js';
import type { HealthOptions } from '../observability/health.js';
import { ConfigError, type ConfigPositions, type ConfigProblem } from './config-problems.js';
import { parseConfigSource } from './parse-config.js';
import { applyEnvironmentOverrides, ENVIRONMENT_OVERRIDES } from './environment-overrides.js';
import { validateConfig } from './validate-config.js';

export {
  ConfigError,
  dottedKey,
  formatProblem,
  type ConfigPositions,
  type ConfigProblem,
  type Position,
} from './config-problems.js';
export { parseConfigSource, parseConfigText } from './parse-config.js';
export { applyEnvironmentOverrides, ENVIRONMENT_OVERRIDES, type EnvironmentOverride } from './environment-overrides.js';
export { validateConfig } from './validate-config.js';

// ---------------------------------------------------------------------------------------------------------------
// The configuration as validated (CONFIG_SCHEMA checks it): the library's own option types, minus what a file
// cannot hold (the factory, stores, hooks, health-check functions), plus what the CLI adds.

type CodeOnly =
  | 'server'
  | 'sessionStore'
  | 'eventStore'
  | 'eventBus'
  | 'onError'
  | 'requestStateKey'
  | 'auth'
  | 'rateLimits'
  | 'health';

export type ConfigFile = Omit<RemoteServerOptions, CodeOnly> & {
  /** The factory's module, or none when `stdio` names a program to serve. */
  module?: string;
  export?: string;
  port?: number;
  host?: string;
  tls?: { certFile: string; keyFile: string } | { selfSigned: true };
  requestStateKey?: string;
  auth?: Omit<AuthOptions, 'authenticate'>;
  rateLimits?: Omit<RateLimitOptions, 'store'>;
  health?: boolean | Omit<HealthOptions, 'checks'>;
};

export interface LoadedConfig {
  /** Absolute path of the file. */
  file: string;
  /** Its directory: relative paths in the file are resolved against it. */
  directory: string;
  config: ConfigFile;
  positions: ConfigPositions;
}

// ---------------------------------------------------------------------------------------------------------------
// Loading and turning a configuration into what `serve` needs

/** Reads, parses, interpolates, applies REMOTE_MCP_* overrides and validates a configuration file. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file: path, key: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
  const { config: parsed, positions } = parseConfigSource(text, path, env);
  const config = validateConfig(applyEnvironmentOverrides(parsed, env, positions), positions);
  return { file, directory: dirname(file), config, positions };
}

/**
 * The configuration the REMOTE_MCP_* variables describe when no file is given (`remote-mcp serve <module>`), so
 * the variables work the same with or without --config; undefined when none of them is set.
 */
export function loadEnvironmentConfig(
  served: { module: string } | { stdio: { command: string; args: string[] } } | { upstream: { url: string } },
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig | undefined {
  if (!ENVIRONMENT_OVERRIDES.some((entry) => (env[entry.variable] ?? '') !== '')) return undefined;
  const directory = process.cwd();
  const { config: parsed, positions } = parseConfigSource(
    JSON.stringify('module' in served ? { module: resolve(directory, served.module) } : served),
    '(environment)',
    {},
  );
  const config = validateConfig(applyEnvironmentOverrides(parsed, env, positions), positions);
  return { file: '(environment)', directory, config, positions };
}

export type TlsListen = { cert: Buffer; key: Buffer } | { selfSigned: true };

export interface ServePlan {
  /** Absolute path of the module exporting the server factory; undefined when the file names a stdio program. */
  modulePath: string | undefined;
  exportName: string;
  options: Omit<RemoteServerOptions, 'server'>;
  listen: { port: number; host: string; tls?: TlsListen };
}

/**
 * What `serve` needs from a loaded configuration: the module and export to load, the server options and where
 * to listen. Paths in the file (module, TLS files, the API keys file, audit and log files) are resolved against
 * the file's directory; the module must exist and the TLS files are read here, so a bad path is a ConfigError
 * naming its key before anything starts.
 */
export async function configToServe(loaded: LoadedConfig): Promise<ServePlan> {
  const { config, directory, positions } = loaded;
  const problems: ConfigProblem[] = [];
  const fault = (key: string, message: string) =>
    problems.push({ file: positions.file, ...positions.values.get(key), key, message });
  const within = (path: string) => resolve(directory, path);

  const modulePath = config.module === undefined ? undefined : within(config.module);
  if (modulePath !== undefined && config.stdio !== undefined)
    fault('stdio', 'cannot be given with module: serve either a factory module or a stdio program');
  if ((modulePath !== undefined || config.stdio !== undefined) && config.upstream !== undefined)
    fault('upstream', 'cannot be given with module or stdio: serve one of them');
  if (modulePath !== undefined)
    try {
      if (!(await stat(modulePath)).isFile()) fault('module', `is not a file: ${modulePath}`);
    } catch (error) {
      fault(
        'module',
        `cannot be found: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? modulePath : (error as Error).message}`,
      );
    }

  let tls: TlsListen | undefined;
  if (config.tls !== undefined && 'selfSigned' in config.tls) tls = { selfSigned: true };
  else if (config.tls !== undefined) {
    const read = async (key: 'certFile' | 'keyFile', path: string) => {
      try {
        return await readFile(within(path));
      } catch (error) {
        fault(
          `tls.${key}`,
          `cannot be read: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file ${within(path)}` : (error as Error).message}`,
        );
        return undefined;
      }
    };
    const [cert, key] = await Promise.all([read('certFile', config.tls.certFile), read('keyFile', config.tls.keyFile)]);
    if (cert !== undefined && key !== undefined) tls = { cert, key };
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const { module: _module, export: _export, port: _port, host: _host, tls: _tls, ...server } = structuredClone(config);
  if (server.auth?.apiKeys !== undefined) server.auth.apiKeys.file = within(server.auth.apiKeys.file);
  if (server.stdio?.cwd !== undefined) server.stdio.cwd = within(server.stdio.cwd);
  if (server.audit?.destination !== undefined && server.audit.destination !== 'stdout')
    server.audit.destination = within(server.audit.destination);
  if (
    server.log?.destination !== undefined &&
    server.log.destination !== 'stdout' &&
    server.log.destination !== 'stderr'
  )
    server.log.destination = within(server.log.destination);

  return {
    modulePath,
    exportName: config.export ?? 'default',
    options: server satisfies Omit<RemoteServerOptions, 'server'>,
    listen: { port: config.port ?? 8080, host: config.host ?? '127.0.0.1', ...(tls !== undefined && { tls }) },
  };
}
