import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { RetryPolicy } from "../../core/ir/model.ts";
import { createClusterManager } from "./cluster-manager.ts";
import { recordHealthCheck, statusPasses } from "./health.ts";
import { UpstreamHost } from "./host.ts";
import { createOutlierDetector } from "./outlier.ts";
import { backoffMs, isRetriable, parseGrpcTimeout, retryAllowed } from "./retry.ts";
import { createStatsRegistry } from "../stats.ts";

const policy = (retryOn: string[], extra: Partial<RetryPolicy> = {}): RetryPolicy => ({ attempts: 2, retryOn, ...extra });

describe("retry conditions (Envoy retry_on)", () => {
  it.each([
    [["5xx"], { kind: "response", status: 503 }, true],
    [["5xx"], { kind: "response", status: 404 }, false],
    [["5xx"], { kind: "error", flag: "UF" }, true],
    [["gateway-error"], { kind: "response", status: 500 }, false],
    [["gateway-error"], { kind: "response", status: 504 }, true],
    [["connect-failure"], { kind: "error", flag: "UF" }, true],
    [["connect-failure"], { kind: "error", flag: "UC" }, false],
    [["reset"], { kind: "error", flag: "UC" }, true],
    [["reset"], { kind: "response", status: 503 }, false],
    [["refused-stream"], { kind: "error", flag: "UC", refusedStream: true }, true],
    [["refused-stream"], { kind: "error", flag: "UC" }, false],
    [["retriable-4xx"], { kind: "response", status: 409 }, true],
    [["retriable-4xx"], { kind: "response", status: 400 }, false],
    [["unavailable"], { kind: "response", status: 200, grpcStatus: 14 }, true],
    [["cancelled", "deadline-exceeded", "resource-exhausted"], { kind: "response", status: 200, grpcStatus: 8 }, true],
    [["unavailable"], { kind: "response", status: 200, grpcStatus: 0 }, false],
  ] as const)("%j retries %j: %s", (on, outcome, expected) => {
    expect(isRetriable(policy([...on]), outcome)).toBe(expected);
  });

  it("retriable-status-codes uses the listed codes", () => {
    const p = policy(["retriable-status-codes"], { retriableStatusCodes: [418] });
    expect(isRetriable(p, { kind: "response", status: 418 })).toBe(true);
    expect(isRetriable(p, { kind: "response", status: 503 })).toBe(false);
  });

  it("backoff is fully jittered below min(max, base × (2^n − 1))", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
      const p = policy(["5xx"], { backoff: { baseMs: 25, maxMs: 250 } });
      const d = backoffMs(p, n, () => r);
      return d >= 0 && d < Math.min(250, 25 * (2 ** n - 1));
    }));
  });

  it("a budget allows percent of active requests, at least minConcurrency; without one, maxRetries", () => {
    const budget = policy(["5xx"], { budget: { percent: 20, minConcurrency: 3 } });
    expect(retryAllowed(budget, 2, 5, 0)).toBe(true);
    expect(retryAllowed(budget, 3, 5, 100)).toBe(false);
    expect(retryAllowed(budget, 19, 100, 0)).toBe(true);
    expect(retryAllowed(budget, 20, 100, 0)).toBe(false);
    expect(retryAllowed(policy(["5xx"]), 2, 100, 3)).toBe(true);
    expect(retryAllowed(policy(["5xx"]), 3, 100, 3)).toBe(false);
  });

  it("parses grpc-timeout", () => {
    expect(parseGrpcTimeout("1S")).toBe(1000);
    expect(parseGrpcTimeout("250m")).toBe(250);
    expect(parseGrpcTimeout("2M")).toBe(120_000);
    expect(parseGrpcTimeout("100u")).toBe(0.1);
    expect(parseGrpcTimeout("123456789S")).toBeUndefined();
    expect(parseGrpcTimeout("1s")).toBeUndefined();
  });
});

const hosts = (n: number) => Array.from({ length: n }, (_, i) => new UpstreamHost({ address: `10.0.0.${i + 1}`, port: 80, health: "unknown" }));

describe("outlier detection (injected time)", () => {
  it("ejects after consecutive 5xx, for longer each time, and sweeps back after the ejection time", () => {
    const hs = hosts(4);
    const od = createOutlierDetector({ consecutive5xx: 3, intervalMs: 1000, baseEjectionMs: 10_000, maxEjectionPercent: 50 }, () => hs);
    const h = hs[0]!;
    expect(od.record(h, 500, 0)).toBe(false);
    expect(od.record(h, 200, 0)).toBe(false); // a success resets the count
    od.record(h, 500, 0);
    od.record(h, "local", 0);
    expect(od.record(h, 503, 0)).toBe(true);
    expect(h.usable).toBe(false);
    expect(od.sweep(9_999)).toBe(false);
    expect(od.sweep(10_000)).toBe(true);
    expect(h.usable).toBe(true);
    for (let i = 0; i < 3; i++) od.record(h, 500, 20_000);
    expect(h.ejectedUntil).toBe(20_000 + 2 * 10_000); // second ejection: twice as long
  });

  it("never ejects more than maxEjectionPercent (one host always may be)", () => {
    const hs = hosts(4);
    const od = createOutlierDetector({ consecutive5xx: 1, intervalMs: 1000, baseEjectionMs: 10_000, maxEjectionPercent: 25 }, () => hs);
    expect(od.record(hs[0]!, 500, 0)).toBe(true);
    expect(od.record(hs[1]!, 500, 0)).toBe(false);
    expect(hs.filter((h) => h.usable)).toHaveLength(3);
  });

  it("consecutive gateway errors count 502/503/504 and local failures only", () => {
    const hs = hosts(2);
    const od = createOutlierDetector({ consecutive5xx: 0, consecutiveGatewayErrors: 2, intervalMs: 1000, baseEjectionMs: 1000, maxEjectionPercent: 100 }, () => hs);
    od.record(hs[0]!, 500, 0);
    expect(od.record(hs[0]!, 500, 0)).toBe(false);
    od.record(hs[0]!, 502, 0);
    expect(od.record(hs[0]!, "local", 0)).toBe(true);
  });

  it("the balancer skips ejected and failed hosts; with localities it prefers the local one", () => {
    const stats = createStatsRegistry();
    const cm = createClusterManager([{
      name: "c", protocol: "http", lb: { kind: "round-robin" }, tls: { mode: "disable" },
      endpoints: [
        { address: "10.0.0.1", port: 80, health: "unknown", locality: { region: "eu", zone: "a" } },
        { address: "10.0.0.2", port: 80, health: "unknown", locality: { region: "eu", zone: "a" } },
        { address: "10.0.0.3", port: 80, health: "unknown", locality: { region: "eu", zone: "b" } },
        { address: "10.0.0.4", port: 80, health: "unknown", locality: { region: "us", zone: "a" } },
      ],
    }], { random: () => 0, stats, locality: { region: "eu", zone: "a" } });
    const c = cm.get("c")!;
    const picks = () => new Set(Array.from({ length: 6 }, () => c.pick()!.address));
    expect(picks()).toEqual(new Set(["10.0.0.1", "10.0.0.2"]));
    c.hosts[0]!.ejectedUntil = 1;
    c.refreshHealth();
    expect(picks()).toEqual(new Set(["10.0.0.2"]));
    c.hosts[1]!.hcFailed = true;
    c.refreshHealth();
    expect(picks()).toEqual(new Set(["10.0.0.3"])); // local zone empty: the same region next
    c.hosts[2]!.hcFailed = true;
    c.refreshHealth();
    expect(picks()).toEqual(new Set(["10.0.0.4"])); // then anywhere
  });
});

describe("active health check thresholds", () => {
  const check = { kind: "http" as const, path: "/h", intervalMs: 1, timeoutMs: 1, healthyThreshold: 2, unhealthyThreshold: 3 };
  it("the first result decides; later changes need the thresholds", () => {
    const h = hosts(1)[0]!;
    expect(recordHealthCheck(h, check, false)).toBe(true);
    expect(h.usable).toBe(false);
    expect(recordHealthCheck(h, check, true)).toBe(false);
    expect(recordHealthCheck(h, check, true)).toBe(true);
    expect(h.usable).toBe(true);
    expect(recordHealthCheck(h, check, false)).toBe(false);
    expect(recordHealthCheck(h, check, false)).toBe(false);
    expect(recordHealthCheck(h, check, false)).toBe(true);
    expect(h.healthFlags).toBe("/failed_active_hc");
  });
  it("expected statuses", () => {
    expect(statusPasses(check, 200)).toBe(true);
    expect(statusPasses(check, 302)).toBe(false);
    expect(statusPasses({ ...check, expectedStatuses: [200, 302] }, 302)).toBe(true);
  });
});
