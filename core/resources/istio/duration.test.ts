import { describe, expect, it } from "vitest";
import { durationProblem, parseGoDuration } from "./duration.ts";

describe("parseGoDuration", () => {
  it("parses Go duration strings to nanoseconds", () => {
    expect(parseGoDuration("10s")).toBe(10e9);
    expect(parseGoDuration("1.5s")).toBe(1.5e9);
    expect(parseGoDuration("0.5s")).toBe(0.5e9);
    expect(parseGoDuration("100ms")).toBe(100e6);
    expect(parseGoDuration("1h30m")).toBe(5400e9);
    expect(parseGoDuration("2m3.5s")).toBe(123.5e9);
    expect(parseGoDuration("300us")).toBe(300e3);
    expect(parseGoDuration("300\u00b5s")).toBe(300e3);
    expect(parseGoDuration(".5s")).toBe(0.5e9);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("-1s")).toBe(-1e9);
  });

  it("rejects what Go rejects", () => {
    for (const bad of ["", "10", "1.5", "s", ".s", "1d", "1 s", "1s ", "10S", "1.2.3s", "+"]) {
      expect(parseGoDuration(bad)).toBe(undefined);
    }
  });
});

describe("durationProblem", () => {
  it("applies Istio's 1ms minimum and millisecond precision", () => {
    expect(durationProblem("1ms")).toBe(undefined);
    expect(durationProblem("0.001s")).toBe(undefined);
    expect(durationProblem("0s")).toContain("at least 1ms");
    expect(durationProblem("999us")).toContain("at least 1ms");
    expect(durationProblem("1500us")).toContain("ms precision");
    expect(durationProblem("-5s")).toContain("must not be negative");
  });

  it("can skip the Istio rules (cookie TTL 0s) or require whole seconds (CORS maxAge)", () => {
    expect(durationProblem("0s", { istio: false })).toBe(undefined);
    expect(durationProblem("1.5s", { seconds: true })).toContain("seconds precision");
    expect(durationProblem("24h", { seconds: true })).toBe(undefined);
  });
});
