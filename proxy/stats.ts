/**
 * @module proxy/stats
 * Request statistics kept on the hot path without allocation (per cluster, a Map from status code to a
 * counter and a duration histogram) and rendered as Prometheus text on demand. Stats are keyed by
 * cluster name and survive config reloads.
 */

/** Istio's request-duration buckets, in milliseconds. */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

class CodeStats {
  count = 0;
  sumMs = 0;
  readonly buckets = new Float64Array(DURATION_BUCKETS_MS.length);
}

export class ClusterStats {
  readonly byCode = new Map<number, CodeStats>();
  readonly flags = new Map<string, number>();

  record(code: number, durationMs: number, flags: string): void {
    let s = this.byCode.get(code);
    if (s === undefined) this.byCode.set(code, (s = new CodeStats()));
    s.count++;
    s.sumMs += durationMs;
    const b = s.buckets;
    for (let i = 0; i < DURATION_BUCKETS_MS.length; i++) {
      if (durationMs <= DURATION_BUCKETS_MS[i]!) { b[i]!++; break; }
    }
    if (flags !== "") this.flags.set(flags, (this.flags.get(flags) ?? 0) + 1);
  }

  total(): number {
    let n = 0;
    for (const s of this.byCode.values()) n += s.count;
    return n;
  }
}

export interface StatsRegistry {
  cluster(name: string): ClusterStats;
  renderPrometheus(): string;
}

/** Requests with no cluster (no route, direct responses, redirects) are kept under cluster `""`. */
export function createStatsRegistry(): StatsRegistry {
  const clusters = new Map<string, ClusterStats>();
  return {
    cluster(name) {
      let s = clusters.get(name);
      if (s === undefined) clusters.set(name, (s = new ClusterStats()));
      return s;
    },
    renderPrometheus() {
      const total: string[] = ["# HELP weft_requests_total Requests completed, by upstream cluster and response code.", "# TYPE weft_requests_total counter"];
      const hist: string[] = ["# HELP weft_request_duration_milliseconds Request duration from first byte received to last byte sent.", "# TYPE weft_request_duration_milliseconds histogram"];
      const flags: string[] = ["# HELP weft_response_flags_total Requests that ended with Envoy-style response flags.", "# TYPE weft_response_flags_total counter"];
      for (const [name, cs] of [...clusters].sort(([a], [b]) => a.localeCompare(b))) {
        const c = escapeLabel(name);
        for (const [code, s] of [...cs.byCode].sort(([a], [b]) => a - b)) {
          const labels = `cluster="${c}",response_code="${code}"`;
          total.push(`weft_requests_total{${labels}} ${s.count}`);
          let cum = 0;
          DURATION_BUCKETS_MS.forEach((le, i) => {
            cum += s.buckets[i]!;
            hist.push(`weft_request_duration_milliseconds_bucket{${labels},le="${le}"} ${cum}`);
          });
          hist.push(`weft_request_duration_milliseconds_bucket{${labels},le="+Inf"} ${s.count}`);
          hist.push(`weft_request_duration_milliseconds_sum{${labels}} ${round(s.sumMs)}`);
          hist.push(`weft_request_duration_milliseconds_count{${labels}} ${s.count}`);
        }
        for (const [f, n] of cs.flags) flags.push(`weft_response_flags_total{cluster="${c}",response_flags="${escapeLabel(f)}"} ${n}`);
      }
      return [...total, ...hist, ...flags].join("\n") + "\n";
    },
  };
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
