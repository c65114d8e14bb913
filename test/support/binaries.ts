/**
 * Tests that need a Debian program (.ci/run installs them) are skipped without it on a developer's machine,
 * saying what to install, and fail in CI (where `CI` is set), so a missing package never passes silently.
 */
import { spawnSync } from 'node:child_process';

import { NGINX_BIN } from './nginx.js';
import { REDIS_SERVER_BINARY } from './redis-server.js';

/** The skip reason when `command --version` does not run (false when it does); throws in CI. */
export function missingProgram(command: string, aptPackage: string): string | false {
  if (spawnSync(command, ['--version']).status === 0 || spawnSync(command, ['-v']).status === 0) return false;
  if (process.env.CI !== undefined) throw new Error(`${aptPackage} is required in CI: apt-get install ${aptPackage}`);
  return `${aptPackage} is not installed (apt-get install ${aptPackage})`;
}

export const redisMissing = (): string | false => missingProgram(REDIS_SERVER_BINARY, 'redis-server');
export const nginxMissing = (): string | false => missingProgram(NGINX_BIN, 'nginx');
/** What a Redis-and-nginx cluster test lacks, if anything. */
export const clusterMissing = (): string | false => redisMissing() || nginxMissing();
