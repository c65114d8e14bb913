import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { McpServer } from '@modelcontextprotocol/server';
import { SignJWT } from 'jose';
import { z } from 'zod';

import { mintApiKey, writeKeysFile } from '../src/index.js';
import { start, type Started } from './helpers.js';
import { type SdkServer, startSdkServer } from './fixtures/sdk-server.js';
import { freePort } from './support/ports.js';
import { runCli } from './support/run-cli.js';

/** Bound on one CLI run: a hung command fails its test instead of the whole file. */
const RUN_MS = 20_000;

/** Runs the CLI (asynchronously: the servers it talks to run in this process). */
const cli = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { env, timeoutMs: RUN_MS });

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

const DEMO_TOOLS = [
  'echo        Returns the text it is given.',
  'add         Adds two numbers.',
  'slow_count  Counts to `to`, one step every `delayMs`, reporting progress and logging each step.',
  'ask_name    Asks the user for their name, then greets them.',
];

/** A server with what the demo lacks: a tool that reports failure, a binary resource. */
function oddities(): McpServer {
  const server = new McpServer({ name: 'oddities', version: '1.0.0' });
  server.registerTool('fail', { description: 'Always fails.' }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'the disk is full' }],
  }));
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('picture', { description: 'An image.' }, async () => ({
    content: [
      { type: 'image', data: Buffer.from('12345').toString('base64'), mimeType: 'image/png' },
      { type: 'text', text: 'a picture' },
    ],
  }));
  server.registerResource('bytes', 'odd://bytes', { mimeType: 'application/octet-stream' }, async (uri) => ({
    contents: [
      { uri: uri.href, mimeType: 'application/octet-stream', blob: Buffer.from([1, 2, 3, 4]).toString('base64') },
    ],
  }));
  server.registerResource('lines', 'odd://lines', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'first\nsecond' }],
  }));
  return server;
}

let demo: Started;
let odd: Started;
before(async () => {
  demo = await start();
  odd = await start({ server: oddities });
});
after(async () => {
  await demo?.close();
  await odd?.close();
});

/** Every wire and era the demo is reachable on. */
const WIRES: Array<{ name: string; url: () => string; flags: string[] }> = [
  { name: 'Streamable HTTP, 2026-07-28', url: () => demo.url, flags: [] },
  { name: 'Streamable HTTP, 2025-era session', url: () => demo.url, flags: ['--protocol', 'legacy'] },
  { name: 'HTTP+SSE', url: () => `${demo.url}/events`, flags: [] },
  { name: 'WebSocket, 2026-07-28', url: () => demo.url.replace('http:', 'ws:'), flags: [] },
  { name: 'WebSocket, 2025-era session', url: () => demo.url.replace('http:', 'ws:'), flags: ['--protocol', 'legacy'] },
];

for (const wire of WIRES) {
  describe(`call, list, read over ${wire.name}`, () => {
    test('list prints one line per tool with its description; --json prints the SDK result', async () => {
      const listed = await cli(['list', wire.url(), ...wire.flags]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(lines(listed.stdout), DEMO_TOOLS);
      const json = await cli(['list', wire.url(), 'tools', '--json', ...wire.flags]);
      assert.equal(json.code, 0, json.stderr);
      const result = JSON.parse(json.stdout) as { tools: Array<{ name: string; inputSchema: unknown }> };
      assert.deepEqual(
        result.tools.map((tool) => tool.name),
        ['echo', 'add', 'slow_count', 'ask_name'],
      );
      assert.equal(result.tools[0]!.inputSchema !== undefined, true);
    });

    test('call prints the text content; --args and --arg merge (--arg wins); --json prints the result', async () => {
      const echoed = await cli(['call', wire.url(), 'echo', '--arg', 'text=hello there', ...wire.flags]);
      assert.deepEqual(echoed, { code: 0, stdout: 'hello there\n', stderr: '' });
      const added = await cli(['call', wire.url(), 'add', '--args', '{"a":1,"b":100}', '--arg', 'b=2', ...wire.flags]);
      assert.deepEqual(added, { code: 0, stdout: '3\n', stderr: '' });
      const json = await cli(['call', wire.url(), 'add', '--arg', 'a=2', '--arg', 'b=5', '--json', ...wire.flags]);
      assert.equal(json.code, 0, json.stderr);
      const result = JSON.parse(json.stdout) as { content: unknown; structuredContent: unknown };
      assert.deepEqual(result.content, [{ type: 'text', text: '7' }]);
      assert.deepEqual(result.structuredContent, { sum: 7 });
    });

    test('progress is shown on stderr, one line per update, while the tool runs', async () => {
      const counted = await cli([
        'call',
        wire.url(),
        'slow_count',
        '--arg',
        'to=3',
        '--arg',
        'delayMs=20',
        ...wire.flags,
      ]);
      assert.equal(counted.code, 0, counted.stderr);
      assert.equal(counted.stdout, 'counted to 3\n');
      assert.deepEqual(
        lines(counted.stderr).filter((line) => line.startsWith('progress')),
        ['progress 1/3: step 1', 'progress 2/3: step 2', 'progress 3/3: step 3'],
      );
      // A 2025-era session gets the server's log messages too (2026-07-28 requests ask for none).
      if (wire.flags.includes('legacy'))
        assert.deepEqual(
          lines(counted.stderr).filter((line) => line.startsWith('log')),
          ['log info: step 1 of 3', 'log info: step 2 of 3', 'log info: step 3 of 3'],
        );
    });

    test('read prints text contents as they are; --json prints the result', async () => {
      const read = await cli(['read', wire.url(), 'demo://greeting/bob', ...wire.flags]);
      assert.deepEqual(read, { code: 0, stdout: 'Hello, bob!', stderr: '' });
      const json = await cli(['read', wire.url(), 'demo://greeting/ann', '--json', ...wire.flags]);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual((JSON.parse(json.stdout) as { contents: unknown }).contents, [
        { uri: 'demo://greeting/ann', mimeType: 'text/plain', text: 'Hello, ann!' },
      ]);
    });

    test('an unknown tool exits 1 with the server message and code', async () => {
      const unknown = await cli(['call', wire.url(), 'nope', ...wire.flags]);
      assert.deepEqual(unknown, {
        code: 1,
        stdout: '',
        stderr: 'remote-mcp: Tool nope not found (JSON-RPC error -32602)\n',
      });
    });
  });
}

describe('list kinds', () => {
  test('resources, templates and prompts: one aligned line each', async () => {
    const resources = await cli(['list', demo.url, 'resources']);
    assert.deepEqual(lines(resources.stdout), [
      'demo://clock  clock  text/plain  A counter that changes every few seconds.',
    ]);
    const templates = await cli(['list', demo.url, 'templates']);
    assert.deepEqual(lines(templates.stdout), ['demo://greeting/{name}  greeting  text/plain  A greeting for a name.']);
    const prompts = await cli(['list', demo.url, 'prompts']);
    assert.deepEqual(lines(prompts.stdout), ['review_code  code  Asks the model to review code.']);
    const json = await cli(['list', demo.url, 'templates', '--json']);
    assert.deepEqual(
      (JSON.parse(json.stdout) as { resourceTemplates: Array<{ uriTemplate: string }> }).resourceTemplates.map(
        (t) => t.uriTemplate,
      ),
      ['demo://greeting/{name}'],
    );
  });

  test('an empty list prints nothing on stdout and says so on stderr', async () => {
    // The oddities server has no prompts capability: nothing to list, and no SDK warning either.
    assert.deepEqual(await cli(['list', odd.url, 'prompts']), { code: 0, stdout: '', stderr: 'no prompts\n' });
    assert.deepEqual(await cli(['list', odd.url, 'prompts', '--json']), {
      code: 0,
      stdout: '{\n  "prompts": []\n}\n',
      stderr: '',
    });
    const templates = await cli(['list', odd.url, 'templates']);
    assert.deepEqual(templates, { code: 0, stdout: '', stderr: 'no templates\n' });
  });
});

describe('failures', () => {
  test('a tool result with isError exits 1 and prints its content on stderr', async () => {
    const failed = await cli(['call', odd.url, 'fail']);
    assert.deepEqual(failed, {
      code: 1,
      stdout: '',
      stderr: 'remote-mcp: tool fail returned an error:\nthe disk is full\n',
    });
    const json = await cli(['call', odd.url, 'fail', '--json']);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout).isError, true);
  });

  test('binary content is summarized, text kept; --json keeps the bytes', async () => {
    const picture = await cli(['call', odd.url, 'picture']);
    assert.deepEqual(picture, {
      code: 0,
      stdout: '[image image/png, 5 bytes; --json shows it]\na picture\n',
      stderr: '',
    });
    const blob = await cli(['read', odd.url, 'odd://bytes']);
    assert.deepEqual(blob, {
      code: 0,
      stdout: '[blob odd://bytes application/octet-stream, 4 bytes; --json shows it]\n',
      stderr: '',
    });
    const json = await cli(['read', odd.url, 'odd://bytes', '--json']);
    assert.equal(JSON.parse(json.stdout).contents[0].blob, 'AQIDBA==');
    assert.deepEqual(await cli(['read', odd.url, 'odd://lines']), { code: 0, stdout: 'first\nsecond', stderr: '' });
  });

  test('a closed port exits 1 with the connection error', async () => {
    const port = await freePort();
    for (const url of [`http://127.0.0.1:${port}/mcp`, `ws://127.0.0.1:${port}/mcp`]) {
      const refused = await cli(['call', url, 'echo', '--retries', '0']);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, '');
      assert.equal(refused.stderr, `remote-mcp: connect ECONNREFUSED 127.0.0.1:${port}\n`);
    }
  });

  test('a JSON-RPC error from the server exits 1 with its message and code', async () => {
    const invalid = await cli(['call', demo.url, 'add', '--arg', 'a=one', '--arg', 'b=2']);
    assert.equal(invalid.code, 1);
    assert.equal(
      invalid.stderr,
      'remote-mcp: Invalid arguments for tool add: /a must be number (JSON-RPC error -32602)\n',
    );
    const missing = await cli(['read', demo.url, 'demo://missing']);
    assert.deepEqual(missing, {
      code: 1,
      stdout: '',
      stderr: 'remote-mcp: Resource not found: demo://missing (JSON-RPC error -32602)\n',
    });
  });

  test('bad usage exits 2: bad JSON in --args, --args not an object, --arg without =, unknown flag, bad URL, bad kind', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['call', demo.url, 'echo', '--args', '{text:'],
        /error: option '--args <json>' argument '\{text:' is invalid\. not valid JSON/,
      ],
      [['call', demo.url, 'echo', '--args', '[1]'], /expected a JSON object/],
      [['call', demo.url, 'echo', '--arg', 'text'], /expected key=value, received "text"/],
      [['call', demo.url, 'echo', '--bogus'], /error: unknown option '--bogus'/],
      [['call', 'not a url', 'echo'], /expected an absolute URL/],
      [['call', 'ftp://host/mcp', 'echo'], /expected an http\(s\):\/\/ or ws\(s\):\/\/ URL/],
      [['list', demo.url, 'widgets'], /expected one of tools, resources, prompts, templates/],
      [['call', demo.url], /error: missing required argument 'tool'/],
      [['call', demo.url, 'echo', '--timeout', '0'], /expected a whole number > 0/],
      [['call', demo.url, 'echo', '--header', 'no colon'], /expected "name: value"/],
      [
        ['call', demo.url, 'echo', '--transport', 'carrier-pigeon'],
        /Allowed choices are auto, streamable-http, sse, websocket/,
      ],
      [['call', demo.url, 'echo', '--token', 't', '--api-key', 'k'], /give --token or --api-key, not both/],
      [['call', demo.url, 'echo', '--transport', 'websocket'], /transport websocket needs a ws:\/\/ or wss:\/\/ URL/],
      [['bridge', demo.url, '--transport', 'websocket'], /transport websocket needs a ws:\/\/ or wss:\/\/ URL/],
      [['bridge', demo.url, '--token', 't', '--api-key', 'k'], /give --token or --api-key, not both/],
      [['bridge', demo.url, '--nope'], /error: unknown option '--nope'/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    }
  });

  test('call --help lists the flags and exits 0', async () => {
    const help = await cli(['call', '--help']);
    assert.equal(help.code, 0);
    for (const flag of [
      '--arg',
      '--args',
      '--header',
      '--token',
      '--api-key',
      '--timeout',
      '--total-timeout',
      '--transport',
      '--protocol',
      '--retries',
      '--json',
      '--idempotent',
      'REMOTE_MCP_TOKEN',
      'REMOTE_MCP_API_KEY',
    ])
      assert.ok(help.stdout.includes(flag), `call --help does not mention ${flag}`);
  });
});

describe('authentication', () => {
  const SECRET = 'a-client-commands-secret-long-enough';
  let keyed: Started;
  let bearer: Started;
  let apiKey: string;
  before(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'remote-mcp-client-keys-')), 'keys.json');
    const minted = mintApiKey('cli', ['mcp']);
    writeKeysFile(file, { version: 1, keys: [minted.entry] });
    apiKey = minted.key;
    keyed = await start({ auth: { apiKeys: { file } } });
    bearer = await start({ auth: { jwt: { secret: SECRET, issuer: 'https://issuer.test', audience: 'mcp' } } });
  });
  after(async () => {
    await keyed?.close();
    await bearer?.close();
  });

  const jwt = (secret = SECRET) =>
    new SignJWT({ scope: 'mcp' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://issuer.test')
      .setAudience('mcp')
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 300)
      .sign(new TextEncoder().encode(secret));

  test('--api-key (or REMOTE_MCP_API_KEY) is accepted on every wire; without it, exit 1 with the 401 reason', async () => {
    for (const url of [keyed.url, keyed.url.replace('http:', 'ws:'), `${keyed.url}/events`]) {
      assert.deepEqual(await cli(['call', url, 'echo', '--arg', 'text=in', '--api-key', apiKey]), {
        code: 0,
        stdout: 'in\n',
        stderr: '',
      });
      const none = await cli(['call', url, 'echo', '--arg', 'text=in'], { REMOTE_MCP_API_KEY: undefined });
      assert.equal(none.code, 1, url);
      assert.match(none.stderr, /^remote-mcp: .*401/, url);
    }
    assert.deepEqual(await cli(['list', keyed.url], { REMOTE_MCP_API_KEY: apiKey }), {
      code: 0,
      stdout: `${DEMO_TOOLS.join('\n')}\n`,
      stderr: '',
    });
    const none = await cli(['list', keyed.url], { REMOTE_MCP_API_KEY: undefined });
    assert.deepEqual(none, {
      code: 1,
      stdout: '',
      stderr:
        'remote-mcp: HTTP 401: Unauthorized: a credential is required (see WWW-Authenticate) (JSON-RPC error -32001)\n',
    });
  });

  test('--token (or REMOTE_MCP_TOKEN) is sent as a bearer token; a wrong one exits 1 with the reason', async () => {
    const good = await jwt();
    assert.deepEqual(await cli(['call', bearer.url, 'echo', '--arg', 'text=jwt', '--token', good]), {
      code: 0,
      stdout: 'jwt\n',
      stderr: '',
    });
    assert.deepEqual(await cli(['read', bearer.url, 'demo://greeting/t'], { REMOTE_MCP_TOKEN: good }), {
      code: 0,
      stdout: 'Hello, t!',
      stderr: '',
    });
    const wrong = await cli([
      'call',
      bearer.url,
      'echo',
      '--arg',
      'text=x',
      '--token',
      await jwt('another-secret-long-enough-for-hs256'),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^remote-mcp: HTTP 401: Unauthorized: .*\(JSON-RPC error -32001\)\n$/);
    const header = await cli([
      'call',
      bearer.url,
      'echo',
      '--arg',
      'text=h',
      '--header',
      `Authorization: Bearer ${good}`,
    ]);
    assert.deepEqual(header, { code: 0, stdout: 'h\n', stderr: '' });
  });
});

describe("the official SDK's own server (test/fixtures/sdk-server.ts: createMcpHandler and NodeStreamableHTTPServerTransport)", () => {
  let server: SdkServer;
  let url: string;
  before(async () => {
    server = await startSdkServer(() => {
      const mcp = new McpServer({ name: 'sdk-own', version: '1.0.0' });
      mcp.registerTool(
        'shout',
        { description: 'Upper-cases text.', inputSchema: z.object({ text: z.string() }) },
        async ({ text }) => ({ content: [{ type: 'text', text: text.toUpperCase() }] }),
      );
      return mcp;
    });
    url = server.url;
  });
  after(() => server.close());

  test('list and call', async () => {
    assert.deepEqual(await cli(['list', url]), { code: 0, stdout: 'shout  Upper-cases text.\n', stderr: '' });
    assert.deepEqual(await cli(['call', url, 'shout', '--arg', 'text=quiet']), {
      code: 0,
      stdout: 'QUIET\n',
      stderr: '',
    });
    const unknown = await cli(['call', url, 'whisper']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^remote-mcp: Tool whisper not found \(JSON-RPC error -32602\)\n$/);
  });
});

test('the client commands load no server code: main.ts reaches serve-command.ts only through a dynamic import', () => {
  const SERVER_SIDE =
    /src\/(server|transport|security|state|observability|cluster|config)\/|src\/remote-server\.ts$|src\/cli\/serve-command\.ts$/;
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports only (type-only ones vanish at run time).
    for (const match of text.matchAll(/^(?:import|export)(?! type)[^'";]*?from\s+'([^']+)'/gm)) {
      const spec = match[1]!;
      if (spec === '@modelcontextprotocol/server' || spec === '@modelcontextprotocol/node')
        assert.fail(`${file} imports ${spec}`);
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    }
  };
  visit(resolve('src/cli/main.ts'));
  const serverSide = [...seen]
    .map((file) => file.slice(resolve('.').length + 1))
    .filter((file) => SERVER_SIDE.test(file));
  assert.deepEqual(serverSide, []);
  assert.match(readFileSync('src/cli/main.ts', 'utf8'), /await import\('\.\/serve-command\.js'\)/);
});
