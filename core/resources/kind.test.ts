import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../schema/index.ts";
import { suggestField, unknownFieldMessage } from "./fields.ts";
import { istioKinds } from "./istio/index.ts";
import { objectRef, validateResource } from "./kind.ts";

const toJS = (text: string): unknown => parseAllDocuments(text).map((d) => d.toJS())[0];

describe("validateResource", () => {
  it("reports an unknown kind with the kinds it knows", () => {
    const diags = validateResource({ apiVersion: "networking.istio.io/v1", kind: "VirtualServce", metadata: { name: "x" }, spec: {} }, istioKinds);
    expect(diags).toHaveLength(1);
    expect(diags[0]!.message).toMatch(/^unknown kind VirtualServce \(apiVersion networking\.istio\.io\/v1\); known kinds: VirtualService \(networking\.istio\.io\/v1\|v1beta1\|v1alpha3\)/);
    expect(diags[0]!.message).toContain("Telemetry (telemetry.istio.io/v1|v1alpha1)");
    expect(diags[0]).toMatchObject({ severity: "error", path: "kind", object: "VirtualServce/x" });
  });

  it("says which versions serve a known kind under another apiVersion", () => {
    const diags = validateResource({ apiVersion: "networking.istio.io/v2", kind: "Gateway", metadata: { name: "gw" }, spec: {} }, istioKinds);
    expect(diags[0]!.message).toContain("(Gateway is served as networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3)");
  });

  it("suggests the right capitalisation of a kind", () => {
    const diags = validateResource({ apiVersion: "networking.istio.io/v1", kind: "serviceentry", metadata: { name: "x" } }, istioKinds);
    expect(diags[0]!.message).toContain('(did you mean "ServiceEntry"?)');
  });

  it("requires a mapping with apiVersion and kind", () => {
    expect(validateResource("hello", istioKinds)[0]!.message).toContain("must be a mapping");
    expect(validateResource({ kind: "Gateway" }, istioKinds)[0]!.path).toBe("apiVersion");
    expect(validateResource({ apiVersion: "v1" }, istioKinds)[0]!.path).toBe("kind");
  });

  it("names Kind/namespace/name, the field path and the source location in every diagnostic", () => {
    const obj = toJS(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: prod}
spec:
  host: reviews
  subsets:
  - name: v1
    lables: {version: v1}
`);
    const diags = validateResource(obj, istioKinds, { file: "mesh.yaml", line: 12 });
    expect(diags).toHaveLength(1);
    expect(diags[0]).toEqual({
      severity: "error",
      object: "DestinationRule/prod/reviews",
      path: "spec.subsets[0].lables",
      file: "mesh.yaml",
      line: 12,
      message: 'unknown field "lables" (did you mean "labels"?)',
    });
    expect(formatDiagnostic(diags[0]!)).toBe('mesh.yaml:12: error: DestinationRule/prod/reviews: spec.subsets[0].lables: unknown field "lables" (did you mean "labels"?)');
  });

  it("also names the object in semantic-check diagnostics", () => {
    const diags = validateResource(toJS(`
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: default}
spec:
  portLevelMtls: {"80": {mode: DISABLE}}
`), istioKinds, { file: "pa.yaml" });
    expect(diags).toMatchObject([{ object: "PeerAuthentication/default", path: "spec.portLevelMtls", file: "pa.yaml" }]);
  });

  it("rejects unknown top-level fields and a missing metadata.name", () => {
    const diags = validateResource({ apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: {}, specs: {} }, istioKinds);
    const paths = diags.map((d) => d.path);
    expect(paths).toContain("metadata.name");
    expect(paths).toContain("specs");
    expect(diags.find((d) => d.path === "specs")!.message).toContain('did you mean "spec"');
  });

  it("accepts kubectl output with status and extra metadata", () => {
    const diags = validateResource({
      apiVersion: "security.istio.io/v1", kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system", uid: "1234", resourceVersion: "7", generation: 1 },
      spec: { mtls: { mode: "STRICT" } }, status: { validationMessages: [] },
    }, istioKinds);
    expect(diags).toHaveLength(0);
  });
});

describe("objectRef", () => {
  it("formats Kind/namespace/name and Kind/name", () => {
    expect(objectRef({ kind: "Gateway", metadata: { name: "gw", namespace: "edge" } })).toBe("Gateway/edge/gw");
    expect(objectRef({ kind: "Gateway", metadata: { name: "gw" } })).toBe("Gateway/gw");
    expect(objectRef(42)).toBe(undefined);
  });
});

describe("field suggestions", () => {
  const known = ["host", "subset", "port", "perTryTimeout", "jwksUri", "retryOn"];
  it("maps snake_case, letter case and near misses to the known field", () => {
    expect(suggestField("per_try_timeout", known)).toBe("perTryTimeout");
    expect(suggestField("jwks_uri", known)).toBe("jwksUri");
    expect(suggestField("JwksURI", known)).toBe("jwksUri");
    expect(suggestField("subet", known)).toBe("subset");
    expect(suggestField("retry_on", known)).toBe("retryOn");
  });
  it("does not invent a suggestion for an unrelated name", () => {
    expect(suggestField("weight", known)).toBe(undefined);
    expect(unknownFieldMessage("weight", known)).toBe('unknown field "weight"');
  });
});

describe("field suggestions for swapped letters", () => {
  it("treats an adjacent swap as one edit", () => {
    expect(suggestField("nmae", ["name", "value"])).toBe("name");
    expect(suggestField("hsot", ["host", "subset", "port"])).toBe("host");
  });
});
