// Smoke test for the OpenTelemetry Collector peer: a span exported by the OpenTelemetry JS SDK over
// OTLP/HTTP reaches a real collector and comes out of its file exporter with its ids and attributes.

import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../peers/lib.ts";
import otelCollector, { type CollectorHandle } from "../peers/otel-collector/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, otelCollector);

interface ExportedSpan {
  traceId: string;
  spanId: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string } }[];
}
interface ExportedTraces {
  resourceSpans?: { scopeSpans?: { scope?: { name?: string }; spans?: ExportedSpan[] }[] }[];
}

function spansOf(lines: unknown[]): ExportedSpan[] {
  return (lines as ExportedTraces[]).flatMap((l) => l.resourceSpans ?? []).flatMap((r) => r.scopeSpans ?? []).flatMap((s) => s.spans ?? []);
}

describe.skipIf(!ready)("otel collector smoke", () => {
  let collector: CollectorHandle;
  beforeAll(async () => {
    collector = await otelCollector.start();
  });
  afterAll(async () => {
    await collector?.stop();
  });

  it("receives an OTLP/HTTP trace from the JS exporter and writes it out", async () => {
    const exporter = new OTLPTraceExporter({ url: `${collector.otlpHttpUrl}/v1/traces` });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer("weft-interop-smoke");
    const span = tracer.startSpan("weft.smoke.request", { attributes: { "http.request.method": "GET", "weft.route": "hello" } });
    const { traceId, spanId } = span.spanContext();
    span.end();
    await provider.forceFlush();
    await provider.shutdown();

    let found: ExportedSpan | undefined;
    await waitFor(async () => {
      found = spansOf(collector.exported()).find((s) => s.spanId === spanId);
      return found !== undefined;
    }, { what: "the span in the collector's file exporter output", logPath: collector.logPath, timeoutMs: 30_000 });
    expect(found?.traceId).toBe(traceId);
    expect(found?.name).toBe("weft.smoke.request");
    expect(found?.attributes).toContainEqual({ key: "weft.route", value: { stringValue: "hello" } });
  });
});
