// The reconnect backoff: exponential, capped, jittered within [step/2, step].
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./xds-client.ts";

describe("backoffDelay", () => {
  it("stays within half a step and a step, doubling from the base up to the cap", () => {
    fc.assert(fc.property(fc.nat(64), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 120_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, base, max, r) => {
      const step = Math.min(max, base * 2 ** Math.min(n, 30));
      const d = backoffDelay(n, base, max, () => r);
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }));
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(3, 500, 30_000, () => 0.999999)).toBeCloseTo(4000, 0);
    expect(backoffDelay(20, 500, 30_000, () => 0)).toBe(15_000);
  });
});
