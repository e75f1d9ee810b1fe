/**
 * @module adapters/telemetry
 * The telemetry a proxy host wires in, built once from the IR's `TelemetrySettings`: Istio metrics,
 * the access logger, trace propagation with span export over OTLP/HTTP, and the auditor with its sink.
 * Per request the host calls `startTrace` (and `auditStart`) when the request head arrives, `inject`
 * on the upstream headers, and `finish` once when the request ends; per connection or cluster it calls
 * `metrics.peer(mesh)` once and keeps the result. Platform pieces (where lines go, `fetch`, randomness,
 * the Kafka sink) come from the host. Runtime-neutral.
 *
 * @example
 * const telemetry = createTelemetry(ir.telemetry, { write: (l) => process.stdout.write(l + "\n"), service: { name: "reviews" },
 *   otlpUrl: "http://otel-collector:4318/v1/traces", systemIp: "10.0.0.7" });
 * // request head:   const hop = telemetry.startTrace((n) => req.headers[n]); telemetry.inject(hop, (k, v) => upstream.setHeader(k, v));
 * // request end:    telemetry.finish(peerMetrics, mesh, record, hop);
 * // /stats/prometheus: telemetry.renderPrometheus()
 */

import type { TelemetrySettings } from "../../core/ir/model.ts";
import { createAccessLogger, type AccessLogFormat, type AccessLogger } from "./access-log.ts";
import type { MeshContext, RequestRecord } from "./attributes.ts";
import { createAuditor, createLineSink, type AuditFinish, type Auditor, type AuditSink, type AuditStart } from "./audit.ts";
import { createIstioMetrics, type IstioMetrics, type PeerMetrics } from "./metrics.ts";
import { extractTraceContext, injectTraceContext, startHop, TRACE_HEADERS, type HeaderGetter, type HeaderSetter, type PropagationFormat, type TraceContext } from "./propagation.ts";
import { createOtlpHttpExporter, requestSpan, type SpanExporter, type Timers } from "./tracing.ts";

export interface TelemetryHost {
  /** Receives access-log lines and stdout audit events, one line each, without the newline. */
  write(line: string): void;
  /** This workload, for the span resource. */
  service: { name: string; namespace?: string; version?: string };
  /** OTLP/HTTP traces endpoint; without it spans are not exported (propagation still works). */
  otlpUrl?: string;
  /** `systemIp` of audit events. */
  systemIp?: string;
  /** The audit sink when `settings.audit.sink` is `kafka` (Node: `createKafkaAuditSink`). */
  kafkaAuditSink?: AuditSink;
  /** B3 flavour to emit when `b3` is configured (default both: multi and single). */
  b3Style?: "multi" | "single" | "both";
  fetch?: typeof fetch;
  random?: () => number;
  timers?: Timers;
  /** Istio metrics to record into (so counters survive a rebuild on config reload); default: new ones. */
  metrics?: IstioMetrics;
  /** With new metrics: also emit Istio's four extended labels (`*_canonical_revision`, `*_cluster`). */
  extendedLabels?: boolean;
  /** Overrides the access-log format the settings give (`istio`: Istio's longer text format). */
  accessLogFormat?: AccessLogFormat;
  /** Receives span export failures (default: counted in `exporter.stats` only). */
  onExportError?(error: Error): void;
}

export interface Telemetry {
  readonly metrics: IstioMetrics | undefined;
  readonly accessLog: AccessLogger | undefined;
  readonly exporter: SpanExporter | undefined;
  readonly auditor: Auditor | undefined;
  readonly auditSink: AuditSink | undefined;
  readonly propagation: readonly PropagationFormat[];
  /** This hop's trace context from the request headers (new span id; the caller's sampling decision). */
  startTrace(get: HeaderGetter): TraceContext;
  /** Writes the hop's context on the upstream request (call `removeTraceHeaders` first if copying headers). */
  inject(hop: TraceContext, set: HeaderSetter): void;
  auditStart(get: HeaderGetter): AuditStart | undefined;
  auditFinish(start: AuditStart, done: AuditFinish): void;
  /** Once per finished request: metrics, access log and (if sampled) the span. Never throws. */
  finish(peer: PeerMetrics | undefined, mesh: MeshContext, req: RequestRecord, hop?: TraceContext): void;
  renderPrometheus(): string;
  /** Flushes spans and audit events; for graceful drain. */
  close(): Promise<void>;
}

/** The trace header names, for removing the incoming ones before `inject`. */
export const removeTraceHeaders: readonly string[] = TRACE_HEADERS;

/** Builds the telemetry for `settings` (absent: metrics on, W3C propagation, 1% sampling, no access log). */
export function createTelemetry(settings: TelemetrySettings | undefined, host: TelemetryHost): Telemetry {
  const s: TelemetrySettings = settings ?? { metrics: { enabled: true }, tracing: { samplingPercent: 1, propagation: ["w3c"] }, accessLog: { enabled: false } };
  const random = host.random ?? Math.random;
  const metrics = s.metrics.enabled ? (host.metrics ?? createIstioMetrics({ extendedLabels: host.extendedLabels })) : undefined;
  const accessLog = s.accessLog.enabled
    ? createAccessLogger({ format: host.accessLogFormat ?? (s.accessLog.format === "text" ? "envoy" : "json"), filter: s.accessLog.filter, write: host.write, at: { path: "telemetry.accessLog.filter" } })
    : undefined;
  const propagation: PropagationFormat[] = [];
  for (const p of s.tracing.propagation) {
    if (p === "w3c") propagation.push("w3c");
    else {
      const style = host.b3Style ?? "both";
      if (style !== "single") propagation.push("b3");
      if (style !== "multi") propagation.push("b3-single");
    }
  }
  const exporter = host.otlpUrl
    ? createOtlpHttpExporter({
      url: host.otlpUrl, fetch: host.fetch, timers: host.timers,
      resource: { "service.name": host.service.name, ...(host.service.namespace ? { "service.namespace": host.service.namespace } : {}),
        ...(host.service.version ? { "service.version": host.service.version } : {}) },
      scope: { name: "weft" },
      ...(host.onExportError ? { onError: host.onExportError } : {}),
    })
    : undefined;
  const auditor = s.audit ? createAuditor({ topic: s.audit.topic ?? host.service.name, systemIp: host.systemIp ?? "", includeBody: s.audit.includeBody }) : undefined;
  const auditSink = s.audit ? (s.audit.sink === "kafka" ? host.kafkaAuditSink : createLineSink(host.write)) : undefined;
  if (s.audit?.sink === "kafka" && !host.kafkaAuditSink) throw new Error("telemetry.audit.sink is kafka but the host gave no Kafka sink");

  const hopOptions = { samplingPercent: s.tracing.samplingPercent, random };
  return {
    metrics, accessLog, exporter, auditor, auditSink, propagation,
    startTrace: (get) => startHop(extractTraceContext(get, propagation), hopOptions),
    inject: (hop, set) => injectTraceContext(hop, set, propagation),
    auditStart: (get) => auditor?.start(get),
    auditFinish(start, done) {
      if (!auditor || !auditSink) return;
      try {
        auditSink.send(auditor.finish(start, done));
      } catch {
        // Auditing must never fail the request.
      }
    },
    finish(peer, mesh, req, hop) {
      try {
        if (req.protocol !== "tcp") peer?.recordRequest(req);
        accessLog?.log(mesh, req);
        if (exporter && hop?.sampled) exporter.export(requestSpan(hop, mesh, req));
      } catch {
        // Telemetry must never fail the request.
      }
    },
    renderPrometheus: () => metrics?.render() ?? "",
    async close() {
      await Promise.all([exporter?.shutdown(), auditSink?.close()]);
    },
  };
}

export * from "./access-log.ts";
export * from "./attributes.ts";
export * from "./audit.ts";
export * from "./batch-sink.ts";
export * from "./log-filter.ts";
export * from "./metrics.ts";
export * from "./propagation.ts";
export * from "./registry.ts";
export * from "./tracing.ts";
