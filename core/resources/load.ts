/**
 * @module core/resources/load
 * Loads and validates resource text (multi-document YAML or JSON) against a set of kinds, returning the
 * valid objects with their source locations and every diagnostic with file:line of the offending field.
 * Shared by `weft validate`, `weft authz check` and the config store.
 */
import type { Diagnostic, SourceLocation } from "../schema/index.ts";
import { loadYaml } from "../yaml/loader.ts";
import { validateResource, type KindSpec } from "./kind.ts";

export interface LoadedResource {
  object: Record<string, unknown>;
  location: SourceLocation;
  /** Line of a field inside this object. */
  locate(path: ReadonlyArray<PropertyKey>): SourceLocation;
}

export interface ResourceLoadResult {
  resources: LoadedResource[];
  diagnostics: Diagnostic[];
}

/** Splits a formatted path (`spec.rules[0].to`) back into segments. */
export function parsePath(path: string): (string | number)[] {
  return path.split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

export interface LoadResourceOptions {
  file?: string;
  /** Kinds to accept beyond `kinds` without validating (e.g. handled elsewhere); default none. */
  passThrough?: (obj: Record<string, unknown>) => boolean;
}

/**
 * Validates every document; objects with errors are left out of `resources`. Warnings keep them.
 * @example
 * const { resources, diagnostics } = loadResources(text, allKinds, { file: "mesh.yaml" });
 */
export function loadResources(text: string, kinds: readonly KindSpec[], options: LoadResourceOptions = {}): ResourceLoadResult {
  const { documents, diagnostics } = loadYaml(text, { file: options.file });
  const resources: LoadedResource[] = [];
  for (const doc of documents) {
    const obj = doc.value;
    if (obj && typeof obj === "object" && !Array.isArray(obj) && options.passThrough?.(obj as Record<string, unknown>)) {
      resources.push({ object: obj as Record<string, unknown>, location: doc.location, locate: doc.locate });
      continue;
    }
    const diags = validateResource(obj, kinds, doc.location).map((d) => (d.path ? { ...d, ...doc.locate(parsePath(d.path)) } : d));
    diagnostics.push(...diags);
    if (!diags.some((d) => d.severity === "error")) {
      resources.push({ object: obj as Record<string, unknown>, location: doc.location, locate: doc.locate });
    }
  }
  return { resources, diagnostics };
}
