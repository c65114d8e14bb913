/** The error registry and the options defaults are documented where users look for them. */
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULTS, ERRORS } from '../src/index.js';

test('every error of the registry is documented in docs/errors.md with its status and code', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  for (const [name, spec] of Object.entries(ERRORS)) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    assert.ok(row, `docs/errors.md has no row for ${name}`);
    assert.ok(
      row.includes(`| ${spec.status} | ${spec.rpcCode} |`),
      `docs/errors.md row for ${name} does not say ${spec.status} / ${spec.rpcCode}`,
    );
  }
});

test('every option default is in the README options table', () => {
  const readme = readFileSync('README.md', 'utf8');
  for (const name of Object.keys(DEFAULTS)) {
    assert.ok(readme.includes(`| \`${name}\` |`), `README options table has no row for ${name}`);
  }
});

test('the version the code reports is the one package.json states', async () => {
  const { VERSION } = await import('../src/version.js');
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal(VERSION, manifest.version);
});
