/**
 * Istio's standard metrics on the fetch host (Deno, workerd): the same `telemetry:` section as the
 * Node proxy gives `istio_requests_total` on the admin `/stats/prometheus`, with the peer SPIFFE ID the
 * runtime reports as `source_principal`, and counters that survive a reload of the same config.
 */
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../core/schema/index.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { loadProxyConfig } from "../../proxy/config/load.ts";
import { createFilterCatalog } from "../../proxy/filter.ts";
import { createFetchProxy } from "./fetch-proxy.ts";

const yaml = `
workload: { name: reviews-v1, namespace: default, app: reviews }
telemetry: { tracing: { samplingPercent: 100 }, audit: { sink: kafka, brokers: ["127.0.0.1:1"] } }
listeners:
  - name: web
    address: 127.0.0.1:0
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: /api }, route: { cluster: up } }] }] }
clusters: [{ name: up, service: reviews.default.svc.cluster.local, endpoints: ["127.0.0.1:9"] }]
`;

describe("Istio metrics on the fetch host", () => {
  it("counts requests with the runtime's peer principal and keeps counting across a reload", async () => {
    const r = loadProxyConfig(yaml, "edge.yaml", createFilterCatalog(httpFilters));
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
    const proxy = createFetchProxy({ filters: httpFilters, upstream: async () => new Response("ok", { status: 200 }) });
    proxy.apply(r.config);
    const peer = "spiffe://cluster.local/ns/shop/sa/frontend";
    const get = async (path: string, principal?: string) => {
      const res = await proxy.handle(new Request(`http://reviews${path}`), { remoteAddress: "10.0.0.1", ...(principal ? { principal } : {}) });
      await res.text(); // the exchange ends when the body has been read
      return res.status;
    };
    expect(await get("/api/1", peer)).toBe(200);
    proxy.apply(r.config);
    expect(await get("/api/2", peer)).toBe(200);
    expect(await get("/other")).toBe(404);
    const text = await proxy.admin("/stats/prometheus").text();
    const lines = text.split("\n").filter((l) => l.startsWith("istio_requests_total{"));
    expect(lines).toHaveLength(2);
    const ok = lines.find((l) => l.includes('response_code="200"'))!;
    expect(ok).toContain(`source_principal="${peer}"`);
    expect(ok).toContain('connection_security_policy="mutual_tls"');
    expect(ok).toContain('destination_workload="reviews-v1"');
    expect(ok).toContain('destination_service="reviews.default.svc.cluster.local"');
    expect(ok.endsWith(" 2")).toBe(true);
    expect(lines.find((l) => l.includes('response_code="404"'))).toContain('response_flags="NR"');
    expect(text).toContain("weft_requests_total{");
  });
});
