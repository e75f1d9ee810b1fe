/**
 * @module adapters/kubernetes/crds
 * CustomResourceDefinitions for the resources weft keeps in a Kubernetes API server: creates the ones
 * that are missing and waits until the server has established them. Istio's kinds should use Istio's
 * own CRDs (pass them in, e.g. parsed from Istio's `crd-all.gen.yaml`); for any kind without a given
 * CRD, `generateCrd` writes a minimal one (all versions served, no conversion, no schema: weft validates
 * on apply) labelled `app.kubernetes.io/managed-by: weft`. An existing CRD is never changed.
 */
import { errorStatus, KubeApiError, type KubeApi, type KubeObject } from "./api.ts";

const CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

export interface CrdShape {
  group: string;
  kind: string;
  plural: string;
  /** Served versions; the first is the storage version. */
  versions: string[];
}

/**
 * Plural of a kind, lower case (`Policy` → `policies`, `Address` → `addresses`); a kind already in the
 * plural (`ServiceIntentions`) stays as it is.
 */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (/[^aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (/(ss|x|z|ch|sh)$/.test(k)) return `${k}es`;
  if (k.endsWith("s")) return k;
  return `${k}s`;
}

export const crdName = (c: { group: string; plural: string }) => `${c.plural}.${c.group}`;

/**
 * A namespaced, schemaless CRD for one kind.
 * @example generateCrd({ group: "weft.dev", kind: "MeshConfig", plural: "meshconfigs", versions: ["v1alpha1"] })
 */
export function generateCrd(c: CrdShape): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crdName(c), labels: { "app.kubernetes.io/managed-by": "weft" } },
    spec: {
      group: c.group,
      scope: "Namespaced",
      names: { kind: c.kind, plural: c.plural, singular: c.kind.toLowerCase(), listKind: `${c.kind}List` },
      versions: c.versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      })),
    },
  };
}

export interface EnsureCrdsResult {
  created: string[];
  existing: string[];
}

const established = (crd: KubeObject) =>
  ((crd.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");

/**
 * Creates each CRD that does not exist yet (a concurrent creation by another replica is fine) and
 * waits until all are Established.
 * @example await ensureCrds(api, [generateCrd(shape)], { timeoutMs: 30_000 });
 */
export async function ensureCrds(api: KubeApi, crds: readonly KubeObject[], options: { timeoutMs?: number } = {}): Promise<EnsureCrdsResult> {
  const result: EnsureCrdsResult = { created: [], existing: [] };
  const names: string[] = [];
  for (const crd of crds) {
    const name = crd.metadata?.name;
    if (!name) throw new Error("a CRD without metadata.name");
    names.push(name);
    try {
      await api.request("GET", `${CRD_PATH}/${name}`);
      result.existing.push(name);
      continue;
    } catch (err) {
      if (errorStatus(err) !== 404) throw err;
    }
    const { status: _s, ...body } = crd;
    const meta = { ...(crd.metadata ?? {}) };
    for (const k of ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"]) delete meta[k];
    try {
      await api.request("POST", CRD_PATH, { body: { ...body, metadata: meta } });
      result.created.push(name);
    } catch (err) {
      if (errorStatus(err) !== 409) throw err;
      result.existing.push(name);
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const name of names) {
    for (;;) {
      const crd = await api.request("GET", `${CRD_PATH}/${name}`);
      if (established(crd)) break;
      if (Date.now() > deadline) throw new KubeApiError(0, `CRD ${name} was not Established in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return result;
}
