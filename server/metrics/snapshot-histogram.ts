/**
 * A histogram of a distribution taken at one moment (how long ago every envoy checked in), not of events:
 * each snapshot replaces the last. prom-client's Histogram only accumulates observations, so this metric
 * keeps the counts of the latest snapshot and exports them in the histogram text format (cumulative
 * `_bucket` series with `le`, then `_sum` and `_count`). A scrape reads the counts; it never walks the data
 * they came from.
 */
import type { Metric, Registry } from 'prom-client';

export interface DistributionSnapshot {
  /** Values per bucket, not cumulative: `counts[i]` holds values ≤ buckets[i] and > buckets[i-1]; the last is +Inf. */
  readonly counts: readonly number[];
  readonly sum: number;
}

interface ExportedValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

export class SnapshotHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #buckets: readonly number[];
  #snapshot: DistributionSnapshot;

  constructor(options: { name: string; help: string; buckets: readonly number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.#buckets = [...options.buckets];
    this.#snapshot = { counts: new Array<number>(this.#buckets.length + 1).fill(0), sum: 0 };
    // prom-client's typings list only its own four classes; the registry needs no more than name, help,
    // type and get() (all here), so a metric of another shape registers as one of them.
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** An accumulator for the next snapshot, with this histogram's buckets. */
  tally(): DistributionTally {
    return new DistributionTally(this.#buckets);
  }

  /** Replaces what the histogram exports. */
  replace(snapshot: DistributionSnapshot): void {
    if (snapshot.counts.length !== this.#buckets.length + 1)
      throw new Error(`a snapshot of ${this.name} needs ${this.#buckets.length + 1} bucket counts`);
    this.#snapshot = snapshot;
  }

  /** Registry.resetMetrics(): back to an empty distribution. */
  reset(): void {
    this.#snapshot = { counts: new Array<number>(this.#buckets.length + 1).fill(0), sum: 0 };
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const { counts, sum } = this.#snapshot;
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    this.#buckets.forEach((bound, i) => {
      cumulative += counts[i] ?? 0;
      values.push({ labels: { le: bound }, value: cumulative, metricName: bucket });
    });
    cumulative += counts[this.#buckets.length] ?? 0;
    values.push({ labels: { le: '+Inf' }, value: cumulative, metricName: bucket });
    values.push({ labels: {}, value: sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: cumulative, metricName: `${this.name}_count` });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}

/** Counts values into buckets for one snapshot. */
export class DistributionTally {
  readonly #buckets: readonly number[];
  readonly #counts: number[];
  #sum = 0;

  constructor(buckets: readonly number[]) {
    this.#buckets = buckets;
    this.#counts = new Array<number>(buckets.length + 1).fill(0);
  }

  add(value: number): void {
    this.#sum += value;
    const buckets = this.#buckets;
    let i = 0;
    while (i < buckets.length && value > (buckets[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
  }

  snapshot(): DistributionSnapshot {
    return { counts: [...this.#counts], sum: this.#sum };
  }
}
