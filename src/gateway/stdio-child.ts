/**
 * One stdio MCP server process: spawned in its own process group, framed as newline-delimited JSON on stdout,
 * stderr forwarded to the log with its pid, and stopped as a group (TERM, then KILL after a grace period).
 *
 * Why a group: a command such as `npx some-server` or `sh -c '…'` is a wrapper whose real server is a
 * grandchild; signalling only the wrapper leaves the server running (supergateway PR #124 left thousands).
 * Why stdin matters: when the gateway itself is SIGKILLed nothing can signal the group, but every child's stdin
 * closes, and stdio MCP servers exit on end of input.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

import type { Logger } from 'pino';

import type { Channel, ChildExit } from './channel.js';

export interface StdioCommand {
  command: string;
  args: string[];
  /** Added to the gateway's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface StdioChildLimits {
  /** Longest line (one JSON-RPC message) the child may write on stdout, in bytes; longer kills the child. */
  maxLineBytes: number;
  /** How long a child has after SIGTERM before its group gets SIGKILL, in ms. */
  killGraceMs: number;
}

/** The live children, so a gateway that is exiting in a hurry can still SIGKILL their groups. */
const everyChild = new Set<StdioChild>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously: no grace period is possible, only KILL of each group.
  process.once('exit', () => {
    for (const child of everyChild) child.killGroup('SIGKILL');
  });
}

export class StdioChild implements Channel {
  readonly label = 'the stdio server';
  private readonly process: ChildProcessWithoutNullStreams;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private exitInfo: ChildExit | undefined;
  private readonly exited: Promise<ChildExit>;
  /** Whether the group has been signalled by us (a stop), so the exit is not reported as a crash. */
  private stopping = false;
  private stderrTail = '';
  onMessage: (message: unknown) => void = () => {};
  /** Called once when the child can serve no more (exited, failed to spawn, or broke the framing). */
  onExit: (exit: ChildExit) => void = () => {};

  constructor(
    readonly spec: StdioCommand,
    private readonly limits: StdioChildLimits,
    private readonly log: Logger,
  ) {
    installExitHook();
    this.process = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group (and session), so the whole tree is signalled with one kill(-pid).
      detached: true,
      windowsHide: true,
    });
    everyChild.add(this);
    this.exited = new Promise((resolve) => {
      this.process.once('error', (error: NodeJS.ErrnoException) => {
        // ENOENT, EACCES, EAGAIN: the process never ran (or the pipe broke); nothing to kill.
        this.finish(resolve, { reason: spawnFailure(spec.command, error) });
      });
      this.process.once('exit', (code, signal) => {
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = this.stderrTail.trim();
        this.finish(resolve, {
          reason: `the stdio server ${how}${tail !== '' && !this.stopping ? ` (stderr: ${tail.slice(-300)})` : ''}`,
        });
      });
    });
    this.process.stdout.on('data', (chunk: Buffer) => this.read(chunk));
    this.process.stderr.setEncoding('utf8').on('data', (text: string) => this.stderr(text));
    // A child that exits while we write gets EPIPE on stdin; the exit handler reports it.
    this.process.stdin.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Set once the child can serve no more. */
  get exit(): ChildExit | undefined {
    return this.exitInfo;
  }

  /** Resolves when the child is gone (or never ran). */
  whenExited(): Promise<ChildExit> {
    return this.exited;
  }

  send(message: Record<string, unknown>): void {
    if (this.exitInfo !== undefined) return;
    this.process.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Closes stdin, TERMs the group, and KILLs it after the grace period; resolves when the child has exited. */
  async stop(): Promise<void> {
    if (this.exitInfo !== undefined && this.process.exitCode !== null) return;
    this.stopping = true;
    this.process.stdin.end();
    this.killGroup('SIGTERM');
    const timer = setTimeout(() => this.killGroup('SIGKILL'), this.limits.killGraceMs);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
    // The leader is gone; anything it left behind in its group is not.
    this.killGroup('SIGKILL');
  }

  /** Signals the child's whole process group (no-op when it never ran). */
  killGroup(signal: NodeJS.Signals): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }

  private finish(resolve: (exit: ChildExit) => void, exit: ChildExit): void {
    if (this.exitInfo !== undefined) return;
    this.exitInfo = exit;
    everyChild.delete(this);
    resolve(exit);
    this.onExit(exit);
    // The leader may be gone while others in its group still run.
    this.killGroup('SIGKILL');
  }

  /** Newline-delimited JSON, buffered only up to maxLineBytes. */
  private read(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.bufferedBytes + piece.length > this.limits.maxLineBytes) return this.overflow();
      const line = this.bufferedBytes === 0 ? piece : Buffer.concat([...this.buffered, piece]);
      this.buffered = [];
      this.bufferedBytes = 0;
      this.line(line.toString('utf8'));
      if (this.exitInfo !== undefined) return;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (this.bufferedBytes + rest.length > this.limits.maxLineBytes) return this.overflow();
    this.buffered.push(Buffer.from(rest));
    this.bufferedBytes += rest.length;
  }

  private line(text: string): void {
    const trimmed = text.trim();
    if (trimmed === '') return;
    let message: unknown;
    try {
      message = JSON.parse(trimmed);
    } catch {
      // Servers that print banners on stdout exist; a line that is not JSON-RPC is logged, not fatal.
      this.log.warn({ pid: this.pid, line: trimmed.slice(0, 200) }, 'stdio server wrote a line that is not JSON');
      return;
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      this.log.warn({ pid: this.pid, line: trimmed.slice(0, 200) }, 'stdio server wrote JSON that is not a message');
      return;
    }
    this.onMessage(message);
  }

  private overflow(): void {
    this.buffered = [];
    this.bufferedBytes = 0;
    this.log.error(
      { pid: this.pid, maxLineBytes: this.limits.maxLineBytes },
      'stdio server wrote a line longer than maxLineBytes: stopping it',
    );
    this.finish(() => {}, {
      reason: `the stdio server wrote a message longer than maxLineBytes (${this.limits.maxLineBytes} bytes) and was stopped`,
    });
    this.stopping = true;
    this.process.stdin.end();
    this.killGroup('SIGKILL');
  }

  private stderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-2_000);
    for (const line of text.split('\n')) {
      const trimmed = line.trimEnd();
      if (trimmed !== '') this.log.info({ pid: this.pid, stderr: trimmed.slice(0, 2_000) }, 'stdio server stderr');
    }
  }
}

function spawnFailure(command: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `the stdio server could not be started: "${command}" was not found (ENOENT); check the command and PATH`;
    case 'EACCES':
      return `the stdio server could not be started: "${command}" is not executable (EACCES)`;
    case 'EAGAIN':
      return `the stdio server could not be started: the system refused a new process (EAGAIN); too many processes`;
    default:
      return `the stdio server could not be started: ${error.message}`;
  }
}
