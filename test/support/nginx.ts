/**
 * A real nginx running the shipped deploy/nginx/nginx.conf in front of loopback upstreams, for tests.
 *
 * The shipped file is rendered, not rewritten by hand: in every block marked `# @upstreams-begin` ...
 * `# @upstreams-end`, the `server` lines become one line per upstream (each with the parameters of the block's
 * first line: max_fails, fail_timeout), the line marked `# @listen` becomes `listen 127.0.0.1:<port>;`, and the temp paths a
 * non-root nginx needs are added at the top of the `http` block, pointing into a fresh temp dir. The pid file and
 * `daemon off` go on the command line (`-g`), the temp dir is the prefix (`-p`). Nothing else changes, so the tests
 * exercise the file users deploy.
 *
 * @example
 *   const nginx = await startNginx({ upstreams: ['127.0.0.1:4001', '127.0.0.1:4002'] });
 *   after(() => nginx.stop());
 *   await fetch(`${nginx.url}/mcp`, { method: 'POST', ... });
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

/** The nginx binary: Debian's package path, or `NGINX_BIN`. */
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** The shipped configuration (from build/test/support/ up to the repository root). */
export const NGINX_CONFIG = fileURLToPath(new URL('../../../deploy/nginx/nginx.conf', import.meta.url));

/** How long startNginx waits for nginx to accept connections, and reload() for its new workers. */
const START_TIMEOUT_MS = 10_000;
/** How long stop() waits after SIGQUIT (graceful: open streams may hold it) before SIGKILL. */
const STOP_GRACE_MS = 3_000;
/** Fresh ports tried when the probed one was taken before nginx bound it. */
const PORT_ATTEMPTS = 5;
const POLL_MS = 20;
/**
 * The file the shipped `access_log /dev/stdout` writes to: nginx's stdout is this file, because /dev/stdout
 * cannot be opened when stdout is a socket (Node's 'pipe' is a socketpair); Docker gives it a FIFO.
 */
const ACCESS_LOG = 'access.log';

export interface NginxOptions {
  /** The instances, as `host:port` (127.0.0.1:4001); at least one. */
  upstreams: string[];
}

export interface RunningNginx {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  /** The master process. */
  pid: number;
  /**
   * The access-log lines so far, in the shipped `mcp` format: each names every upstream
   * tried and its status, e.g. `upstream=127.0.0.1:4001, 127.0.0.1:4002 upstream_status=503, 200`.
   */
  accessLog(): string[];
  /**
   * Re-renders the configuration (with new upstreams, or the same), checks it with `nginx -t`, signals a reload
   * and resolves once every worker accepting connections runs the new configuration.
   */
  reload(upstreams?: string[]): Promise<void>;
  /** SIGQUIT (graceful), SIGKILL to the process group after a grace; then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const UPSTREAM = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
const BEGIN = '# @upstreams-begin';
/** `listen <address>; # @listen`: the directive and its marker on one line. */
const LISTEN = /^\s*listen\s+[^;]+;\s*#\s*@listen\s*$/;
const END = '# @upstreams-end';
const TEMP_PATHS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'] as const;

/**
 * The shipped configuration with its upstreams, listen address and temp paths filled in (see the module header).
 * Throws when the markers it relies on are missing, so an edit of the file that would break the tests says so.
 */
export function renderNginxConfig(
  template: string,
  options: { upstreams: string[]; port: number; tempDir: string },
): string {
  if (options.upstreams.length === 0) throw new Error('renderNginxConfig: at least one upstream is needed');
  for (const upstream of options.upstreams)
    if (!UPSTREAM.test(upstream)) throw new Error(`renderNginxConfig: upstream must be host:port; got ${upstream}`);
  const lines = template.split('\n');
  // Every marked block (the upstream groups of first tries and of retries list the same instances).
  const rendered: string[] = [];
  for (let at = 0; ; ) {
    const begin = lines.findIndex((line, index) => index >= at && line.trim() === BEGIN);
    if (begin === -1) {
      if (rendered.length === 0) throw new Error(`${NGINX_CONFIG} has no "${BEGIN}" ... "${END}" block`);
      rendered.push(...lines.slice(at));
      break;
    }
    const end = lines.findIndex((line, index) => index > begin && line.trim() === END);
    if (end === -1) throw new Error(`${NGINX_CONFIG} has a "${BEGIN}" without its "${END}"`);
    const first = lines
      .slice(begin + 1, end)
      .map((line) => /^(\s*)server\s+\S+(.*);\s*$/.exec(line))
      .find((match) => match !== null);
    if (first === undefined) throw new Error(`${NGINX_CONFIG} has no server line between the upstream markers`);
    const [, indent, parameters] = first;
    const servers = options.upstreams.map((upstream) => `${indent}server ${upstream}${parameters};`);
    rendered.push(...lines.slice(at, begin + 1), ...servers, lines[end]!);
    at = end + 1;
  }

  const listens = rendered.flatMap((line, index) => (LISTEN.test(line) ? [index] : []));
  if (listens.length !== 1) throw new Error(`${NGINX_CONFIG} must have exactly one \`listen ...; # @listen\` line`);
  const listen = listens[0]!;
  rendered[listen] = rendered[listen]!.replace(/\blisten\s+[^;]+;/, `listen 127.0.0.1:${options.port};`);

  const http = rendered.findIndex((line) => /^\s*http\s*\{/.test(line));
  if (http === -1) throw new Error(`${NGINX_CONFIG} has no http block`);
  // nginx creates every temp path at start (the compiled-in ones are under /var/lib/nginx, root's).
  const temps = TEMP_PATHS.map((name) => `  ${name}_temp_path ${join(options.tempDir, `${name}_temp`)};`);
  rendered.splice(http + 1, 0, '  # Added by test/support/nginx.ts: temp paths a non-root nginx can write.', ...temps);
  return rendered.join('\n');
}

/** The command-line directives of a test run: foreground, its own pid file. */
function globals(dir: string): string {
  return `daemon off; pid ${join(dir, 'nginx.pid')};`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `nginx -t` on a rendered file; resolves with its output, rejects with it when the check fails. */
function configTest(dir: string, config: string): string {
  const log = openSync(join(dir, ACCESS_LOG), 'a');
  const result = spawnSync(NGINX_BIN, ['-t', '-p', `${dir}/`, '-c', config, '-g', globals(dir)], {
    encoding: 'utf8',
    stdio: ['ignore', log, 'pipe'],
  });
  closeSync(log);
  const output = (result.stderr ?? '').trim();
  if (result.error !== undefined) throw new Error(`cannot run ${NGINX_BIN}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`nginx -t rejected the rendered configuration:\n${output}`);
  return output;
}

/** A temp dir nginx can use as its prefix; when the tests run as root, its workers (nobody) must reach it too. */
function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'remote-mcp-nginx-'));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Renders the shipped configuration for these upstreams into a temp dir and runs `nginx -t` on it. Resolves with
 * nginx's output (warnings included); rejects with it when nginx refuses the file.
 */
export function checkNginxConfig(options: NginxOptions): string {
  const dir = makeTempDir();
  try {
    const config = join(dir, 'nginx.conf');
    writeFileSync(
      config,
      renderNginxConfig(readFileSync(NGINX_CONFIG, 'utf8'), { ...options, port: 8080, tempDir: dir }),
    );
    return configTest(dir, config);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The worker processes of a master that still accept connections (not those shutting down after a reload). */
function activeWorkers(master: number): Set<number> {
  const workers = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces and parentheses): state, then ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== master) continue;
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (title.includes('worker process') && !title.includes('shutting down')) workers.add(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return workers;
}

/** Every nginx started here and not yet stopped: killed when the test process exits, whatever happened. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

interface Started {
  child: ChildProcess;
  stderr: () => string;
}

/** Starts nginx on a rendered file; resolves once it accepts connections, rejects with nginx's errors. */
async function launch(dir: string, config: string, port: number): Promise<Started> {
  const pidFile = join(dir, 'nginx.pid');
  rmSync(pidFile, { force: true });
  // Its own process group: stop() can then reach the workers too, even if the master is killed first.
  const log = openSync(join(dir, ACCESS_LOG), 'a');
  const child = spawn(NGINX_BIN, ['-p', `${dir}/`, '-c', config, '-g', globals(dir)], {
    detached: true,
    stdio: ['ignore', log, 'pipe'],
  });
  closeSync(log);
  // A test that forgets stop() must not hang its runner: nothing here keeps the event loop alive, and the exit
  // hook above kills what is left.
  child.unref();
  (child.stderr as Socket).unref();
  running.add(child);
  let errors = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errors = (errors + chunk).slice(-16_384);
  });
  let failure: string | undefined;
  let closed = false;
  child.once('error', (error) => {
    failure ??= `could not be started (${NGINX_BIN}: ${error.message})`;
    running.delete(child);
  });
  child.once('exit', (code, signal) => {
    failure ??= `exited (${signal ?? code})`;
    running.delete(child);
  });
  // After the exit and once its output is read to the end (the error messages).
  child.once('close', () => {
    closed = true;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    // The pid file appears once the master has bound its listening sockets: only then is a successful connect
    // to the port a connect to this nginx (and not to whoever took the probed port meanwhile).
    const ready = failure === undefined && existsSync(pidFile) && (await accepts(port));
    if (ready && failure === undefined) return { child, stderr: () => errors };
    if (failure !== undefined && (closed || Date.now() > deadline))
      throw Object.assign(new Error(`nginx ${failure}:\n${errors.trim()}`), { stderr: errors });
    if (failure === undefined && Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`nginx did not accept connections on port ${port} within ${START_TIMEOUT_MS} ms:\n${errors}`);
    }
    await sleep(POLL_MS);
  }
}

/** Starts nginx with the shipped configuration in front of `upstreams`, on a free loopback port. */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const template = readFileSync(NGINX_CONFIG, 'utf8');
  const dir = makeTempDir();
  const config = join(dir, 'nginx.conf');
  let upstreams = options.upstreams;
  let started: Started | undefined;
  let port = 0;
  try {
    for (let attempt = 1; started === undefined; attempt++) {
      port = await freePort();
      writeFileSync(config, renderNginxConfig(template, { upstreams, port, tempDir: dir }));
      try {
        started = await launch(dir, config, port);
      } catch (error) {
        // Someone took the probed port before nginx bound it: try another one.
        const inUse = /Address already in use/.test((error as { stderr?: string }).stderr ?? '');
        if (!inUse || attempt === PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { child } = started;
  const pid = child.pid!;
  const exit = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopped: Promise<void> | undefined;
  // Kept when stop() removes the temp dir, for a test that reads the log afterwards.
  let finalLog: string[] | undefined;
  const readLog = () =>
    readFileSync(join(dir, ACCESS_LOG), 'utf8')
      .split('\n')
      .filter((line) => line !== '');

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    accessLog: () => finalLog ?? readLog(),
    async reload(next?: string[]) {
      if (next !== undefined) upstreams = next;
      writeFileSync(config, renderNginxConfig(template, { upstreams, port, tempDir: dir }));
      configTest(dir, config);
      const before = activeWorkers(pid);
      process.kill(pid, 'SIGHUP');
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        const now = activeWorkers(pid);
        if (now.size > 0 && [...now].every((worker) => !before.has(worker))) return;
        if (Date.now() > deadline)
          throw new Error(`nginx did not start new workers within ${START_TIMEOUT_MS} ms:\n${started.stderr()}`);
        await sleep(POLL_MS);
      }
    },
    stop() {
      stopped ??= (async () => {
        if (running.has(child)) {
          process.kill(pid, 'SIGQUIT');
          let timer: NodeJS.Timeout | undefined;
          const graceful = await Promise.race([
            exit.then(() => true),
            new Promise<boolean>((resolve) => {
              timer = setTimeout(() => resolve(false), STOP_GRACE_MS);
            }),
          ]);
          clearTimeout(timer);
          if (!graceful) {
            try {
              process.kill(-pid, 'SIGKILL');
            } catch {
              // Exited just now.
            }
            await exit;
          }
        }
        finalLog = readLog();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
