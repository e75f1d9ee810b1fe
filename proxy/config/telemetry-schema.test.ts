/**
 * The `workload:` and `telemetry:` sections of the proxy config: defaults, the mapping onto the IR's
 * `TelemetrySettings`, listener direction and cluster service metadata, and diagnostics that name the
 * field (a bad access-log filter, an unknown format, Kafka without brokers).
 */
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../core/schema/index.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { createFilterCatalog } from "../filter.ts";
import { loadProxyConfig } from "./load.ts";

const catalog = createFilterCatalog(httpFilters);
const base = `
listeners:
  - name: out
    address: 127.0.0.1:0
    direction: outbound
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }] }
clusters:
  - name: up
    service: reviews.default.svc.cluster.local
    endpoints: [{ address: 127.0.0.1, port: 9080, labels: { app: reviews, version: v2 } }]
`;

describe("telemetry config", () => {
  it("has no telemetry without the section, and Istio's defaults with an empty one", () => {
    const none = loadProxyConfig(base, "t.yaml", catalog);
    expect(none.ok && none.config.telemetry).toBe(undefined);
    const r = loadProxyConfig(`telemetry: {}\n${base}`, "t.yaml", catalog);
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
    expect(r.config.telemetry).toEqual({
      settings: { metrics: { enabled: true }, tracing: { samplingPercent: 0, propagation: [] }, accessLog: { enabled: false } },
      extendedLabels: false,
    });
    expect(r.config.listeners[0]!.trafficDirection).toBe("OUTBOUND");
    expect(r.config.clusters[0]).toMatchObject({ service: "reviews.default.svc.cluster.local", endpoints: [{ labels: { app: "reviews", version: "v2" } }] });
  });

  it("maps every field onto the IR settings and the host options", () => {
    const r = loadProxyConfig(`workload: { name: web-v1, namespace: shop, principal: "spiffe://cluster.local/ns/shop/sa/web" }
telemetry:
  metrics: { extendedLabels: true }
  accessLog: { format: istio, path: /tmp/x.log, filter: "response.code >= 500" }
  tracing: { samplingPercent: 10, propagation: [b3], b3Style: single, otlpEndpoint: "http://127.0.0.1:4318/v1/traces", serviceName: web }
  audit: { sink: kafka, brokers: ["127.0.0.1:9092"], topic: audit }
${base}`, "t.yaml", catalog);
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
    expect(r.config.workload).toEqual({ name: "web-v1", namespace: "shop", principal: "spiffe://cluster.local/ns/shop/sa/web" });
    expect(r.config.telemetry).toEqual({
      settings: {
        metrics: { enabled: true },
        tracing: { samplingPercent: 10, propagation: ["b3"] },
        accessLog: { enabled: true, format: "text", filter: "response.code >= 500" },
        audit: { sink: "kafka", topic: "audit" },
      },
      extendedLabels: true, accessLogFormat: "istio", accessLogPath: "/tmp/x.log", b3Style: "single",
      otlpEndpoint: "http://127.0.0.1:4318/v1/traces", serviceName: "web", kafkaBrokers: ["127.0.0.1:9092"],
    });
  });

  it("names the field of a bad filter, a bad format, a bad endpoint and Kafka without brokers", () => {
    const check = (section: string, path: string, message: RegExp) => {
      const r = loadProxyConfig(`${section}\n${base}`, "t.yaml", catalog);
      expect(r.ok).toBe(false);
      const d = !r.ok ? r.diagnostics.find((x) => x.path === path) : undefined;
      expect(d?.message).toMatch(message);
      expect(d?.file).toBe("t.yaml");
      expect(d?.line).toBeGreaterThan(0);
    };
    check("telemetry: { accessLog: { filter: 'response.code >=' } }", "telemetry.accessLog.filter", /invalid filter/);
    check("telemetry: { accessLog: { format: xml } }", "telemetry.accessLog.format", /json|text|istio/);
    check("telemetry: { tracing: { otlpEndpoint: 'grpc://x:4317' } }", "telemetry.tracing.otlpEndpoint", /http/);
    check("telemetry: { audit: { sink: kafka } }", "telemetry.audit.brokers", /brokers/);
    check("workload: { principal: reviews }", "workload.principal", /SPIFFE/);
  });
});
