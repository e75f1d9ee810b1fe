import { describe, expect, it } from "vitest";
import type { Service } from "../../core/ir/model.ts";
import { buildMeshGraph } from "./mesh-graph.ts";
import { POLICY_YAML, createTestControl } from "./test-fixtures.ts";

const svc = (id: string, extra: Partial<Service> = {}): Service => ({ id, name: id.split("/")[1]!, namespace: id.split("/")[0]!, hosts: [`${id.split("/")[1]}.local`], ports: [{ port: 80, protocol: "http" }], ...extra });

describe("admin API: registry and mesh status", () => {
  it("lists services with health counts, endpoints (filtered by service), workloads and sources with conflicts", async () => {
    const { app, auth, registry } = await createTestControl();
    registry.setSource("file:a", {
      services: [svc("default/web"), svc("default/api")],
      workloads: [{ id: "default/vm1", name: "vm1", namespace: "default", labels: {}, serviceAccount: "web", identity: "spiffe://cluster.local/ns/default/sa/web", addresses: ["10.0.0.1"] }],
      endpoints: [{ service: "default/web", port: 80, endpoints: [{ address: "10.0.0.1", port: 8080, health: "healthy" }, { address: "10.0.0.2", port: 8080, health: "healthy" }] }],
    });
    registry.setSource("consul", { services: [svc("default/web", { hosts: ["web.consul"] })], workloads: [], endpoints: [] });
    registry.setSourceError("consul", "connection refused");
    registry.reportHealth({ reporter: "proxy-1", address: "10.0.0.2", port: 8080, status: "unhealthy" });

    const services = await (await app.request("/v1/registry/services", { headers: auth })).json();
    expect(services.services.map((s: { id: string; endpoints: unknown }) => [s.id, s.endpoints])).toEqual([
      ["default/api", { total: 0 }],
      ["default/web", { total: 2, healthy: 1, unhealthy: 1 }],
    ]);
    const eps = await (await app.request("/v1/registry/endpoints?service=default/web", { headers: auth })).json();
    expect(eps.endpoints[0].endpoints.map((e: { address: string; health: string }) => `${e.address} ${e.health}`)).toEqual(["10.0.0.1 healthy", "10.0.0.2 unhealthy"]);
    expect((await (await app.request("/v1/registry/endpoints?service=default/api", { headers: auth })).json()).endpoints).toEqual([]);
    const missing = await app.request("/v1/registry/endpoints?service=default/nope", { headers: auth });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatch(/default\/nope not found/);
    const workloads = await (await app.request("/v1/registry/workloads", { headers: auth })).json();
    expect(workloads.workloads.map((w: { id: string }) => w.id)).toEqual(["default/vm1"]);
    const sources = await (await app.request("/v1/registry/sources", { headers: auth })).json();
    expect(sources.conflicts).toEqual([{ service: "default/web", kept: "file:a", ignored: "consul" }]);
    expect(sources.sources.find((s: { name: string }) => s.name === "consul")).toMatchObject({ error: "connection refused", services: 1 });
  });

  it("shows connected proxies with acked versions, NACKs and certificate expiry", async () => {
    const now = 1_700_000_000_000;
    const { app, auth, mesh } = await createTestControl({ now: () => now });
    expect(await (await app.request("/v1/mesh/nodes", { headers: auth })).json()).toEqual({ nodes: [], nacking: 0 });
    mesh.set({ id: "sidecar~10.0.0.1~web", connectedSince: now - 60_000, acked: { CDS: "v3", LDS: "v3" }, certificateExpiry: now + 3_600_000, service: "default/web" });
    mesh.set({ id: "sidecar~10.0.0.2~api", connectedSince: now - 5_000, acked: { CDS: "v2" }, lastNack: { type: "LDS", message: "listener 0.0.0.0:80: duplicate filter chain", at: now - 1_000 } });
    const body = await (await app.request("/v1/mesh/nodes", { headers: auth })).json();
    expect(body.nacking).toBe(1);
    expect(body.nodes[0]).toMatchObject({ id: "sidecar~10.0.0.1~web", acked: { CDS: "v3", LDS: "v3" }, certificateExpiresInMs: 3_600_000 });
    expect(body.nodes[0].lastNack).toBeUndefined();
    expect(body.nodes[1]).toMatchObject({ id: "sidecar~10.0.0.2~api", lastNack: { type: "LDS", message: expect.stringMatching(/duplicate filter chain/), at: now - 1_000 } });
    const one = await app.request(`/v1/mesh/nodes/${encodeURIComponent("sidecar~10.0.0.2~api")}`, { headers: auth });
    expect((await one.json()).acked).toEqual({ CDS: "v2" });
    expect((await app.request("/v1/mesh/nodes/ghost", { headers: auth })).status).toBe(404);
  });

  it("draws services, proxies and policy edges", async () => {
    const { app, auth, registry, mesh } = await createTestControl();
    registry.setSource("files", {
      services: [svc("default/frontend"), svc("default/backend", { selector: { app: "backend" } })],
      workloads: [],
      endpoints: [
        { service: "default/frontend", port: 80, endpoints: [{ address: "10.0.0.1", port: 80, health: "healthy", identity: "spiffe://cluster.local/ns/default/sa/frontend" }] },
        { service: "default/backend", port: 80, endpoints: [{ address: "10.0.0.2", port: 80, health: "healthy" }] },
      ],
    });
    mesh.set({ id: "frontend-proxy", connectedSince: 0, acked: {}, service: "default/frontend" });
    await app.request("/v1/resources", { method: "POST", headers: { ...auth, "content-type": "application/yaml" }, body: POLICY_YAML });
    const graph = await (await app.request("/v1/mesh/graph", { headers: auth })).json();
    expect(graph.nodes.map((n: { id: string }) => n.id)).toEqual(["service:default/backend", "service:default/frontend", "proxy:frontend-proxy"]);
    expect(graph.edges).toEqual([
      { from: "proxy:frontend-proxy", to: "service:default/frontend", kind: "serves" },
      { from: "service:default/frontend", to: "service:default/backend", kind: "allow", policy: "default/allow-frontend" },
    ]);
  });
});

describe("mesh graph", () => {
  const services = [svc("shop/web"), svc("shop/pay", { labels: { app: "pay" } }), svc("ops/admin")];
  const endpoints = [{ service: "ops/admin", port: 80, endpoints: [{ address: "10.0.0.9", port: 80, health: "healthy" as const, identity: "spiffe://cluster.local/ns/ops/sa/admin" }] }];
  const policy = (ns: string, spec: Record<string, unknown>, name = "p") => ({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: ns }, spec });

  it("draws DENY by namespace, ALLOW from anyone, wildcard principals, and mesh-wide policies from the root namespace", () => {
    const g = buildMeshGraph({
      services, workloads: [], endpoints, nodes: [],
      policies: [
        policy("shop", { selector: { matchLabels: { app: "pay" } }, action: "DENY", rules: [{ from: [{ source: { namespaces: ["ops"] } }] }] }, "deny-ops"),
        policy("shop", { rules: [{}] }, "allow-all"),
        policy("istio-system", { action: "AUDIT", rules: [{ from: [{ source: { principals: ["cluster.local/ns/ops/*"] } }] }] }, "audit"),
      ],
    });
    const edges = g.edges.map((e) => `${e.from} -${e.kind}-> ${e.to} (${e.policy})`);
    expect(edges).toContain("service:ops/admin -deny-> service:shop/pay (shop/deny-ops)");
    expect(edges).toContain("* -allow-> service:shop/web (shop/allow-all)");
    expect(edges).toContain("* -allow-> service:shop/pay (shop/allow-all)");
    expect(edges).not.toContain("* -allow-> service:ops/admin (shop/allow-all)");
    expect(edges).toContain("service:ops/admin -audit-> service:shop/web (istio-system/audit)");
    expect(edges.filter((e) => e.includes("deny"))).toHaveLength(1);
    expect(g.nodes.find((n) => n.id === "*")).toMatchObject({ kind: "any" });
  });

  it("ignores malformed policy shapes instead of throwing", () => {
    const g = buildMeshGraph({ services, workloads: [], endpoints: [], nodes: [], policies: [{ spec: "nonsense" }, { spec: { rules: "x", action: 3 } }, {}] });
    expect(g.nodes).toHaveLength(3);
    expect(g.edges).toEqual([]);
  });
});
