/**
 * @module control/store/kubernetes-mapping
 * How the Kubernetes config store lays weft's resources out as custom resources, and back. Pure.
 * Istio's kinds are stored as Istio's own CRDs (same group, stored at `v1`); kinds in `weft.dev` (or a
 * subgroup) under their own group; any other group `g` under `<g>.weft.dev` (`core.weft.dev` for the
 * core group) so foreign kinds never collide with a real CRD of that group. The apiVersion an object
 * was applied with and the actor of the write travel in annotations and are removed again on the way
 * back, so a stored object reads back as it was applied. Revisions are the API server's
 * resourceVersions read as integers (see `parseRevision`).
 */
import type { KindSpec } from "../../core/resources/kind.ts";
import type { KubeObject, ResourceType } from "../../adapters/kubernetes/api.ts";
import { pluralOf, type CrdShape } from "../../adapters/kubernetes/crds.ts";
import type { ResourceKey } from "./types.ts";

export const API_VERSION_ANNOTATION = "weft.dev/api-version";
export const ACTOR_ANNOTATION = "weft.dev/actor";

/** One stored kind: weft's group/kind and where it lives on the API server. */
export interface StoredType {
  /** weft's group of the kind (the store key's group). */
  group: string;
  kind: string;
  /** The CRD that holds it. */
  resource: ResourceType;
  versions: string[];
}

const SERVER_FIELDS = ["resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers", "ownerReferences"];

/** The CRD group for a weft group. */
export function crdGroupFor(group: string): string {
  if (group.endsWith(".istio.io") || group === "weft.dev" || group.endsWith(".weft.dev")) return group;
  return `${group || "core"}.weft.dev`;
}

/**
 * Where a kind is stored.
 * @example storedTypeFor(virtualServiceKind).resource // { group: "networking.istio.io", version: "v1", plural: "virtualservices", ... }
 */
export function storedTypeFor(k: Pick<KindSpec, "group" | "kind" | "versions">): StoredType {
  const crdGroup = crdGroupFor(k.group);
  const versions = crdGroup === k.group ? k.versions : k.versions.map((v) => (/^v\d+((alpha|beta)\d+)?$/.test(v) ? v : "v1"));
  const version = versions.includes("v1") ? "v1" : versions[0] ?? "v1";
  return { group: k.group, kind: k.kind, versions, resource: { group: crdGroup, version, kind: k.kind, plural: pluralOf(k.kind) } };
}

/** The generated CRD shape for a stored type (storage version first). */
export function crdShapeFor(t: StoredType): CrdShape {
  const versions = [t.resource.version, ...t.versions.filter((v) => v !== t.resource.version)];
  return { group: t.resource.group, kind: t.kind, plural: t.resource.plural, versions: [...new Set(versions)] };
}

/**
 * The revision a resourceVersion stands for. Kubernetes calls resourceVersions opaque; on an API
 * server backed by etcd they are etcd's store-wide modification revision, so they are integers that
 * grow with every write to any resource. A server that answers something else cannot back this store.
 */
export function parseRevision(rv: string | undefined): number {
  if (!rv || !/^\d{1,15}$/.test(rv)) throw new Error(`resourceVersion "${rv ?? ""}" is not an integer; this API server cannot back weft's Kubernetes store`);
  return Number(rv);
}

/** The API server object for a (validated, normalized) store object. */
export function toKubernetes(obj: Record<string, unknown>, t: StoredType, actor?: string): KubeObject {
  const { apiVersion, metadata, status: _status, ...rest } = obj;
  const m = { ...((metadata ?? {}) as Record<string, unknown>) };
  const annotations = { ...((m.annotations ?? {}) as Record<string, string>) };
  if (typeof apiVersion === "string") annotations[API_VERSION_ANNOTATION] = apiVersion;
  if (actor) annotations[ACTOR_ANNOTATION] = actor;
  else delete annotations[ACTOR_ANNOTATION];
  for (const k of SERVER_FIELDS) delete m[k];
  return { ...rest, apiVersion: `${t.resource.group}/${t.resource.version}`, kind: t.kind, metadata: { ...m, annotations } };
}

export interface DecodedObject {
  key: ResourceKey;
  object: Record<string, unknown>;
  revision: number;
  /** The API server's resourceVersion (for preconditions on the next write). */
  resourceVersion: string;
  actor?: string;
}

/** An API server object back to the store's shape (server metadata and weft's annotations removed). */
export function fromKubernetes(obj: KubeObject, t: StoredType): DecodedObject {
  const { metadata = {}, status: _status, apiVersion, ...rest } = obj;
  const m: Record<string, unknown> = { ...metadata };
  for (const k of SERVER_FIELDS) delete m[k];
  const annotations = { ...(metadata.annotations ?? {}) };
  const applied = annotations[API_VERSION_ANNOTATION];
  const actor = annotations[ACTOR_ANNOTATION];
  delete annotations[API_VERSION_ANNOTATION];
  delete annotations[ACTOR_ANNOTATION];
  if (Object.keys(annotations).length) m.annotations = annotations;
  else delete m.annotations;
  if (!m.namespace) m.namespace = "default";
  // List items of some types come without apiVersion: then it is the version the store lists at.
  const version = t.group === t.resource.group && apiVersion ? apiVersion.split("/").pop() : t.resource.version;
  const restored = applied ?? (t.group ? `${t.group}/${version}` : version);
  return {
    key: { group: t.group, kind: t.kind, namespace: String(m.namespace), name: String(m.name ?? "") },
    object: { apiVersion: restored, ...rest, kind: t.kind, metadata: m },
    revision: parseRevision(metadata.resourceVersion),
    resourceVersion: metadata.resourceVersion ?? "",
    ...(actor ? { actor } : {}),
  };
}
