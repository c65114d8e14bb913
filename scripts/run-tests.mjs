#!/usr/bin/env node
// Runs every test file under build/test with node's test runner, then the official conformance suite.
// Exits non-zero when anything fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'build/test';
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.test.js'))
  .sort()
  .map((name) => join(dir, name));
if (files.length === 0) {
  console.error('run-tests: no test files found under build/test');
  process.exit(1);
}
const unit = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
let failed = unit.status !== 0;
if (process.env.SKIP_CONFORMANCE !== '1') {
  const conformance = spawnSync(process.execPath, ['scripts/conformance.mjs'], { stdio: 'inherit' });
  failed ||= conformance.status !== 0;
}
process.exit(failed ? 1 : 0);
