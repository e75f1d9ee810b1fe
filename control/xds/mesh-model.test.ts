// The mesh model the xDS server publishes: registry services and endpoints, DestinationRule settings
// per port or for the whole host, subsets, and the store's policies.
import { describe, expect, it } from "vitest";
import { buildMeshModel } from "./mesh-model.ts";
import type { RegistrySnapshot } from "../registry/registry.ts";

const registry: RegistrySnapshot = {
  services: [{ id: "demo/web", name: "web", namespace: "demo", hosts: ["web.demo.svc.cluster.local"], ports: [{ port: 8080, protocol: "http" }], selector: { app: "web" } }],
  workloads: [],
  endpoints: [{ service: "demo/web", port: 8080, endpoints: [
    { address: "10.0.0.1", port: 8080, health: "healthy", labels: { version: "v1" } },
    { address: "10.0.0.2", port: 8080, health: "healthy", labels: { version: "v2" } },
  ] }],
};

describe("buildMeshModel", () => {
  it("gives every service port a cluster with the registry's endpoints and the host's DestinationRule settings", () => {
    const { model, diagnostics } = buildMeshModel({
      registry, trustDomain: "cluster.local",
      objects: [
        { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "web", namespace: "demo" },
          spec: { host: "web.demo.svc.cluster.local", trafficPolicy: { loadBalancer: { simple: "RANDOM" } }, subsets: [{ name: "v1", labels: { version: "v1" } }] } },
        { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "deny-all", namespace: "demo" }, spec: {} },
        { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ignored", namespace: "demo" }, spec: { hosts: ["x.example.com"] } },
      ],
    });
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const byName = new Map(model.clusters.map((c) => [c.name, c]));
    const main = byName.get("outbound|8080||web.demo.svc.cluster.local")!;
    expect(main.lb).toEqual({ kind: "random" });
    expect(main.endpoints.map((e) => e.address)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(byName.get("outbound|8080|v1|web.demo.svc.cluster.local")!.endpoints.map((e) => e.address)).toEqual(["10.0.0.1"]);
    expect(byName.get("outbound|||web.demo.svc.cluster.local")!.endpoints).toHaveLength(2);
    expect(model.authorization.map((p) => p.name)).toEqual(["deny-all"]);
    expect(model.services).toBe(registry.services);
  });

  it("without rules, a plain round-robin cluster per port", () => {
    const { model } = buildMeshModel({ registry, objects: [], trustDomain: "cluster.local" });
    expect(model.clusters.find((c) => c.name === "outbound|8080||web.demo.svc.cluster.local")).toMatchObject({ lb: { kind: "round-robin" }, tls: { mode: "disable" }, protocol: "http", service: "demo/web" });
  });
});
