/**
 * A small metrics registry rendered in the Prometheus text format (0.0.4):
 * counters, gauges and histograms, with labels. No dependency.
 *
 * Hot paths resolve a labelled child once (`family.labels('ok')`) and keep
 * it: `inc()` and `observe()` on a child allocate nothing. Values that live
 * elsewhere (the store's counts, a node's active actors) are read at scrape
 * time by `onCollect` hooks instead of being kept in step on every change.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** `# HELP` text: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as the format spells it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Family {
  readonly name: string;
  readonly type: MetricType;
  render(out: string[]): void;
}

/** Children by their label values; the label part of a sample line is built once per child. */
abstract class Labelled<C> implements Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  #children = new Map<string, { labels: string; child: C }>();
  #unlabelled: C | undefined;

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new Error(`metrics: "${name}" is not a valid metric name`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || l === 'le')
        throw new Error(`metrics: "${l}" is not a valid label name for ${name}`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract create(): C;
  protected abstract samples(child: C, labels: string, out: string[]): void;

  /** The child for these label values (in `labelNames` order); made on first use, then the same object. */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new Error(
        `metrics: ${this.name} takes ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${values.length}`,
      );
    }
    const key = values.join('\u0000');
    let entry = this.#children.get(key);
    if (!entry) {
      const labels = this.labelNames
        .map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`)
        .join(',');
      entry = { labels, child: this.create() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  /** The one child of a family without labels. */
  protected get only(): C {
    if (this.labelNames.length > 0)
      throw new Error(
        `metrics: ${this.name} has labels (${this.labelNames.join(', ')}); use labels(...)`,
      );
    this.#unlabelled ??= this.labels();
    return this.#unlabelled;
  }

  /** Forgets every child (a gauge whose source could not be read shows no samples rather than stale ones). */
  reset(): void {
    this.#children.clear();
    this.#unlabelled = undefined;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const { labels, child } of this.#children.values()) this.samples(child, labels, out);
  }
}

export class CounterChild {
  value = 0;
  inc(n = 1): void {
    if (n < 0) throw new Error('metrics: a counter only goes up');
    this.value += n;
  }
  /** For a total kept elsewhere (the store's), copied at scrape time. */
  set(v: number): void {
    this.value = v;
  }
}

export class Counter extends Labelled<CounterChild> {
  readonly type = 'counter';
  protected create(): CounterChild {
    return new CounterChild();
  }
  protected samples(c: CounterChild, labels: string, out: string[]): void {
    out.push(`${this.name}${labels ? `{${labels}}` : ''} ${formatValue(c.value)}`);
  }
  inc(n = 1): void {
    this.only.inc(n);
  }
  set(v: number): void {
    this.only.set(v);
  }
}

export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class Gauge extends Labelled<GaugeChild> {
  readonly type = 'gauge';
  protected create(): GaugeChild {
    return new GaugeChild();
  }
  protected samples(g: GaugeChild, labels: string, out: string[]): void {
    out.push(`${this.name}${labels ? `{${labels}}` : ''} ${formatValue(g.value)}`);
  }
  set(v: number): void {
    this.only.set(v);
  }
}

export class HistogramChild {
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative (made cumulative when rendered); the last is over every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class Histogram extends Labelled<HistogramChild> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  #le: string[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))
    ) {
      throw new Error(`metrics: the buckets of ${name} must be finite and increasing`);
    }
    this.buckets = buckets;
    this.#le = [...buckets.map(formatValue), '+Inf'];
  }

  protected create(): HistogramChild {
    return new HistogramChild(this.buckets);
  }

  protected samples(h: HistogramChild, labels: string, out: string[]): void {
    const sep = labels ? `${labels},` : '';
    let cumulative = 0;
    for (let i = 0; i < this.#le.length; i++) {
      cumulative += h.counts[i]!;
      out.push(`${this.name}_bucket{${sep}le="${this.#le[i]}"} ${cumulative}`);
    }
    const plain = labels ? `{${labels}}` : '';
    out.push(
      `${this.name}_sum${plain} ${formatValue(h.sum)}`,
      `${this.name}_count${plain} ${h.count}`,
    );
  }

  observe(v: number): void {
    this.only.observe(v);
  }
}

/** Seconds, from under a millisecond to ten seconds: store round trips, requests, event latency. */
export const FAST_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
] as const;
/** Seconds, from a tenth of a second to ten minutes: model calls, commands. */
export const SLOW_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;

/** The metrics of one process; `render()` is the body of `GET /metrics`. */
export class MetricsRegistry {
  #families = new Map<string, Family>();
  #collectors = new Set<() => void | Promise<void>>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = FAST_BUCKETS,
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  #add<F extends Family>(family: F): F {
    if (this.#families.has(family.name))
      throw new Error(`metrics: ${family.name} is registered twice`);
    this.#families.set(family.name, family);
    return family;
  }

  /** Runs before every render, to copy values kept elsewhere into gauges; returns the way to remove it. */
  onCollect(collect: () => void | Promise<void>): () => void {
    this.#collectors.add(collect);
    return () => void this.#collectors.delete(collect);
  }

  /** The exposition text. A collector that fails leaves its families as they were. */
  async render(): Promise<string> {
    await Promise.allSettled([...this.#collectors].map(async (c) => c()));
    const out: string[] = [];
    for (const f of this.#families.values()) f.render(out);
    return `${out.join('\n')}\n`;
  }
}
