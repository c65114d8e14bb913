/** The layering docs/architecture.md describes: the runtime core imports no transport; only entry points import the composition root. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module specifier a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'([^']+)'/g)].map((match) => match[1]!);
}

test('src/server/ (the runtime core) imports nothing from src/transport/', () => {
  const offenders = sourceFiles('src/server').flatMap((file) =>
    importsOf(file)
      .filter((spec) => spec.includes('/transport/'))
      .map((spec) => `${file} imports ${spec}`),
  );
  assert.deepEqual(offenders, []);
});

test('only the public barrel and the CLI import the composition root', () => {
  const importers = sourceFiles('src')
    .filter((file) => importsOf(file).some((spec) => spec.endsWith('/remote-server.js')))
    .sort();
  assert.deepEqual(importers, ['src/cli/serve-command.ts', 'src/index.ts']);
});

test('the Redis stores (and node-redis with them) are loaded only when `redis` is set: one dynamic import', () => {
  const outside = sourceFiles('src').filter((file) => !file.startsWith(join('src', 'state', 'redis')));
  const staticImports = outside.flatMap((file) =>
    importsOf(file)
      .filter((spec) => spec.includes('/redis/') || spec === 'redis' || spec.startsWith('@redis/'))
      .map((spec) => `${file} imports ${spec}`),
  );
  assert.deepEqual(staticImports, []);
  const dynamic = outside.filter((file) =>
    /import\(\s*'[^']*\/state\/redis\/index\.js'\s*\)/.test(readFileSync(file, 'utf8')),
  );
  assert.deepEqual(dynamic, [join('src', 'server', 'open-state.ts')]);
  // Inside, node-redis itself is imported for its types only, and loaded by the connection when it is created.
  for (const file of sourceFiles(join('src', 'state', 'redis')))
    for (const match of readFileSync(file, 'utf8').matchAll(/^import (type )?[^;]*from '(redis|@redis\/[^']*)'/gm))
      assert.equal(match[1], 'type ', `${file} imports ${match[2]} for more than its types`);
});

test('remote-mcp/client (src/client/) imports nothing from the server side: only the client SDK, ws and cockatiel', () => {
  const allowed = (spec: string) =>
    spec.startsWith('./') ||
    spec === '../version.js' ||
    spec.startsWith('node:') ||
    ['@modelcontextprotocol/client', 'ws', 'cockatiel'].includes(spec);
  const offenders = sourceFiles(join('src', 'client')).flatMap((file) =>
    importsOf(file)
      .filter((spec) => !allowed(spec))
      .map((spec) => `${file} imports ${spec}`),
  );
  assert.deepEqual(offenders, []);
  // version.ts must stay import-free, or it would pull its imports into the client too.
  assert.deepEqual(importsOf(join('src', 'version.ts')), []);
});
