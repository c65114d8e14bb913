/**
 * `remote-mcp read <url> <uri>`: reads a resource. Text contents are written as they are (byte for byte, so
 * `> file` keeps them); blobs are summarized (type and size) unless `--json`, which prints the SDK's result.
 */
import { Command } from 'commander';

import { addClientFlags, type ClientFlags, EXIT_OK, runClientCommand, writeOut } from './client-flags.js';
import { formatResourceContents } from './client-output.js';
import { parseUrl, withClient } from './client-session.js';

async function read(url: URL, uri: string, flags: ClientFlags): Promise<number> {
  return withClient(url, flags, async (client) => {
    const result = await client.readResource({ uri });
    if (flags.json === true) {
      await writeOut(`${JSON.stringify(result, null, 2)}\n`);
      return EXIT_OK;
    }
    // Several contents are written one after the other; only text is written exactly as sent.
    await writeOut(result.contents.map((item) => formatResourceContents(item, true)).join(''));
    return EXIT_OK;
  });
}

export function readCommand(): Command {
  const command = new Command('read')
    .description('Read a resource of a remote MCP server and print its text.')
    .argument('<url>', 'the server: http(s)://host/mcp, an HTTP+SSE endpoint (…/sse), or ws(s)://host/mcp', parseUrl)
    .argument('<uri>', 'the resource URI, e.g. demo://clock');
  return addClientFlags(command).action((url: URL, uri: string, flags: ClientFlags) =>
    runClientCommand(() => read(url, uri, flags)),
  );
}
