/**
 * The README's client examples ("Connect from code") run as written against demo servers (only the ports
 * changed: 8080, 8081 and 8082 become three servers on free ports) and print what the README says they print.
 * Each runs as an ES module inside this package, so `remote-mcp/client` resolves to the build by self-reference.
 * The servers run in this process, so the examples run asynchronously (a spawnSync would stop them answering).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import createDemoServer from '../examples/demo-server.js';
import { createRemoteServer, type RemoteServer } from '../src/index.js';

const readme = readFileSync('README.md', 'utf8');
const from = readme.indexOf('## Connect from code');
const section = readme.slice(from, readme.indexOf('\n## ', from + 1));
const examples = [...section.matchAll(/```js\n([\s\S]*?)\n```\s*\n+prints[^\n]*\n+```text\n([\s\S]*?)\n```/g)].map(
  (match) => ({ code: match[1]!, output: match[2]! }),
);

const servers: RemoteServer[] = [];
const ports = new Map<string, string>();
const written: string[] = [];

before(async () => {
  for (const port of ['8080', '8081', '8082']) {
    const server = createRemoteServer({ server: createDemoServer, onError: () => {} });
    servers.push(server);
    ports.set(port, new URL((await server.listen({ port: 0, host: '127.0.0.1' })).url).port);
  }
});

after(async () => {
  for (const file of written) rmSync(file, { force: true });
  await Promise.all(servers.map((server) => server.close()));
});

test('the README has the client examples: a base URL with headers and a timeout, WebSocket, the balanced client', () => {
  assert.ok(from > 0, 'README.md has a "## Connect from code" section');
  assert.equal(examples.length, 3, 'three js examples, each followed by "prints" and a text block');
  assert.match(examples[0]!.code, /headers:[\s\S]*timeoutMs:/);
  assert.match(examples[1]!.code, /ws:\/\/127\.0\.0\.1:8080\/mcp/);
  assert.match(examples[2]!.code, /createBalancedClient/);
});

for (const [index, example] of examples.entries()) {
  test(`README client example ${index + 1} prints what the README shows`, async () => {
    const code = example.code.replace(/127\.0\.0\.1:(808[0-2])/g, (_, port: string) => `127.0.0.1:${ports.get(port)}`);
    const file = `build/readme-client-example-${index + 1}.mjs`;
    written.push(file);
    writeFileSync(file, code);
    const run = await promisify(execFile)(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.stdout.trimEnd(), example.output, run.stderr);
  });
}
