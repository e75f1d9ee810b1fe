import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  extractTraceContext, injectTraceContext, parseB3Multi, parseB3Single, parseTraceparent, randomHex, startHop, validTraceState,
  type PropagationFormat,
} from "./propagation.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

function headers(h: Record<string, string>): (name: string) => string | undefined {
  return (name) => h[name];
}

/** A deterministic "random" source cycling through fixed values. */
function seq(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe("W3C traceparent", () => {
  it("parses the specification's example and its sampled flag", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled).toBe(false);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-09`)?.sampled).toBe(true);
  });

  it.each([
    ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["extra field in version 00", `00-${TRACE}-${SPAN}-01-extra`],
    ["short trace id", `00-${TRACE.slice(2)}-${SPAN}-01`],
    ["bad flags", `00-${TRACE}-${SPAN}-1`],
    ["garbage", "hello"],
  ])("rejects %s", (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it("reads a later version as version 00, ignoring extra fields", () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
  });

  it("keeps a valid tracestate and drops an invalid one", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")?.traceState).toBe("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    expect(validTraceState("UPPER=1")).toBeUndefined();
    expect(validTraceState(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","))).toBeUndefined();
    expect(validTraceState("tenant@vendor=value")).toBe("tenant@vendor=value");
  });
});

describe("B3", () => {
  it("parses the multi-header form, 64-bit trace ids, parent, sampled and debug", () => {
    expect(parseB3Multi(headers({ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-parentspanid": "05e3ac9a4f6e3b90", "x-b3-sampled": "1" })))
      .toEqual({ traceId: TRACE, spanId: SPAN, parentSpanId: "05e3ac9a4f6e3b90", sampled: true, traceId64: false });
    expect(parseB3Multi(headers({ "x-b3-traceid": "a3ce929d0e0e4736", "x-b3-spanid": SPAN, "x-b3-sampled": "0" })))
      .toEqual({ traceId: "0000000000000000a3ce929d0e0e4736", spanId: SPAN, sampled: false, traceId64: true });
    expect(parseB3Multi(headers({ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-flags": "1", "x-b3-sampled": "0" }))?.sampled).toBe(true);
    expect(parseB3Multi(headers({ "x-b3-traceid": TRACE }))).toBeUndefined();
  });

  it("parses the single-header form and bare decisions", () => {
    expect(parseB3Single(`${TRACE}-${SPAN}-1-05e3ac9a4f6e3b90`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, parentSpanId: "05e3ac9a4f6e3b90", traceId64: false });
    expect(parseB3Single(`${TRACE}-${SPAN}`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: undefined, traceId64: false });
    expect(parseB3Single(`${TRACE}-${SPAN}-d`)).toMatchObject({ sampled: true, debug: true });
    expect(parseB3Single("0")).toEqual({ decisionOnly: false });
    expect(parseB3Single(`${TRACE}-${SPAN}-x`)).toBeUndefined();
  });
});

describe("extract, hop, inject", () => {
  it("prefers the first configured format and honours a bare B3 decision for a new trace", () => {
    const h = headers({ traceparent: `00-${TRACE}-${SPAN}-01`, "x-b3-traceid": "a3ce929d0e0e4736", "x-b3-spanid": "05e3ac9a4f6e3b90" });
    expect(extractTraceContext(h, ["w3c", "b3"]).context?.spanId).toBe(SPAN);
    expect(extractTraceContext(h, ["b3", "w3c"]).context?.spanId).toBe("05e3ac9a4f6e3b90");
    expect(extractTraceContext(headers({ b3: "0" }), ["w3c", "b3"])).toEqual({ context: undefined, sampled: false });
    expect(extractTraceContext(headers({ "x-b3-sampled": "1" }), ["b3"])).toEqual({ context: undefined, sampled: true });
  });

  it("starts a hop with the same trace, a new span id, the caller as parent and the caller's decision", () => {
    const incoming = extractTraceContext(headers({ traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: "a=1" }), ["w3c"]);
    const hop = startHop(incoming, { samplingPercent: 100, random: seq(0.5, 0.25) });
    expect(hop.traceId).toBe(TRACE);
    expect(hop.parentSpanId).toBe(SPAN);
    expect(hop.spanId).not.toBe(SPAN);
    expect(hop.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(hop.sampled).toBe(false);
    expect(hop.traceState).toBe("a=1");
  });

  it("starts a new trace with the sampling percentage when nobody decided", () => {
    const none = { context: undefined, sampled: undefined };
    expect(startHop(none, { samplingPercent: 10, random: seq(0.05) }).sampled).toBe(true);
    expect(startHop(none, { samplingPercent: 10, random: seq(0.5) }).sampled).toBe(false);
    expect(startHop(none, { samplingPercent: 0, random: seq(0.5) }).sampled).toBe(false);
    const t = startHop(none, { samplingPercent: 100, random: seq(0.1, 0.9) });
    expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(t.parentSpanId).toBeUndefined();
  });

  it("writes W3C and both B3 forms, keeping a 64-bit B3 trace id at 64 bits", () => {
    const out: Record<string, string> = {};
    const hop = { traceId: `${"0".repeat(16)}a3ce929d0e0e4736`, spanId: "1111111111111111", parentSpanId: SPAN, sampled: true, traceId64: true };
    injectTraceContext(hop, (k, v) => (out[k] = v), ["w3c", "b3", "b3-single"]);
    expect(out).toEqual({
      traceparent: `00-${"0".repeat(16)}a3ce929d0e0e4736-1111111111111111-01`,
      "x-b3-traceid": "a3ce929d0e0e4736", "x-b3-spanid": "1111111111111111", "x-b3-parentspanid": SPAN, "x-b3-sampled": "1",
      b3: `a3ce929d0e0e4736-1111111111111111-1-${SPAN}`,
    });
  });

  it("round-trips any context through every format (property)", () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => !/^0+$/.test(s));
    fc.assert(fc.property(hex(32), hex(16), fc.boolean(), fc.constantFrom<PropagationFormat>("w3c", "b3", "b3-single"), (traceId, spanId, sampled, format) => {
      const out: Record<string, string> = {};
      injectTraceContext({ traceId, spanId, sampled }, (k, v) => (out[k] = v), [format]);
      const back = extractTraceContext(headers(out), [format]).context;
      expect(back).toMatchObject({ traceId, spanId, sampled });
    }));
  });

  it("never makes an all-zero id", () => {
    expect(randomHex(16, seq(0, 0, 0, 0, 0.5))).not.toMatch(/^0+$/);
  });
});
