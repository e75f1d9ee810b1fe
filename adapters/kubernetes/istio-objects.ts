/**
 * @module adapters/kubernetes/istio-objects
 * Istio custom resources as read from the API server → objects for weft's config store. Pure: the
 * resource types (group, served version, plural) weft follows, and a conversion that drops what the
 * server manages (status, resourceVersion, uid, managedFields, kubectl's last-applied annotation),
 * marks the object with the source it came from, and validates it with the same kind schemas as
 * `weft validate` — so an object Istio would accept silently with a misspelt field is reported with
 * its kind/namespace/name and the field path instead of being stored.
 */
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource, type KindSpec } from "../../core/resources/kind.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import type { KubeObject, ResourceType } from "./api.ts";

/** Annotation naming the weft source that mirrored an object into the store. */
export const SOURCE_ANNOTATION = "weft.dev/source";
const DROPPED_ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration"];
const SERVER_FIELDS = ["resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers", "ownerReferences"];

/** The Istio kinds weft follows by default, at the version Istio stores them. */
export const istioResourceTypes: readonly ResourceType[] = [
  { group: "security.istio.io", version: "v1", kind: "AuthorizationPolicy", plural: "authorizationpolicies" },
  { group: "security.istio.io", version: "v1", kind: "PeerAuthentication", plural: "peerauthentications" },
  { group: "security.istio.io", version: "v1", kind: "RequestAuthentication", plural: "requestauthentications" },
  { group: "networking.istio.io", version: "v1", kind: "VirtualService", plural: "virtualservices" },
  { group: "networking.istio.io", version: "v1", kind: "DestinationRule", plural: "destinationrules" },
  { group: "networking.istio.io", version: "v1", kind: "ServiceEntry", plural: "serviceentries" },
  { group: "networking.istio.io", version: "v1", kind: "WorkloadEntry", plural: "workloadentries" },
  { group: "telemetry.istio.io", version: "v1", kind: "Telemetry", plural: "telemetries" },
];

/** Further Istio kinds weft validates (opt in with `istioKinds`). */
export const optionalIstioResourceTypes: readonly ResourceType[] = [
  { group: "networking.istio.io", version: "v1", kind: "Gateway", plural: "gateways" },
  { group: "networking.istio.io", version: "v1", kind: "Sidecar", plural: "sidecars" },
];

export interface StoreObjectResult {
  /** The cleaned object, present when it is valid. */
  object?: Record<string, unknown>;
  diagnostics: Diagnostic[];
}

/** Server-managed metadata and status removed; labels and annotations kept (minus kubectl's copy). */
export function cleanObject(obj: KubeObject): Record<string, unknown> {
  const { status: _status, metadata = {}, ...rest } = obj;
  const m: Record<string, unknown> = { ...metadata };
  for (const k of SERVER_FIELDS) delete m[k];
  const annotations = { ...(metadata.annotations ?? {}) };
  for (const k of DROPPED_ANNOTATIONS) delete annotations[k];
  if (Object.keys(annotations).length) m.annotations = annotations;
  else delete m.annotations;
  if (m.labels && Object.keys(m.labels as object).length === 0) delete m.labels;
  return { ...rest, metadata: m };
}

/**
 * Cleans and validates one Istio object; `source` is recorded in the `weft.dev/source` annotation so
 * the controller can tell its own objects in the store from everyone else's.
 * @example
 * const { object, diagnostics } = storeObjectFromKubernetes(vs, "kubernetes");
 */
export function storeObjectFromKubernetes(obj: KubeObject, source: string, kinds: readonly KindSpec[] = allKinds): StoreObjectResult {
  const cleaned = cleanObject(obj);
  const diagnostics = validateResource(cleaned, kinds).map((d) => ({ ...d, file: d.file ?? `kubernetes:${source}` }));
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  const m = cleaned.metadata as Record<string, unknown>;
  m.annotations = { ...((m.annotations ?? {}) as Record<string, string>), [SOURCE_ANNOTATION]: source };
  return { object: cleaned, diagnostics };
}
