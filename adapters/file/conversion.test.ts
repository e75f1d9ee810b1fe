import { describe, expect, it } from "vitest";
import { registryFromIstio } from "./conversion.ts";

const se = (spec: Record<string, unknown>, name = "reviews", ns = "default") => ({ apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name, namespace: ns }, spec });
const we = (name: string, spec: Record<string, unknown>, ns = "default") => ({ apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry", metadata: { name, namespace: ns }, spec });

describe("registryFromIstio", () => {
  it("turns inline endpoints into per-port endpoints with named ports, target ports and identities", () => {
    const { snapshot, losses } = registryFromIstio([se({
      hosts: ["reviews.default.svc.cluster.local"], location: "MESH_INTERNAL", resolution: "STATIC",
      ports: [{ number: 9080, name: "http", protocol: "HTTP", targetPort: 8080 }, { number: 9090, name: "grpc", protocol: "GRPC" }],
      endpoints: [{ address: "10.0.0.1", ports: { grpc: 7070 }, serviceAccount: "reviews", locality: "us-east/a" }, { address: "10.0.0.2", weight: 3 }],
    })]);
    expect(losses).toEqual([]);
    expect(snapshot.services[0]).toMatchObject({ id: "default/reviews", hosts: ["reviews.default.svc.cluster.local"], ports: [{ port: 9080, protocol: "http", targetPort: 8080 }, { port: 9090, protocol: "grpc" }] });
    const http = snapshot.endpoints.find((e) => e.port === 9080)!;
    expect(http.endpoints.map((e) => `${e.address}:${e.port}`)).toEqual(["10.0.0.1:8080", "10.0.0.2:8080"]);
    const grpc = snapshot.endpoints.find((e) => e.port === 9090)!;
    expect(grpc.endpoints[0]).toMatchObject({ address: "10.0.0.1", port: 7070, identity: "spiffe://cluster.local/ns/default/sa/reviews", locality: { region: "us-east", zone: "a" } });
    expect(grpc.endpoints[1]).toMatchObject({ port: 9090, weight: 3, identity: "spiffe://cluster.local/ns/default/sa/default" });
  });

  it("selects WorkloadEntries in the same namespace by label", () => {
    const { snapshot } = registryFromIstio([
      se({ hosts: ["api.internal"], ports: [{ number: 80, name: "http", protocol: "HTTP" }], resolution: "STATIC", workloadSelector: { labels: { app: "api" } } }, "api"),
      we("vm1", { address: "10.1.0.1", labels: { app: "api" }, serviceAccount: "api" }),
      we("vm2", { address: "10.1.0.2", labels: { app: "other" } }),
      we("vm3", { address: "10.1.0.3", labels: { app: "api" } }, "elsewhere"),
    ], "example.org");
    expect(snapshot.endpoints[0]!.endpoints.map((e) => e.address)).toEqual(["10.1.0.1"]);
    expect(snapshot.workloads.map((w) => w.identity)).toContain("spiffe://example.org/ns/default/sa/api");
    expect(snapshot.services[0]!.selector).toEqual({ app: "api" });
  });

  it("resolves DNS entries to their hosts and reports what it cannot carry", () => {
    const { snapshot, losses } = registryFromIstio([se({ hosts: ["api.example.com"], ports: [{ number: 443, name: "tls", protocol: "TLS" }], resolution: "DNS", location: "MESH_EXTERNAL", exportTo: ["."] }, "ext")]);
    expect(snapshot.endpoints[0]!.endpoints).toEqual([{ address: "api.example.com", port: 443, health: "healthy" }]);
    expect(losses).toEqual([{ object: "ServiceEntry/default/ext", field: "spec.exportTo", reason: expect.any(String) }]);
  });
});
