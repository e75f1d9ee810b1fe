// weft's Istio metrics against a real Prometheus: a Node HTTP server on port 0 serves weft's exposition,
// Prometheus scrapes it, and PromQL written for Istio (`sum by (response_code, destination_service)
// (istio_requests_total)`) returns the series with Istio's names, labels and values. A hostile label
// value (quotes, backslash, newline) survives the round trip, which checks the exposition's escaping.
// Then a real `weft proxy` process with a `telemetry:` section is scraped on its admin
// `/stats/prometheus`, and a query on `istio_requests_total` returns the proxy's own series.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { istioLabels, type MeshContext } from "../../adapters/telemetry/attributes.ts";
import { inboundMesh, sampleRequest } from "../../adapters/telemetry/fixtures.ts";
import { createIstioMetrics } from "../../adapters/telemetry/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../adapters/telemetry/registry.ts";
import { waitFor } from "../peers/lib.ts";
import prometheus, { type PrometheusHandle } from "../peers/prometheus/peer.ts";
import { requirePeers } from "../peers/suite.ts";
import { startWeftProxy, type WeftProxy } from "./weft-proxy.ts";

const { ready } = await requirePeers(import.meta.url, prometheus);

interface Vector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

const ratings: MeshContext = {
  ...inboundMesh,
  destination: { workload: "ratings-v1", namespace: "default", app: "ratings", version: "v1", principal: "spiffe://cluster.local/ns/default/sa/ratings" },
  service: { host: "ratings.default.svc.cluster.local", name: "ratings", namespace: "default" },
};
const hostile: MeshContext = { ...inboundMesh, source: { ...inboundMesh.source, workload: 'we"ird\\name\nx' }, securityPolicy: "none" };

describe.skipIf(!ready)("weft metrics scraped by a real Prometheus", () => {
  let target: Server;
  let prom: PrometheusHandle;
  const metrics = createIstioMetrics();

  async function query(promql: string): Promise<Vector> {
    return (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as Vector;
  }

  beforeAll(async () => {
    const reviews = metrics.peer(inboundMesh);
    for (let i = 0; i < 5; i++) reviews.recordRequest(sampleRequest({ durationMs: 3 + i }));
    reviews.recordRequest(sampleRequest({ status: 503, responseFlags: "UF", durationMs: 1 }));
    reviews.recordRequest(sampleRequest({ status: 503, responseFlags: "UF", durationMs: 1 }));
    const r = metrics.peer(ratings);
    for (let i = 0; i < 3; i++) r.recordRequest(sampleRequest({ status: 200, durationMs: 40 }));
    r.recordRequest(sampleRequest({ status: 404, durationMs: 2 }));
    metrics.peer(hostile).recordRequest(sampleRequest());
    const tcp = metrics.peer(ratings);
    tcp.tcpOpened();
    tcp.tcpBytes(1234, 56);
    tcp.tcpClosed();

    target = createServer((req, res) => {
      if (req.url !== "/stats/prometheus") return res.writeHead(404).end();
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
      res.end(metrics.render());
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const port = (target.address() as AddressInfo).port;
    prom = await prometheus.start({
      scrapeConfigs: [{ job_name: "weft", metrics_path: "/stats/prometheus", static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    });
    await waitFor(async () => (await query('up{job="weft"}')).data.result[0]?.value[1] === "1" &&
      (await query("istio_requests_total")).data.result.length > 0,
    { what: "prometheus to scrape weft", logPath: prom.logPath, timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => target?.close(r));
  });

  it("answers Istio's PromQL with the right series and values", async () => {
    const result = await query("sum by (response_code, destination_service) (istio_requests_total)");
    expect(result.status).toBe("success");
    const rows = result.data.result.map((r) => `${r.metric.destination_service} ${r.metric.response_code} ${r.value[1]}`).sort();
    expect(rows).toEqual([
      "ratings.default.svc.cluster.local 200 3",
      "ratings.default.svc.cluster.local 404 1",
      "reviews.default.svc.cluster.local 200 6",
      "reviews.default.svc.cluster.local 503 2",
    ]);
  });

  it("stores every Istio label with the value weft's attribute model gives", async () => {
    const result = await query('istio_requests_total{destination_service="reviews.default.svc.cluster.local",response_code="503"}');
    expect(result.data.result).toHaveLength(1);
    const { __name__, job, instance, ...labels } = result.data.result[0]!.metric;
    expect([__name__, job, instance?.startsWith("127.0.0.1:")]).toEqual(["istio_requests_total", "weft", true]);
    const expected = istioLabels(inboundMesh, sampleRequest({ status: 503, responseFlags: "UF" }));
    expect(expected.grpc_response_status).toBe("");
    // Prometheus drops empty labels: grpc_response_status="" is absent, as for Istio's own Envoys.
    const { grpc_response_status: _empty, ...nonEmpty } = expected;
    expect(labels).toEqual(nonEmpty);
    expect(Object.keys(labels)).toHaveLength(20);
  });

  it("serves the histograms (buckets Prometheus can compute quantiles from) and the TCP counters", async () => {
    const p50 = await query('histogram_quantile(0.5, sum by (le) (istio_request_duration_milliseconds_bucket{destination_service_name="ratings"}))');
    expect(Number(p50.data.result[0]!.value[1])).toBeGreaterThan(25);
    expect(Number(p50.data.result[0]!.value[1])).toBeLessThanOrEqual(50);
    const count = await query('sum(istio_response_bytes_count{destination_service_name="reviews"})');
    expect(count.data.result[0]!.value[1]).toBe("8");
    const sent = await query('istio_tcp_sent_bytes_total{destination_service_name="ratings"}');
    expect(sent.data.result[0]!.value[1]).toBe("1234");
    expect(sent.data.result[0]!.metric.request_protocol).toBe("tcp");
    const opened = await query("sum(istio_tcp_connections_opened_total) - sum(istio_tcp_connections_closed_total)");
    expect(opened.data.result[0]!.value[1]).toBe("0");
  });

  it("keeps a label value with quotes, backslash and newline intact", async () => {
    const result = await query('istio_requests_total{connection_security_policy="none"}');
    expect(result.data.result.map((r) => r.metric.source_workload)).toEqual(['we"ird\\name\nx']);
  });
});

describe.skipIf(!ready)("a real weft proxy scraped by a real Prometheus", () => {
  let proxy: WeftProxy;
  let prom: PrometheusHandle;

  async function query(promql: string): Promise<Vector> {
    return (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as Vector;
  }

  beforeAll(async () => {
    proxy = await startWeftProxy(`workload: { name: reviews-v1, namespace: default, app: reviews, version: v1, principal: "spiffe://cluster.local/ns/default/sa/reviews" }
telemetry: {}`);
    for (let i = 0; i < 4; i++) expect((await fetch(`${proxy.url}/reviews/${i}`)).status).toBe(200);
    expect((await fetch(`${proxy.url}/nowhere`)).status).toBe(404);
    prom = await prometheus.start({
      scrapeConfigs: [{ job_name: "weft-proxy", metrics_path: "/stats/prometheus", static_configs: [{ targets: [`127.0.0.1:${proxy.adminPort}`] }] }],
    });
    await waitFor(async () => (await query('istio_requests_total{job="weft-proxy"}')).data.result.length >= 2,
      { what: "prometheus to scrape the weft proxy", logPath: prom.logPath, timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await prom?.stop();
    expect(await proxy?.stop()).toBe(0);
  });

  it("returns the proxy's istio_requests_total series with Istio's labels", async () => {
    const result = await query('sum by (reporter, destination_workload, destination_service, response_code, response_flags) (istio_requests_total{job="weft-proxy"})');
    const rows = result.data.result.map((r) => `${r.metric.reporter} ${r.metric.destination_workload} ${r.metric.destination_service} ${r.metric.response_code} ${r.metric.response_flags} ${r.value[1]}`).sort();
    expect(rows).toEqual([
      "destination reviews-v1 reviews.default.svc.cluster.local 200 - 4",
      "destination reviews-v1 unknown 404 NR 1",
    ]);
    const one = (await query('istio_requests_total{job="weft-proxy",response_code="200"}')).data.result[0]!.metric;
    expect(one).toMatchObject({ destination_principal: "spiffe://cluster.local/ns/default/sa/reviews", connection_security_policy: "none", request_protocol: "http", source_principal: "unknown" });
  });

  it("serves weft's own stats and Istio's histograms from the same endpoint", async () => {
    const weft = await query('sum(weft_requests_total{job="weft-proxy"})');
    expect(weft.data.result[0]!.value[1]).toBe("5");
    const count = await query('sum(istio_request_duration_milliseconds_count{job="weft-proxy"})');
    expect(count.data.result[0]!.value[1]).toBe("5");
    const bytes = await query('sum(istio_response_bytes_sum{job="weft-proxy",response_code="200"})');
    expect(bytes.data.result[0]!.value[1]).toBe(String(4 * "reviews ok\n".length));
  });
});
