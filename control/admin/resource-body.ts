/**
 * @module control/admin/resource-body
 * Turns a request body (multi-document YAML, a JSON object, a JSON array, or a Kubernetes `List`) into
 * resource objects, validated against the known kinds, with every problem naming the body's file
 * label and line, the object (`Kind/namespace/name`) and the field path.
 */
import type { KindSpec } from "../../core/resources/kind.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { parsePath } from "../../core/resources/load.ts";
import type { Diagnostic, SourceLocation } from "../../core/schema/index.ts";
import { loadYaml } from "../../core/yaml/loader.ts";

export interface ParsedBody {
  /** Objects without errors (warnings allowed). */
  objects: Record<string, unknown>[];
  /** Number of objects found, valid or not. */
  found: number;
  diagnostics: Diagnostic[];
}

interface Item {
  value: unknown;
  location: SourceLocation;
  locate(path: ReadonlyArray<PropertyKey>): SourceLocation;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * @example
 * const { objects, diagnostics } = parseResourceBody(text, allKinds, { file: "mesh.yaml" });
 */
export function parseResourceBody(text: string, kinds: readonly KindSpec[], opts: { file: string; maxBytes?: number }): ParsedBody {
  const loaded = loadYaml(text, { file: opts.file, ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) });
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const items: Item[] = [];
  for (const doc of loaded.documents) {
    const v = doc.value;
    const expand = (list: unknown[], prefix: PropertyKey[]) =>
      list.forEach((value, i) => {
        const at = [...prefix, i];
        items.push({ value, location: doc.locate(at), locate: (p) => doc.locate([...at, ...p]) });
      });
    if (Array.isArray(v)) expand(v, []);
    else if (isRecord(v) && v.kind === "List" && Array.isArray(v.items)) expand(v.items, ["items"]);
    else items.push({ value: v, location: doc.location, locate: doc.locate });
  }
  const objects: Record<string, unknown>[] = [];
  for (const item of items) {
    const diags = validateResource(item.value, kinds, item.location).map((d) => (d.path ? { ...d, ...item.locate(parsePath(d.path)) } : d));
    diagnostics.push(...diags);
    if (!diags.some((d) => d.severity === "error")) objects.push(item.value as Record<string, unknown>);
  }
  if (items.length === 0 && !diagnostics.some((d) => d.severity === "error")) {
    diagnostics.push({ severity: "error", file: opts.file, message: "no resources found in the body" });
  }
  return { objects, found: items.length, diagnostics };
}
