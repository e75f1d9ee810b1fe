/**
 * @module adapters/istio/telemetry
 * Istio Telemetry ↔ IR telemetry policies (`TelemetryPolicy`: tracing, metrics and access logging per
 * scope, with providers, modes, custom tags, metric overrides and tag overrides, access-log filters), and
 * the mesh-wide `TelemetrySettings` weft's own proxy reads from a root-namespace policy without selector.
 * Istio's defaults are explicit in the IR where they change meaning: a tag override without an
 * operation is an UPSERT.
 */
import type { TelemetryMode, TelemetryPolicy, TelemetrySettings, TraceTag } from "../../core/ir/model.ts";
import type { Telemetry } from "../../core/resources/istio/telemetry.ts";
import { createLossSink, type Loss } from "./loss.ts";
import { compact, goDuration, ms, nameOf, objectRef, safeName, type IstioOptions } from "./names.ts";
import { selectorOf, selectorToIstio } from "./security.ts";

type Obj = Record<string, unknown>;
type Spec = NonNullable<Telemetry["spec"]>;
type Tag = NonNullable<NonNullable<Spec["tracing"]>[number]["customTags"]>[string];

const providers = (ps: { name: string }[] | null | undefined) => (ps ? ps.map((p) => p.name) : undefined);
const mode = (m: { mode?: TelemetryMode | null } | null | undefined) => m?.mode ?? undefined;

function tagToIr(t: Tag): TraceTag {
  if (t.literal) return { literal: t.literal.value };
  if (t.environment) return { environment: t.environment.name, ...(t.environment.defaultValue ? { defaultValue: t.environment.defaultValue } : {}) };
  if (t.header) return { header: t.header.name, ...(t.header.defaultValue ? { defaultValue: t.header.defaultValue } : {}) };
  return { formatter: t.formatter!.value };
}

function tagToIstio(t: TraceTag): Obj {
  if ("literal" in t) return { literal: { value: t.literal } };
  if ("environment" in t) return { environment: compact({ name: t.environment, defaultValue: t.defaultValue }) };
  if ("header" in t) return { header: compact({ name: t.header, defaultValue: t.defaultValue }) };
  return { formatter: { value: t.formatter } };
}

/** Schema-valid Telemetry → IR telemetry policy. */
export function telemetryToIr(t: Telemetry, options: IstioOptions = {}): { value: TelemetryPolicy; losses: Loss[] } {
  const ns = t.metadata.namespace ?? options.defaultNamespace ?? "default";
  const spec: Spec = t.spec ?? {};
  const out: TelemetryPolicy = { id: `${ns}/${t.metadata.name}`, namespace: ns, selector: selectorOf(ns, spec) };
  if (spec.tracing) {
    out.tracing = spec.tracing.map((tr) => compact({
      mode: mode(tr.match),
      providers: providers(tr.providers),
      samplingPercent: tr.randomSamplingPercentage ?? undefined,
      disableSpanReporting: tr.disableSpanReporting ?? undefined,
      customTags: tr.customTags ? Object.fromEntries(Object.entries(tr.customTags).map(([k, v]) => [k, tagToIr(v)])) : undefined,
      useRequestIdForTraceSampling: tr.useRequestIdForTraceSampling ?? undefined,
      enableIstioTags: tr.enableIstioTags ?? undefined,
      disableContextPropagation: tr.disableContextPropagation ?? undefined,
    }));
  }
  if (spec.metrics) {
    out.metrics = spec.metrics.map((m) => compact({
      providers: providers(m.providers),
      overrides: m.overrides?.map((o) => compact({
        metric: o.match?.metric ?? undefined,
        customMetric: o.match?.customMetric ?? undefined,
        mode: mode(o.match),
        disabled: o.disabled ?? undefined,
        tags: o.tagOverrides
          ? Object.fromEntries(Object.entries(o.tagOverrides).map(([k, v]) => [k, (v.operation ?? "UPSERT") === "REMOVE" ? { remove: true as const } : { value: v.value ?? "" }]))
          : undefined,
      })),
      reportingIntervalMs: ms(m.reportingInterval),
    }));
  }
  if (spec.accessLogging) {
    out.accessLogging = spec.accessLogging.map((a) => compact({
      mode: mode(a.match),
      providers: providers(a.providers),
      disabled: a.disabled ?? undefined,
      filter: a.filter?.expression ?? undefined,
    }));
  }
  out.origin = { system: "istio", object: objectRef("Telemetry", ns, t.metadata.name) };
  return { value: out, losses: [] };
}

const withMode = (m: TelemetryMode | undefined, extra: Obj = {}) => (m || Object.keys(extra).length ? compact({ ...extra, mode: m }) : undefined);
const providerRefs = (ps: string[] | undefined) => ps?.map((name) => ({ name }));

/** IR telemetry policy → Telemetry. */
export function telemetryToIstio(p: TelemetryPolicy, options: IstioOptions = {}): { value: Obj; losses: Loss[] } {
  const { namespace, name } = nameOf(p.id, p.origin, "Telemetry", options.defaultNamespace);
  const spec = compact({
    ...selectorToIstio(p.selector),
    tracing: p.tracing?.map((t) => compact({
      match: withMode(t.mode),
      providers: providerRefs(t.providers),
      randomSamplingPercentage: t.samplingPercent,
      disableSpanReporting: t.disableSpanReporting,
      customTags: t.customTags ? Object.fromEntries(Object.entries(t.customTags).map(([k, v]) => [k, tagToIstio(v)])) : undefined,
      useRequestIdForTraceSampling: t.useRequestIdForTraceSampling,
      enableIstioTags: t.enableIstioTags,
      disableContextPropagation: t.disableContextPropagation,
    })),
    metrics: p.metrics?.map((m) => compact({
      providers: providerRefs(m.providers),
      overrides: m.overrides?.map((o) => compact({
        match: withMode(o.mode, compact({ metric: o.metric, customMetric: o.customMetric })),
        disabled: o.disabled,
        tagOverrides: o.tags ? Object.fromEntries(Object.entries(o.tags).map(([k, v]) => [k, "remove" in v ? { operation: "REMOVE" } : { value: v.value }])) : undefined,
      })),
      reportingInterval: m.reportingIntervalMs !== undefined ? goDuration(m.reportingIntervalMs) : undefined,
    })),
    accessLogging: p.accessLogging?.map((a) => compact({
      match: withMode(a.mode),
      providers: providerRefs(a.providers),
      disabled: a.disabled,
      filter: a.filter !== undefined ? { expression: a.filter } : undefined,
    })),
  });
  return { value: { apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name: safeName(name), namespace }, spec }, losses: [] };
}

/**
 * The mesh-wide settings a root-namespace Telemetry without selector gives weft's proxy. Client/server
 * modes, custom tags, several providers and metric overrides beyond enable/disable are reported.
 */
export function meshTelemetrySettings(p: TelemetryPolicy): { value: TelemetrySettings; losses: Loss[] } {
  const loss = createLossSink(p.origin?.object ?? `Telemetry/${p.id}`);
  const tr = p.tracing?.[0];
  if ((p.tracing?.length ?? 0) > 1) loss.lost("spec.tracing", "only the first tracing entry applies (as in Istio)");
  if (tr?.mode && tr.mode !== "CLIENT_AND_SERVER") loss.lost("spec.tracing[0].match.mode", "weft's mesh-wide settings do not distinguish client and server sides");
  if (tr?.customTags) loss.lost("spec.tracing[0].customTags", "custom span tags are not part of weft's mesh-wide settings");
  const al = p.accessLogging?.[0];
  if ((p.accessLogging?.length ?? 0) > 1) loss.lost("spec.accessLogging", "only the first access-logging entry is used for the mesh-wide settings");
  const overrides: NonNullable<TelemetrySettings["metrics"]["overrides"]> = [];
  let metricsEnabled = true;
  (p.metrics ?? []).forEach((m, i) => (m.overrides ?? []).forEach((o, j) => {
    const metricName = o.metric ?? o.customMetric ?? "ALL_METRICS";
    if (o.disabled && metricName === "ALL_METRICS") metricsEnabled = false;
    else if (o.tags) overrides.push({ name: metricName, tags: Object.fromEntries(Object.entries(o.tags).map(([k, v]) => [k, "remove" in v ? null : v.value])) });
    else if (o.disabled) loss.lost(`spec.metrics[${i}].overrides[${j}]`, "disabling a single metric is not part of weft's mesh-wide settings");
  }));
  const value: TelemetrySettings = {
    metrics: { enabled: metricsEnabled, ...(overrides.length ? { overrides } : {}) },
    tracing: { ...(tr?.providers?.[0] ? { provider: tr.providers[0] } : {}), samplingPercent: tr?.disableSpanReporting ? 0 : (tr?.samplingPercent ?? 1), propagation: tr?.disableContextPropagation ? [] : ["w3c", "b3"] },
    accessLog: { enabled: al ? !al.disabled : false, ...(al?.filter ? { filter: al.filter } : {}) },
  };
  return { value, losses: loss.losses };
}
