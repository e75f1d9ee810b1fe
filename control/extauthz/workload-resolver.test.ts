import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { registryFromIstio } from "../../adapters/file/conversion.ts";
import { authorizationPoliciesFromYaml } from "../../core/policy/index.ts";
import { createStaticPolicySource } from "./policy-source.ts";
import { createCheckHandler } from "./service.ts";
import { envoyCheckRequest } from "./testing.ts";
import { createRegistryWorkloadResolver } from "./workload-resolver.ts";
import type { MergedSnapshot } from "../registry/registry.ts";

const REGISTRY = `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: httpbin-1, namespace: foo }
spec: { address: 10.0.0.9, labels: { app: httpbin, version: v1 }, serviceAccount: httpbin }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: httpbin, namespace: foo }
spec:
  hosts: [httpbin.foo.svc.cluster.local]
  ports: [{ number: 8000, name: http, protocol: HTTP }]
  resolution: STATIC
  workloadSelector: { labels: { app: httpbin } }
`;

const POLICY = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin-deny-delete, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules: [{ to: [{ operation: { methods: [DELETE] } }] }]
`;

const snapshot = () => registryFromIstio(parseAllDocuments(REGISTRY).map((d) => d.toJSON() as Record<string, unknown>)).snapshot;

describe("createRegistryWorkloadResolver", () => {
  it("finds the workload on an address, with the service of its endpoint", () => {
    const resolve = createRegistryWorkloadResolver(snapshot);
    expect(resolve("10.0.0.9", 8000)).toMatchObject({ namespace: "foo", labels: { app: "httpbin", version: "v1" } });
    expect(resolve("10.0.0.10", 8000)).toBeUndefined();
  });

  it("answers nothing for an address two workloads claim", () => {
    const s = snapshot();
    const twin = { ...s.workloads[0]!, id: "bar/other", name: "other", namespace: "bar" };
    const resolve = createRegistryWorkloadResolver(() => ({ ...s, workloads: [...s.workloads, twin], endpoints: [] }));
    expect(resolve("10.0.0.9", 8000)).toBeUndefined();
  });

  it("rebuilds its index when the registry's revision changes", () => {
    let current: MergedSnapshot = { services: [], workloads: [], endpoints: [], revision: 1 };
    const resolve = createRegistryWorkloadResolver(() => current);
    expect(resolve("10.0.0.9", 8000)).toBeUndefined();
    current = { ...snapshot(), revision: 2 };
    expect(resolve("10.0.0.9", 8000)?.namespace).toBe("foo");
  });

  it("lets a selector-scoped policy apply to a CheckRequest that carries only the destination address", () => {
    const { policies } = authorizationPoliciesFromYaml(POLICY);
    const source = createStaticPolicySource(policies);
    const withRegistry = createCheckHandler({ policies: source, resolveWorkload: createRegistryWorkloadResolver(snapshot) });
    const without = createCheckHandler({ policies: source });
    const del = envoyCheckRequest({ method: "DELETE", destination: { ip: "10.0.0.9", port: 8000 } });
    expect(withRegistry(del).status?.code).toBe(7);
    expect(withRegistry(del).dynamicMetadata).toMatchObject({ "weft.workload_from": "address" });
    const get = envoyCheckRequest({ method: "GET", destination: { ip: "10.0.0.9", port: 8000 } });
    expect(withRegistry(get).status?.code).toBe(0);
    // Without the registry the server cannot tell the workload, so it fails closed even for the GET.
    expect(without(get).status?.code).toBe(7);
    expect(without(get).status?.message).toMatch(/destination workload unknown/);
  });
});
