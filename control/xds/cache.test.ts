// The snapshot, consistency check and cache: content versions, refusal of inconsistent snapshots, watches.
import { describe, expect, it } from "vitest";
import { createSnapshotCache } from "./cache.ts";
import { checkSnapshot } from "./consistency.ts";
import { TypeUrl } from "./resource-types.ts";
import { createSnapshot, SnapshotError } from "./snapshot.ts";
import { edsCluster, loadAssignment, rdsApiListener, routeConfig } from "./testing.ts";

const good = () => createSnapshot({
  [TypeUrl.listener]: [rdsApiListener("web", "web-routes")],
  [TypeUrl.route]: [routeConfig("web-routes", ["a", "b"])],
  [TypeUrl.cluster]: [edsCluster("a"), edsCluster("b")],
  [TypeUrl.endpoint]: [loadAssignment("a"), loadAssignment("b")],
}, "r1");

describe("snapshot", () => {
  it("versions each type by content, so unchanged types keep their version", () => {
    const s1 = good();
    const s2 = createSnapshot({
      [TypeUrl.listener]: [rdsApiListener("web", "web-routes")],
      [TypeUrl.route]: [routeConfig("web-routes", ["a", "b"])],
      [TypeUrl.cluster]: [edsCluster("a"), edsCluster("b")],
      [TypeUrl.endpoint]: [loadAssignment("a", [9090]), loadAssignment("b")],
    });
    expect(s2.version(TypeUrl.cluster)).toBe(s1.version(TypeUrl.cluster));
    expect(s2.version(TypeUrl.listener)).toBe(s1.version(TypeUrl.listener));
    expect(s2.version(TypeUrl.endpoint)).not.toBe(s1.version(TypeUrl.endpoint));
    expect(s2.resources(TypeUrl.endpoint).get("b")!.version).toBe(s1.resources(TypeUrl.endpoint).get("b")!.version);
    expect(s2.resources(TypeUrl.endpoint).get("a")!.version).not.toBe(s1.resources(TypeUrl.endpoint).get("a")!.version);
    expect(s1.counts).toEqual({ CDS: 2, EDS: 2, LDS: 1, RDS: 1, SDS: 0 });
  });

  it("is frozen and an empty type still has a version", () => {
    const s = good();
    expect(Object.isFrozen(s)).toBe(true);
    expect(s.version(TypeUrl.secret)).toBe("0");
  });

  it("refuses duplicate names", () => {
    expect(() => createSnapshot({ [TypeUrl.cluster]: [edsCluster("a"), edsCluster("a")] })).toThrow(/duplicate resource name "a"/);
  });
});

describe("consistency check", () => {
  it("passes a complete snapshot", () => {
    expect(checkSnapshot(good())).toEqual([]);
  });

  it("names every dangling reference", () => {
    const s = createSnapshot({
      [TypeUrl.listener]: [rdsApiListener("web", "missing-routes"), rdsApiListener("api", "api-routes")],
      [TypeUrl.route]: [routeConfig("api-routes", ["a", "ghost"])],
      [TypeUrl.cluster]: [edsCluster("a"), edsCluster("b")],
      [TypeUrl.endpoint]: [loadAssignment("a")],
    });
    expect(checkSnapshot(s)).toEqual([
      'cluster "b" uses EDS but the snapshot has no load assignment "b"',
      'route config "api-routes" virtual host "vh" route 1 names cluster "ghost", which the snapshot does not have',
      'listener "web" names route configuration "missing-routes" (RDS), which the snapshot does not have',
    ]);
  });
});

describe("snapshot cache", () => {
  it("publishes consistent snapshots to watchers and refuses inconsistent ones, keeping the previous", () => {
    const cache = createSnapshotCache();
    const seen: string[] = [];
    const cancel = cache.watch("n1", (s) => seen.push(s.label));
    const first = good();
    cache.setSnapshot("n1", first);
    const bad = createSnapshot({ [TypeUrl.cluster]: [edsCluster("x")] }, "bad");
    expect(() => cache.setSnapshot("n1", bad)).toThrow(SnapshotError);
    try {
      cache.setSnapshot("n1", bad);
    } catch (err) {
      expect((err as SnapshotError).problems).toEqual(['cluster "x" uses EDS but the snapshot has no load assignment "x"']);
    }
    expect(cache.getSnapshot("n1")).toBe(first);
    expect(seen).toEqual(["r1"]);
    expect(cache.watchCount("n1")).toBe(1);
    cancel();
    expect(cache.watchCount("n1")).toBe(0);
    cache.setSnapshot("n1", good());
    expect(seen).toEqual(["r1"]);
  });

  it("keys nodes by the node hash (groups share a snapshot)", () => {
    const cache = createSnapshotCache({ nodeHash: (n) => n.cluster });
    expect(cache.nodeKey({ id: "a", cluster: "web" })).toBe("web");
    expect(cache.nodeKey({ id: "b", cluster: "web" })).toBe("web");
  });
});
