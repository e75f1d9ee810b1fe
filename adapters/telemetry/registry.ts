/**
 * @module adapters/telemetry/registry
 * A small in-process metrics registry made for a proxy's hot path, and its Prometheus text exposition
 * (format 0.0.4). A family (counter, gauge or histogram) maps a precomputed label string
 * (`a="x",b="y"`, built once with `labelString`) to a series object; callers keep the series they get
 * and update it with a field increment, so recording allocates nothing. Histograms keep per-bucket
 * counts in a Float64Array and are made cumulative only when rendered. A family holds at most
 * `maxSeries` series; beyond that, updates go to a detached series and are counted in
 * `weft_metrics_series_overflow_total`, so a label explosion cannot exhaust memory.
 *
 * Why not `@opentelemetry/sdk-metrics` + `@opentelemetry/exporter-prometheus`: measured in one run on
 * this machine (`node --import tsx adapters/telemetry/bench/metrics.ts`; docs/telemetry.md), recording one
 * request (a counter and three histograms under Istio's 21 labels) costs 72 ns of CPU here and 32 µs with
 * the SDK (about 450×), whose every `add`/`record` sorts and serializes the attribute object to find its
 * series; one scrape of the same series renders about 5× faster here too. 32 µs per request would be a
 * third of the CPU budget of a proxy at 10,000 req/s per core. The SDK's exporter also needs Node's
 * http server, which workerd does not have. The exposition here is small and is checked against a real
 * Prometheus in interop-tests/telemetry.
 */

/** The Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value: backslash, double quote and line feed (the exposition format's rules). */
export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Formats a sample value: `NaN`, `+Inf`, `-Inf`, or the shortest decimal. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** Builds the label string `a="x",b="y"` once; throws on an invalid or reserved label name. */
export function labelString(names: readonly string[], values: readonly string[]): string {
  if (names.length !== values.length) throw new Error(`labelString: ${names.length} names but ${values.length} values`);
  let out = "";
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`invalid label name "${name}"`);
    out += `${i === 0 ? "" : ","}${name}="${escapeLabelValue(values[i]!)}"`;
  }
  return out;
}

/** A monotonically increasing count. */
export class Counter {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

/** A value that goes up and down. */
export class Gauge {
  value = 0;
  set(n: number): void {
    this.value = n;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** Per-bucket counts (not cumulative) plus sum and count; `bounds` is shared by the family. */
export class Histogram {
  readonly bounds: Float64Array;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

type Kind = "counter" | "gauge" | "histogram";
type SeriesOf<K extends Kind> = K extends "counter" ? Counter : K extends "gauge" ? Gauge : Histogram;

/** One metric family: series keyed by their label string. */
export interface Family<T> {
  readonly name: string;
  readonly help: string;
  readonly type: Kind;
  /** The series for `labels` (a `labelString` result, `""` for none), created on first use. */
  child(labels: string): T;
  /** The series by label string, in creation order. */
  series(): ReadonlyMap<string, T>;
}

export interface RegistryOptions {
  /** Most series per family (default 10,000). */
  maxSeries?: number;
}

export interface MetricsRegistry {
  counter(name: string, help: string): Family<Counter>;
  gauge(name: string, help: string): Family<Gauge>;
  /** `buckets`: upper bounds, strictly increasing, without `+Inf`. */
  histogram(name: string, help: string, buckets: readonly number[]): Family<Histogram>;
  /** The family called `name`, if registered. */
  get(name: string): Family<Counter | Gauge | Histogram> | undefined;
  /** Series that could not be created because a family was full. */
  readonly overflow: Counter;
  /** The whole registry in the Prometheus text format 0.0.4. */
  render(): string;
}

interface FamilyImpl<T> extends Family<T> {
  bounds?: Float64Array;
}

/**
 * Creates an empty registry.
 * @example
 * const reg = createMetricsRegistry();
 * const hits = reg.counter("cache_hits_total", "Cache hits.").child(labelString(["cache"], ["tls"]));
 * hits.inc();
 * reg.render(); // # HELP cache_hits_total Cache hits.\n# TYPE cache_hits_total counter\ncache_hits_total{cache="tls"} 1\n
 */
export function createMetricsRegistry(options: RegistryOptions = {}): MetricsRegistry {
  const maxSeries = options.maxSeries ?? 10_000;
  const families = new Map<string, FamilyImpl<Counter | Gauge | Histogram>>();
  const overflow = new Counter();

  function family<K extends Kind>(type: K, name: string, help: string, make: () => SeriesOf<K>, bounds?: Float64Array): Family<SeriesOf<K>> {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    const existing = families.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric "${name}" is already registered as a ${existing.type}`);
      return existing as unknown as Family<SeriesOf<K>>;
    }
    const map = new Map<string, SeriesOf<K>>();
    const f: FamilyImpl<SeriesOf<K>> = {
      name, help, type, bounds,
      child(labels) {
        let s = map.get(labels);
        if (s === undefined) {
          s = make();
          if (map.size < maxSeries) map.set(labels, s);
          else overflow.inc();
        }
        return s;
      },
      series: () => map,
    };
    families.set(name, f as unknown as FamilyImpl<Counter | Gauge | Histogram>);
    return f;
  }

  return {
    counter: (name, help) => family("counter", name, help, () => new Counter()),
    gauge: (name, help) => family("gauge", name, help, () => new Gauge()),
    histogram(name, help, buckets) {
      for (let i = 0; i < buckets.length; i++) {
        if (!Number.isFinite(buckets[i]!) || (i > 0 && buckets[i]! <= buckets[i - 1]!)) {
          throw new Error(`histogram "${name}": buckets must be finite and strictly increasing`);
        }
      }
      const bounds = Float64Array.from(buckets);
      return family("histogram", name, help, () => new Histogram(bounds), bounds);
    },
    get: (name) => families.get(name),
    overflow,
    render() {
      const out: string[] = [];
      for (const f of families.values()) renderFamily(f, out);
      if (overflow.value > 0) {
        out.push("# HELP weft_metrics_series_overflow_total Series not created because their family reached its series limit.",
          "# TYPE weft_metrics_series_overflow_total counter", `weft_metrics_series_overflow_total ${overflow.value}`);
      }
      return out.length === 0 ? "" : out.join("\n") + "\n";
    },
  };
}

function renderFamily(f: FamilyImpl<Counter | Gauge | Histogram>, out: string[]): void {
  const series = f.series();
  if (series.size === 0) return;
  out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
  if (f.type !== "histogram") {
    for (const [labels, s] of series) out.push(`${f.name}${labels === "" ? "" : `{${labels}}`} ${formatValue((s as Counter).value)}`);
    return;
  }
  const les = Array.from(f.bounds!, (b) => `le="${formatValue(b)}"`);
  les.push('le="+Inf"');
  for (const [labels, s] of series) {
    const h = s as Histogram;
    const pre = labels === "" ? "{" : `{${labels},`;
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += h.counts[i]!;
      out.push(`${f.name}_bucket${pre}${les[i]}} ${cumulative}`);
    }
    const braces = labels === "" ? "" : `{${labels}}`;
    out.push(`${f.name}_sum${braces} ${formatValue(h.sum)}`, `${f.name}_count${braces} ${h.count}`);
  }
}
