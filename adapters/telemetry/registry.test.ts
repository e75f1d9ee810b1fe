import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMetricsRegistry, escapeHelp, escapeLabelValue, formatValue, labelString } from "./registry.ts";

/** Parses one sample line's label set the way the exposition format defines it (for round trips). */
function parseLabels(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf("=", i);
    const name = body.slice(i, eq);
    let j = eq + 2;
    let v = "";
    while (body[j] !== '"') {
      if (body[j] === "\\") {
        const n = body[j + 1];
        v += n === "n" ? "\n" : n;
        j += 2;
      } else v += body[j++];
    }
    out[name] = v;
    i = j + 2;
  }
  return out;
}

describe("exposition escaping", () => {
  it("escapes backslash, double quote and line feed in label values, and backslash and line feed in HELP", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue("plain")).toBe("plain");
    expect(escapeHelp('say "hi"\\\n')).toBe('say "hi"\\\\\\n');
  });

  it("round-trips any label value through the text format", () => {
    const unit = fc.oneof(fc.constantFrom("\\", '"', "\n", "\r", "{", "}", ",", "=", "é", "😀", "\u2028"), fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }));
    fc.assert(fc.property(fc.string({ unit, maxLength: 40 }), (value) => {
      const reg = createMetricsRegistry();
      reg.counter("x_total", "x").child(labelString(["v"], [value])).inc();
      const line = reg.render().split("\n")[2]!;
      expect(line.startsWith("x_total{")).toBe(true);
      expect(line.endsWith("} 1")).toBe(true);
      expect(line.includes("\n")).toBe(false);
      expect(parseLabels(line.slice("x_total{".length, -"} 1".length))).toEqual({ v: value });
    }));
  });

  it("formats special values as the format spells them", () => {
    expect([formatValue(NaN), formatValue(Infinity), formatValue(-Infinity), formatValue(0.25), formatValue(3600000)])
      .toEqual(["NaN", "+Inf", "-Inf", "0.25", "3600000"]);
  });

  it("rejects invalid metric and label names", () => {
    const reg = createMetricsRegistry();
    expect(() => reg.counter("1bad", "x")).toThrow(/invalid metric name/);
    expect(() => labelString(["bad-name"], ["v"])).toThrow(/invalid label name/);
    expect(() => labelString(["__reserved"], ["v"])).toThrow(/invalid label name/);
    reg.counter("ok_total", "x");
    expect(() => reg.histogram("ok_total", "x", [1])).toThrow(/already registered as a counter/);
    expect(() => reg.histogram("h", "x", [2, 1])).toThrow(/strictly increasing/);
  });
});

describe("registry", () => {
  it("renders counters, gauges and cumulative histograms with HELP and TYPE", () => {
    const reg = createMetricsRegistry();
    const c = reg.counter("requests_total", "Requests.");
    c.child(labelString(["code"], ["200"])).inc(3);
    c.child(labelString(["code"], ["503"])).inc();
    reg.gauge("inflight", "In flight.").child("").set(2);
    const h = reg.histogram("latency_ms", "Latency.", [1, 10]).child(labelString(["route"], ["a"]));
    for (const v of [0.5, 1, 5, 50]) h.observe(v);
    expect(reg.render()).toBe([
      "# HELP requests_total Requests.", "# TYPE requests_total counter",
      'requests_total{code="200"} 3', 'requests_total{code="503"} 1',
      "# HELP inflight In flight.", "# TYPE inflight gauge", "inflight 2",
      "# HELP latency_ms Latency.", "# TYPE latency_ms histogram",
      'latency_ms_bucket{route="a",le="1"} 2', 'latency_ms_bucket{route="a",le="10"} 3', 'latency_ms_bucket{route="a",le="+Inf"} 4',
      'latency_ms_sum{route="a"} 56.5', 'latency_ms_count{route="a"} 4', "",
    ].join("\n"));
  });

  it("gives the same series for the same label string, and omits families without series", () => {
    const reg = createMetricsRegistry();
    const f = reg.counter("a_total", "a");
    expect(f.child('k="v"')).toBe(f.child('k="v"'));
    reg.counter("empty_total", "never used");
    f.child('k="v"').inc();
    expect(reg.render()).not.toContain("empty_total");
  });

  it("stops creating series at the limit and counts the overflow", () => {
    const reg = createMetricsRegistry({ maxSeries: 2 });
    const f = reg.counter("a_total", "a");
    for (const v of ["1", "2", "3", "4"]) f.child(labelString(["v"], [v])).inc();
    expect(f.series().size).toBe(2);
    expect(reg.overflow.value).toBe(2);
    expect(reg.render()).toContain("weft_metrics_series_overflow_total 2");
  });
});
