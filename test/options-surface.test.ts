/**
 * Every option is reachable as the README's options table says. The table's rows are
 * `| option | flag | default | meaning |`; the flag cell names the `remote-mcp serve` flags that set the option
 * (backticked, as `serve --help` lists them), a `REMOTE_MCP_*` variable, or says `file only` / `library only`.
 * These tests hold the table, the CLI's flags (src/cli/option-flags.ts, security-flags.ts) and CONFIG_SCHEMA
 * together, and check that each option flag really sets its option, alone and over a configuration file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Command } from 'commander';

import {
  applyOptionFlags,
  addOptionFlags,
  attributeOf,
  OPTION_FLAGS,
  type OptionFlag,
} from '../src/cli/option-flags.js';
import { CONFIG_SCHEMA } from '../src/config/config-schema.js';
import { ENVELOPE, modernHeaders, raw, type Serving, untilServing } from './helpers.js';

const CLI = 'build/src/cli/main.js';
const HEADER = '| option | flag | default | meaning |';
const FORMAT = `rows are ${HEADER}`;
/** Flags of the serve process itself, with the file key that does the same (none for --config). */
const CLI_FLAGS: Record<string, string | undefined> = {
  '--config': undefined,
  '--port': 'port',
  '--host': 'host',
  '--export': 'export',
  '--tls-cert': 'tls',
  '--tls-key': 'tls',
  '--tls-self-signed': 'tls',
  '--help': undefined,
};
/** Config-file keys that configure the CLI rather than a library option. */
const FILE_KEYS_OF_THE_CLI = ['module', 'export', 'port', 'host', 'tls'];

interface Row {
  line: string;
  options: string[];
  flagCell: string;
  fileOnly: boolean;
  libraryOnly: boolean;
  flags: string[];
  variables: string[];
}

/** The README options table, row by row; a row whose cells do not fit the format fails with what to write. */
function readmeRows(): Row[] {
  const readme = readFileSync('README.md', 'utf8').split('\n');
  const section = readme.indexOf('## Options');
  assert.ok(section >= 0, 'README.md has no "## Options" section');
  const header = readme.findIndex((line, index) => index > section && line.startsWith('| option |'));
  assert.equal(readme[header], HEADER, `the README options table's header must be ${HEADER}`);
  const rows: Row[] = [];
  for (let index = header + 2; index < readme.length && readme[index]!.startsWith('|'); index++) {
    const line = readme[index]!;
    // Cells split on unescaped pipes (`'stdout' \| file` stays in its cell).
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    const options = [...cells[0]!.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
    assert.equal(
      cells.length,
      4,
      `README options row ${cells[0]} has ${cells.length} cells; ${FORMAT}: put the flags that set it in the second cell, backticked as \`remote-mcp serve --help\` lists them (\`--kebab-case-name\`), or write \`file only\` or \`library only\`.\n${line}`,
    );
    const flagCell = cells[1]!;
    const tokens = [...flagCell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    rows.push({
      line,
      options,
      flagCell,
      fileOnly: flagCell.startsWith('file only'),
      libraryOnly: flagCell.startsWith('library only'),
      flags: tokens.filter((token) => token.startsWith('--')).map((token) => token.split(/[ =]/)[0]!),
      variables: tokens.filter((token) => /^REMOTE_MCP_\w+$/.test(token)),
    });
  }
  assert.ok(rows.length > 10, 'the README options table has rows');
  return rows;
}

function serveHelp(): { flags: Set<string>; text: string } {
  const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const flags = new Set([...help.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((match) => match[1]!));
  return { flags, text: help.stdout };
}

test('each README options row names flags that `remote-mcp serve --help` lists, or says file only / library only', () => {
  const { flags, text } = serveHelp();
  for (const row of readmeRows()) {
    const name = `\`${row.options.join('`, `')}\``;
    for (const flag of row.flags)
      assert.ok(
        flags.has(flag),
        `README options row ${name} names ${flag}, which \`remote-mcp serve --help\` does not list: add the flag (src/cli/option-flags.ts) or correct the cell`,
      );
    for (const variable of row.variables)
      assert.ok(text.includes(variable), `README options row ${name} names ${variable}, which serve --help does not`);
    const reachable =
      row.flags.length > 0 ||
      row.variables.length > 0 ||
      row.fileOnly ||
      row.libraryOnly ||
      row.flagCell.includes('`[module]`');
    assert.ok(
      reachable,
      `README options row ${name} names no flag: add a flag (src/cli/option-flags.ts: the kebab-case of the option, e.g. \`--max-body-bytes\`) and name it in the flag cell, or write \`file only\` (a config file sets it) or \`library only\`.\n${row.line}`,
    );
  }
});

test('every flag of `remote-mcp serve --help` is in the README options table (or configures the CLI itself)', () => {
  const named = new Set(readmeRows().flatMap((row) => row.flags));
  for (const flag of serveHelp().flags) {
    if (flag in CLI_FLAGS) continue;
    assert.ok(
      named.has(flag),
      `\`remote-mcp serve --help\` lists ${flag}, which no README options row names: add it to the flag cell of the option it sets`,
    );
  }
});

test('the README options table and CONFIG_SCHEMA agree: a file sets every option that is not library only', () => {
  const properties = Object.keys(CONFIG_SCHEMA.properties ?? {});
  const rows = readmeRows();
  for (const row of rows) {
    for (const option of row.options) {
      if (option === 'server') continue; // `module` in a file
      if (row.libraryOnly)
        assert.ok(
          !properties.includes(option),
          `README options row \`${option}\` says library only, but CONFIG_SCHEMA has it: name its flags or write \`file only\``,
        );
      else
        assert.ok(
          properties.includes(option),
          `README options row \`${option}\` is not library only, but CONFIG_SCHEMA has no property ${option}: add it to src/config/config-schema.ts (and examples/remote-mcp.yaml), or write \`library only\``,
        );
    }
  }
  const documented = new Set(rows.flatMap((row) => row.options));
  for (const key of properties) {
    if (FILE_KEYS_OF_THE_CLI.includes(key)) continue;
    assert.ok(
      documented.has(key),
      `CONFIG_SCHEMA has ${key}, which has no README options row: add | \`${key}\` | <flags, or file only> | <default> | <meaning> |`,
    );
  }
  for (const [flag, key] of Object.entries(CLI_FLAGS))
    if (key !== undefined) assert.ok(properties.includes(key), `${flag} has no config-file key ${key}`);
});

test('each option flag is named in the README row of the option it sets', () => {
  const rows = readmeRows();
  for (const spec of OPTION_FLAGS) {
    const flag = spec.flag.split(' ')[0]!;
    const option = spec.option.split('.')[0]!;
    const row = rows.find((candidate) => candidate.options.includes(option));
    assert.ok(row, `${flag} sets ${spec.option}, which has no README options row`);
    assert.ok(
      row.flags.includes(flag),
      `${flag} sets ${spec.option}, but README options row \`${option}\` does not name it`,
    );
  }
});

/** A value to give a flag, and the option value it must produce. */
function sample(spec: OptionFlag): { argv: string[]; expected: unknown } {
  const flag = spec.flag.split(' ')[0]!;
  if (!spec.flag.includes('<')) return { argv: [flag], expected: !flag.startsWith('--no-') };
  if (spec.choices !== undefined) return { argv: [flag, spec.choices.at(-1)!], expected: spec.choices.at(-1) };
  if (spec.flag.endsWith('<list>')) return { argv: [flag, 'a, b'], expected: ['a', 'b'] };
  if (spec.parse !== undefined) return { argv: [flag, '7'], expected: 7 };
  return { argv: [flag, '/x'], expected: '/x' };
}

function parsed(argv: string[]): Command {
  const command = addOptionFlags(new Command('serve').exitOverride());
  return command.parse(argv, { from: 'user' });
}

/** `options` with `value` at a dotted path, objects on the way copied (a non-object replaced). */
function withValueAt(options: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [key, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...options, [key]: value };
  const inner = options[key];
  return {
    ...options,
    [key]: withValueAt(
      inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {},
      rest.join('.'),
      value,
    ),
  };
}

test('each option flag sets its option, only when given, and over a config file keeps the file’s other settings', () => {
  assert.deepEqual(applyOptionFlags({}, parsed([])), {}, 'flags not given set nothing: the library defaults apply');
  const file = { maxBodyBytes: 99, cors: { allowedOrigins: ['https://app.example.com'] }, health: true };
  assert.deepEqual(applyOptionFlags(file, parsed([])), file);
  for (const spec of OPTION_FLAGS) {
    const { argv, expected } = sample(spec);
    assert.deepEqual(applyOptionFlags({}, parsed(argv)), withValueAt({}, spec.option, expected), argv.join(' '));
    assert.deepEqual(
      applyOptionFlags(file, parsed(argv)),
      withValueAt(file, spec.option, expected),
      `${argv.join(' ')} over a file`,
    );
    assert.ok(attributeOf(spec) in parsed(argv).opts(), `${argv.join(' ')} is stored under its attribute`);
  }
});

function serveCli(args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [CLI, 'serve', 'build/examples/demo-server.js', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return untilServing(child, 10_000, 'remote-mcp serve to print its URL');
}

test('the new flags reach the running server: --max-json-depth, --no-security-headers, --cors-*, --tool-cost over a config file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-flags-'));
  const config = join(dir, 'remote-mcp.yaml');
  writeFileSync(
    config,
    `module: ${resolve('build/examples/demo-server.js')}\ncors:\n  allowedOrigins: ['https://app.example.com']\n  maxAgeSeconds: 60\nrateLimits:\n  perPrincipal: { points: 10, durationSeconds: 60 }\n`,
  );
  const { child, url } = await serveCli([
    '--config',
    config,
    '--max-json-depth',
    '3',
    '--no-security-headers',
    '--cors-max-age-seconds',
    '120',
    '--tool-cost',
    'add=5',
  ]);
  try {
    const deep = await raw(url, {
      headers: modernHeaders('tools/call', 'echo'),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'hi', extra: { a: { b: { c: 1 } } } }, _meta: ENVELOPE },
      }),
    });
    assert.equal(deep.status, 400, deep.body);
    assert.equal(deep.json().error.code, -32602);
    assert.equal(deep.headers['content-security-policy'], undefined, '--no-security-headers');

    const preflight = await raw(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com', 'the file’s origins');
    assert.equal(preflight.headers['access-control-max-age'], '120', 'the flag’s max age');

    const add = () =>
      raw(url, {
        headers: modernHeaders('tools/call', 'add'),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'add', arguments: { a: 1, b: 2 }, _meta: ENVELOPE },
        }),
      });
    assert.equal(
      (await add()).status,
      200,
      'the first add costs 5 of the file’s 10 points (the requests before cost 1 or 2)',
    );
    assert.equal(
      (await add()).status,
      429,
      'the second would pass 10: --tool-cost add=5 counts over the file’s perPrincipal window',
    );
  } finally {
    child.kill('SIGKILL');
  }
});
