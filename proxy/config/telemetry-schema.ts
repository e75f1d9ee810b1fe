/**
 * @module proxy/config/telemetry-schema
 * The `workload:` and `telemetry:` sections of the proxy config file. `workload` says who this proxy
 * serves (Istio's node metadata: workload name, namespace, app, version, SPIFFE principal, the local
 * service), which fills the destination labels of inbound requests and the source labels of outbound
 * ones. `telemetry` turns on Istio's standard metrics, the access log (format, file, CEL filter),
 * trace propagation and OTLP/HTTP span export, and audit events. The telemetry part becomes the IR's
 * `TelemetrySettings` (what an Istio `Telemetry` resource maps onto, see adapters/istio/telemetry.ts)
 * plus the host bits the IR does not carry (file path, collector endpoint, B3 style). A missing
 * `telemetry:` section means no Istio telemetry; `telemetry: {}` means Istio's metrics only; a
 * `tracing:` block turns on propagation (W3C and B3 by default, 1% of new traces sampled), an
 * `accessLog:` block the access log, an `audit:` block audit events.
 */
import { z } from "../../core/schema/index.ts";
import type { TelemetrySettings } from "../../core/ir/model.ts";
import type { ProxyTelemetryConfig, WorkloadConfig } from "./types.ts";

const spiffe = z.string().startsWith("spiffe://", "a SPIFFE ID (spiffe://trust-domain/path)");

export const workloadSchema = z.strictObject({
  name: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  app: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  principal: spiffe.optional(),
  canonicalService: z.string().min(1).optional(),
  canonicalRevision: z.string().min(1).optional(),
  /** Mesh cluster id (`source_cluster` / `destination_cluster` with `extendedLabels`). */
  cluster: z.string().min(1).optional(),
  /** The local service inbound requests reach (FQDN), when clusters do not name one. */
  service: z.string().min(1).optional(),
}).transform((v): WorkloadConfig => v);

const httpUrl = z.string().regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, "an http:// or https:// URL");

export const telemetrySchema = z.strictObject({
  metrics: z.strictObject({
    enabled: z.boolean().default(true),
    /** Also emit `source/destination_canonical_revision` and `source/destination_cluster`, as Istio does. */
    extendedLabels: z.boolean().default(false),
  }).default({ enabled: true, extendedLabels: false }),
  accessLog: z.strictObject({
    enabled: z.boolean().default(true),
    /** `json` (Istio's JSON field names), `text` (Envoy's default format) or `istio` (Istio's longer text format). */
    format: z.enum(["json", "text", "istio"]).default("json"),
    /** A file to append lines to; absent = the proxy's stdout. */
    path: z.string().min(1).optional(),
    /** CEL subset, e.g. `response.code >= 400 || response.flags != 0`; only matching requests are logged. */
    filter: z.string().optional(),
  }).optional(),
  tracing: z.strictObject({
    /** Share of new traces to sample, 0..100; a caller's decision is always honoured. */
    samplingPercent: z.number().min(0).max(100).default(1),
    propagation: z.array(z.enum(["w3c", "b3"])).default(["w3c", "b3"]),
    /** B3 form to send: `multi` (x-b3-*), `single` (`b3`) or `both`. */
    b3Style: z.enum(["multi", "single", "both"]).default("multi"),
    /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`; absent = propagate only. */
    otlpEndpoint: httpUrl.optional(),
    /** `service.name` of the spans (default: the workload's canonical service, app or name). */
    serviceName: z.string().min(1).optional(),
  }).optional(),
  audit: z.strictObject({
    sink: z.enum(["stdout", "kafka"]).default("stdout"),
    topic: z.string().min(1).optional(),
    includeBody: z.boolean().optional(),
    /** Kafka brokers (`host:port`), for `sink: kafka`. */
    brokers: z.array(z.string().min(1)).min(1).optional(),
  }).optional(),
}).transform((v, ctx): ProxyTelemetryConfig => {
  if (v.audit?.sink === "kafka" && v.audit.brokers === undefined) ctx.addIssue({ code: "custom", path: ["audit", "brokers"], message: "sink kafka needs brokers" });
  const out: ProxyTelemetryConfig = {
    settings: {
      metrics: { enabled: v.metrics.enabled },
      tracing: { samplingPercent: v.tracing?.samplingPercent ?? 0, propagation: v.tracing?.propagation ?? [] },
      accessLog: { enabled: v.accessLog?.enabled ?? false, ...(v.accessLog ? { format: v.accessLog.format === "json" ? "json" : "text" } : {}), ...(v.accessLog?.filter ? { filter: v.accessLog.filter } : {}) },
      ...(v.audit ? { audit: { sink: v.audit.sink, ...(v.audit.topic ? { topic: v.audit.topic } : {}), ...(v.audit.includeBody !== undefined ? { includeBody: v.audit.includeBody } : {}) } } : {}),
    },
    extendedLabels: v.metrics.extendedLabels,
  };
  if (v.accessLog?.format === "istio") out.accessLogFormat = "istio";
  if (v.accessLog?.path !== undefined) out.accessLogPath = v.accessLog.path;
  if (v.tracing !== undefined) {
    out.b3Style = v.tracing.b3Style;
    if (v.tracing.otlpEndpoint !== undefined) out.otlpEndpoint = v.tracing.otlpEndpoint;
    if (v.tracing.serviceName !== undefined) out.serviceName = v.tracing.serviceName;
  }
  if (v.audit?.brokers !== undefined) out.kafkaBrokers = v.audit.brokers;
  return out;
});

/**
 * The proxy telemetry for IR settings that did not come from this file: an Istio `Telemetry` resource
 * (through `meshTelemetrySettings` in adapters/istio/telemetry.ts) or an xDS source. `host` adds what
 * the IR does not carry (log file, collector endpoint, B3 style).
 * @example
 * config.telemetry = proxyTelemetryFromSettings(meshTelemetrySettings(policy).value, { otlpEndpoint: "http://otel:4318/v1/traces" });
 */
export function proxyTelemetryFromSettings(settings: TelemetrySettings, host: Partial<Omit<ProxyTelemetryConfig, "settings">> = {}): ProxyTelemetryConfig {
  return { extendedLabels: false, ...host, settings };
}
