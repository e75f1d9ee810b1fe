/**
 * Trace context, spans, audit and Istio's Telemetry resource on the Node proxy, over real sockets: a
 * W3C or B3 context from the client is continued to the upstream with the same trace id and a new span
 * id (the caller's headers replaced, not repeated), sampled spans are exported over OTLP/HTTP, an
 * outbound listener reports as the source with the destination taken from the cluster, audit events
 * carry the event chain, and an Istio `Telemetry` resource drives the proxy through the IR.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roundTripYaml } from "../../adapters/istio/roundtrip.ts";
import { meshTelemetrySettings } from "../../adapters/istio/telemetry.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { loadProxyConfig } from "../config/load.ts";
import { proxyTelemetryFromSettings } from "../config/telemetry-schema.ts";
import { createFilterCatalog } from "../filter.ts";
import { createProxyServer } from "./proxy-server.ts";
import { logLines, samples, scrape } from "./telemetry-test-support.ts";
import { closeServer, listen, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

describe("trace context through the proxy, spans over OTLP/HTTP, and an outbound listener", () => {
  let echo: Upstream;
  let collector: Server;
  const received: { path: string; body: unknown }[] = [];
  let proxy: TestProxy;

  beforeAll(async () => {
    echo = await startUpstream();
    collector = createHttpServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "", body: JSON.parse(body) as unknown });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    const collectorPort = await listen(collector);
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
workload: { name: productpage-v1, namespace: default, app: productpage, version: v1 }
telemetry:
  tracing: { samplingPercent: 100, propagation: [w3c, b3], otlpEndpoint: "http://127.0.0.1:${collectorPort}/v1/traces" }
listeners:
  - name: out
    address: 127.0.0.1:0
    direction: outbound
    http:
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ name: reviews, route: { cluster: "outbound|9080||reviews.default.svc.cluster.local" } }] }]
clusters:
  - name: "outbound|9080||reviews.default.svc.cluster.local"
    endpoints: [{ address: 127.0.0.1, port: ${echo.port}, labels: { app: reviews, version: v2 } }]
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await echo?.close();
    await closeServer(collector);
  });

  async function echoed(headers: Record<string, string>): Promise<Record<string, string>> {
    const r = await fetch(`http://127.0.0.1:${proxy.port("out")}/reviews/1`, { headers });
    return ((await r.json()) as { headers: Record<string, string> }).headers;
  }

  it("continues a W3C traceparent with the same trace id and a new span id, in W3C and B3", async () => {
    const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const h = await echoed({ traceparent: `00-${trace}-00f067aa0ba902b7-01`, tracestate: "vendor=abc" });
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(h.traceparent ?? "");
    expect(m?.[1]).toBe(trace);
    expect(m?.[2]).not.toBe("00f067aa0ba902b7");
    expect(h.tracestate).toBe("vendor=abc");
    expect([h["x-b3-traceid"], h["x-b3-spanid"], h["x-b3-parentspanid"], h["x-b3-sampled"]]).toEqual([trace, m?.[2], "00f067aa0ba902b7", "1"]);
  });

  it("continues B3 headers (64-bit trace id kept) and replaces the incoming ones instead of repeating them", async () => {
    const h = await echoed({ "x-b3-traceid": "a3ce929d0e0e4736", "x-b3-spanid": "00f067aa0ba902b7", "x-b3-sampled": "1" });
    expect(h["x-b3-traceid"]).toBe("a3ce929d0e0e4736");
    expect(h["x-b3-spanid"]).toMatch(/^[0-9a-f]{16}$/);
    expect(h["x-b3-spanid"]).not.toBe("00f067aa0ba902b7");
    expect(h["x-b3-parentspanid"]).toBe("00f067aa0ba902b7");
    expect(h.traceparent).toMatch(/^00-0000000000000000a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it("starts a trace when the request has none", async () => {
    const h = await echoed({});
    expect(h.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("exports the sampled spans to the OTLP endpoint with the source-side attributes", async () => {
    const trace = "11112222333344445555666677778888";
    await echoed({ traceparent: `00-${trace}-1111222233334444-01` });
    const spans = () => received.flatMap((r) => ((r.body as { resourceSpans?: { scopeSpans?: { spans?: { traceId: string; kind: number; name: string; parentSpanId?: string; attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] }).resourceSpans ?? [])
      .flatMap((rs) => rs.scopeSpans ?? []).flatMap((s) => s.spans ?? []));
    for (let i = 0; i < 300 && !spans().some((s) => s.traceId === trace); i++) await new Promise((r) => setTimeout(r, 10));
    const span = spans().find((s) => s.traceId === trace);
    expect(received[0]?.path).toBe("/v1/traces");
    expect(span).toMatchObject({ kind: 3, name: "GET reviews", parentSpanId: "1111222233334444" });
    const attr = (k: string) => span!.attributes.find((a) => a.key === k)?.value.stringValue;
    expect(attr("upstream_cluster")).toBe("outbound|9080||reviews.default.svc.cluster.local");
    expect(attr("weft.reporter")).toBe("source");
  });

  it("reports outbound requests as the source, with the destination from the cluster", async () => {
    const text = await scrape(proxy);
    const rows = samples(text, "istio_requests_total");
    expect(rows.length).toBe(1);
    expect(rows[0]!.labels).toMatchObject({
      reporter: "source", source_workload: "productpage-v1", source_app: "productpage", destination_service: "reviews.default.svc.cluster.local",
      destination_service_name: "reviews", destination_service_namespace: "default", destination_app: "reviews", destination_version: "v2",
      connection_security_policy: "unknown", response_code: "200",
    });
  });
});

describe("audit events from the proxy", () => {
  it("writes one event per request and forwards the event chain upstream", async () => {
    const echo = await startUpstream();
    const logPath = join(mkdtempSync(join(tmpdir(), "weft-audit-")), "telemetry.log");
    const proxy = await startProxy(`
workload: { name: reviews-v1, namespace: default }
telemetry:
  metrics: { enabled: false }
  accessLog: { path: ${logPath}, filter: "response.code >= 400" }
  audit: { sink: stdout, topic: reviews-prod }
listeners:
  - name: web
    address: 127.0.0.1:0
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }] }
clusters: [{ name: up, endpoints: ["127.0.0.1:${echo.port}"] }]
`);
    try {
      const r = await fetch(`http://127.0.0.1:${proxy.port()}/orders/7`, { method: "DELETE", headers: { "x-event-chain": "hop-a", authorization: "Bearer secret" } });
      const seen = ((await r.json()) as { headers: Record<string, string> }).headers;
      const [event] = await logLines(logPath, 1);
      expect(event).toMatchObject({ eventType: "reviews-prod", action: "delete", payload: { isSuccessful: true, request: { endpoint: "/orders/7", method: "DELETE" }, response: { code: 200 } } });
      const chain = (event as { eventChain: string[]; eventId: string }).eventChain;
      expect(chain).toEqual(["hop-a", (event as { eventId: string }).eventId]);
      expect(seen["x-event-chain"]).toBe(chain.join(","));
      expect((event as { payload: { request: { headers: Record<string, string> } } }).payload.request.headers.authorization).toBe("[redacted]");
      // The access-log filter kept the 200 out; metrics are off.
      expect(readFileSync(logPath, "utf8").trim().split("\n")).toHaveLength(1);
      expect(proxy.server.telemetry()?.render()).toBe("");
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});

describe("an Istio Telemetry resource driving the proxy through the IR", () => {
  it("turns on the access log with Istio's filter and the trace sampling it names", async () => {
    const model = roundTripYaml(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 100 }]
  accessLogging: [{ providers: [{ name: envoy }], filter: { expression: "response.code >= 400" } }]
`, { file: "telemetry.yaml" }).model;
    const settings = meshTelemetrySettings(model.telemetryPolicies[0]!).value;
    const echo = await startUpstream();
    const logPath = join(mkdtempSync(join(tmpdir(), "weft-istio-tel-")), "access.log");
    const r = loadProxyConfig(`
listeners:
  - name: web
    address: 127.0.0.1:0
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: /ok }, route: { cluster: up } }] }] }
clusters: [{ name: up, endpoints: ["127.0.0.1:${echo.port}"] }]
`, "istio.yaml", createFilterCatalog(httpFilters));
    if (!r.ok) throw new Error("config");
    const server = createProxyServer({ filters: httpFilters });
    await server.apply({ ...r.config, workload: { name: "reviews-v1", namespace: "default" }, telemetry: proxyTelemetryFromSettings(settings, { accessLogPath: logPath }) });
    try {
      const port = server.address("web")!.port;
      const ok = await fetch(`http://127.0.0.1:${port}/ok`);
      const seen = ((await ok.json()) as { headers: Record<string, string> }).headers;
      expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/); // sampled at 100%
      expect(seen["x-b3-sampled"]).toBe("1"); // Istio propagates W3C and B3
      expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);
      const lines = await logLines(logPath, 1);
      expect(lines.map((l) => [l.path, l.response_code, l.response_flags])).toEqual([["/missing", 404, "NR"]]); // the 200 was filtered out
    } finally {
      await server.close();
      await echo.close();
    }
  });
});

describe("telemetry across config reloads", () => {
  it("keeps counting into the same metrics when the telemetry section changes, and stops when it goes", async () => {
    const echo = await startUpstream();
    const base = `
listeners:
  - name: web
    address: 127.0.0.1:0
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }] }
clusters: [{ name: up, endpoints: ["127.0.0.1:${echo.port}"] }]
`;
    const load = (text: string) => {
      const r = loadProxyConfig(text, "reload.yaml", createFilterCatalog(httpFilters));
      if (!r.ok) throw new Error("config");
      return r.config;
    };
    const server = createProxyServer({ filters: httpFilters });
    const count = () => samples(server.telemetry()?.render() ?? "", "istio_requests_total").reduce((n, s) => n + s.value, 0);
    try {
      await server.apply(load(`telemetry: {}\n${base}`));
      const port = server.address("web")!.port;
      const hit = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
      await hit();
      const first = server.telemetry();
      await server.apply(load(`telemetry: {}\n${base}\n# same telemetry, new version`));
      expect(server.telemetry()).toBe(first);
      await hit();
      await server.apply(load(`telemetry: { tracing: { samplingPercent: 5 } }\n${base}`));
      expect(server.telemetry()).not.toBe(first);
      expect(server.telemetry()!.tracing).toBe(true);
      await hit();
      expect(count()).toBe(3);
      await server.apply(load(base));
      expect(server.telemetry()).toBeUndefined();
      const seen = JSON.parse(await hit()) as { headers: Record<string, string> };
      expect(seen.headers.traceparent).toBeUndefined();
    } finally {
      await server.close();
      await echo.close();
    }
  });
});
