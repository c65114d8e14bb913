/**
 * Counters and histograms for the request path, registered in a prom-client registry, which formats them.
 *
 * prom-client's own Counter and Histogram hash the label object (sorting its keys) on every inc/observe, and
 * their `labels()` children do the same; with four updates a request that was a tenth of a fast server's
 * throughput. Here a caller resolves a label combination to its series once (by a cheap joined key) and then
 * updates plain numbers; the registry reads them only when Prometheus scrapes.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
}

export class HistogramSeries {
  sum = 0;
  count = 0;
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts: Float64Array;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += value;
    this.count++;
  }
}

abstract class SeriesMetric<S extends { labels: Labels }> {
  protected readonly series = new Map<string | number, S>();
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series a key names, if it exists (the caller's key identifies one label combination). */
  find(key: string | number): S | undefined {
    return this.series.get(key);
  }

  /** Creates the series of a label combination under its key. */
  add(key: string | number, labels: Labels): S {
    const series = this.create(labels);
    this.series.set(key, series);
    return series;
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract create(labels: Labels): S;
  protected abstract samples(): Sample[];

  /** What prom-client's registry formats and returns as JSON (the shape its own metrics return). */
  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.samples(), aggregator: this.aggregator };
  }
}

export class FastCounter extends SeriesMetric<CounterSeries> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry);
  }

  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  protected samples(): Sample[] {
    return [...this.series.values()].map((series) => ({ value: series.value, labels: series.labels }));
  }
}

export class FastHistogram extends SeriesMetric<HistogramSeries> {
  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'histogram', registry);
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  protected samples(): Sample[] {
    const samples: Sample[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (const [index, bound] of this.bounds.entries()) {
        cumulative += series.counts[index]!;
        samples.push({
          metricName: `${this.name}_bucket`,
          labels: { le: String(bound), ...series.labels },
          value: cumulative,
        });
      }
      samples.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', ...series.labels },
        value: series.count,
      });
      samples.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      samples.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return samples;
  }
}
