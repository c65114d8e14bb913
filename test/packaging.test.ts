/**
 * The new user's path: remote-mcp packed and installed into a project of its own, from the tarball and from its
 * folder (a symlink), served with `npx remote-mcp serve`, in ES module and CommonJS projects.
 *
 * The projects install without the network: their lockfiles are cut from this repository's, so `npm ci
 * --offline` takes every package from the npm cache the repository's own install filled (the registry is tried
 * only when the cache lacks one).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { modernBody, modernHeaders, raw, type Serving, untilServing } from './helpers.js';

const SDK = '@modelcontextprotocol/server';
const NPM_TIMEOUT_MS = 120_000;
const npmMissing = spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0;
const skip = npmMissing ? 'npm is not on PATH' : false;

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  devOptional?: boolean;
  [key: string]: unknown;
}

const repoLock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/** Where Node finds `name` from the package at `from` in the repository's tree (lockfile keys). */
function locate(from: string, name: string): string | undefined {
  for (let base = from; ; ) {
    const key = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (repoLock.packages[key] !== undefined) return key;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/** The repository's lockfile entries of `names` and everything they need, at the places they have there. */
function lockClosure(names: string[]): Record<string, LockEntry> {
  const kept: Record<string, LockEntry> = {};
  const queue: Array<[string, string]> = names.map((name) => ['', name]);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [from, name] = next;
    const key = locate(from, name);
    if (key === undefined) throw new Error(`package-lock.json has no ${name} (needed by ${from || 'the project'})`);
    if (kept[key] !== undefined) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = repoLock.packages[key]!;
    kept[key] = entry;
    const needs = { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const dependency of Object.keys(needs)) {
      if (entry.peerDependenciesMeta?.[dependency]?.optional === true && locate(key, dependency) === undefined)
        continue;
      queue.push([key, dependency]);
    }
  }
  return kept;
}

const versionOf = (name: string) => repoLock.packages[`node_modules/${name}`]!.version!;

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A project with the SDK and zod (the versions this repository uses) and `extra` dependencies, installed by
 * `npm ci` from a lockfile cut from the repository's.
 */
function makeProject(
  dir: string,
  extra: Record<string, string> = {},
  extraLock: Record<string, LockEntry> = {},
  needs: string[] = [],
): void {
  mkdirSync(dir, { recursive: true });
  const dependencies = { [SDK]: versionOf(SDK), zod: versionOf('zod'), ...extra };
  const names = [SDK, 'zod', ...needs];
  const project = { name: 'new-user', version: '1.0.0', private: true, type: 'module', dependencies };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(project, null, 2)}\n`);
  const packages = { '': { name: project.name, version: project.version, dependencies }, ...lockClosure(names) };
  const lock = { name: project.name, version: project.version, lockfileVersion: 3, requires: true, packages };
  writeFileSync(
    join(dir, 'package-lock.json'),
    `${JSON.stringify({ ...lock, packages: { ...packages, ...extraLock } }, null, 2)}\n`,
  );
  let install = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], dir);
  if (install.status !== 0) install = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], dir);
  assert.equal(install.status, 0, `npm ci in ${dir} failed:\n${install.stderr}`);
}

function setType(dir: string, type: 'module' | 'commonjs'): void {
  const file = join(dir, 'package.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), type }, null, 2));
}

/** `npx remote-mcp serve <module> --port 0` in a project, resolved when it prints its URL. */
function npxServe(
  cwd: string,
  module: string,
  command = ['npx', '--no-install', 'remote-mcp', 'serve', module, '--port', '0'],
): Promise<Serving> {
  // Its own process group, so the test ends npx and the node it starts by one id.
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return untilServing(child, 20_000, command.join(' '));
}

/** `npx remote-mcp serve <module>` that must fail: its exit code and stderr. */
function npxServeFails(cwd: string, module: string): { status: number | null; stderr: string } {
  return run('npx', ['--no-install', 'remote-mcp', 'serve', module, '--port', '0'], cwd);
}

const children: ChildProcess[] = [];
function stop(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function greets(url: string, name: string): Promise<void> {
  const answer = await raw(url, {
    headers: modernHeaders('tools/call', 'greet'),
    body: modernBody(1, 'tools/call', { name: 'greet', arguments: { name } }),
  });
  assert.equal(answer.status, 200, answer.body);
  assert.equal(answer.json().result.content[0].text, `Hello, ${name}!`);
}

/** The README's factory, as ES module source. */
const ESM_FACTORY = `import { McpServer } from '${SDK}';
import { z } from 'zod';

export default function createServer() {
  const server = new McpServer({ name: 'my-server', version: '1.0.0' });
  server.registerTool('greet', { inputSchema: z.object({ name: z.string() }) }, async ({ name }) => ({
    content: [{ type: 'text', text: \`Hello, \${name}!\` }],
  }));
  return server;
}
`;
const CJS_FACTORY = `const { McpServer } = require('${SDK}');
const { z } = require('zod');

module.exports = function createServer() {
  const server = new McpServer({ name: 'my-server', version: '1.0.0' });
  server.registerTool('greet', { inputSchema: z.object({ name: z.string() }) }, async ({ name }) => ({
    content: [{ type: 'text', text: \`Hello, \${name}!\` }],
  }));
  return server;
};
`;

let work = '';
let clone = '';
let tarball = '';
let packed: string[] = [];

before(() => {
  if (npmMissing) return;
  work = mkdtempSync(join(tmpdir(), 'remote-mcp-packaging-'));
  // A clean copy of the sources, as a clone has them, with this repository's installed dependencies.
  clone = join(work, 'remote-mcp');
  for (const entry of ['package.json', 'tsconfig.json', 'README.md', 'src', 'examples', 'docs', 'scripts'])
    cpSync(entry, join(clone, entry), { recursive: true });
  symlinkSync(realpathSync('node_modules'), join(clone, 'node_modules'), 'dir');
  const pack = run('npm', ['pack', '--json', '--pack-destination', work], clone);
  assert.equal(pack.status, 0, `npm pack failed:\n${pack.stderr}`);
  const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(work, report!.filename);
  packed = report!.files.map((file) => file.path);
});

after(() => {
  for (const child of children) stop(child);
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

test('npm pack builds first: the tarball has the compiled CLI and library, the demo, the example configs and the docs', {
  skip,
}, () => {
  for (const file of [
    'build/src/cli/main.js',
    'build/src/index.js',
    'build/src/index.d.ts',
    'build/src/client/index.js',
    'build/src/client/index.d.ts',
    'docs/client.md',
    'build/examples/demo-server.js',
    'examples/remote-mcp.yaml',
    'examples/remote-mcp.json',
    'README.md',
    'docs/configuration.md',
    'package.json',
  ])
    assert.ok(packed.includes(file), `the tarball has no ${file}`);
  assert.deepEqual(
    packed.filter((file) => file.startsWith('build/test/') || file.startsWith('src/')),
    [],
    'tests and TypeScript sources stay out of the package',
  );
});

test('a project installs the tarball next to the SDK and zod, and npx remote-mcp serve serves ES module, .mjs and .cjs factories; .ts and ES syntax in CommonJS get what to do', {
  skip,
}, async () => {
  const project = join(work, 'from-tarball');
  const remote: LockEntry = {
    version: manifest.version,
    resolved: `file:${tarball}`,
    dependencies: manifest.dependencies,
    peerDependencies: manifest.peerDependencies,
    bin: { 'remote-mcp': 'build/src/cli/main.js' },
  };
  // remote-mcp's own dependencies come from the same lockfile closure.
  // The client SDK is the other peer: projects that use remote-mcp/client (and its CLI commands) have it.
  const CLIENT_SDK = '@modelcontextprotocol/client';
  makeProject(
    project,
    { 'remote-mcp': `file:${tarball}`, [CLIENT_SDK]: versionOf(CLIENT_SDK) },
    { 'node_modules/remote-mcp': remote },
    [...Object.keys(manifest.dependencies), CLIENT_SDK],
  );
  const client = run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const m = await import('remote-mcp/client'); console.log(typeof m.connect, typeof m.createBalancedClient)",
    ],
    project,
  );
  assert.equal(
    client.stdout.trim(),
    'function function',
    `import('remote-mcp/client') in the project: ${client.stderr}`,
  );
  writeFileSync(join(project, 'my-server.js'), ESM_FACTORY);
  writeFileSync(join(project, 'factory.mjs'), ESM_FACTORY);
  writeFileSync(join(project, 'factory.cjs'), CJS_FACTORY);
  writeFileSync(join(project, 'my-server.ts'), ESM_FACTORY.replace('({ name })', '({ name }: { name: string })'));

  const esm = await npxServe(project, './my-server.js');
  await greets(esm.url, 'Ann');
  stop(esm.child);

  // A "type": "commonjs" project: .mjs is an ES module, .cjs requires the SDK's CommonJS build.
  setType(project, 'commonjs');
  for (const module of ['./factory.mjs', './factory.cjs']) {
    const served = await npxServe(project, module);
    await greets(served.url, module);
    stop(served.child);
  }
  const commonjs = npxServeFails(project, './my-server.js');
  assert.equal(commonjs.status, 1);
  assert.match(
    commonjs.stderr,
    /remote-mcp: \.\/my-server\.js is written as an ES module \(import\/export\), but Node loads it as CommonJS: .*package\.json says "type": "commonjs"\. Rename it to \.\/my-server\.mjs/,
  );
  const typescript = npxServeFails(project, './my-server.ts');
  assert.equal(typescript.status, 1);
  if (!(process.features as { typescript?: unknown }).typescript) {
    // Node >= 22.18 strips types itself; Node 20 and 22 before that cannot load .ts.
    assert.match(
      typescript.stderr,
      /remote-mcp serve loads JavaScript, and Node v[\d.]+ does not run TypeScript by itself\. Compile \.\/my-server\.ts first \(npx tsc\) and serve the JavaScript it writes \(remote-mcp serve \.\/my-server\.js\), or load it through a TypeScript loader such as tsx: NODE_OPTIONS='--import tsx' npx remote-mcp serve \.\/my-server\.ts/,
    );
  }
});

test('npm install /path/to/remote-mcp (a symlink) serves through the project’s own copy of the SDK of the same version; another version is refused, naming both copies and the fix', {
  skip,
}, async () => {
  const project = join(work, 'from-folder');
  makeProject(project);
  const link = run('npm', ['install', '--offline', '--no-audit', '--no-fund', clone], project);
  assert.equal(link.status, 0, `npm install <folder> failed:\n${link.stderr}`);
  const theirs = realpathSync(join(project, 'node_modules', SDK));
  const ours = realpathSync(join(clone, 'node_modules', SDK));
  assert.notEqual(theirs, ours, 'two copies of the SDK are installed');
  writeFileSync(join(project, 'my-server.js'), ESM_FACTORY);

  const served = await npxServe(project, './my-server.js');
  await greets(served.url, 'Bo');
  const initialize = await raw(served.url, {
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
  assert.equal(initialize.status, 200, initialize.body);
  assert.equal(initialize.json().result.serverInfo.name, 'my-server');
  stop(served.child);

  // The library from the same symlinked install: the program's own folder leads to its copy of the SDK.
  writeFileSync(
    join(project, 'main.js'),
    `import { createRemoteServer } from 'remote-mcp';
import createServer from './my-server.js';
const { url } = await createRemoteServer({ server: createServer }).listen({ port: 0 });
console.log(\`listening at \${url}\`);
`,
  );
  const library = await npxServe(project, './main.js', [process.execPath, 'main.js']);
  await greets(library.url, 'Cy');
  stop(library.child);

  // The project's copy becomes another version (only its package.json changes: it is the version that counts).
  const file = join(theirs, 'package.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), version: '2.99.0' }, null, 2));
  const refused = npxServeFails(project, './my-server.js');
  assert.equal(refused.status, 1);
  const version = versionOf(SDK);
  assert.equal(
    refused.stderr,
    [
      `remote-mcp: two different versions of ${SDK} are loaded, and remote-mcp can only serve a server built with its own version:`,
      `  your server factory uses 2.99.0 (ES module build) at ${theirs}`,
      `  remote-mcp uses          ${version} (ES module build) at ${ours}`,
      `Fix: use one version. Either run \`npm install ${SDK}@${version}\` in your project, or install remote-mcp from a`,
      'tarball (`npm pack` in its folder, then `npm install /path/to/remote-mcp-<version>.tgz`) rather than from its folder,',
      `so that npm installs one copy for both (\`npm dedupe\` merges copies left behind). \`npm ls ${SDK}\` lists the copies.`,
      '',
    ].join('\n'),
  );
});
