/**
 * @module core/resources/istio/telemetry
 * Istio's Telemetry (telemetry.istio.io v1 and v1alpha1), schema as in `telemetry/v1/telemetry.proto`,
 * with the checks of Istio's ValidateTelemetry: one of selector/targetRef/targetRefs, provider names
 * set, one tracing entry and one provider each (warnings), sampling percentage 0..100, custom tags with
 * a non-empty value, tag overrides (UPSERT needs a value, REMOVE takes none), non-empty custom metrics.
 *
 * Left out: validating `accessLogging.filter.expression` as CEL, and checking provider names against
 * MeshConfig's extensionProviders (that needs the mesh config).
 */
import { z, type Diagnostic } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { enumOf, o, oneOf, percent0to100, policyTargetReference, resourceOptionalSpec, workloadSelector } from "./common.ts";
import { duration } from "./duration.ts";
import { checkPolicyTargets, createReport, type Path, type Report } from "./rules.ts";

const providerRef = strict({ name: z.string({ error: () => "provider name is required" }) });
const workloadMode = enumOf(["CLIENT_AND_SERVER", "CLIENT", "SERVER"]);

const customTag = strict({
  literal: o(strict({ value: z.string() })),
  environment: o(strict({ name: z.string(), defaultValue: o(z.string()) })),
  header: o(strict({ name: z.string(), defaultValue: o(z.string()) })),
  formatter: o(strict({ value: z.string() })),
}).superRefine(oneOf(["literal", "environment", "header", "formatter"], true));

const tracing = strict({
  match: o(strict({ mode: o(workloadMode) })),
  providers: o(z.array(providerRef)),
  randomSamplingPercentage: o(percent0to100),
  disableSpanReporting: o(z.boolean()),
  customTags: o(z.record(z.string(), customTag)),
  useRequestIdForTraceSampling: o(z.boolean()),
  enableIstioTags: o(z.boolean()),
  disableContextPropagation: o(z.boolean()),
});

const METRICS = ["ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE", "TCP_OPENED_CONNECTIONS",
  "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES"] as const;

const metricsOverrides = strict({
  match: o(strict({ metric: o(enumOf(METRICS)), customMetric: o(z.string()), mode: o(workloadMode) }).superRefine(oneOf(["metric", "customMetric"]))),
  disabled: o(z.boolean()),
  tagOverrides: o(z.record(z.string(), strict({ operation: o(enumOf(["UPSERT", "REMOVE"])), value: o(z.string()) }))),
});

const metrics = strict({
  providers: o(z.array(providerRef)),
  overrides: o(z.array(metricsOverrides)),
  reportingInterval: o(duration()),
});

const accessLogging = strict({
  match: o(strict({ mode: o(workloadMode) })),
  providers: o(z.array(providerRef)),
  disabled: o(z.boolean()),
  filter: o(strict({ expression: o(z.string()) })),
});

export const telemetrySpec = strict({
  selector: o(workloadSelector),
  targetRef: o(policyTargetReference),
  targetRefs: o(z.array(policyTargetReference)),
  tracing: o(z.array(tracing)),
  metrics: o(z.array(metrics)),
  accessLogging: o(z.array(accessLogging)),
});

export const telemetrySchema = resourceOptionalSpec(telemetrySpec);
export type Telemetry = z.infer<typeof telemetrySchema>;

function checkProviders(r: Report, path: Path, providers: ReadonlyArray<{ name: string }> | null | undefined): void {
  (providers ?? []).forEach((p, i) => {
    if (p.name === "") r.error([...path, i, "name"], "providers.name may not be empty");
  });
}

export function checkTelemetry(t: Telemetry): Diagnostic[] {
  const r = createReport();
  const spec = t.spec;
  if (!spec) return [];
  checkPolicyTargets(r, spec);
  const tracingList = spec.tracing ?? [];
  if (tracingList.length > 1) r.warn(["spec", "tracing"], "multiple tracing is not currently supported");
  tracingList.forEach((tr, i) => {
    const p = ["spec", "tracing", i];
    if ((tr.providers ?? []).length > 1) r.warn([...p, "providers"], "multiple providers is not currently supported");
    checkProviders(r, [...p, "providers"], tr.providers);
    for (const [name, tag] of Object.entries(tr.customTags ?? {})) {
      const tp = [...p, "customTags", name];
      if (name === "") r.error(tp, "tag name may not be empty");
      if (tag.literal && tag.literal.value === "") r.error([...tp, "literal", "value"], "literal tag value may not be empty");
      if (tag.header && tag.header.name === "") r.error([...tp, "header", "name"], "header tag name may not be empty");
      if (tag.environment && tag.environment.name === "") r.error([...tp, "environment", "name"], "environment tag name may not be empty");
      if (tag.formatter && tag.formatter.value === "") r.error([...tp, "formatter", "value"], "formatter tag value may not be empty");
    }
  });
  (spec.metrics ?? []).forEach((m, i) => {
    const p = ["spec", "metrics", i];
    checkProviders(r, [...p, "providers"], m.providers);
    (m.overrides ?? []).forEach((ov, j) => {
      const op = [...p, "overrides", j];
      for (const [tag, to] of Object.entries(ov.tagOverrides ?? {})) {
        if (tag === "") r.warn([...op, "tagOverrides"], "tagOverrides name may not be empty");
        const operation = to.operation ?? "UPSERT";
        if (operation === "UPSERT" && !to.value) r.error([...op, "tagOverrides", tag], "tagOverrides.value must be set when operation is UPSERT");
        if (operation === "REMOVE" && to.value) r.error([...op, "tagOverrides", tag, "value"], "tagOverrides.value may only be set when operation is UPSERT");
      }
      if (ov.match?.customMetric === "") r.error([...op, "match", "customMetric"], "customMetric may not be empty");
    });
  });
  (spec.accessLogging ?? []).forEach((l, i) => checkProviders(r, ["spec", "accessLogging", i, "providers"], l.providers));
  return r.diagnostics;
}

export const telemetryKind = defineKind({
  group: "telemetry.istio.io",
  versions: ["v1", "v1alpha1"],
  kind: "Telemetry",
  schema: telemetrySchema,
  check: checkTelemetry,
});
