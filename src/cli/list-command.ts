/**
 * `remote-mcp list <url> [tools|resources|prompts|templates]`: one line per item with its description, or the
 * SDK's result with `--json`. Every page is fetched (up to MAX_LIST_PAGES) and the items joined into one result.
 */
import { Command, InvalidArgumentError } from 'commander';

import type { RemoteClient } from '../client/index.js';
import { addClientFlags, type ClientFlags, EXIT_OK, runClientCommand, writeOut } from './client-flags.js';
import { oneLine, table } from './client-output.js';
import { parseUrl, withClient } from './client-session.js';

/** Pages followed through `nextCursor` before giving up (a server whose cursor never ends must not hang us). */
export const MAX_LIST_PAGES = 100;

const KINDS = ['tools', 'resources', 'prompts', 'templates'] as const;
type Kind = (typeof KINDS)[number];

interface Item {
  name?: string;
  title?: string;
  description?: string;
  uri?: string;
  uriTemplate?: string;
  mimeType?: string;
  arguments?: Array<{ name: string; required?: boolean }>;
}

/** The result key each kind's items come under, and the request that lists them. */
const LISTS: Record<
  Kind,
  {
    key: string;
    capability: 'tools' | 'resources' | 'prompts';
    list: (client: RemoteClient, cursor?: string) => Promise<unknown>;
  }
> = {
  tools: {
    key: 'tools',
    capability: 'tools',
    list: (c, cursor) => c.listTools(cursor === undefined ? undefined : { cursor }),
  },
  resources: {
    key: 'resources',
    capability: 'resources',
    list: (c, cursor) => c.listResources(cursor === undefined ? undefined : { cursor }),
  },
  prompts: {
    key: 'prompts',
    capability: 'prompts',
    list: (c, cursor) => c.listPrompts(cursor === undefined ? undefined : { cursor }),
  },
  templates: {
    key: 'resourceTemplates',
    capability: 'resources',
    list: (c, cursor) => c.listResourceTemplates(cursor === undefined ? undefined : { cursor }),
  },
};

function parseKind(value: string): Kind {
  if (!(KINDS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}, received "${value}"`);
  return value as Kind;
}

/** Every page of one list, joined: the first page's other fields, all the items, no nextCursor. */
async function listAll(client: RemoteClient, kind: Kind): Promise<Record<string, unknown>> {
  const { key, capability, list } = LISTS[kind];
  // A server without the capability has nothing to list (asking anyway makes the SDK print a warning).
  if (client.getServerCapabilities()?.[capability] === undefined) return { [key]: [] };
  let joined: Record<string, unknown> | undefined;
  const items: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const result = (await list(client, cursor)) as Record<string, unknown> & { nextCursor?: string };
    joined ??= result;
    items.push(...((result[key] as unknown[] | undefined) ?? []));
    cursor = result.nextCursor;
    if (cursor === undefined || cursor === '') {
      const { nextCursor: _done, ...rest } = joined;
      return { ...rest, [key]: items };
    }
  }
  throw new Error(`the server's ${kind} list did not end within ${MAX_LIST_PAGES} pages`);
}

/** One row per item: its name (or URI), then what it is, then the description's first line. */
function rows(kind: Kind, items: Item[]): string[][] {
  const description = (item: Item) => oneLine(item.description);
  switch (kind) {
    case 'tools':
      return items.map((tool) => [tool.name ?? '', description(tool)]);
    case 'prompts':
      return items.map((prompt) => {
        const args = (prompt.arguments ?? []).map((a) => (a.required === true ? a.name : `[${a.name}]`)).join(' ');
        return [prompt.name ?? '', args, description(prompt)];
      });
    case 'resources':
      return items.map((r) => [r.uri ?? '', r.name ?? '', r.mimeType ?? '', description(r)]);
    case 'templates':
      return items.map((t) => [t.uriTemplate ?? '', t.name ?? '', t.mimeType ?? '', description(t)]);
  }
}

async function list(url: URL, kind: Kind, flags: ClientFlags): Promise<number> {
  return withClient(url, flags, async (client) => {
    const result = await listAll(client, kind);
    if (flags.json === true) {
      await writeOut(`${JSON.stringify(result, null, 2)}\n`);
      return EXIT_OK;
    }
    const items = result[LISTS[kind].key] as Item[];
    if (items.length === 0) process.stderr.write(`no ${kind}\n`);
    else await writeOut(table(rows(kind, items)));
    return EXIT_OK;
  });
}

export function listCommand(): Command {
  const command = new Command('list')
    .description('List the tools, resources, prompts or resource templates of a remote MCP server.')
    .argument('<url>', 'the server: http(s)://host/mcp, an HTTP+SSE endpoint (…/sse), or ws(s)://host/mcp', parseUrl)
    .argument('[kind]', `what to list: ${KINDS.join(', ')}`, parseKind, 'tools');
  return addClientFlags(command).action((url: URL, kind: Kind, flags: ClientFlags) =>
    runClientCommand(() => list(url, kind, flags)),
  );
}
