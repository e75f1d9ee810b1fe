// The mesh publisher: snapshots built for nodes as they first watch, republished on update, refused ones reported.
import { describe, expect, it } from "vitest";
import type { MeshModel } from "../../core/ir/model.ts";
import { createMeshPublisher } from "./publisher.ts";
import { TypeUrl } from "./resource-types.ts";

const model = (port: number, dangling = false): MeshModel => ({
  trustDomain: "cluster.local", trustDomainAliases: [], rootNamespace: "istio-system",
  services: [{ id: "default/a", name: "a", namespace: "default", hosts: ["a.default"], ports: [{ port: 80, protocol: "grpc" }] }],
  workloads: [],
  clusters: [{ name: "outbound|80||a.default", protocol: "grpc", lb: { kind: "round-robin" }, endpoints: [{ address: "127.0.0.1", port, health: "healthy" }], tls: { mode: "disable" } }],
  virtualHosts: dangling ? [{ name: "a", domains: ["a.default"], routes: [{ match: [], action: { kind: "forward", destinations: [{ cluster: "ghost", weight: 1 }] } }] }] : [],
  authorization: [], requestAuthentication: [], peerAuthentication: [],
});

describe("mesh publisher", () => {
  it("builds a snapshot when a node first watches, republishes on update, and keeps the last good one", () => {
    const errors: string[] = [];
    const pub = createMeshPublisher({
      profileFor: (n) => (n.metadata?.["GENERATOR"] === "grpc" ? { kind: "grpc" } : null),
      onError: (key, err) => errors.push(`${key}: ${err.message}`),
    });
    pub.update(model(1000), "r1");
    const seen: string[] = [];
    pub.cache.watch("g1", (s) => seen.push(s.label), { id: "g1", cluster: "", metadata: { GENERATOR: "grpc" } });
    pub.cache.watch("p1", (s) => seen.push(s.label), { id: "p1", cluster: "" });
    expect(seen).toEqual(["r1"]);
    expect(pub.cache.getSnapshot("g1")!.resources(TypeUrl.listener).has("a.default:80")).toBe(true);
    expect(pub.cache.getSnapshot("p1")).toBeUndefined();

    expect(pub.update(model(2000), "r2")).toEqual([]);
    expect(seen).toEqual(["r1", "r2"]);
    expect(pub.update(model(3000, true), "r3")).toEqual(["g1"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^g1: snapshot refused:[\s\S]*names cluster "ghost"/);
    expect(pub.cache.getSnapshot("g1")!.label).toBe("r2");
  });

  it("gives nodes with one profile one snapshot object, derived from the previous one", () => {
    const errors: string[] = [];
    const pub = createMeshPublisher({
      profileFor: (n) => (n.metadata?.["GENERATOR"] === "grpc" ? { kind: "grpc" } : null),
      onError: (key) => errors.push(key),
    });
    pub.update(model(1000), "r1");
    for (const id of ["g1", "g2", "g3"]) pub.cache.watch(id, () => {}, { id, cluster: "", metadata: { GENERATOR: "grpc" } });
    const first = pub.cache.getSnapshot("g1")!;
    expect(pub.cache.getSnapshot("g2")).toBe(first);
    expect(pub.cache.getSnapshot("g3")).toBe(first);

    pub.update(model(2000), "r2");
    const second = pub.cache.getSnapshot("g1")!;
    expect(pub.cache.getSnapshot("g3")).toBe(second);
    expect(second.baseId).toBe(first.id);
    expect([...second.changes(TypeUrl.endpoint)!.changed]).toEqual(["outbound|80||a.default"]);
    expect(second.resources(TypeUrl.listener)).toBe(first.resources(TypeUrl.listener)); // unchanged type: same map

    // Refused once, reported for every node that shares it; the next good update derives from the last good one.
    expect(pub.update(model(3000, true), "r3")).toEqual(["g1", "g2", "g3"]);
    expect(errors).toEqual(["g1", "g2", "g3"]);
    pub.update(model(4000), "r4");
    expect(pub.cache.getSnapshot("g2")!.baseId).toBe(second.id);
    expect(pub.cache.getSnapshot("g2")!.label).toBe("r4");
  });
});
