import { describe, expect, it } from "vitest";
import { parseConsulBridgeConfig } from "./config.ts";
import { catalogToRegistry, healthOf, meshCapable, registryToCatalog, type ConsulHealthEntry, type ObservedService } from "./conversion.ts";

const node = { Node: "n1", Address: "10.0.0.1", Datacenter: "dc1" };
const entry = (svc: Partial<ConsulHealthEntry["Service"]> & { ID: string; Service: string; Port: number }, status = "passing"): ConsulHealthEntry => ({
  Node: node,
  Service: { Tags: [], Meta: null, ...svc },
  Checks: [{ CheckID: "serfHealth", Status: "passing" }, { CheckID: `service:${svc.ID}`, Status: status, ServiceID: svc.ID }],
});

describe("Consul catalog → registry", () => {
  it("maps instances to endpoints with health, marked as from Consul", () => {
    const observed: ObservedService[] = [{ name: "web", instances: [entry({ ID: "web-1", Service: "web", Port: 8080, Address: "10.0.0.9" }), entry({ ID: "web-2", Service: "web", Port: 8081 }, "critical")] }];
    const snap = catalogToRegistry(observed, { namespace: "consul" });
    expect(snap.services).toHaveLength(1);
    expect(snap.services[0]).toMatchObject({ id: "consul/web", hosts: ["web.service.consul", "web.service.dc1.consul"], origin: { system: "consul" }, labels: { "weft.io/source": "consul" } });
    expect(snap.endpoints[0]!.endpoints.map((e) => [e.address, e.port, e.health])).toEqual([["10.0.0.1", 8081, "unhealthy"], ["10.0.0.9", 8080, "healthy"]]);
  });

  it("leaves out what weft registered and proxies; a service with only weft instances disappears", () => {
    const weft = entry({ ID: "weft-x", Service: "api", Port: 1, Meta: { "external-source": "weft" } });
    const proxy = entry({ ID: "web-sidecar-proxy", Service: "web-sidecar-proxy", Port: 21000, Kind: "connect-proxy", Proxy: { DestinationServiceName: "web" } });
    const snap = catalogToRegistry([{ name: "api", instances: [weft] }, { name: "web-sidecar-proxy", instances: [proxy] }], { namespace: "default" });
    expect(snap.services).toEqual([]);
  });

  it("mesh-capable services use their Connect endpoints with Consul SPIFFE IDs", () => {
    const proxy = entry({ ID: "web-sidecar-proxy", Service: "web-sidecar-proxy", Port: 21000, Kind: "connect-proxy", Proxy: { DestinationServiceName: "web" } });
    const observed: ObservedService[] = [
      { name: "web", instances: [entry({ ID: "web", Service: "web", Port: 9090 })], connect: [proxy] },
      { name: "web-sidecar-proxy", instances: [proxy] },
      { name: "native", instances: [entry({ ID: "n", Service: "native", Port: 7000, Connect: { Native: true } })] },
    ];
    expect([...meshCapable(observed)].sort()).toEqual(["native", "web"]);
    const snap = catalogToRegistry(observed, { namespace: "default", trustDomain: "abc.consul" });
    const web = snap.endpoints.find((e) => e.service === "default/web")!;
    expect(web.endpoints).toEqual([expect.objectContaining({ port: 21000, identity: "spiffe://abc.consul/ns/default/dc/dc1/svc/web", labels: expect.objectContaining({ "consul.io/connect": "true" }) })]);
  });

  it("health: critical wins, maintenance drains, warning stays healthy", () => {
    expect(healthOf([{ CheckID: "a", Status: "passing" }, { CheckID: "b", Status: "warning" }])).toBe("healthy");
    expect(healthOf([{ CheckID: "a", Status: "passing" }, { CheckID: "b", Status: "critical" }])).toBe("unhealthy");
    expect(healthOf([{ CheckID: "_node_maintenance", Status: "critical" }])).toBe("draining");
  });
});

describe("registry → Consul catalog", () => {
  const snapshot = {
    services: [
      { id: "shop/api", name: "api", namespace: "shop", hosts: [], ports: [{ port: 80, protocol: "http" as const }] },
      { id: "default/web", name: "web", namespace: "default", hosts: [], ports: [], origin: { system: "consul" } },
    ],
    workloads: [],
    endpoints: [
      { service: "shop/api", port: 80, endpoints: [{ address: "127.0.0.1", port: 15443, health: "healthy" as const }, { address: "127.0.0.2", port: 15443, health: "unhealthy" as const }] },
      { service: "default/web", port: 80, endpoints: [{ address: "10.0.0.1", port: 21000, health: "healthy" as const }] },
    ],
  };

  it("registers weft services with the weft mark, a TTL check and Connect native; never writes back Consul's", () => {
    const regs = registryToCatalog(snapshot, { connect: "native", prefix: "weft-", ttlMs: 15_000 });
    expect([...regs.values()].map((r) => [r.Name, r.Address, r.Check.Status])).toEqual([["weft-api", "127.0.0.1", "passing"], ["weft-api", "127.0.0.2", "critical"]]);
    const first = [...regs.values()][0]!;
    expect(first).toMatchObject({ Meta: { "external-source": "weft", "weft-service": "shop/api" }, Connect: { Native: true }, Check: { TTL: "15s" } });
  });

  it("filters by the select function", () => {
    expect(registryToCatalog(snapshot, { connect: "none" }, (s) => s.namespace === "other").size).toBe(0);
  });
});

describe("consul: config section", () => {
  it("fills defaults and parses durations", () => {
    const { config } = parseConsulBridgeConfig({ address: "127.0.0.1:8500", export: { ttl: "10s" } });
    expect(config).toMatchObject({ sync: { toWeft: true, toConsul: false }, export: { ttl: 10_000, connect: "native" }, wait: 300_000 });
  });

  it("names the field of an error", () => {
    const { config, diagnostics } = parseConsulBridgeConfig({ address: "x", sync: { toConsul: "yes" }, wait: "soon" });
    expect(config).toBeNull();
    const paths = diagnostics.map((d) => d.path);
    expect(paths).toContain("consul.sync.toConsul");
    expect(paths).toContain("consul.wait");
  });
});

describe("consul: section of a control-plane config file", () => {
  it("reads the section and leaves the rest of the file alone", async () => {
    const { loadConsulSection } = await import("./config.ts");
    const ok = loadConsulSection("admin: {}\nconsul:\n  address: 127.0.0.1:8500\n  sync: { toConsul: true }\n", "control.yaml");
    expect(ok.config).toMatchObject({ address: "127.0.0.1:8500", sync: { toWeft: true, toConsul: true } });
    expect(loadConsulSection("admin: {}\n").config).toBeNull();
  });

  it("reports errors with file, line and field", async () => {
    const { loadConsulSection } = await import("./config.ts");
    const bad = loadConsulSection("consul:\n  address: 127.0.0.1:8500\n  export:\n    connect: sidecar\n", "control.yaml");
    expect(bad.config).toBeNull();
    expect(bad.diagnostics).toEqual([expect.objectContaining({ file: "control.yaml", line: 4, path: "consul.export.connect", object: "consul" })]);
  });
});
