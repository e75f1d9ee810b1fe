import { describe, expect, it } from "vitest";
import { backoffDelay, startBlockingWatch, type WatchResult } from "./blocking-watch.ts";

type Step = WatchResult<string> | Error;

/** Runs a watch over scripted answers; records the index of every call, the values delivered and the sleeps. */
async function run(steps: Step[], extra: { minIntervalMs?: number; random?: () => number } = {}) {
  const indexes: number[] = [];
  const values: [string, number][] = [];
  const sleeps: number[] = [];
  let clock = 0;
  let i = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const w = startBlockingWatch<string>({
    name: "test",
    now: () => clock,
    random: extra.random ?? (() => 0.5),
    minIntervalMs: extra.minIntervalMs ?? 0,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    fetch: async (index) => {
      indexes.push(index);
      clock += 1;
      const step = steps[i++];
      if (step === undefined) {
        finish();
        return new Promise<never>(() => undefined);
      }
      if (step instanceof Error) throw step;
      return step;
    },
    onChange: (v, idx) => values.push([v, idx]),
  });
  await done;
  const state = w.state();
  w.stop();
  return { indexes, values, sleeps, state };
}

describe("blocking watch", () => {
  it("passes the last index and delivers only when it moves", async () => {
    const r = await run([{ index: 5, value: "a" }, { index: 5, value: "a" }, { index: 9, value: "b" }]);
    expect(r.indexes).toEqual([0, 5, 5, 9]);
    expect(r.values).toEqual([["a", 5], ["b", 9]]);
    expect(r.state.changes).toBe(2);
  });

  it("resets to 0 when the index goes backwards, and delivers the new view", async () => {
    const r = await run([{ index: 50, value: "old" }, { index: 7, value: "restarted" }, { index: 8, value: "next" }]);
    expect(r.indexes).toEqual([0, 50, 0, 8]);
    expect(r.values.map((v) => v[0])).toEqual(["old", "restarted", "next"]);
    expect(r.state.resets).toBe(1);
  });

  it("treats an index of 0 or none as 1 so that it cannot spin on a non-blocking read", async () => {
    const r = await run([{ index: 0, value: "a" }, { index: undefined, value: "a" }, { index: 3, value: "b" }]);
    expect(r.indexes).toEqual([0, 1, 1, 3]);
    expect(r.values).toEqual([["a", 1], ["b", 3]]);
  });

  it("keeps the last value on errors, backs off with growing jittered delays, and re-reads from 0", async () => {
    const r = await run([{ index: 10, value: "good" }, new Error("boom 1"), new Error("boom 2"), new Error("boom 3"), { index: 12, value: "again" }], { random: () => 1 });
    expect(r.indexes).toEqual([0, 10, 0, 0, 0, 12]);
    expect(r.values.map((v) => v[0])).toEqual(["good", "again"]);
    expect(r.sleeps).toEqual([250, 500, 1000]);
    expect(r.state.consecutiveFailures).toBe(0);
    expect(r.state.lastError).toBe("boom 3");
  });

  it("rate-limits calls to one per minimum interval", async () => {
    const r = await run([{ index: 1, value: "a" }, { index: 2, value: "b" }, { index: 3, value: "c" }], { minIntervalMs: 100 });
    expect(r.sleeps).toEqual([99, 99, 99]);
  });

  it("jitter stays within [cap/2, cap] and the cap holds", () => {
    for (const x of [0, 0.3, 0.999]) {
      const d = backoffDelay(20, 250, 30_000, () => x);
      expect(d).toBeGreaterThanOrEqual(15_000);
      expect(d).toBeLessThanOrEqual(30_000);
    }
    expect(backoffDelay(1, 250, 30_000, () => 0)).toBe(125);
  });
});
