// weft's spans against a real OpenTelemetry Collector: two proxy hops propagate the trace (W3C from the
// client into hop 1, B3 from hop 1 to hop 2), each hop exports its span with weft's lean OTLP/HTTP JSON
// exporter, and the collector's file exporter shows one trace with the right parent/child links, kinds,
// attributes (OpenTelemetry HTTP conventions and mesh attributes), status and resource. Then a real
// `weft proxy` process continues a client's traceparent to its upstream and its span reaches the
// collector, flushed by the SIGTERM drain.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MeshContext } from "../../adapters/telemetry/attributes.ts";
import { inboundMesh, sampleRequest } from "../../adapters/telemetry/fixtures.ts";
import { extractTraceContext, injectTraceContext, startHop } from "../../adapters/telemetry/propagation.ts";
import { createOtlpHttpExporter, requestSpan } from "../../adapters/telemetry/tracing.ts";
import { waitFor } from "../peers/lib.ts";
import otelCollector, { type CollectorHandle } from "../peers/otel-collector/peer.ts";
import { requirePeers } from "../peers/suite.ts";
import { startWeftProxy } from "./weft-proxy.ts";

const { ready } = await requirePeers(import.meta.url, otelCollector);

type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
}
interface Exported {
  resourceSpans?: { resource?: { attributes?: { key: string; value: AnyValue }[] }; scopeSpans?: { scope?: { name?: string }; spans?: Span[] }[] }[];
}

function attr(span: Span, key: string): AnyValue | undefined {
  return span.attributes?.find((a) => a.key === key)?.value;
}

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

describe.skipIf(!ready)("weft spans received by a real OpenTelemetry Collector", () => {
  let collector: CollectorHandle;
  beforeAll(async () => {
    collector = await otelCollector.start();
  });
  afterAll(async () => {
    await collector?.stop();
  });

  it("links two hops into one trace with the right attributes", async () => {
    const errors: string[] = [];
    const exporter = (service: string) => createOtlpHttpExporter({
      url: `${collector.otlpHttpUrl}/v1/traces`, resource: { "service.name": service, "service.namespace": "default" },
      scope: { name: "weft", version: "0.1.0" }, delayMs: 100, onError: (e) => errors.push(e.message),
    });
    const hop1Exporter = exporter("productpage");
    const hop2Exporter = exporter("reviews");

    // Hop 1 (outbound sidecar of productpage): the client sent W3C; forward W3C and B3.
    const incoming = extractTraceContext((n) => ({ traceparent: `00-${TRACE}-${CLIENT_SPAN}-01`, tracestate: "vendor=abc" } as Record<string, string>)[n], ["w3c", "b3"]);
    const hop1 = startHop(incoming, { samplingPercent: 1, random: Math.random });
    const upstreamHeaders: Record<string, string> = {};
    injectTraceContext(hop1, (k, v) => (upstreamHeaders[k] = v), ["b3"]);
    const outboundMesh: MeshContext = { ...inboundMesh, reporter: "source", securityPolicy: "unknown" };
    const start = Date.now() - 20;
    hop1Exporter.export(requestSpan(hop1, outboundMesh, sampleRequest({ startTimeMs: start, durationMs: 12.5, upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local" })));

    // Hop 2 (inbound sidecar of reviews) sees only B3 headers and answers 503 with UF.
    const hop2 = startHop(extractTraceContext((n) => upstreamHeaders[n], ["w3c", "b3"]), { samplingPercent: 0, random: Math.random });
    hop2Exporter.export(requestSpan(hop2, inboundMesh, sampleRequest({ startTimeMs: start + 1, durationMs: 10.25, status: 503, responseFlags: "UF" })));

    await Promise.all([hop1Exporter.flush(), hop2Exporter.flush()]);
    expect(errors).toEqual([]);
    expect(hop1Exporter.stats.exported + hop2Exporter.stats.exported).toBe(2);

    let spans: { span: Span; service?: string; scope?: string }[] = [];
    await waitFor(async () => {
      spans = (collector.exported() as Exported[]).flatMap((l) => l.resourceSpans ?? []).flatMap((r) =>
        (r.scopeSpans ?? []).flatMap((s) => (s.spans ?? []).map((span) => ({
          span, scope: s.scope?.name, service: r.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue,
        }))));
      return spans.filter((s) => s.span.traceId === TRACE).length >= 2;
    }, { what: "both spans in the collector's output", logPath: collector.logPath, timeoutMs: 30_000 });

    const client = spans.find((s) => s.span.spanId === hop1.spanId)!;
    const server = spans.find((s) => s.span.spanId === hop2.spanId)!;
    expect(client.service).toBe("productpage");
    expect(server.service).toBe("reviews");
    expect(client.scope).toBe("weft");
    // One trace; the client's span is the parent of hop 1; hop 1 is the parent of hop 2.
    expect(client.span).toMatchObject({ traceId: TRACE, parentSpanId: CLIENT_SPAN, traceState: "vendor=abc", kind: 3, name: "GET default" });
    expect(server.span).toMatchObject({ traceId: TRACE, parentSpanId: hop1.spanId, kind: 2 });
    expect(hop2.sampled).toBe(true); // the caller's decision wins over samplingPercent 0
    expect(BigInt(client.span.endTimeUnixNano) - BigInt(client.span.startTimeUnixNano)).toBe(12_500_000n);

    expect(attr(server.span, "http.request.method")).toEqual({ stringValue: "GET" });
    expect(attr(server.span, "url.path")).toEqual({ stringValue: "/reviews/1" });
    expect(attr(server.span, "http.response.status_code")).toEqual({ intValue: "503" });
    expect(attr(server.span, "server.port")).toEqual({ intValue: "9080" });
    expect(attr(server.span, "response_flags")).toEqual({ stringValue: "UF" });
    expect(attr(server.span, "weft.source.principal")).toEqual({ stringValue: "spiffe://cluster.local/ns/default/sa/productpage" });
    expect(attr(server.span, "weft.connection_security_policy")).toEqual({ stringValue: "mutual_tls" });
    expect(server.span.status).toEqual({ code: 2, message: "HTTP 503" });
    expect(attr(client.span, "upstream_cluster")).toEqual({ stringValue: "outbound|9080||reviews.default.svc.cluster.local" });
    expect(client.span.status?.code ?? 0).toBe(0);
    await Promise.all([hop1Exporter.shutdown(), hop2Exporter.shutdown()]);
  });

  it("counts a failed export instead of throwing when the collector path is wrong", async () => {
    const errors: string[] = [];
    const exporter = createOtlpHttpExporter({ url: `${collector.otlpHttpUrl}/v1/nope`, resource: { "service.name": "x" }, onError: (e) => errors.push(e.message) });
    exporter.export(requestSpan({ traceId: TRACE, spanId: "2222222222222222", sampled: true }, inboundMesh, sampleRequest()));
    await exporter.flush();
    expect(exporter.stats.failed).toBe(1);
    expect(errors[0]).toMatch(/HTTP 404/);
  });

  it("receives the spans of a real weft proxy, flushed when it drains on SIGTERM", async () => {
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const proxy = await startWeftProxy(`workload: { name: reviews-v1, namespace: default, app: reviews, version: v1 }
telemetry:
  tracing: { samplingPercent: 0, otlpEndpoint: "${collector.otlpHttpUrl}/v1/traces" }`);
    let seen = "";
    try {
      const r = await fetch(`${proxy.url}/reviews/7`, { headers: { traceparent: `00-${trace}-${CLIENT_SPAN}-01` } });
      expect(r.status).toBe(200);
      seen = r.headers.get("x-seen-traceparent") ?? "";
      await r.text();
    } finally {
      // The exporter batches for a second; the drain on SIGTERM must flush the span before exiting.
      expect(await proxy.stop()).toBe(0);
    }
    const hop = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen);
    expect(hop?.[1]).toBe(trace);
    let span: { span: Span; service?: string } | undefined;
    await waitFor(async () => {
      span = (collector.exported() as Exported[]).flatMap((l) => l.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((sc) => (sc.spans ?? []).map((sp) => ({
        span: sp, service: r.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue,
      })))).find((x) => x.span.traceId === trace);
      return span !== undefined;
    }, { what: "the proxy's span in the collector's output", logPath: collector.logPath, timeoutMs: 30_000 });
    expect(span!.service).toBe("reviews");
    expect(span!.span).toMatchObject({ traceId: trace, spanId: hop![2], parentSpanId: CLIENT_SPAN, kind: 2, name: "GET reviews" });
    expect(attr(span!.span, "http.response.status_code")).toEqual({ intValue: "200" });
    expect(attr(span!.span, "url.path")).toEqual({ stringValue: "/reviews/7" });
    expect(attr(span!.span, "weft.reporter")).toEqual({ stringValue: "destination" });
    expect(attr(span!.span, "istio.canonical_service")).toEqual({ stringValue: "reviews" });
  });
});
