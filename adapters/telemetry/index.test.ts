import { describe, expect, it } from "vitest";
import { inboundMesh, sampleRequest } from "./fixtures.ts";
import { createTelemetry } from "./index.ts";
import { createManualTimers } from "./manual-timers.ts";

describe("createTelemetry", () => {
  it("wires metrics, access log, propagation, span export and stdout audit from the IR settings", async () => {
    const lines: string[] = [];
    const bodies: string[] = [];
    const telemetry = createTelemetry({
      metrics: { enabled: true },
      tracing: { samplingPercent: 100, propagation: ["w3c", "b3"] },
      accessLog: { enabled: true, format: "json", filter: "response.code >= 500" },
      audit: { sink: "stdout", topic: "reviews-prod" },
    }, {
      write: (l) => lines.push(l), service: { name: "reviews" }, otlpUrl: "http://collector/v1/traces", systemIp: "10.0.0.7",
      random: () => 0.5, timers: createManualTimers(),
      fetch: (async (_u: string, init: RequestInit) => {
        bodies.push(init.body as string);
        return new Response("{}");
      }) as unknown as typeof fetch,
    });
    expect(telemetry.propagation).toEqual(["w3c", "b3", "b3-single"]);

    const hop = telemetry.startTrace((n) => (n === "x-b3-traceid" ? "a3ce929d0e0e4736" : n === "x-b3-spanid" ? "00f067aa0ba902b7" : undefined));
    expect(hop).toMatchObject({ traceId: "0000000000000000a3ce929d0e0e4736", parentSpanId: "00f067aa0ba902b7", sampled: true });
    const upstream: Record<string, string> = {};
    telemetry.inject(hop, (k, v) => (upstream[k] = v));
    expect(Object.keys(upstream).sort()).toEqual(["b3", "traceparent", "x-b3-parentspanid", "x-b3-sampled", "x-b3-spanid", "x-b3-traceid"]);

    const peer = telemetry.metrics!.peer(inboundMesh);
    telemetry.finish(peer, inboundMesh, sampleRequest({ status: 200 }), hop);
    telemetry.finish(peer, inboundMesh, sampleRequest({ status: 503, responseFlags: "UF" }), hop);
    expect(telemetry.renderPrometheus()).toMatch(/istio_requests_total\{[^}]*response_code="503"[^}]*\} 1/);
    expect(lines.map((l) => (JSON.parse(l) as { response_code: number }).response_code)).toEqual([503]);

    const a = telemetry.auditStart(() => undefined)!;
    telemetry.auditFinish(a, { method: "GET", path: "/", status: 200, requestHeaders: [], originators: [] });
    expect(JSON.parse(lines[1]!)).toMatchObject({ eventType: "reviews-prod", systemIp: "10.0.0.7", action: "read" });

    await telemetry.close();
    expect(bodies).toHaveLength(1);
    expect((JSON.parse(bodies[0]!) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(2);
  });

  it("defaults to metrics and W3C only, and needs a Kafka sink from the host for Kafka audit", () => {
    const t = createTelemetry(undefined, { write: () => undefined, service: { name: "x" } });
    expect(t.propagation).toEqual(["w3c"]);
    expect(t.accessLog).toBeUndefined();
    expect(t.exporter).toBeUndefined();
    expect(t.auditStart(() => undefined)).toBeUndefined();
    expect(() => createTelemetry({ metrics: { enabled: false }, tracing: { samplingPercent: 0, propagation: [] }, accessLog: { enabled: false }, audit: { sink: "kafka" } },
      { write: () => undefined, service: { name: "x" } })).toThrow(/Kafka sink/);
  });
});
