import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { UpstreamHost } from "./host.ts";
import { createLoadBalancer } from "./load-balancer.ts";
import { hash32 } from "./hash.ts";

/** mulberry32: a seeded PRNG so distributions are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hosts = (weights: number[]) => weights.map((w, i) => new UpstreamHost({ address: `10.0.0.${i + 1}`, port: 80, weight: w, health: "healthy" }));

function counts(pick: () => UpstreamHost | undefined, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick()!;
    m.set(h.key, (m.get(h.key) ?? 0) + 1);
  }
  return m;
}

describe("round robin", () => {
  it("cycles through equal hosts", () => {
    const hs = hosts([1, 1, 1]);
    const lb = createLoadBalancer({ kind: "round-robin" }, hs, seeded(1));
    const seq = Array.from({ length: 6 }, () => lb.pick()!.key);
    expect(new Set(seq.slice(0, 3)).size).toBe(3);
    expect(seq.slice(3)).toEqual(seq.slice(0, 3));
  });
  it("spreads weighted hosts smoothly and exactly by weight", () => {
    const hs = hosts([5, 1, 1]);
    const lb = createLoadBalancer({ kind: "round-robin" }, hs, seeded(1));
    const seq = Array.from({ length: 7 }, () => lb.pick()!.key);
    expect(seq.filter((k) => k === hs[0]!.key)).toHaveLength(5);
    // smooth: the heavy host never takes more than 3 turns in a row
    expect(seq.join(",")).not.toContain([hs[0]!.key, hs[0]!.key, hs[0]!.key, hs[0]!.key].join(","));
  });
});

describe("random and least request", () => {
  it("random follows weights", () => {
    const hs = hosts([3, 1]);
    const c = counts(createLoadBalancer({ kind: "random" }, hs, seeded(42)).pick, 40_000);
    const share = c.get(hs[0]!.key)! / 40_000;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });
  it("least request prefers the host with fewer requests in flight", () => {
    const hs = hosts([1, 1, 1, 1]);
    hs[0]!.activeRequests = 100;
    hs[1]!.activeRequests = 100;
    hs[2]!.activeRequests = 100;
    const c = counts(createLoadBalancer({ kind: "least-request" }, hs, seeded(3)).pick, 10_000);
    // P2C: the idle host wins whenever it is one of the two samples (7/16 of the time).
    expect(c.get(hs[3]!.key)! / 10_000).toBeGreaterThan(0.4);
    expect(c.get(hs[0]!.key)! / 10_000).toBeLessThan(0.25);
  });
});

describe("consistent hashing", () => {
  for (const kind of ["ring-hash", "maglev"] as const) {
    it(`${kind}: the same key goes to the same host, keys spread over hosts`, () => {
      const hs = hosts([1, 1, 1, 1]);
      const lb = createLoadBalancer({ kind }, hs, seeded(5));
      fc.assert(fc.property(fc.string(), (key) => lb.pick(hash32(key)) === lb.pick(hash32(key))));
      const c = counts((() => { let i = 0; return () => lb.pick(hash32(`user-${i++}`)); })(), 20_000);
      for (const h of hs) {
        expect(c.get(h.key)! / 20_000).toBeGreaterThan(0.15);
        expect(c.get(h.key)! / 20_000).toBeLessThan(0.35);
      }
    });
    it(`${kind}: removing one host moves only that host's keys (mostly)`, () => {
      const hs = hosts([1, 1, 1, 1, 1]);
      const before = createLoadBalancer({ kind }, hs, seeded(5));
      const after = createLoadBalancer({ kind }, hs.slice(0, 4), seeded(5));
      let moved = 0;
      let unaffected = 0;
      for (let i = 0; i < 5000; i++) {
        const h = hash32(`k${i}`);
        const b = before.pick(h)!;
        if (b === hs[4]) continue;
        unaffected++;
        if (after.pick(h) !== b) moved++;
      }
      // Modulo hashing would move ~80% of these keys; consistent hashing moves few.
      expect(moved / unaffected).toBeLessThan(0.25);
    });
  }
  it("maglev honours weights", () => {
    const hs = hosts([3, 1]);
    const lb = createLoadBalancer({ kind: "maglev", tableSize: 1009 }, hs, seeded(1));
    const c = counts((() => { let i = 0; return () => lb.pick(hash32(`u${i++}`)); })(), 20_000);
    expect(c.get(hs[0]!.key)! / 20_000).toBeGreaterThan(0.7);
    expect(c.get(hs[0]!.key)! / 20_000).toBeLessThan(0.8);
  });
  it("without a hash key, hashing balancers pick by weight at random", () => {
    const hs = hosts([1, 1]);
    const c = counts(createLoadBalancer({ kind: "ring-hash" }, hs, seeded(9)).pick, 2000);
    expect(c.size).toBe(2);
  });
});

it("no hosts → undefined (the proxy answers 503 UH)", () => {
  expect(createLoadBalancer({ kind: "round-robin" }, [], seeded(1)).pick()).toBeUndefined();
});
