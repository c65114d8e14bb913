/**
 * Counts what a target sends to Redis per request, with MONITOR on a raw connection (no client library: the
 * bench measures the server's use of node-redis, not its own). MONITOR prints every command Redis runs: those a
 * client sent (`[0 127.0.0.1:port] "evalsha" ...`, one round trip each) and, right after a script's line, the
 * commands the script ran (`[0 lua] "hset" ...`, no round trip). A sent command belongs to the measured target
 * when one of its arguments starts with the target's key prefix (every key and channel of remote-mcp does);
 * anything else (PING, another idle target's timers) is counted apart, as `other`.
 */
import { connect, type Socket } from 'node:net';

export interface RoundTrips {
  requests: number;
  /** Commands the target's instances sent, per request, by command: each is one round trip. */
  sent: Map<string, number>;
  /** Commands run inside those scripts, per request, by command. */
  inScripts: Map<string, number>;
  /** Sent commands without the target's prefix (health pings, other targets' timers), per request. */
  other: Map<string, number>;
}

/** How long stop() waits for MONITOR to print the marker that ends the pass. */
const DRAIN_TIMEOUT_MS = 10_000;
/** The argument of the PING that marks the end of the pass in MONITOR's output. */
const MARKER = 'remote-mcp-bench-monitor-end';
const LINE = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]*)"(.*)$/;

function send(port: number, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(command));
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
}

/** Starts counting; `stop(requests)` ends the pass and divides by the requests it served. */
export async function monitorRedis(
  port: number,
  prefix: string,
): Promise<{ stop(requests: number): Promise<RoundTrips> }> {
  const sent = new Map<string, number>();
  const inScripts = new Map<string, number>();
  const other = new Map<string, number>();
  const add = (counts: Map<string, number>, command: string) => counts.set(command, (counts.get(command) ?? 0) + 1);
  let ours = false;
  let ended: (() => void) | undefined;
  let pending = '';
  const socket: Socket = connect(port, '127.0.0.1');
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write('MONITOR\r\n'));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\r\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line === '+OK') resolve();
        const match = LINE.exec(line);
        if (match === null) continue;
        const [, client, command, rest] = match as unknown as [string, string, string, string];
        const name = command.toLowerCase();
        if (client === 'lua') {
          if (ours) add(inScripts, name);
        } else if (name === 'ping' && rest.includes(MARKER)) {
          ended?.();
        } else {
          ours = rest.includes(` "${prefix}`);
          add(ours ? sent : other, name);
        }
      }
    });
  });
  await ready;
  return {
    async stop(requests) {
      const drained = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('MONITOR did not print the end marker')), DRAIN_TIMEOUT_MS);
        ended = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      // Commands reach MONITOR in the order Redis ran them: once the marker shows, the pass is all counted.
      await send(port, `PING ${MARKER}\r\n`);
      await drained;
      socket.destroy();
      const per = (counts: Map<string, number>) =>
        new Map([...counts].sort((a, b) => b[1] - a[1]).map(([name, count]) => [name, count / requests]));
      return { requests, sent: per(sent), inScripts: per(inScripts), other: per(other) };
    },
  };
}

const list = (counts: Map<string, number>) =>
  [...counts].map(([name, perRequest]) => `${name} ${perRequest.toFixed(2)}`).join(', ') || 'none';
const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, value) => sum + value, 0);

/** One line: round trips per request, what they were, what the scripts ran, and what was not the target's. */
export function formatRoundTrips(trips: RoundTrips): string {
  const scripts = trips.inScripts.size > 0 ? `; inside scripts: ${list(trips.inScripts)}` : '';
  const other = trips.other.size > 0 ? `; not the target's: ${total(trips.other).toFixed(3)}` : '';
  return `${total(trips.sent).toFixed(2)} round trips/request (${list(trips.sent)})${scripts}${other}`;
}
