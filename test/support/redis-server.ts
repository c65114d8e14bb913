/**
 * A real redis-server for tests: on a free loopback port, nothing persisted, stopped by PID. Outages are made
 * with the real process: stop() kills it (connections reset, the port refuses), pause() freezes it with
 * SIGSTOP (connections stay open, nothing is answered), restart() starts a new one on the same port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from './ports.js';

export const REDIS_SERVER_BINARY = '/usr/bin/redis-server';
/** How long a starting redis-server may take to answer PING. */
const START_TIMEOUT_MS = 10_000;
/** Ports tried when the probed one was taken before redis-server could bind it. */
const START_ATTEMPTS = 5;
const POLL_MS = 20;

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** The PID of the current process (a restart changes it). */
  readonly pid: number;
  /** Kills the process (SIGKILL) and waits for it to exit; idempotent. */
  stop(): Promise<void>;
  /** Freezes the process (SIGSTOP): it accepts no command and closes nothing. */
  pause(): Promise<void>;
  /** Lets a paused process go on (SIGCONT). */
  resume(): Promise<void>;
  /** Kills the process if it runs, then starts a new, empty one on the same port. */
  restart(): Promise<void>;
  /** Everything the current process printed, for failure messages. */
  output(): string;
}

/** Starts redis-server on a free 127.0.0.1 port; `args` are extra command-line options. */
export async function startRedis(args: string[] = []): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      const first = await launch(port, args);
      return handle(port, args, first);
    } catch (error) {
      // Another process took the port between the probe and the bind: probe again.
      lastError = error;
      if (!String((error as Error).message).includes('Address already in use')) throw error;
    }
  }
  throw lastError;
}

interface Launched {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

function handle(port: number, args: string[], first: Launched): RedisServer {
  let current: Launched | undefined = first;
  const stop = async () => {
    const running = current;
    current = undefined;
    if (running === undefined) return;
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
    await running.exited;
  };
  // A test that fails before its after() must not leave the server running.
  const onExit = () => current?.child.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return current?.child.pid ?? -1;
    },
    async stop() {
      await stop();
      process.removeListener('exit', onExit);
    },
    async pause() {
      current?.child.kill('SIGSTOP');
    },
    async resume() {
      current?.child.kill('SIGCONT');
    },
    async restart() {
      await stop();
      // The same port: the old process is gone, so only a foreign process could hold it now; retry briefly.
      for (let attempt = 1; ; attempt++) {
        try {
          current = await launch(port, args);
          return;
        } catch (error) {
          if (attempt >= START_ATTEMPTS || !String((error as Error).message).includes('Address already in use'))
            throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    output: () => current?.output() ?? '',
  };
}

async function launch(port: number, args: string[]): Promise<Launched> {
  const child = spawn(
    REDIS_SERVER_BINARY,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(() => {});
  const launched = { child, exited, output: () => output };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`redis-server on port ${port} exited at start:\n${output}`);
    if (await answersPing(port)) return launched;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${output}`);
}

/** Whether something on the port answers PING with +PONG (raw RESP: no client library involved). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
