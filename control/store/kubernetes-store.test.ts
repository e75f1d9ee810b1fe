// Unit tests for the Kubernetes store's object mapping; the store itself runs against a real API server
// in interop-tests/kubernetes/store.test.ts.
import { describe, expect, it } from "vitest";
import { crdGroupFor, crdShapeFor, fromKubernetes, parseRevision, storedTypeFor, toKubernetes } from "./kubernetes-mapping.ts";

const vsKind = { group: "networking.istio.io", kind: "VirtualService", versions: ["v1", "v1beta1", "v1alpha3"] };

describe("kubernetes store mapping", () => {
  it("stores Istio kinds in Istio's CRDs at v1 and foreign groups under weft.dev", () => {
    expect(storedTypeFor(vsKind).resource).toEqual({ group: "networking.istio.io", version: "v1", kind: "VirtualService", plural: "virtualservices" });
    expect(storedTypeFor({ group: "telemetry.istio.io", kind: "Telemetry", versions: ["v1", "v1alpha1"] }).resource.plural).toBe("telemetries");
    expect(crdGroupFor("weft.dev")).toBe("weft.dev");
    expect(crdGroupFor("consul.hashicorp.com")).toBe("consul.hashicorp.com.weft.dev");
    expect(crdGroupFor("")).toBe("core.weft.dev");
    const foreign = storedTypeFor({ group: "consul.hashicorp.com", kind: "ServiceIntentions", versions: ["v1alpha1"] });
    expect(crdShapeFor(foreign)).toEqual({ group: "consul.hashicorp.com.weft.dev", kind: "ServiceIntentions", plural: "serviceintentions", versions: ["v1alpha1"] });
  });

  it("round-trips an object: apiVersion and actor travel in annotations and come back off", () => {
    const t = storedTypeFor(vsKind);
    const applied = { apiVersion: "networking.istio.io/v1beta1", kind: "VirtualService", metadata: { name: "r", namespace: "shop", labels: { a: "b" } }, spec: { hosts: ["r"] } };
    const k = toKubernetes(applied, t, "alice");
    expect(k).toEqual({
      apiVersion: "networking.istio.io/v1", kind: "VirtualService",
      metadata: { name: "r", namespace: "shop", labels: { a: "b" }, annotations: { "weft.dev/api-version": "networking.istio.io/v1beta1", "weft.dev/actor": "alice" } },
      spec: { hosts: ["r"] },
    });
    const served = { ...k, metadata: { ...k.metadata, resourceVersion: "812", uid: "u", generation: 1, creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [] } };
    expect(fromKubernetes(served, t)).toEqual({
      key: { group: "networking.istio.io", kind: "VirtualService", namespace: "shop", name: "r" },
      object: applied, revision: 812, resourceVersion: "812", actor: "alice",
    });
  });

  it("reads objects written by others (no weft annotations) at the served version", () => {
    const t = storedTypeFor(vsKind);
    const d = fromKubernetes({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "x", namespace: "n", resourceVersion: "9" }, spec: {} }, t);
    expect(d.object).toEqual({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "x", namespace: "n" }, spec: {} });
    expect(d.actor).toBeUndefined();
    const bare = fromKubernetes({ metadata: { name: "y", namespace: "n", resourceVersion: "10" }, spec: {} }, t);
    expect(bare.object).toMatchObject({ apiVersion: "networking.istio.io/v1", kind: "VirtualService" });
  });

  it("parses resourceVersions as revisions and refuses opaque ones", () => {
    expect(parseRevision("123456")).toBe(123456);
    expect(() => parseRevision("abc")).toThrow(/not an integer/);
    expect(() => parseRevision(undefined)).toThrow();
  });
});
