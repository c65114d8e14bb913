/**
 * Latencies in log-linear buckets (the HDR histogram layout): exact below 128 µs, then 64 buckets per power of
 * two, so a percentile is within 1/128 (0.8%) of a recorded value. Memory is LATENCY_BUCKETS counters (14 KB)
 * however many requests a run makes; `max` is kept exactly.
 */

/** 2^7 = 128 exact microsecond buckets; each later power of two is split into 64. */
const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const HALF = SUB_BUCKETS >> 1;
/** Latencies are clamped to 2^32 - 1 µs (71 minutes), far past any request timeout. */
const MAX_MICROS = 2 ** 32 - 1;
export const LATENCY_BUCKETS = SUB_BUCKETS + (32 - SUB_BUCKET_BITS) * HALF;

function bucketOf(micros: number): number {
  if (micros < SUB_BUCKETS) return micros;
  const shift = 31 - Math.clz32(micros) - (SUB_BUCKET_BITS - 1);
  return SUB_BUCKETS + (shift - 1) * HALF + ((micros >>> shift) - HALF);
}

/** The middle of a bucket's range, in µs. */
function bucketValue(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const offset = bucket - SUB_BUCKETS;
  const shift = Math.floor(offset / HALF) + 1;
  const width = 2 ** shift;
  return ((offset % HALF) + HALF) * width + (width - 1) / 2;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencyRecorder {
  private readonly counts = new Float64Array(LATENCY_BUCKETS);
  count = 0;
  private sum = 0;
  private maxMicros = 0;

  /** Records one latency given in milliseconds (performance.now() differences). */
  record(milliseconds: number): void {
    const micros = Math.min(MAX_MICROS, Math.max(0, Math.round(milliseconds * 1000)));
    this.counts[bucketOf(micros)]!++;
    this.count++;
    this.sum += micros;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  /** The latency that `quantile` (0..1) of the recorded ones do not exceed, in µs; 0 when none were recorded. */
  percentileMicros(quantile: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(quantile * this.count));
    let seen = 0;
    for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return Math.min(bucketValue(bucket), this.maxMicros);
    }
    return this.maxMicros;
  }

  /** Percentiles, max and mean in milliseconds, rounded to the microsecond. */
  summary(): LatencySummary {
    const ms = (micros: number) => Math.round(micros) / 1000;
    return {
      p50: ms(this.percentileMicros(0.5)),
      p90: ms(this.percentileMicros(0.9)),
      p99: ms(this.percentileMicros(0.99)),
      max: ms(this.maxMicros),
      mean: this.count === 0 ? 0 : ms(this.sum / this.count),
    };
  }
}
