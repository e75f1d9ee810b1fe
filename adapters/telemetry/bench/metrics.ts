// Benchmark, not a test: the per-request cost of recording Istio's request metrics (one counter and three
// histograms with Istio's labels) with weft's registry and with the OpenTelemetry metrics SDK (MeterProvider
// + PrometheusExporter as its reader, no server), and the cost of one scrape of each. Prints a table and
// JSON. Run: node --import tsx adapters/telemetry/bench/metrics.ts
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { istioLabels, type MeshContext, type RequestRecord } from "../attributes.ts";
import { createIstioMetrics } from "../metrics.ts";

const N = Number(process.env.N ?? 2_000_000);
const mesh: MeshContext = {
  reporter: "destination",
  source: { workload: "productpage-v1", namespace: "default", principal: "spiffe://cluster.local/ns/default/sa/productpage", app: "productpage", version: "v1" },
  destination: { workload: "reviews-v2", namespace: "default", principal: "spiffe://cluster.local/ns/default/sa/reviews", app: "reviews", version: "v2" },
  service: { host: "reviews.default.svc.cluster.local", name: "reviews", namespace: "default" },
  securityPolicy: "mutual_tls",
};
const statuses = [200, 200, 200, 200, 200, 200, 200, 404, 503, 200];
const durations = Array.from({ length: 1024 }, (_, i) => (i * 7.3) % 250);

/** Wall and CPU (user + system, GC included) nanoseconds per call; CPU is what counts on a shared machine. */
function time(label: string, fn: (i: number) => void, n = N): number {
  for (let i = 0; i < Math.min(n, 200_000); i++) fn(i);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const c = process.cpuUsage(c0);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  const cpuNs = ((c.user + c.system) * 1000) / n;
  console.log(`${label.padEnd(58)} ${ns.toFixed(1).padStart(9)} ns wall ${cpuNs.toFixed(1).padStart(9)} ns CPU per request`);
  return cpuNs;
}

// weft
const weft = createIstioMetrics();
const peer = weft.peer(mesh);
const weftNs = time("weft registry: peer.record (4 series)", (i) => {
  peer.record(false, statuses[i % 10]!, -1, statuses[i % 10] === 503 ? "UF" : "", durations[i & 1023]!, 0, 512);
});

// OpenTelemetry SDK
const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [exporter] });
const meter = provider.getMeter("weft-bench");
const requests = meter.createCounter("istio_requests_total");
const duration = meter.createHistogram("istio_request_duration_milliseconds", { advice: { explicitBucketBoundaries: [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000] } });
const reqBytes = meter.createHistogram("istio_request_bytes");
const respBytes = meter.createHistogram("istio_response_bytes");
const req: RequestRecord = { protocol: "http", status: 200, grpcStatus: -1, responseFlags: "", requestBytes: 0, responseBytes: 512, durationMs: 1 };
const attrsByStatus = new Map<string, Record<string, string>>();
for (const s of [200, 404, 503]) {
  req.status = s;
  req.responseFlags = s === 503 ? "UF" : "";
  attrsByStatus.set(String(s), istioLabels(mesh, req));
}
const otelCachedNs = time("OTel SDK: add+3×record, attribute objects cached", (i) => {
  const a = attrsByStatus.get(String(statuses[i % 10]))!;
  requests.add(1, a);
  duration.record(durations[i & 1023]!, a);
  reqBytes.record(0, a);
  respBytes.record(512, a);
}, Math.ceil(N / 20));
const otelFreshNs = time("OTel SDK: same, attribute object built per request", (i) => {
  const s = statuses[i % 10]!;
  req.status = s;
  req.responseFlags = s === 503 ? "UF" : "";
  const a = istioLabels(mesh, req);
  requests.add(1, a);
  duration.record(durations[i & 1023]!, a);
  reqBytes.record(0, a);
  respBytes.record(512, a);
}, Math.ceil(N / 20));

// One scrape each (3 series per metric family).
const scrapes = 200;
let t0 = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < scrapes; i++) bytes = weft.render().length;
const weftScrapeUs = Number(process.hrtime.bigint() - t0) / scrapes / 1000;
const serializer = new PrometheusSerializer();
t0 = process.hrtime.bigint();
let otelBytes = 0;
for (let i = 0; i < scrapes; i++) {
  const { resourceMetrics } = await exporter.collect();
  otelBytes = serializer.serialize(resourceMetrics).length;
}
const otelScrapeUs = Number(process.hrtime.bigint() - t0) / scrapes / 1000;
console.log(`${"scrape: weft render".padEnd(58)} ${weftScrapeUs.toFixed(0).padStart(8)} µs (${bytes} bytes)`);
console.log(`${"scrape: OTel collect + serialize".padEnd(58)} ${otelScrapeUs.toFixed(0).padStart(8)} µs (${otelBytes} bytes)`);
console.log(JSON.stringify({ benchmark: "telemetry-metrics", date: new Date().toISOString(), node: process.version, n: N,
  cpuNsPerRequest: { weft: round(weftNs), otelCachedAttributes: round(otelCachedNs), otelFreshAttributes: round(otelFreshNs) },
  scrapeMicros: { weft: round(weftScrapeUs), otel: round(otelScrapeUs) } }));
await provider.shutdown();

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
