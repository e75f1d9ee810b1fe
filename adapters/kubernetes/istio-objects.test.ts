import { describe, expect, it } from "vitest";
import type { KubeObject } from "./api.ts";
import { cleanObject, SOURCE_ANNOTATION, storeObjectFromKubernetes } from "./istio-objects.ts";

// An AuthorizationPolicy as the API server returns it after `kubectl apply`.
const policy = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy",
  metadata: {
    name: "allow-get", namespace: "shop", uid: "0c1f", resourceVersion: "4711", generation: 2, creationTimestamp: "2026-11-01T10:00:00Z",
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{...}\n", team: "payments" },
    managedFields: [{ manager: "kubectl-client-side-apply", operation: "Update" }],
  },
  spec,
  status: { observedGeneration: "2" },
});

describe("storeObjectFromKubernetes", () => {
  it("drops server metadata and status, keeps user annotations, marks the source", () => {
    const r = storeObjectFromKubernetes(policy({ action: "ALLOW", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }), "kubernetes");
    expect(r.diagnostics).toEqual([]);
    expect(r.object).toEqual({
      apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy",
      metadata: { name: "allow-get", namespace: "shop", annotations: { team: "payments", [SOURCE_ANNOTATION]: "kubernetes" } },
      spec: { action: "ALLOW", rules: [{ to: [{ operation: { methods: ["GET"] } }] }] },
    });
  });

  it("reports an invalid object with kind/namespace/name and the field, and returns no object", () => {
    const r = storeObjectFromKubernetes(policy({ action: "ALLOW", rules: [{ to: [{ operation: { method: ["GET"] } }] }] }), "kubernetes");
    expect(r.object).toBeUndefined();
    expect(r.diagnostics).toContainEqual(expect.objectContaining({
      severity: "error", object: "AuthorizationPolicy/shop/allow-get", path: "spec.rules[0].to[0].operation.method", file: "kubernetes:kubernetes",
    }));
    expect(r.diagnostics.find((d) => d.path?.endsWith("method"))?.message).toContain('did you mean "methods"');
  });

  it("cleanObject leaves an object without annotations clean", () => {
    expect(cleanObject({ apiVersion: "v1", kind: "X", metadata: { name: "a", labels: {}, resourceVersion: "1" } })).toEqual({ apiVersion: "v1", kind: "X", metadata: { name: "a" } });
  });
});
