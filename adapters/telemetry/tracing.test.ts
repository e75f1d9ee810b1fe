import { describe, expect, it } from "vitest";
import { inboundMesh, sampleRequest } from "./fixtures.ts";
import { createManualTimers } from "./manual-timers.ts";
import type { TraceContext } from "./propagation.ts";
import { createOtlpHttpExporter, encodeTraces, requestSpan, spanStatus, toUnixNanos, type SpanRecord } from "./tracing.ts";

const ctx: TraceContext = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "1111111111111111", parentSpanId: "00f067aa0ba902b7", sampled: true };

interface Sent {
  url: string;
  body: { resourceSpans: { resource: { attributes: unknown[] }; scopeSpans: { scope: { name: string }; spans: Record<string, unknown>[] }[] }[] };
}

function recordingFetch(status = 200): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const f = (async (url: string, init: RequestInit) => {
    sent.push({ url, body: JSON.parse(init.body as string) as Sent["body"] });
    return new Response("{}", { status });
  }) as unknown as typeof fetch;
  return { fetch: f, sent };
}

function span(over: Partial<TraceContext> = {}): SpanRecord {
  return requestSpan({ ...ctx, ...over }, inboundMesh, sampleRequest());
}

describe("OTLP/JSON encoding", () => {
  it("writes nanosecond timestamps exactly, beyond 2^53", () => {
    expect(toUnixNanos(1763780400123.25)).toBe("1763780400123250000");
    expect(toUnixNanos(1763780400123)).toBe("1763780400123000000");
    expect(toUnixNanos(1.9999999)).toBe("2000000");
    expect(toUnixNanos(1795316400123, 4.6)).toBe("1795316400127600000");
    expect(toUnixNanos(1795316400123.5, 0.0005)).toBe("1795316400123500500");
    expect(toUnixNanos(1795316400123.75, 1.5)).toBe("1795316400125250000");
  });

  it("encodes a server span with ids, parent, kind, times, attributes and status", () => {
    const body = JSON.parse(encodeTraces([span()], { "service.name": "reviews" }, { name: "weft", version: "0.1.0" })) as Sent["body"];
    const rs = body.resourceSpans[0]!;
    expect(rs.resource.attributes).toEqual([{ key: "service.name", value: { stringValue: "reviews" } }]);
    expect(rs.scopeSpans[0]!.scope).toEqual({ name: "weft", version: "0.1.0" });
    const s = rs.scopeSpans[0]!.spans[0]!;
    expect(s).toMatchObject({
      traceId: ctx.traceId, spanId: ctx.spanId, parentSpanId: ctx.parentSpanId, name: "GET default", kind: 2,
      startTimeUnixNano: "1795316400123000000", endTimeUnixNano: "1795316400127600000", status: { code: 0 },
    });
    expect(s.attributes).toContainEqual({ key: "http.response.status_code", value: { intValue: "200" } });
    expect(s.attributes).toContainEqual({ key: "url.path", value: { stringValue: "/reviews/1" } });
    expect(s.attributes).toContainEqual({ key: "weft.source.principal", value: { stringValue: "spiffe://cluster.local/ns/default/sa/productpage" } });
  });

  it("marks 5xx, gRPC failures and local failures as errors", () => {
    const of = (over: Parameters<typeof sampleRequest>[0], kind: SpanRecord["kind"] = "server") =>
      spanStatus({ ...requestSpan(ctx, inboundMesh, sampleRequest(over), kind) });
    expect(of({ status: 503 }).code).toBe(2);
    expect(of({ status: 404 }).code).toBe(0);
    expect(of({ status: 404 }, "client").code).toBe(2);
    expect(of({ protocol: "grpc", status: 200, grpcStatus: 14 })).toEqual({ code: 2, message: "grpc-status 14" });
    expect(of({ status: 0, responseFlags: "DC" })).toEqual({ code: 2, message: "DC" });
  });
});

describe("OTLP/HTTP exporter", () => {
  it("sends a partial batch after the delay and a full batch at once", async () => {
    const timers = createManualTimers();
    const { fetch, sent } = recordingFetch();
    const exp = createOtlpHttpExporter({ url: "http://collector/v1/traces", resource: { "service.name": "r" }, fetch, timers, maxBatch: 3, delayMs: 1000 });
    exp.export(span());
    await timers.advance(999);
    expect(sent).toHaveLength(0);
    await timers.advance(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe("http://collector/v1/traces");
    await exp.flush();
    for (let i = 0; i < 3; i++) exp.export(span());
    expect(sent).toHaveLength(1); // not on the caller's path...
    await timers.advance(0); // ...but in the next task, without waiting for the delay
    expect(sent).toHaveLength(2);
    await exp.flush();
    expect(sent[1]!.body.resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(3);
    expect(exp.stats).toMatchObject({ exported: 4, dropped: 0, failed: 0 });
  });

  it("ignores unsampled spans, drops beyond the queue bound and counts failed sends", async () => {
    const timers = createManualTimers();
    const { fetch, sent } = recordingFetch(503);
    const errors: string[] = [];
    const exp = createOtlpHttpExporter({ url: "http://c/v1/traces", resource: {}, fetch, timers, maxQueue: 2, maxBatch: 10, onError: (e) => errors.push(e.message) });
    exp.export(span({ sampled: false }));
    exp.export(span());
    exp.export(span());
    exp.export(span());
    expect(exp.stats.dropped).toBe(1);
    await exp.flush();
    expect(sent).toHaveLength(1);
    expect(exp.stats).toMatchObject({ exported: 0, failed: 2, queued: 0 });
    expect(errors).toEqual(["OTLP export: HTTP 503"]);
  });

  it("survives a fetch that throws", async () => {
    const timers = createManualTimers();
    const exp = createOtlpHttpExporter({ url: "http://c/v1/traces", resource: {}, timers, fetch: (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch });
    exp.export(span());
    await exp.shutdown();
    expect(exp.stats.failed).toBe(1);
    exp.export(span());
    expect(exp.stats.queued).toBe(0);
  });
});
