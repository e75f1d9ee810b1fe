// Smoke test for the Kubernetes peer: a real kube-apiserver (k8s.io/kubernetes Go module) over a real etcd
// accepts a namespace, a Service, an EndpointSlice, Istio's AuthorizationPolicy CRD (Istio's own YAML) and
// an AuthorizationPolicy, and `@kubernetes/client-node`'s Watch delivers an ADDED event for each.

import {
  ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, VersionApi, Watch, loadAllYaml,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kubernetes, { istioCrdsPath, kubernetesVersion, type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { waitFor } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, kubernetes);

interface KubeObject {
  metadata?: { name?: string; namespace?: string };
}

interface SeenEvent {
  phase: string;
  name: string;
}

interface WatchStatus {
  kind?: string;
  message?: string;
}

describe.skipIf(!ready)("kubernetes smoke", () => {
  let cluster: KubernetesHandle;
  let kc: KubeConfig;
  const watches: AbortController[] = [];
  const events = new Map<string, SeenEvent[]>();
  const namespace = "weft-smoke";

  /** Starts a watch on `path` that records every event by resource path. */
  async function watch(path: string): Promise<void> {
    events.set(path, []);
    const controller = await new Watch(kc).watch(path, {}, (phase, obj: KubeObject & WatchStatus) => {
      // An ERROR event carries a Status; keep its message so a failing wait says why.
      events.get(path)?.push({ phase, name: phase === "ERROR" ? `${obj.message ?? ""}` : obj.metadata?.name ?? "" });
    }, (error: unknown) => {
      if (error) events.get(path)?.push({ phase: "CLOSED", name: String(error) });
    });
    watches.push(controller);
  }

  async function expectAdded(path: string, name: string): Promise<void> {
    const seen = (): SeenEvent[] => events.get(path) ?? [];
    try {
      await waitFor(async () => seen().some((e) => e.phase === "ADDED" && e.name === name),
        { what: `ADDED ${name} on watch ${path}`, logPath: cluster.apiserverLogPath, timeoutMs: 30_000 });
    } catch (error) {
      throw new Error(`${(error as Error).message}\nwatch events: ${JSON.stringify(seen())}`);
    }
    expect(seen()).toContainEqual({ phase: "ADDED", name });
  }

  beforeAll(async () => {
    cluster = await kubernetes.start();
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
  });
  afterAll(async () => {
    for (const w of watches) w.abort();
    await cluster?.stop();
  });

  it("reports its release, serves the admin token over TLS verified by the kubeconfig's CA, refuses others", async () => {
    const info = await kc.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(kubernetesVersion);
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain("default");
    const anonymous = new KubeConfig();
    anonymous.loadFromOptions({
      clusters: [{ name: "c", server: cluster.url, caFile: cluster.caPath }],
      users: [{ name: "u", token: "not-a-valid-token" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    await expect(anonymous.makeApiClient(CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 401 });
  });

  it("creates a namespace, a Service and an EndpointSlice and watches them arrive", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    await watch("/api/v1/namespaces");
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await expectAdded("/api/v1/namespaces", namespace);

    await watch(`/api/v1/namespaces/${namespace}/services`);
    await watch(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`);
    const service = await core.createNamespacedService({
      namespace,
      body: { metadata: { name: "echo", labels: { app: "echo" } }, spec: { selector: { app: "echo" }, ports: [{ name: "http", port: 8080 }] } },
    });
    expect(service.spec?.clusterIP).toMatch(/^10\.96\.0\.\d+$/);
    await discovery.createNamespacedEndpointSlice({
      namespace,
      body: {
        metadata: { name: "echo-abc", labels: { "kubernetes.io/service-name": "echo" } },
        addressType: "IPv4",
        // Stored data only (nothing connects to it): the API server refuses loopback endpoint addresses,
        // so this is an RFC 5737 documentation address.
        endpoints: [{ addresses: ["192.0.2.10"], conditions: { ready: true } }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    });
    await expectAdded(`/api/v1/namespaces/${namespace}/services`, "echo");
    await expectAdded(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`, "echo-abc");
    const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: "kubernetes.io/service-name=echo" });
    expect(slices.items.map((s) => s.endpoints?.[0]?.addresses)).toEqual([["192.0.2.10"]]);
  });

  it("applies Istio's AuthorizationPolicy CRD, creates a policy and watches it arrive", async () => {
    // loadAllYaml maps the YAML's keys (x-kubernetes-int-or-string, ...) onto client-node's typed model.
    const crd = (loadAllYaml(readFileSync(istioCrdsPath, "utf8")) as (V1CustomResourceDefinition | null)[])
      .find((d) => d?.metadata?.name === "authorizationpolicies.security.istio.io");
    expect(crd?.spec.group).toBe("security.istio.io");
    const extensions = kc.makeApiClient(ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({ body: crd as V1CustomResourceDefinition });
    await waitFor(async () => {
      const current = await extensions.readCustomResourceDefinition({ name: "authorizationpolicies.security.istio.io" });
      return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
    }, { what: "AuthorizationPolicy CRD Established", logPath: cluster.apiserverLogPath, timeoutMs: 30_000 });

    const path = `/apis/security.istio.io/v1/namespaces/${namespace}/authorizationpolicies`;
    await watch(path);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: "security.istio.io", version: "v1", namespace, plural: "authorizationpolicies",
      body: {
        apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy",
        metadata: { name: "allow-get" },
        spec: {
          selector: { matchLabels: { app: "echo" } },
          action: "ALLOW",
          rules: [{ from: [{ source: { principals: ["cluster.local/ns/weft-smoke/sa/client"] } }], to: [{ operation: { methods: ["GET"] } }] }],
        },
      },
    });
    await expectAdded(path, "allow-get");
    // The CRD's structural schema is enforced by the real API server: an unknown action enum is refused.
    await expect(custom.createNamespacedCustomObject({
      group: "security.istio.io", version: "v1", namespace, plural: "authorizationpolicies",
      body: { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "bad" }, spec: { action: "BLOCK" } },
    })).rejects.toMatchObject({ code: 422 });
  });
});
