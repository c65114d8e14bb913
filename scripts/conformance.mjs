#!/usr/bin/env node
// Runs the official MCP conformance suite (server side) against remote-mcp serving the conformance fixture,
// for the 2026-07-28 and 2025-11-25 requirement sets, and fails unless every scored scenario passes.
//
// The suite needs Node >= 22; tools/conformance/ installs it (the npm package `node`) next to the suite, apart
// from the project, so that binary never shadows the system node in the project's own scripts.
// The CLI's exit code ignores unscored scenarios, so this script judges by the per-scenario summary lines.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const toolDir = 'tools/conformance';
const node22 = join(toolDir, 'node_modules', '.bin', 'node');
const cli = join(toolDir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
const revisions = (process.env.CONFORMANCE_REVISIONS ?? '2026-07-28,2025-11-25').split(',');

if (!existsSync(cli) || !existsSync(node22)) {
  console.log('conformance: installing the suite and Node 22 into tools/conformance (once)');
  const install = spawnSync('npm', ['ci', '--prefix', toolDir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (install.status !== 0) {
    console.error('conformance: could not install tools/conformance');
    process.exit(1);
  }
}

/** Starts the fixture server on a free port; resolves with its URL and the child process. */
async function startFixture() {
  const child = spawn(process.execPath, ['build/test/fixtures/conformance-server.js'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffer = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fixture server did not start within 10 s')), 10_000);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = /listening (http:\/\/\S+)/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the fixture server exited with ${code}`)));
  });
  return { url, child };
}

/** Parses the suite's summary: per-scenario pass/fail counts and the scenarios it does not score. */
function parseSummary(output) {
  const scenarios = new Map();
  const unscored = new Set();
  let inUnscored = false;
  for (const line of output.split('\n')) {
    if (line.startsWith('Not scored for')) inUnscored = true;
    const row = /^\s*([✓✗])\s+(\S+?):\s+(\d+) passed, (\d+) failed/.exec(line);
    if (row && !inUnscored) scenarios.set(row[2], { passed: Number(row[3]), failed: Number(row[4]) });
    const skip = /^\s+[✓✗]\s+(\S+)\s+\(/.exec(line);
    if (skip && inUnscored) unscored.add(skip[1]);
  }
  return { scenarios, unscored };
}

const { url, child } = await startFixture();
let failedRevisions = 0;
let scoredPassed = 0;
let scoredFailed = 0;
try {
  for (const revision of revisions) {
    const outDir = mkdtempSync(join(tmpdir(), 'remote-mcp-conformance-'));
    const run = spawn(node22, [cli, 'server', '--url', url, '--requirements', revision, '-o', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    run.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    run.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    const killer = setTimeout(() => run.kill('SIGKILL'), 300_000);
    await once(run, 'exit');
    clearTimeout(killer);
    rmSync(outDir, { recursive: true, force: true });
    const { scenarios, unscored } = parseSummary(output);
    const scored = [...scenarios].filter(([name]) => !unscored.has(name));
    const failing = scored.filter(([, counts]) => counts.failed > 0);
    scoredPassed += scored.length - failing.length;
    scoredFailed += failing.length;
    if (scored.length === 0 || failing.length > 0) {
      failedRevisions++;
      console.log(output);
    }
    console.log(`conformance ${revision}: ${scored.length - failing.length}/${scored.length} scored scenarios pass` + (unscored.size > 0 ? ` (${unscored.size} unscored not counted)` : ''));
    for (const [name, counts] of failing) console.log(`  FAIL ${name}: ${counts.passed} checks passed, ${counts.failed} failed`);
  }
} finally {
  child.kill();
}
console.log(`conformance: ${scoredPassed} passed, ${scoredFailed} failed`);
process.exit(failedRevisions === 0 ? 0 : 1);
