/**
 * Latency: --pings round trips over one kept-alive connection after one warm-up (so the figures are request
 * latency, not connection setup). 2026-07-28 has no `ping` method (remote-mcp answers 404 / -32601), so its
 * round trip is `server/discover`, the cheapest request it has; a server that only speaks 2025-era sessions is
 * pinged with `ping` inside a session that is ended with DELETE afterwards.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';

import {
  type Check,
  credentialHeaders,
  type DoctorContext,
  endpointUnavailable,
  fail,
  note,
  type Outcome,
  pass,
} from './check.js';
import { noAnswer } from './endpoint-checks.js';
import { answerTo, probe, statusText } from './http-probe.js';
import { closeSession, modernBody, modernHeaders, openSession, sessionHeaders } from './mcp-requests.js';

/** The most round trips --pings may ask for. */
export const MAX_PINGS = 1000;
export const DEFAULT_PINGS = 5;

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

function summary(times: number[], what: string): string {
  const sorted = [...times].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return `min ${ms(sorted[0]!)}, median ${ms(median)}, max ${ms(sorted.at(-1)!)} over ${times.length} ${what}`;
}

/** A round trip that got no answer within --timeout. */
class RoundTripTimeout extends Error {
  constructor(readonly index: number) {
    super(`round trip ${index} timed out`);
  }
}

/** A round trip whose answer is not the one expected. */
class RoundTripRefused extends Error {}

/** One round trip per call; rejects with RoundTripRefused when the answer is not the one expected. */
type RoundTrip = (index: number, signal: AbortSignal) => Promise<void>;

async function time(context: DoctorContext, roundTrip: RoundTrip, signal: AbortSignal): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index <= context.options.pings && !signal.aborted; index++) {
    // Each round trip has the --timeout to itself; the check's own deadline covers them all. (By hand:
    // AbortSignal.any needs Node 20.3.)
    const each = new AbortController();
    const abort = () => each.abort();
    const timer = setTimeout(abort, context.options.timeoutMs);
    signal.addEventListener('abort', abort, { once: true });
    const started = performance.now();
    try {
      await roundTrip(index, each.signal);
    } catch (error) {
      if (each.signal.aborted) throw new RoundTripTimeout(index);
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    }
    // The first one warms the connection up (TCP, TLS): not counted.
    if (index > 0) times.push(performance.now() - started);
  }
  return times;
}

export const latencyCheck: Check = {
  name: 'latency',
  label: 'latency',
  skipIf: endpointUnavailable,
  deadlineMs: (context) => context.options.timeoutMs * (context.options.pings + 3),
  async run(context, signal): Promise<Outcome> {
    const { answered, options } = context;
    if (options.pings === 0) return note('not measured (--pings 0)');
    if (!answered.modern && !answered.legacy) {
      if (answered.sse || answered.websocket)
        return note('not measured: it times Streamable HTTP requests, and only HTTP+SSE or WebSocket answered');
      return fail('nothing to time: no protocol answered', 'see the protocol lines above');
    }
    const url = context.target!.http;
    const agent =
      url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
        : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const headers = credentialHeaders(options);
    try {
      if (answered.modern) {
        const times = await time(
          context,
          async (index, each) => {
            const response = await probe(context, {
              url,
              method: 'POST',
              headers: { ...modernHeaders('server/discover'), ...headers },
              body: modernBody(`doctor-ping-${index}`, 'server/discover'),
              signal: each,
              agent,
            });
            if (answerTo(response, `doctor-ping-${index}`)?.result === undefined)
              throw new RoundTripRefused(`round trip ${index} got ${statusText(response)} without a result`);
          },
          signal,
        );
        return pass(summary(times, 'server/discover (2026-07-28 has no ping)'));
      }
      const opened = await openSession(context, headers, signal);
      if (opened.refused !== undefined)
        return fail(`initialize got ${statusText(opened.refused)}`, 'see 2025-era session above');
      const { session } = opened;
      try {
        const times = await time(
          context,
          async (index, each) => {
            const response = await probe(context, {
              url,
              method: 'POST',
              headers: { ...sessionHeaders(session.sessionId, session.protocolVersion), ...headers },
              body: JSON.stringify({ jsonrpc: '2.0', id: `doctor-ping-${index}`, method: 'ping' }),
              signal: each,
              agent,
            });
            if (answerTo(response, `doctor-ping-${index}`)?.result === undefined)
              throw new RoundTripRefused(`ping ${index} got ${statusText(response)} without a result`);
          },
          signal,
        );
        return pass(summary(times, 'ping in a 2025-era session'));
      } finally {
        await closeSession(context, session, headers, signal).catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof RoundTripRefused)
        return fail(
          error.message,
          'the server stopped answering a request it answered before: check its logs and rate limits',
        );
      if (error instanceof RoundTripTimeout)
        return fail(
          `round trip ${error.index} got no answer within ${options.timeoutMs} ms`,
          'the server answers some requests and not others: it may be overloaded; check its logs',
        );
      return noAnswer(context, error, signal);
    } finally {
      agent.destroy();
    }
  },
};
