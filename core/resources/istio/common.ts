/**
 * @module core/resources/istio/common
 * Schema building blocks shared by the Istio kinds, with field names and types as in istio/api
 * (`networking/v1`, `security/v1`, `telemetry/v1`, `type/v1beta1`): numbers, ports, enums, string
 * matches, workload selectors, policy target references, destinations, the resource envelope
 * (`apiVersion`, `kind`, `metadata`, `spec`). Optional fields accept YAML `null`, as Istio's decoder does.
 */
import { z } from "../../schema/index.ts";
import { strict } from "../fields.ts";

/** Optional field; YAML `key:` with no value (null) counts as absent, as in Istio. */
export function o<T extends z.ZodType>(schema: T) {
  return schema.nullish();
}

function intIn(min: number, max: number, what: string) {
  return z.number({ error: () => `expected ${what}` })
    .int({ error: () => `expected ${what}` })
    .min(min, { error: () => `must be ${what}` })
    .max(max, { error: () => `must be ${what}` });
}

/** A port number, 1..65535. */
export const port = intIn(1, 65535, "a port number in the range 1..65535");
/** A port number where 0 has a meaning (Unix domain socket listeners); checked by the kind. */
export const portOrZero = intIn(0, 65535, "a port number in the range 0..65535");
export const uint32 = intIn(0, 4294967295, "a non-negative integer (uint32)");
/** int32 fields that Istio's validation requires to be non-negative. */
export const nonNegInt32 = intIn(0, 2147483647, "a non-negative integer (int32)");
export const int32 = intIn(-2147483648, 2147483647, "an integer (int32)");
export const percent0to100 = z.number({ error: () => "expected a number" }).min(0, { error: () => "must be in the range 0..100" }).max(100, { error: () => "must be in the range 0..100" });

/** A proto enum written by name; the message lists the valid names. */
export function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `must be one of ${values.join(", ")}` });
}

export const stringMap = z.record(z.string(), z.string({ error: () => "expected a string value" }));
export const stringList = z.array(z.string());

/** Reports when more than one (or, with `required`, not exactly one) of `keys` is set. */
export function oneOf<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[], required = false) {
  return (value: T, ctx: z.RefinementCtx) => {
    const set = keys.filter((k) => value[k] !== undefined && value[k] !== null);
    if (set.length > 1) ctx.addIssue({ code: "custom", message: `only one of ${keys.join(", ")} may be set; found ${set.join(" and ")}` });
    else if (required && set.length === 0) ctx.addIssue({ code: "custom", message: `exactly one of ${keys.join(", ")} must be set` });
  };
}

const stringMatchShape = { exact: o(z.string()), prefix: o(z.string()), regex: o(z.string()) };
/** `StringMatch` with exactly one of exact | prefix | regex. */
export const stringMatch = strict(stringMatchShape).superRefine(oneOf(["exact", "prefix", "regex"], true));
/** `StringMatch` in header and query-parameter maps, where `{}` checks presence only. */
export const presenceStringMatch = strict(stringMatchShape).superRefine(oneOf(["exact", "prefix", "regex"]));

/** `istio.type.v1beta1.WorkloadSelector`. */
export const workloadSelector = strict({ matchLabels: o(stringMap) });

/** `istio.type.v1beta1.PolicyTargetReference`. */
export const policyTargetReference = strict({
  group: o(z.string()),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: o(z.string()),
});

/** `networking.v1.WorkloadSelector` (Sidecar, ServiceEntry): plain `labels`. */
export const networkingWorkloadSelector = strict({ labels: o(stringMap) });

export const portSelector = strict({ number: o(port) });

/** `Destination`: host, subset, port. */
export const destination = strict({ host: z.string().min(1, { error: () => "host is required" }), subset: o(z.string()), port: o(portSelector) });

const metadata = z.looseObject({
  name: z.string({ error: () => "metadata.name is required" }).min(1, { error: () => "metadata.name must not be empty" }),
  namespace: o(z.string()),
  labels: o(stringMap),
  annotations: o(stringMap),
});

/** The Kubernetes envelope around a spec. `status` is accepted (and not checked) so `kubectl get -o yaml` output validates. */
export function resource<S extends z.ZodType>(spec: S) {
  return strict({ apiVersion: z.string(), kind: z.string(), metadata, spec, status: z.unknown().optional() });
}

/** The envelope for kinds whose spec may be omitted (an empty policy). */
export function resourceOptionalSpec<S extends z.ZodType>(spec: S) {
  return strict({ apiVersion: z.string(), kind: z.string(), metadata, spec: spec.nullish(), status: z.unknown().optional() });
}

export type TargetRef = z.infer<typeof policyTargetReference>;
