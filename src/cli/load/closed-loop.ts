/**
 * The closed loop: every connection keeps exactly one request in flight, sending the next as soon as the
 * previous one is answered, until the phase's deadline or its request budget is reached. One sweep timer (not a
 * timer per request) turns overdue requests into `timeout`s. A connection that is lost (a forgotten session, a
 * closed stream or socket) is opened again before its next request; a failed reopen counts as a failed request.
 * After a lost connection or a failed reopen the connection waits BENCH_LIMITS.reopenDelayMs, so a loop never
 * spins on a server that went away, and every phase ends by its deadline.
 */
import { BENCH_LIMITS } from './bench-options.js';
import { MAX_ID } from './call-template.js';
import type { Failure } from './classify.js';
import { OpenError, type AnswerSink, type Channel, type Driver } from './driver.js';
import { LatencyRecorder } from './latency-recorder.js';

/** What one phase (the warm-up or the measured run) counted. */
export class PhaseStats {
  requests = 0;
  ok = 0;
  failed = 0;
  /** Failed requests by kind (classify.ts), in the order the kinds first occurred. */
  readonly errors = new Map<string, number>();
  /** The first message seen of each kind. */
  readonly messages = new Map<string, string>();
  readonly latency = new LatencyRecorder();
  startedAt = performance.now();
  endedAt = 0;

  /** One finished request; latency is undefined when no answer came back (timeout, lost connection). */
  finished(failure: Failure | undefined, latencyMs: number | undefined): void {
    this.requests++;
    if (latencyMs !== undefined) this.latency.record(latencyMs);
    if (failure === undefined) {
      this.ok++;
      return;
    }
    this.failed++;
    this.errors.set(failure.kind, (this.errors.get(failure.kind) ?? 0) + 1);
    if (!this.messages.has(failure.kind)) this.messages.set(failure.kind, failure.message);
  }

  get elapsedMs(): number {
    return (this.endedAt === 0 ? performance.now() : this.endedAt) - this.startedAt;
  }
}

class Slot {
  channel: Channel | undefined;
  /** The id in flight; 0 when none. */
  pending = 0;
  sentAt = 0;
  readonly sink: AnswerSink;

  constructor(loop: ClosedLoop) {
    this.sink = (id, failure) => loop.answered(this, id, failure);
  }
}

interface Phase {
  stats: PhaseStats;
  deadline: number;
  /** Requests left to send; Infinity without a cap. */
  remaining: number;
  active: number;
  done: () => void;
}

const failureOf = (error: unknown): Failure => {
  const open = error instanceof OpenError ? error : undefined;
  const code = open?.code ?? (error as { code?: unknown } | null)?.code;
  return {
    kind: typeof code === 'string' ? `connection ${code}` : 'connection',
    message: error instanceof Error ? error.message : String(error),
  };
};

export class ClosedLoop {
  private readonly slots: Slot[];
  private phase: Phase | undefined;
  private lastId = 0;

  constructor(
    private readonly driver: Driver,
    connections: number,
    private readonly timeoutMs: number,
  ) {
    this.slots = Array.from({ length: connections }, () => new Slot(this));
  }

  /** Opens every connection (BENCH_LIMITS.openConcurrency at a time); returns how many opened, and the first error. */
  async open(): Promise<{ opened: number; error: unknown }> {
    let opened = 0;
    let first: unknown;
    for (let start = 0; start < this.slots.length; start += BENCH_LIMITS.openConcurrency) {
      const batch = this.slots.slice(start, start + BENCH_LIMITS.openConcurrency);
      const results = await Promise.allSettled(batch.map((slot) => this.driver.open(slot.sink)));
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') {
          batch[index]!.channel = result.value;
          opened++;
        } else first ??= result.reason;
      });
    }
    return { opened, error: first };
  }

  /** Runs one phase: until `durationMs` has passed or `maxRequests` have been sent, whichever comes first. */
  run(durationMs: number, maxRequests: number | undefined, stats: PhaseStats): Promise<void> {
    return new Promise<void>((resolve) => {
      const sweep = setInterval(() => this.sweep(), Math.max(10, Math.min(250, this.timeoutMs / 10)));
      stats.startedAt = performance.now();
      const phase: Phase = {
        stats,
        deadline: stats.startedAt + durationMs,
        remaining: maxRequests ?? Number.POSITIVE_INFINITY,
        active: this.slots.length,
        done: () => {
          clearInterval(sweep);
          stats.endedAt = performance.now();
          this.phase = undefined;
          resolve();
        },
      };
      this.phase = phase;
      for (const slot of this.slots) if (this.phase === phase) this.next(slot);
    });
  }

  /** Ends the phase early (Ctrl-C): no new requests; those in flight finish or time out. */
  stop(): void {
    if (this.phase !== undefined) this.phase.deadline = 0;
  }

  async close(): Promise<void> {
    for (let start = 0; start < this.slots.length; start += BENCH_LIMITS.openConcurrency)
      await Promise.allSettled(
        this.slots.slice(start, start + BENCH_LIMITS.openConcurrency).map((slot) => slot.channel?.close()),
      );
    await this.driver.close();
  }

  /** A channel's answer (or failure) to request `id`. */
  answered(slot: Slot, id: number, failure: Failure | undefined): void {
    if (id !== slot.pending || this.phase === undefined) return;
    slot.pending = 0;
    const lost = failure?.kind.startsWith('connection') === true;
    this.phase.stats.finished(failure, lost ? undefined : performance.now() - slot.sentAt);
    // A server that went away refuses the next connection at once: pausing keeps the loop from spinning on it.
    if (lost) setTimeout(() => this.next(slot), BENCH_LIMITS.reopenDelayMs);
    else this.next(slot);
  }

  private next(slot: Slot): void {
    const phase = this.phase!;
    if (phase.remaining <= 0 || performance.now() >= phase.deadline) {
      if (--phase.active === 0) phase.done();
      return;
    }
    const channel = slot.channel;
    if (channel === undefined || !channel.open) return void this.reopen(slot, phase);
    phase.remaining--;
    this.lastId = this.lastId === MAX_ID ? 1 : this.lastId + 1;
    slot.pending = this.lastId;
    slot.sentAt = performance.now();
    channel.call(this.lastId);
  }

  private async reopen(slot: Slot, phase: Phase): Promise<void> {
    const old = slot.channel;
    slot.channel = undefined;
    void old?.close().catch(() => {});
    try {
      slot.channel = await this.driver.open(slot.sink);
      this.next(slot);
    } catch (error) {
      // The attempt stands for the request it could not send.
      phase.remaining--;
      phase.stats.finished(failureOf(error), undefined);
      setTimeout(() => this.next(slot), BENCH_LIMITS.reopenDelayMs);
    }
  }

  private sweep(): void {
    const phase = this.phase;
    if (phase === undefined) return;
    const now = performance.now();
    for (const slot of this.slots) {
      if (slot.pending === 0 || now - slot.sentAt <= this.timeoutMs) continue;
      const id = slot.pending;
      slot.pending = 0;
      slot.channel?.abandon(id);
      phase.stats.finished({ kind: 'timeout', message: `no answer within ${this.timeoutMs} ms` }, undefined);
      this.next(slot);
    }
  }

  /** The stats of the phase running now (for the progress line). */
  get running(): PhaseStats | undefined {
    return this.phase?.stats;
  }
}
