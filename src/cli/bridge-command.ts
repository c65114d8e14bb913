/**
 * `remote-mcp bridge <url>`: a stdio MCP server for desktop apps that speak only stdio, forwarding everything to
 * a remote MCP server (src/cli/bridge/bridge.ts). stdout carries only the protocol; what the bridge does on its own
 * (reconnects, dropped messages) is logged to stderr. When stdin ends it ends the remote session and exits 0.
 */
import { Command } from 'commander';

import { CLIENT_DEFAULTS } from '../client/index.js';
import { Bridge } from './bridge/bridge.js';
import { BRIDGE_ERRORS, classify, errorResponse } from './bridge/messages.js';
import { readLines } from './bridge/stdio-lines.js';
import {
  addConnectionFlags,
  authFromFlags,
  type ClientFlags,
  describeFailure,
  EXIT_OK,
  EXIT_USAGE,
  positiveInteger,
} from './client-flags.js';
import { checkTransport, parseUrl } from './client-session.js';

export const BRIDGE_DEFAULTS = Object.freeze({
  /** Largest message accepted on stdin (the SDK's stdio transports use the same bound). */
  maxMessageBytes: 10 * 1024 * 1024,
  /** Bound on the WebSocket handshake and on the initialize replayed on a new connection. */
  connectTimeoutMs: CLIENT_DEFAULTS.connectTimeoutMs,
  /** Tries to (re)open the connection before the requests waiting for it get an error. */
  reconnectAttempts: 5,
  reconnectInitialDelayMs: 250,
  reconnectMaxDelayMs: 5000,
});

interface BridgeFlags extends Pick<ClientFlags, 'header' | 'token' | 'apiKey' | 'transport' | 'retries'> {
  connectTimeout: number;
}

const log = (line: string) => process.stderr.write(`remote-mcp bridge: ${line}\n`);

function bridge(url: URL, flags: BridgeFlags): void {
  let auth: ReturnType<typeof authFromFlags>;
  try {
    auth = authFromFlags(flags);
    checkTransport(url, flags.transport);
  } catch (error) {
    process.stderr.write(`remote-mcp: ${describeFailure(error)}\n`);
    process.exit(EXIT_USAGE);
  }
  const write = (message: unknown) => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };
  const remote = new Bridge({
    url,
    transport: flags.transport,
    headers: flags.header ?? {},
    auth,
    connectTimeoutMs: flags.connectTimeout,
    reconnect: {
      ...CLIENT_DEFAULTS.retry,
      attempts: flags.retries === undefined ? BRIDGE_DEFAULTS.reconnectAttempts : flags.retries + 1,
      initialDelayMs: BRIDGE_DEFAULTS.reconnectInitialDelayMs,
      maxDelayMs: BRIDGE_DEFAULTS.reconnectMaxDelayMs,
    },
    write,
    log,
  });

  let ending = false;
  const end = (why: string) => {
    if (ending) return;
    ending = true;
    log(`${why}; closing`);
    remote.close().finally(() => process.exit(EXIT_OK));
  };
  readLines(process.stdin, BRIDGE_DEFAULTS.maxMessageBytes, {
    line: (text) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        write(errorResponse(null, BRIDGE_ERRORS.parseError, 'stdin: a line that is not JSON'));
        return;
      }
      remote.handle(classify(value));
    },
    oversized: (bytes) => {
      log(`dropped a ${bytes}-byte message (the limit is ${BRIDGE_DEFAULTS.maxMessageBytes})`);
      write(
        errorResponse(
          null,
          BRIDGE_ERRORS.invalidRequest,
          `message larger than ${BRIDGE_DEFAULTS.maxMessageBytes} bytes`,
        ),
      );
    },
    end: () => end('stdin ended'),
  });
  // The stdio client went away without closing stdin first.
  process.stdout.on('error', () => end('stdout closed'));
  process.on('SIGTERM', () => end('SIGTERM'));
  process.on('SIGINT', () => end('SIGINT'));
  log(`forwarding stdio to ${url.href}`);
}

export function bridgeCommand(): Command {
  const command = new Command('bridge')
    .description(
      'Serve MCP on stdio (for desktop apps) and forward every message to a remote MCP server, reconnecting when it is lost.',
    )
    .argument('<url>', 'the server: http(s)://host/mcp, an HTTP+SSE endpoint (…/sse), or ws(s)://host/mcp', parseUrl);
  return addConnectionFlags(
    command,
    `retries of opening a connection, and of a request refused for want of one (default ${BRIDGE_DEFAULTS.reconnectAttempts - 1})`,
  )
    .option(
      '--connect-timeout <ms>',
      'bound on opening a connection (WebSocket handshake, replayed initialize)',
      positiveInteger,
      BRIDGE_DEFAULTS.connectTimeoutMs,
    )
    .action((url: URL, flags: BridgeFlags) => bridge(url, flags));
}
