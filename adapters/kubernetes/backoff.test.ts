import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.ts";

describe("backoffDelay", () => {
  it("doubles from the base up to the cap, with half of each delay jittered", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, { baseMs: 100, maxMs: 1_000 }, mid))).toEqual([75, 150, 300, 600, 750, 750]);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1_000 }, () => 0)).toBe(200);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1_000 }, () => 1)).toBe(400);
  });

  it("stays within [nominal/2, nominal] for any attempt and random value", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
      const nominal = Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 30));
      const d = backoffDelay(attempt, {}, () => r);
      return d >= Math.floor(nominal / 2) && d <= nominal;
    }));
  });
});
