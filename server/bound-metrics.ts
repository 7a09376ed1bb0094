/**
 * Metrics counted on every request, with their labels bound once. prom-client's own `inc` and
 * `observe` validate and hash the labels on every call, even through a child from `labels()`:
 * about 3 µs per request for the request counter and the latency histogram together, 2.7% of a
 * consume instance's thread under the fleet bench (23k topic-checks/s). A bound series here is
 * a few additions per request, and reads out as prom-client's does.
 */
import { Counter, type CounterConfiguration, type Metric, type Registry } from 'prom-client';

/** One series of a BoundCounter: `inc()` adds one, handed to prom-client when the counter is read. */
export interface BoundSeries {
  inc(): void;
}

/**
 * A prom-client Counter (every method of it works as usual) whose `bound(labels)` series count
 * into a number of their own, added to the counter when it is read (its `collect`, before every
 * scrape and `get()`): what a scrape shows is exact.
 */
export class BoundCounter<L extends string> extends Counter<L> {
  private readonly pending: { labels: Partial<Record<L, string | number>>; n: number }[] = [];

  constructor(config: Omit<CounterConfiguration<L>, 'collect'>) {
    // The collect hook runs with the counter as `this`; it hands over what the bound series counted.
    super({
      ...config,
      collect(this: Counter<L>) {
        (this as BoundCounter<L>).flush();
      },
    });
  }

  /** A series of these labels, counted without prom-client's per-call checks (the labels are checked here, once). */
  bound(labels: Partial<Record<L, string | number>>): BoundSeries {
    // An increment of 0 checks the label names as prom-client does, and shows the series from the start.
    this.inc(labels, 0);
    const series = { labels: { ...labels }, n: 0 };
    this.pending.push(series);
    return {
      inc() {
        series.n++;
      },
    };
  }

  private flush(): void {
    for (const s of this.pending) {
      if (s.n === 0) continue;
      this.inc(s.labels, s.n);
      s.n = 0;
    }
  }
}

/** One series of a BoundHistogram. */
export interface BoundObserver {
  observe(value: number): void;
}

interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative), by upper bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram whose series are bound to their labels once (`labels()`), kept as plain numbers:
 * an observation is a bucket search and three additions. Registered in prom-client registries as
 * any metric is, it reads out exactly as a prom-client Histogram with the same name, help,
 * labels and buckets does (test/unit/bound-metrics.test.ts compares the two): a series shows
 * once it has an observation.
 */
export class BoundHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  private readonly series = new Map<string, HistogramSeries>();
  private readonly upperBounds: readonly number[];

  constructor(config: { name: string; help: string; labelNames: readonly L[]; buckets: readonly number[]; registers: readonly Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.upperBounds = [...config.buckets].sort((a, b) => a - b);
    // A registry reads a metric through `name`, `get()` and `reset()` only; this has them, not a
    // prom-client Histogram's other methods, which nothing here calls on a registered metric.
    for (const r of config.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The series of these labels (every label name given, none other, as prom-client requires). */
  labels(labels: Readonly<Record<L, string>>): BoundObserver {
    const given = Object.keys(labels);
    const unknown = given.find((k) => !this.labelNames.includes(k as L));
    if (unknown !== undefined || given.length !== this.labelNames.length) {
      throw new Error(`Added label "${unknown ?? given.join(',')}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`);
    }
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Float64Array(this.upperBounds.length), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const series = s;
    const bounds = this.upperBounds;
    return {
      observe(value: number): void {
        if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
        series.sum += value;
        series.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= (bounds[i] as number)) {
            (series.counts[i] as number)++;
            return;
          }
        }
      },
    };
  }

  /** The values as prom-client's Histogram gives them: per series its cumulative buckets, +Inf, sum and count. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      this.upperBounds.forEach((le, i) => {
        acc += s.counts[i] as number;
        values.push({ labels: { le, ...s.labels }, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Every series back to no observations (bound series stay bound). */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
