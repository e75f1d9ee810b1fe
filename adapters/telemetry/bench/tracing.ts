// Benchmark, not a test: the cost per sampled request of producing and exporting one span over OTLP/HTTP
// (JSON, batches of 512) with weft's lean exporter and with the OpenTelemetry SDK (BasicTracerProvider +
// BatchSpanProcessor + OTLPTraceExporter), both sending to the same local HTTP sink; plus the part paid
// on the request path (weft: requestSpan + export; SDK: startSpan with attributes + end).
// Run: node --import tsx adapters/telemetry/bench/tracing.ts
import { spawn } from "node:child_process";
import { once } from "node:events";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createRequestRecord, spanAttributes, type RequestRecord } from "../attributes.ts";
import { inboundMesh } from "../fixtures.ts";
import { extractTraceContext, startHop } from "../propagation.ts";
import { createOtlpHttpExporter, requestSpan } from "../tracing.ts";

const N = Number(process.env.N ?? 50_000);
// The collector stand-in runs in its own process, so only the producer's CPU is measured here.
const sinkSource = `const s = require("node:http").createServer((q, r) => { q.resume(); q.on("end", () => r.writeHead(200, { "content-type": "application/json" }).end("{}")); });
s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;
const sink = spawn(process.execPath, ["-e", sinkSource], { stdio: ["ignore", "pipe", "inherit"] });
const [portLine] = (await once(sink.stdout!, "data")) as [Buffer];
const url = `http://127.0.0.1:${portLine.toString().trim()}/v1/traces`;
const headers: Record<string, string> = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
/** A request record filled field by field, as the proxy does. */
function record(): RequestRecord {
  const r = createRequestRecord("http");
  r.method = "GET";
  r.scheme = "http";
  r.path = "/reviews/1";
  r.authority = "reviews:9080";
  r.protocolVersion = "1.1";
  r.status = 200;
  r.responseBytes = 295;
  r.startTimeMs = Date.now();
  r.durationMs = 4.6;
  r.userAgent = "curl/8";
  r.requestId = "9f0c1f4e-3b1d-4d0e-8f55-3d2f1c7a9b10";
  r.clientAddress = "10.0.0.5";
  r.upstreamHost = "127.0.0.1:9080";
  r.upstreamCluster = "inbound|9080||";
  r.routeName = "default";
  return r;
}

async function measure(label: string, body: (i: number) => void, flush: () => Promise<void>): Promise<{ hotNs: number; totalNs: number }> {
  let hot = 0n;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const h0 = process.hrtime.bigint();
    body(i);
    hot += process.hrtime.bigint() - h0;
    // Drain every 512 spans so neither exporter drops (both queues hold 4096): every span is encoded and sent.
    if (i % 512 === 511) await flush();
  }
  await flush();
  const cpu = process.cpuUsage(cpu0);
  const totalNs = ((cpu.user + cpu.system) * 1000) / N;
  const hotNs = Number(hot) / N;
  console.log(`${label.padEnd(44)} request path (wall) ${(hotNs / 1000).toFixed(2).padStart(6)} µs   CPU incl. export ${(totalNs / 1000).toFixed(2).padStart(6)} µs per span`);
  return { hotNs, totalNs };
}

// weft
const lean = createOtlpHttpExporter({ url, resource: { "service.name": "bench" }, maxQueue: 4096, maxBatch: 512 });
const weft = await measure("weft lean OTLP/JSON exporter", () => {
  const hop = startHop(extractTraceContext((n) => headers[n], ["w3c"]), { samplingPercent: 100, random: Math.random });
  lean.export(requestSpan(hop, inboundMesh, record()));
}, () => lean.flush());

// OpenTelemetry SDK
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 1000 })],
});
const tracer = provider.getTracer("weft-bench");
const sdk = await measure("OpenTelemetry SDK + OTLP/HTTP (JSON) exporter", () => {
  const incoming = extractTraceContext((n) => headers[n], ["w3c"]).context!;
  const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: incoming.traceId, spanId: incoming.spanId, traceFlags: 1, isRemote: true });
  const req = record();
  const span = tracer.startSpan("GET default", { kind: SpanKind.SERVER, attributes: spanAttributes(inboundMesh, req), startTime: req.startTimeMs }, parent);
  span.end(req.startTimeMs! + req.durationMs);
}, () => provider.forceFlush());

console.log(JSON.stringify({ benchmark: "telemetry-tracing", date: new Date().toISOString(), node: process.version, n: N,
  weft: { requestPathMicros: round(weft.hotNs / 1000), totalMicros: round(weft.totalNs / 1000), exported: lean.stats.exported, dropped: lean.stats.dropped },
  otelSdk: { requestPathMicros: round(sdk.hotNs / 1000), totalMicros: round(sdk.totalNs / 1000) } }));
await provider.shutdown();
sink.kill();

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
