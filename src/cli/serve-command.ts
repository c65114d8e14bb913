/**
 * `remote-mcp serve <module>` and the server-side helpers (`config`, `keys`, `token`). main.ts loads this module
 * only for those commands, so the client commands never load server code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Command, Option } from 'commander';

import { createRemoteServer, type ListenOptions } from '../remote-server.js';
import { DEFAULTS, type RemoteServerOptions, type ServerFactory } from '../server/options.js';
import { addSdkSearchPath } from '../server/sdk-copies.js';
import {
  addAuthFlags,
  AUTH_ENVIRONMENT,
  authFromFlags,
  keysCommand,
  securityFromFlags,
  tokenCommand,
  type AuthFlags,
} from './security-flags.js';
import { configCommand } from './config-command.js';
import { parseStdioCommand } from '../gateway/stdio-options.js';
import { parseUpstreamHeader } from '../gateway/upstream-options.js';
import { addOptionFlags, applyOptionFlags, integer } from './option-flags.js';
import { configToServe, loadConfigFile, loadEnvironmentConfig, type ServePlan } from '../config/load-config.js';
import { LOG_LEVELS, type LogLevel } from '../observability/logger.js';

/** Loads the factory a module exports (the named export, else the default export). */
export async function loadFactory(modulePath: string, exportName: string): Promise<ServerFactory> {
  const file = resolve(process.cwd(), modulePath);
  // The module's copy of the SDK is the one its instances come from (src/server/sdk-copies.ts).
  addSdkSearchPath(file);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(whyNotLoaded(modulePath, file, error));
  }
  const factory = module[exportName];
  if (typeof factory !== 'function') {
    const found = Object.keys(module).join(', ') || 'nothing';
    throw new Error(
      `${modulePath} has no function export "${exportName}" (it exports: ${found}). Export a function that returns a new McpServer.`,
    );
  }
  return factory as ServerFactory;
}

/** The nearest package.json above a file, which decides whether Node reads its .js files as ES modules. */
function nearestPackageJson(file: string): { path: string; type: unknown } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      try {
        return { path, type: (JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }).type };
      } catch {
        return { path, type: undefined };
      }
    }
    if (dir === dirname(dir)) return undefined;
  }
}

/** What to tell a user whose module could not be imported: the common new-user cases get what to do. */
function whyNotLoaded(modulePath: string, file: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?tsx?$/.test(file)) {
    const js = modulePath.replace(/\.([cm]?)tsx?$/, '.$1js');
    return (
      `remote-mcp serve loads JavaScript, and Node ${process.version} does not run TypeScript by itself. ` +
      `Compile ${modulePath} first (npx tsc) and serve the JavaScript it writes (remote-mcp serve ${js}), ` +
      `or load it through a TypeScript loader such as tsx: NODE_OPTIONS='--import tsx' npx remote-mcp serve ${modulePath}`
    );
  }
  if (
    error instanceof SyntaxError &&
    /\.js$/.test(file) &&
    /Cannot use import statement outside a module|Unexpected token 'export'/.test(message)
  ) {
    const pkg = nearestPackageJson(file);
    const why =
      pkg === undefined
        ? 'no package.json above it says "type": "module"'
        : `${pkg.path} says ${pkg.type === undefined ? 'no "type"' : `"type": ${JSON.stringify(pkg.type)}`}`;
    return (
      `${modulePath} is written as an ES module (import/export), but Node loads it as CommonJS: ${why}. ` +
      `Rename it to ${modulePath.replace(/\.js$/, '.mjs')}, add "type": "module" to that package.json, ` +
      `or write it as CommonJS (require('@modelcontextprotocol/server'), module.exports = function createServer() {...}).`
    );
  }
  return `cannot load ${modulePath}: ${message}`;
}

/** A request a user can paste into a shell to see the server answer. */
export function sampleRequest(url: string, credentialHeader?: string, selfSigned = false): string {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/list',
    params: {
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
  return [
    `curl -s${selfSigned ? 'k' : ''} ${url} \\`,
    `  -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\`,
    `  -H 'mcp-protocol-version: 2026-07-28' -H 'mcp-method: tools/list' \\`,
    ...(credentialHeader === undefined ? [] : [`  -H '${credentialHeader}' \\`]),
    `  -d '${body}'`,
  ].join('\n');
}

/** The flags serve reads itself; the option flags (option-flags.ts) are applied by path. */
interface ServeFlags extends AuthFlags {
  port: number;
  host: string;
  export: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  config?: string;
  stdio?: string;
  upstream?: string;
  upstreamHeader?: Record<string, string>;
  metrics: boolean;
  metricsPort?: number;
  logLevel: LogLevel;
}

/** The TLS listen option the flags describe; undefined for plain http. */
function tlsFromFlags(flags: ServeFlags): ListenOptions['tls'] {
  if (flags.tlsSelfSigned === true) {
    if (flags.tlsCert !== undefined || flags.tlsKey !== undefined)
      throw new Error('--tls-self-signed cannot be combined with --tls-cert/--tls-key');
    return { selfSigned: true };
  }
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return undefined;
  if (flags.tlsCert === undefined || flags.tlsKey === undefined)
    throw new Error('--tls-cert and --tls-key must be given together');
  return { cert: readFileSync(flags.tlsCert), key: readFileSync(flags.tlsKey) };
}

/**
 * The CLI serves metrics unless told not to (the library's default is off): --no-metrics turns them off,
 * --metrics-port moves them (keeping the file's other metrics settings), otherwise the file decides.
 */
function metricsOption(
  flags: ServeFlags,
  given: (flag: keyof ServeFlags) => boolean,
  fromFile: RemoteServerOptions['metrics'],
): NonNullable<RemoteServerOptions['metrics']> {
  if (given('metrics') && !flags.metrics) return false;
  const base = fromFile ?? true;
  if (flags.metricsPort === undefined) return base;
  return typeof base === 'object' ? { ...base, port: flags.metricsPort } : { port: flags.metricsPort };
}

async function serve(moduleArgument: string | undefined, flags: ServeFlags, command: Command): Promise<void> {
  // Precedence: the CLI's defaults < the config file (with its REMOTE_MCP_* overrides) < flags given explicitly.
  const given = (flag: keyof ServeFlags) => command.getOptionValueSource(flag) === 'cli';
  const stdioFlag = flags.stdio === undefined ? undefined : parseStdioCommand(flags.stdio);
  const upstreamFlag = flags.upstream;
  const servedFlags = [moduleArgument, stdioFlag, upstreamFlag].filter((served) => served !== undefined).length;
  if (servedFlags > 1) throw new Error('serve takes one of a module, --stdio "<command>" or --upstream <url>');
  if (servedFlags === 0 && flags.config === undefined)
    throw new Error(
      'serve needs a module (remote-mcp serve <module>), a stdio program (--stdio "<command>"), an upstream (--upstream <url>) or a config file naming one (--config <file>)',
    );
  // Without a file, the REMOTE_MCP_* variables still apply, as a file holding only them would.
  const loaded =
    flags.config !== undefined
      ? await loadConfigFile(flags.config)
      : loadEnvironmentConfig(
          moduleArgument !== undefined
            ? { module: moduleArgument }
            : stdioFlag !== undefined
              ? { stdio: stdioFlag }
              : { upstream: { url: upstreamFlag! } },
        );
  const plan: ServePlan | undefined = loaded === undefined ? undefined : await configToServe(loaded);
  // A module, --stdio or --upstream on the command line replaces what the file serves.
  const modulePath = moduleArgument ?? (servedFlags === 0 ? plan?.modulePath : undefined);
  const factory =
    modulePath === undefined
      ? undefined
      : await loadFactory(modulePath, plan !== undefined && !given('export') ? plan.exportName : flags.export);
  const requestStateKey = process.env.REMOTE_MCP_REQUEST_STATE_KEY;
  const auth = authFromFlags(flags);
  const chosen = applyOptionFlags(plan?.options ?? {}, command);
  if (servedFlags > 0) {
    if (stdioFlag === undefined) delete chosen.stdio;
    if (upstreamFlag === undefined) delete chosen.upstream;
  }
  if (stdioFlag !== undefined) chosen.stdio = { ...chosen.stdio, ...stdioFlag };
  if (upstreamFlag !== undefined) chosen.upstream = { ...chosen.upstream, url: upstreamFlag };
  if (flags.upstreamHeader !== undefined) {
    if (chosen.upstream === undefined)
      throw new Error('--upstream-header needs --upstream <url> (or upstream.url in --config)');
    chosen.upstream = { ...chosen.upstream, headers: { ...chosen.upstream.headers, ...flags.upstreamHeader } };
  }
  if (modulePath === undefined && chosen.stdio !== undefined && chosen.stdio.command === undefined)
    throw new Error(
      '--stdio-* flags need the program to serve: --stdio "<command> [args]" (or stdio.command in --config)',
    );
  if (modulePath === undefined && chosen.upstream !== undefined && chosen.upstream.url === undefined)
    throw new Error('--upstream-* flags need the server to proxy: --upstream <url> (or upstream.url in --config)');
  const metrics = metricsOption(flags, given, plan?.options.metrics);
  const log = {
    ...plan?.options.log,
    ...((given('logLevel') || plan?.options.log?.level === undefined) && { level: flags.logLevel }),
  };
  const options: RemoteServerOptions = {
    ...chosen,
    ...(factory !== undefined && { server: factory }),
    metrics,
    log,
    ...(requestStateKey !== undefined && { requestStateKey }),
    ...(auth !== undefined && { auth }),
    ...securityFromFlags(flags, plan?.options),
  };
  const served =
    modulePath ??
    (options.stdio !== undefined
      ? `the stdio program ${[options.stdio.command, ...(options.stdio.args ?? [])].join(' ')}`
      : `the upstream ${options.upstream!.url}`);
  const server = createRemoteServer(options);
  const tls = tlsFromFlags(flags) ?? plan?.listen.tls;
  const port = plan !== undefined && !given('port') ? plan.listen.port : flags.port;
  const host = plan !== undefined && !given('host') ? plan.listen.host : flags.host;
  const { url, fingerprint256, metricsUrl } = await server.listen({ port, host, ...(tls !== undefined && { tls }) });
  if (fingerprint256 !== undefined) {
    const kind =
      tls !== undefined && 'selfSigned' in tls
        ? 'self-signed development certificate (curl needs -k, or pin it)'
        : 'certificate';
    process.stdout.write(`TLS: ${kind}, SHA-256 fingerprint ${fingerprint256}\n`);
  }
  const credentialHeader =
    options.auth === undefined
      ? undefined
      : options.auth.apiKeys !== undefined && options.auth.jwt === undefined
        ? 'x-api-key: <your key>'
        : 'authorization: Bearer <token>';
  const base = url.slice(0, url.length - (options.path ?? DEFAULTS.path).length);
  const probes = typeof options.health === 'object' ? options.health : {};
  const health =
    options.health === false
      ? ''
      : `Health: ${base}${probes.path ?? '/health'} and ${base}${probes.readyPath ?? '/ready'}\n`;
  const scrape =
    metrics === false
      ? ''
      : `Metrics: ${metricsUrl ?? `${base}${(typeof metrics === 'object' && metrics.path) || '/metrics'}`}\n`;
  process.stdout.write(
    `remote-mcp serving ${served} at ${url}\n${health}${scrape}\nTry it:\n${sampleRequest(url, credentialHeader, tls !== undefined && 'selfSigned' in tls)}\n\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      server.logger.warn({ signal }, `${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    server.logger.info(
      { signal, drainTimeoutMs: options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs },
      `${signal} received, draining`,
    );
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** The serve command. */
export function serveCommand(): Command {
  const command = new Command('serve')
    .description(
      'Serve the MCP server factory a module exports, or a stdio MCP server program (--stdio), to 2026-07-28 and 2025-era clients over Streamable HTTP, HTTP+SSE and WebSocket.',
    )
    .argument(
      '[module]',
      'a JavaScript module (ES or CommonJS) exporting a function that returns a new McpServer (or `module` in --config)',
    )
    .option(
      '-c, --config <file>',
      'read options from a YAML or JSON file (flags given explicitly override it; see docs/configuration.md)',
    )
    .option('-p, --port <port>', 'TCP port (0 picks a free one)', integer, 8080)
    .option('-H, --host <host>', 'address to bind; 0.0.0.0 accepts remote clients', '127.0.0.1')
    .option('--export <name>', 'which export of the module is the factory', 'default')
    .option(
      '--upstream <url>',
      'proxy a remote MCP server (http(s)://…, …/sse for HTTP+SSE, ws(s)://…) with remote-mcp in front (docs/gateway.md)',
    )
    .option(
      '--upstream-header <header>',
      'a header sent to the upstream with every request, "Name: value" (repeatable), such as its credentials',
      (value: string, previous: Record<string, string> | undefined) => parseUpstreamHeader(value, previous),
    )
    .option(
      '--stdio <command>',
      'serve a stdio MCP server program instead of a module, e.g. --stdio "npx -y @modelcontextprotocol/server-everything" (docs/gateway.md)',
    )
    .option('--tls-cert <file>', 'serve https/wss with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--tls-self-signed', 'serve https/wss with a development certificate generated at start');
  addOptionFlags(command)
    .option('--no-metrics', 'do not serve Prometheus metrics at /metrics')
    .option('--metrics-port <port>', 'serve /metrics on this port (127.0.0.1) instead of the MCP port', integer)
    .addOption(
      new Option('--log-level <level>', 'operational log level (JSON on stderr, readable on a terminal)')
        .choices(LOG_LEVELS as string[])
        .default('info'),
    );
  addAuthFlags(command)
    .addHelpText(
      'after',
      `\nEnvironment:\n  REMOTE_MCP_REQUEST_STATE_KEY  key (>= 32 bytes) protecting requestState; share it between instances\n  REMOTE_MCP_REDIS_URL          keep the shared state in this Redis (as --redis; needs the key above)\n${AUTH_ENVIRONMENT}`,
    )
    .action(serve);
  return command;
}

/** Adds serve and its helpers, in the order --help lists them. */
export function addServerCommands(program: Command): void {
  program.addCommand(serveCommand());
  program.addCommand(configCommand());
  program.addCommand(keysCommand());
  program.addCommand(tokenCommand());
}
