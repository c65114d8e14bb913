#!/usr/bin/env node
// npm runs this before `npm pack` and `npm publish`, after `npm install` in this folder, and when a project
// installs remote-mcp from this folder or from git: a clean build, so the package carries no output of deleted
// sources (`npm run build` also makes the bin executable: a fresh file lacks the mode npm gave the old one).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('build', { recursive: true, force: true });
const npm = process.env.npm_execpath;
const build =
  npm === undefined
    ? spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit', shell: process.platform === 'win32' })
    : spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { stdio: 'inherit' });
process.exit(build.status ?? 1);
