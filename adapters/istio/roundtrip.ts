/**
 * @module adapters/istio/roundtrip
 * Istio YAML → IR → Istio in one call, for the round-trip tests and `weft translate`-style tools: loads
 * the documents (with file:line locations), converts them to the IR and back, and pairs every original
 * object with the object emitted for it (same kind, namespace and name).
 */
import { loadYaml } from "../../core/yaml/loader.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import { CONVERTED_KINDS, irToIstio, istioToIr, type IstioIr, type IstioToIrOptions } from "./conversion.ts";
import type { Loss } from "./loss.ts";

type Obj = Record<string, unknown>;

export interface RoundTrip {
  originals: Obj[];
  model: IstioIr;
  emitted: Obj[];
  /** Losses of both directions. */
  losses: Loss[];
  diagnostics: Diagnostic[];
  /** Each converted original with the emitted object of the same kind, namespace and name (if any). */
  pairs: { original: Obj; emitted: Obj | undefined }[];
}

const keyOf = (o: Obj, defaultNamespace: string) => {
  const m = (o.metadata ?? {}) as { name?: string; namespace?: string };
  return `${String(o.kind)}/${m.namespace ?? defaultNamespace}/${m.name}`;
};

/**
 * @example
 * const rt = roundTripYaml(text, { file: "reviews.yaml" });
 * for (const { original, emitted } of rt.pairs) expect(canonicalIstio(emitted!)).toEqual(canonicalIstio(original));
 */
export function roundTripYaml(text: string, options: IstioToIrOptions & { file?: string } = {}): RoundTrip {
  const { documents, diagnostics } = loadYaml(text, { file: options.file });
  const originals = documents.map((d) => d.value as Obj).filter((v) => v && typeof v === "object");
  const forward = istioToIr(documents.map((d) => ({ object: d.value as Obj, location: d.location, locate: d.locate })), options);
  const back = irToIstio(forward.model, options);
  const ns = options.defaultNamespace ?? "default";
  const byKey = new Map(back.objects.map((o) => [keyOf(o, ns), o]));
  const pairs = originals
    .filter((o) => (CONVERTED_KINDS as readonly string[]).includes(String(o.kind)))
    .map((original) => ({ original, emitted: byKey.get(keyOf(original, ns)) }));
  return { originals, model: forward.model, emitted: back.objects, losses: [...forward.losses, ...back.losses], diagnostics: [...diagnostics, ...forward.diagnostics], pairs };
}
