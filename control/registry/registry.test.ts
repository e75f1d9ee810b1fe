import { describe, expect, it } from "vitest";
import type { Service } from "../../core/ir/model.ts";
import { createRegistry, type RegistrySnapshot } from "./registry.ts";

const svc = (id: string, hosts: string[] = [id]): Service => ({ id, name: id.split("/")[1]!, namespace: id.split("/")[0]!, hosts, ports: [{ port: 80, protocol: "http" }] });
const snap = (services: Service[], addrs: string[]): RegistrySnapshot => ({
  services, workloads: [],
  endpoints: services.map((s) => ({ service: s.id, port: 80, endpoints: addrs.map((a) => ({ address: a, port: 8080, health: "healthy" as const })) })),
});

describe("registry", () => {
  it("merges sources: first definition wins, endpoints are the union, conflicts are reported", () => {
    const r = createRegistry();
    r.setSource("files", snap([svc("default/web", ["web.local"])], ["10.0.0.1"]));
    r.setSource("consul", snap([svc("default/web", ["web.consul"])], ["10.0.0.1", "10.0.0.2"]));
    const s = r.snapshot();
    expect(s.services.map((x) => x.hosts)).toEqual([["web.local"]]);
    expect(s.endpoints[0]!.endpoints.map((e) => e.address)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(r.status().conflicts).toEqual([{ service: "default/web", kept: "files", ignored: "consul" }]);
  });

  it("notifies subscribers with increasing revisions; removing a source removes its services", () => {
    const r = createRegistry();
    const revs: number[] = [];
    r.subscribe((s) => revs.push(s.revision));
    r.setSource("a", snap([svc("default/a")], ["10.0.0.1"]));
    r.setSource("b", snap([svc("default/b")], ["10.0.0.2"]));
    r.removeSource("a");
    expect(revs).toEqual([1, 2, 3]);
    expect(r.snapshot().services.map((s) => s.id)).toEqual(["default/b"]);
  });

  it("marks an endpoint unhealthy when most fresh health reports say so, and forgets stale ones", () => {
    let now = 0;
    const r = createRegistry({ now: () => now, healthTtlMs: 1000 });
    r.setSource("a", snap([svc("default/a")], ["10.0.0.1", "10.0.0.2"]));
    r.reportHealth({ reporter: "p1", address: "10.0.0.1", port: 8080, status: "unhealthy" });
    r.reportHealth({ reporter: "p2", address: "10.0.0.1", port: 8080, status: "unhealthy" });
    r.reportHealth({ reporter: "p3", address: "10.0.0.1", port: 8080, status: "healthy" });
    const health = () => r.snapshot().endpoints[0]!.endpoints.map((e) => e.health);
    expect(health()).toEqual(["unhealthy", "healthy"]);
    now = 2000;
    r.setSource("a", snap([svc("default/a")], ["10.0.0.1", "10.0.0.2"]));
    expect(health()).toEqual(["healthy", "healthy"]);
  });

  it("keeps a source's last snapshot when it reports an error", () => {
    const r = createRegistry();
    r.setSource("consul", snap([svc("default/a")], ["10.0.0.1"]));
    r.setSourceError("consul", "connection refused");
    expect(r.snapshot().services).toHaveLength(1);
    expect(r.status().sources[0]).toMatchObject({ name: "consul", services: 1, endpoints: 1, error: "connection refused" });
  });
});
