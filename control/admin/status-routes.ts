/**
 * @module control/admin/status-routes
 * Read-only views of the running mesh: `/v1/registry/*` (services with endpoint health counts,
 * endpoints, workloads, discovery sources and their conflicts) and `/v1/mesh/*` (connected proxies
 * with acknowledged versions, NACKs and certificate expiry from a `MeshStatusProvider`, and the graph
 * the UI draws).
 */
import { Hono } from "hono";
import type { ConfigStore } from "../store/types.ts";
import type { Registry } from "../registry/registry.ts";
import { HttpError } from "./http.ts";
import { buildMeshGraph } from "./mesh-graph.ts";
import type { MeshStatusProvider, NodeStatus } from "./mesh-status.ts";

export interface StatusRoutesOptions {
  registry: Registry;
  store: ConfigStore;
  mesh: MeshStatusProvider;
  now: () => number;
  /** Extra per-source detail (e.g. the file source's files and conversion losses), keyed by source. */
  sourceDetails?: () => Record<string, unknown>;
  rootNamespace?: string;
}

export function createRegistryRoutes(opts: StatusRoutesOptions): Hono {
  const { registry } = opts;
  const app = new Hono();
  app.get("/services", (c) => {
    const snap = registry.snapshot();
    const services = snap.services.map((svc) => {
      const health: Record<string, number> = {};
      let total = 0;
      for (const se of snap.endpoints) {
        if (se.service !== svc.id) continue;
        for (const e of se.endpoints) {
          health[e.health] = (health[e.health] ?? 0) + 1;
          total++;
        }
      }
      return { ...svc, endpoints: { total, ...health } };
    });
    return c.json({ revision: snap.revision, services });
  });
  app.get("/endpoints", (c) => {
    const snap = registry.snapshot();
    const service = c.req.query("service");
    if (service !== undefined && !snap.services.some((s) => s.id === service) && !snap.endpoints.some((e) => e.service === service)) {
      throw new HttpError(404, `service ${service} not found (services are named namespace/name)`);
    }
    const endpoints = service === undefined ? snap.endpoints : snap.endpoints.filter((e) => e.service === service);
    return c.json({ revision: snap.revision, endpoints });
  });
  app.get("/workloads", (c) => {
    const snap = registry.snapshot();
    return c.json({ revision: snap.revision, workloads: snap.workloads });
  });
  app.get("/sources", (c) => c.json({ ...registry.status(), details: opts.sourceDetails?.() ?? {} }));
  return app;
}

function withExpiry(n: NodeStatus, now: number) {
  return n.certificateExpiry === undefined ? n : { ...n, certificateExpiresInMs: n.certificateExpiry - now };
}

export function createMeshRoutes(opts: StatusRoutesOptions): Hono {
  const app = new Hono();
  app.get("/nodes", (c) => {
    const now = opts.now();
    const nodes = opts.mesh.nodes();
    return c.json({ nodes: nodes.map((n) => withExpiry(n, now)), nacking: nodes.filter((n) => n.lastNack).length });
  });
  app.get("/nodes/:id", (c) => {
    const id = c.req.param("id");
    const node = opts.mesh.nodes().find((n) => n.id === id);
    if (!node) throw new HttpError(404, `no connected node ${id}`);
    return c.json(withExpiry(node, opts.now()));
  });
  app.get("/graph", (c) => {
    const snap = opts.registry.snapshot();
    const policies = opts.store.list({ kind: "AuthorizationPolicy" }).map((r) => r.object);
    return c.json(buildMeshGraph({ ...snap, policies, nodes: opts.mesh.nodes(), ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}) }));
  });
  return app;
}
