/**
 * @module core/resources/istio/duration
 * Duration strings as Istio reads them. Istio decodes its resources with the legacy golang/protobuf
 * `jsonpb` package, which parses `google.protobuf.Duration` with Go's `time.ParseDuration`, not the
 * strict protobuf JSON form: `"100ms"`, `"1.5s"`, `"5m"`, `"1h30m"` and `"0.5s"` are all accepted; a bare
 * number (`"10"`, `10`) is not. Istio's validation then requires most durations to be at least 1ms and
 * whole milliseconds (`agent.ValidateDuration`), which the CRDs mirror with `duration(self) >= duration('1ms')`.
 */
import { z } from "../../schema/index.ts";

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // micro sign
  "\u03bcs": 1e3, // Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const MAX_NS = 2 ** 63 - 1;

/** Parses a Go duration string to nanoseconds; undefined when Go would reject it. */
export function parseGoDuration(input: string): number | undefined {
  let s = input;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return undefined;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    const numStart = i;
    while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
    const intPart = s.slice(numStart, i);
    let fracPart = "";
    if (s[i] === ".") {
      i++;
      const fracStart = i;
      while (i < s.length && s[i]! >= "0" && s[i]! <= "9") i++;
      fracPart = s.slice(fracStart, i);
    }
    if (intPart === "" && fracPart === "") return undefined;
    const unitStart = i;
    while (i < s.length && s[i] !== "." && (s[i]! < "0" || s[i]! > "9")) i++;
    const scale = UNIT_NS[s.slice(unitStart, i)];
    if (scale === undefined) return undefined;
    total += Number(`${intPart || "0"}.${fracPart || "0"}`) * scale;
    if (total > MAX_NS) return undefined;
  }
  return sign * total;
}

export interface DurationRules {
  /** Require at least 1ms and whole milliseconds (Istio's `ValidateDuration`). Default true. */
  istio?: boolean;
  /** Require whole seconds (e.g. CORS `maxAge`). */
  seconds?: boolean;
}

const HINT = 'use a number with a unit, e.g. "10s", "1.5s", "100ms", "5m", "1h"';

/** Problem with a duration string, or undefined when it is acceptable. */
export function durationProblem(value: string, rules: DurationRules = {}): string | undefined {
  const ns = parseGoDuration(value);
  if (ns === undefined) return `invalid duration "${value}": ${HINT}`;
  if (ns < 0) return `duration "${value}" must not be negative`;
  if (rules.istio !== false) {
    if (ns < 1e6) return `duration "${value}" must be at least 1ms`;
    if (Math.abs(ns / 1e6 - Math.round(ns / 1e6)) > 1e-6) return `duration "${value}": only durations to ms precision are supported`;
  }
  if (rules.seconds && Math.abs(ns / 1e9 - Math.round(ns / 1e9)) > 1e-9) return `duration "${value}" is accurate only to seconds precision`;
  return undefined;
}

/** A duration field (see the module comment for the accepted syntax). */
export function duration(rules: DurationRules = {}) {
  return z.string({ error: () => `expected a duration string: ${HINT}` }).superRefine((v, ctx) => {
    const problem = durationProblem(v, rules);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}
