/**
 * @module adapters/consul/load-mixed
 * Loads files that may hold Consul config entries beside Kubernetes-style resources (Istio kinds): each
 * YAML/JSON document is a Consul entry (`Kind`, no `apiVersion`), an array of Consul entries (as
 * `consul config write` JSON files and `consul config read` lists are), or a resource validated against
 * the given kinds. Used by `weft authz check` and `weft translate`.
 */
import type { KindSpec } from "../../core/resources/kind.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { parsePath, type LoadedResource } from "../../core/resources/load.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import { isConsulEntry, parseEntry, type LoadedEntry } from "./entries.ts";

export interface MixedLoadResult {
  consul: LoadedEntry[];
  resources: LoadedResource[];
  diagnostics: Diagnostic[];
}

/**
 * @example
 * const { consul, resources, diagnostics } = loadMixed(text, allKinds, "policies.yaml");
 */
export function loadMixed(text: string, kinds: readonly KindSpec[], file?: string): MixedLoadResult {
  const { documents, diagnostics } = loadYaml(text, { file });
  const consul: LoadedEntry[] = [];
  const resources: LoadedResource[] = [];
  const takeEntry = (value: unknown, locate: (p: ReadonlyArray<PropertyKey>) => { line?: number; column?: number }) => {
    const r = parseEntry(value, { file, locate });
    diagnostics.push(...r.diagnostics);
    if (r.entry) consul.push({ entry: r.entry, ref: `${r.entry.kind}/${r.entry.entry.Name}`, file, line: locate([]).line });
  };
  for (const doc of documents) {
    const v = doc.value;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const locate = (p: ReadonlyArray<PropertyKey>) => doc.locate([i, ...p]);
        if (isConsulEntry(item)) takeEntry(item, locate);
        else diagnostics.push({ severity: "error", file, ...locate([]), message: "a list may hold only Consul config entries (objects with Kind and Name)" });
      });
      continue;
    }
    if (isConsulEntry(v)) {
      takeEntry(v, doc.locate);
      continue;
    }
    const diags = validateResource(v, kinds, doc.location).map((d) => (d.path ? { ...d, ...doc.locate(parsePath(d.path)) } : d));
    diagnostics.push(...diags);
    if (!diags.some((d) => d.severity === "error")) {
      resources.push({ object: v as Record<string, unknown>, location: doc.location, locate: doc.locate });
    }
  }
  return { consul, resources, diagnostics };
}
