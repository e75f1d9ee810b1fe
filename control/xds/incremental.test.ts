// The incremental path equals the full one: a snapshot derived from the previous one (and checked in
// proportion to its changes) has the same versions, resources and verdict as one built from scratch,
// for random sequences of changes to clusters, load assignments, routes and listeners.
import type { Message } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkSnapshot } from "./consistency.ts";
import { ALL_TYPE_URLS, TypeUrl } from "./resource-types.ts";
import { createSnapshot, type Snapshot, type SnapshotInput } from "./snapshot.ts";
import { edsCluster, loadAssignment, rdsApiListener, routeConfig } from "./testing.ts";

const CLUSTERS = ["a", "b", "c", "d", "e"];
const ROUTES = ["r1", "r2"];
const LISTENERS = ["l1", "l2"];

type Op =
  | { kind: "port"; cluster: number; port: number }
  | { kind: "touch"; cluster: number } // same content, a new message object (a re-translated IR object)
  | { kind: "toggleCluster"; cluster: number }
  | { kind: "toggleEndpoints"; cluster: number }
  | { kind: "route"; route: number; targets: number[] }
  | { kind: "toggleRoute"; route: number }
  | { kind: "listener"; listener: number; route: number }
  | { kind: "toggleListener"; listener: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("port" as const), cluster: fc.nat(4), port: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("touch" as const), cluster: fc.nat(4) }),
  fc.record({ kind: fc.constant("toggleCluster" as const), cluster: fc.nat(4) }),
  fc.record({ kind: fc.constant("toggleEndpoints" as const), cluster: fc.nat(4) }),
  fc.record({ kind: fc.constant("route" as const), route: fc.nat(1), targets: fc.uniqueArray(fc.nat(4), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("toggleRoute" as const), route: fc.nat(1) }),
  fc.record({ kind: fc.constant("listener" as const), listener: fc.nat(1), route: fc.nat(1) }),
  fc.record({ kind: fc.constant("toggleListener" as const), listener: fc.nat(1) }),
);

/** The mesh as a translator would hold it: one message object per item, replaced only when it changes. */
function createWorld() {
  const clusters = new Map<string, Message>(CLUSTERS.map((c) => [c, edsCluster(c)]));
  const endpoints = new Map<string, Message>(CLUSTERS.map((c) => [c, loadAssignment(c, [1])]));
  const routes = new Map<string, Message>([["r1", routeConfig("r1", ["a"])]]);
  const listeners = new Map<string, Message>([["l1", rdsApiListener("l1", "r1")]]);
  const toggle = (m: Map<string, Message>, name: string, make: () => Message) => (m.has(name) ? m.delete(name) : m.set(name, make()));
  return {
    apply(o: Op) {
      const c = CLUSTERS[o.kind === "port" || o.kind === "touch" || o.kind === "toggleCluster" || o.kind === "toggleEndpoints" ? o.cluster : 0]!;
      if (o.kind === "port" && endpoints.has(c)) endpoints.set(c, loadAssignment(c, [o.port]));
      if (o.kind === "touch" && clusters.has(c)) clusters.set(c, edsCluster(c));
      if (o.kind === "toggleCluster") toggle(clusters, c, () => edsCluster(c));
      if (o.kind === "toggleEndpoints") toggle(endpoints, c, () => loadAssignment(c, [1]));
      if (o.kind === "route") routes.set(ROUTES[o.route]!, routeConfig(ROUTES[o.route]!, o.targets.map((t) => CLUSTERS[t]!)));
      if (o.kind === "toggleRoute") toggle(routes, ROUTES[o.route]!, () => routeConfig(ROUTES[o.route]!, []));
      if (o.kind === "listener") listeners.set(LISTENERS[o.listener]!, rdsApiListener(LISTENERS[o.listener]!, ROUTES[o.route]!));
      if (o.kind === "toggleListener") toggle(listeners, LISTENERS[o.listener]!, () => rdsApiListener(LISTENERS[o.listener]!, "r1"));
    },
    input(): SnapshotInput {
      return {
        [TypeUrl.cluster]: [...clusters.values()], [TypeUrl.endpoint]: [...endpoints.values()],
        [TypeUrl.route]: [...routes.values()], [TypeUrl.listener]: [...listeners.values()],
      };
    },
  };
}

const view = (s: Snapshot, t: string) => [...s.resources(t).values()].map((r) => [r.name, r.version, [...r.bytes].join(",")]).sort();
const sorted = (xs: string[]) => [...xs].sort();

describe("incremental snapshots", () => {
  it("equal a full rebuild, record exactly what changed, and keep the map of an unchanged type", () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const world = createWorld();
      let derived = createSnapshot(world.input(), "0");
      let full = derived;
      ops.forEach((o, i) => {
        world.apply(o);
        const nextFull = createSnapshot(world.input(), String(i + 1));
        const next = createSnapshot(world.input(), String(i + 1), derived);
        expect(next.baseId).toBe(derived.id);
        for (const t of ALL_TYPE_URLS) {
          expect(next.version(t)).toBe(nextFull.version(t));
          expect(view(next, t)).toEqual(view(nextFull, t));
          const before = full.resources(t);
          const after = nextFull.resources(t);
          const changed = [...after.values()].filter((r) => before.get(r.name)?.version !== r.version).map((r) => r.name);
          const removed = [...before.keys()].filter((n) => !after.has(n));
          expect(sorted([...next.changes(t)!.changed])).toEqual(sorted(changed));
          expect(sorted([...next.changes(t)!.removed])).toEqual(sorted(removed));
          if (!changed.length && !removed.length) expect(next.resources(t)).toBe(derived.resources(t));
        }
        derived = next;
        full = nextFull;
      });
    }), { numRuns: 100 });
  });

  it("are checked in proportion to the change with the same verdict as a full check", () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const world = createWorld();
      let good = createSnapshot(world.input());
      expect(checkSnapshot(good)).toEqual([]);
      for (const o of ops) {
        world.apply(o);
        // As the publisher does: derive from the last snapshot that passed.
        const next = createSnapshot(world.input(), "", good);
        const fullProblems = checkSnapshot(next);
        expect(sorted(checkSnapshot(next, good))).toEqual(sorted(fullProblems));
        if (!fullProblems.length) good = next;
      }
    }), { numRuns: 200 });
  });

  it("falls back to a full check when the base is not the snapshot it was derived from", () => {
    const a = createSnapshot({ [TypeUrl.cluster]: [edsCluster("a")], [TypeUrl.endpoint]: [loadAssignment("a")] });
    const b = createSnapshot({ [TypeUrl.cluster]: [edsCluster("a"), edsCluster("x")], [TypeUrl.endpoint]: [loadAssignment("a")] }, "", a);
    const unrelated = createSnapshot({});
    expect(checkSnapshot(b, unrelated)).toEqual(['cluster "x" uses EDS but the snapshot has no load assignment "x"']);
    expect(checkSnapshot(b, a)).toEqual(checkSnapshot(b));
  });
});
