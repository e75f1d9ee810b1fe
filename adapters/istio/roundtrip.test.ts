import { describe, expect, it } from "vitest";
import { istioCorpus } from "./corpus/index.ts";
import { istioToIr } from "./conversion.ts";
import { canonicalIstio } from "./equivalence.ts";
import { roundTripYaml } from "./roundtrip.ts";

/** The IR without source positions (a round trip has no file). */
function withoutPositions(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (k, x) => (k === "file" || k === "line" ? undefined : x)));
}

const supported = istioCorpus.filter((c) => !c.losses);
const lossy = istioCorpus.filter((c) => c.losses);

describe("Istio → IR → Istio round trip over Istio's documented examples", () => {
  it("covers every converted kind", () => {
    const kinds = new Set(istioCorpus.flatMap((c) => [...c.yaml.matchAll(/^kind: (\w+)/gm)].map((m) => m[1])));
    for (const k of ["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "VirtualService", "DestinationRule", "ServiceEntry", "WorkloadEntry", "Telemetry"]) expect(kinds).toContain(k);
    expect(supported.length).toBeGreaterThan(90);
  });

  it.each(supported.map((c) => [c.name, c] as const))("%s: valid, no loss, equivalent", (_name, c) => {
    const rt = roundTripYaml(c.yaml, { file: "corpus.yaml" });
    expect(rt.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(rt.losses).toEqual([]);
    expect(rt.pairs.length).toBeGreaterThan(0);
    expect(rt.emitted.length).toBe(rt.pairs.length);
    for (const { original, emitted } of rt.pairs) {
      expect(emitted, `no object emitted for ${String(original.kind)}`).toBeDefined();
      expect(canonicalIstio(emitted!)).toEqual(canonicalIstio(original));
    }
  });

  it.each(supported.map((c) => [c.name, c] as const))("%s: the emitted objects convert back to the same IR", (_name, c) => {
    const rt = roundTripYaml(c.yaml);
    const again = istioToIr(rt.emitted);
    expect(again.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(withoutPositions(again.model)).toEqual(withoutPositions(rt.model));
  });

  it.each(lossy.map((c) => [c.name, c] as const))("%s: reports exactly the expected losses", (_name, c) => {
    const rt = roundTripYaml(c.yaml);
    expect(rt.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(rt.losses.map((l) => l.field)).toEqual(c.losses);
    for (const l of rt.losses) expect(l.reason.length).toBeGreaterThan(10);
  });
});
