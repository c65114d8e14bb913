/**
 * One client command's connection: parse the URL, connect with the flags' options, show the server's log
 * messages on stderr, run the command, and end the session (DELETE for a 2025-era Streamable HTTP session, so
 * the server does not keep it until it idles out) whatever happened.
 */
import { InvalidArgumentError } from 'commander';

import { wiresFor } from '../client/connect.js';
import { connect, type RemoteClient, type TransportKind } from '../client/index.js';
import { type ClientFlags, connectOptionsFromFlags, UsageError } from './client-flags.js';
import { logLine } from './client-output.js';

/** The `<url>` argument: http(s):// or ws(s)://, else a usage error. */
export function parseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected an absolute URL such as http://127.0.0.1:8080/mcp, received "${value}"`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol))
    throw new InvalidArgumentError(`expected an http(s):// or ws(s):// URL, received "${value}"`);
  return url;
}

/** A --transport that does not fit the URL's scheme (websocket for http://, sse for ws://) is a usage error. */
export function checkTransport(url: URL, transport: TransportKind): void {
  try {
    wiresFor(url, transport);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^remote-mcp client: /, ''));
  }
}

/** Ends a client's session without letting a failure to end it hide the command's outcome. */
async function finish(client: RemoteClient): Promise<void> {
  const transport = client.transport as { sessionId?: string; terminateSession?: () => Promise<void> } | undefined;
  if (transport?.sessionId !== undefined) await transport.terminateSession?.().catch(() => {});
  await client.close().catch(() => {});
}

export async function withClient<T>(
  url: URL,
  flags: ClientFlags,
  body: (client: RemoteClient) => Promise<T>,
): Promise<T> {
  checkTransport(url, flags.transport);
  const client = await connect(url, connectOptionsFromFlags(flags));
  client.setNotificationHandler('notifications/message', (notification) => {
    process.stderr.write(logLine(notification.params));
  });
  try {
    return await body(client);
  } finally {
    await finish(client);
  }
}
