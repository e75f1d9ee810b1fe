// Kubernetes discovery against a real kube-apiserver and etcd: Services, EndpointSlices and Pods (created
// as plain objects — there is no kubelet, so pod status goes through the status subresource) converge
// into the registry; Istio's custom resources (Istio's own CRDs) are validated into the config store;
// a watch whose resourceVersion was compacted away in etcd gets a real 410 Gone and resyncs without the
// registry ever losing its last good view; and the API server stopped mid-run keeps the last good view
// and recovers when it comes back.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeApi } from "../../adapters/kubernetes/api.ts";
import { startKubernetesDiscovery, type KubernetesDiscovery } from "../../adapters/kubernetes/controller.ts";
import { ensureCrds } from "../../adapters/kubernetes/crds.ts";
import { createFileLog } from "../../control/node/file-log.ts";
import { createRegistry, type MergedSnapshot, type Registry } from "../../control/registry/registry.ts";
import { createConfigStore } from "../../control/store/store.ts";
import type { ConfigStore } from "../../control/store/types.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource } from "../../core/resources/kind.ts";
import kubernetes, { type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { waitFor } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";
import type { SpawnedProcess } from "../peers/types.ts";
import { apiFor, compactEtcd, istioCrds, stopApiserver } from "./helpers.ts";

const { ready } = await requirePeers(import.meta.url, kubernetes);
const ns = "shop";

async function setupNamespace(api: KubeApi) {
  await api.request("POST", "/api/v1/namespaces", { body: { metadata: { name: ns } } });
  for (const sa of ["default", "reviews"]) await api.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name: sa } } });
}

const service = (name: string, ports: unknown[] = [{ name: "http", port: 9080, targetPort: 9080 }]) => ({ metadata: { name, labels: { app: name } }, spec: { selector: { app: name }, ports } });

async function createPod(api: KubeApi, name: string, ip: string) {
  await api.request("POST", `/api/v1/namespaces/${ns}/pods`, {
    body: { metadata: { name, labels: { app: "reviews", version: "v1" } }, spec: { serviceAccountName: "reviews", containers: [{ name: "app", image: "registry.invalid/reviews:1", ports: [{ name: "http", containerPort: 9080 }] }] } },
  });
  const pod = await api.request("GET", `/api/v1/namespaces/${ns}/pods/${name}`);
  await api.request("PUT", `/api/v1/namespaces/${ns}/pods/${name}/status`, { body: { ...pod, status: { phase: "Running", podIP: ip, podIPs: [{ ip }] } } });
}

const slice = (name: string, service: string, endpoints: unknown[]) => ({
  metadata: { name, labels: { "kubernetes.io/service-name": service } }, addressType: "IPv4", endpoints, ports: [{ name: "http", port: 9080, protocol: "TCP" }],
});

const endpointsOf = (snap: MergedSnapshot, id: string) => snap.endpoints.find((e) => e.service === id)?.endpoints ?? [];

async function until(what: string, cluster: KubernetesHandle, check: () => boolean) {
  await waitFor(async () => check(), { what, logPath: cluster.apiserverLogPath, timeoutMs: 60_000 });
}

describe.skipIf(!ready)("kubernetes discovery", () => {
  let cluster: KubernetesHandle;
  let api: KubeApi;
  let registry: Registry;
  let store: ConfigStore;
  let discovery: KubernetesDiscovery;
  let restarted: SpawnedProcess | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    cluster = await kubernetes.start();
    api = apiFor(cluster);
    await setupNamespace(api);
    await ensureCrds(api, istioCrds(["VirtualService", "AuthorizationPolicy", "DestinationRule", "ServiceEntry", "WorkloadEntry", "PeerAuthentication", "RequestAuthentication", "Telemetry"]));
    registry = createRegistry();
    store = await createConfigStore({ log: await createFileLog(mkdtempSync(join(tmpdir(), "weft-k8s-store-"))), validate: (o) => validateResource(o, allKinds) });
    discovery = startKubernetesDiscovery({ api, registry, store, backoff: { baseMs: 200, maxMs: 2_000 }, log: (l) => logs.push(l) });
    await discovery.synced();
  });
  afterAll(async () => {
    await discovery?.stop();
    await store?.close();
    await restarted?.stop();
    await cluster?.stop();
  });

  it("converges after Services, Pods and EndpointSlices are created, updated and deleted", async () => {
    await api.request("POST", `/api/v1/namespaces/${ns}/services`, { body: service("reviews") });
    await createPod(api, "reviews-a", "10.244.0.5");
    await api.request("POST", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      body: slice("reviews-1", "reviews", [{ addresses: ["10.244.0.5"], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: ns, name: "reviews-a" }, zone: "z1" }]),
    });
    await until("reviews endpoint healthy", cluster, () => endpointsOf(registry.snapshot(), `${ns}/reviews`).some((e) => e.health === "healthy"));
    const snap = registry.snapshot();
    expect(snap.services.find((s) => s.id === `${ns}/reviews`)).toMatchObject({ hosts: [`reviews.${ns}.svc.cluster.local`], ports: [{ name: "http", port: 9080, protocol: "http" }] });
    expect(endpointsOf(snap, `${ns}/reviews`)).toEqual([{ address: "10.244.0.5", port: 9080, health: "healthy", locality: { zone: "z1" }, labels: { app: "reviews", version: "v1" }, identity: `spiffe://cluster.local/ns/${ns}/sa/reviews` }]);
    expect(snap.workloads.find((w) => w.id === `${ns}/reviews-a`)).toMatchObject({ addresses: ["10.244.0.5"], serviceAccount: "reviews", ports: { http: 9080 } });

    // Update: the endpoint starts terminating but still serves → draining; a port is added to the Service.
    const current = await api.request("GET", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/reviews-1`);
    await api.request("PUT", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/reviews-1`, {
      body: { ...current, endpoints: [{ addresses: ["10.244.0.5"], conditions: { ready: false, serving: true, terminating: true }, targetRef: { kind: "Pod", namespace: ns, name: "reviews-a" } }] },
    });
    const svc = await api.request("GET", `/api/v1/namespaces/${ns}/services/reviews`);
    await api.request("PUT", `/api/v1/namespaces/${ns}/services/reviews`, { body: { ...svc, spec: { ...(svc.spec as object), ports: [{ name: "http", port: 9080, targetPort: 9080 }, { name: "grpc", port: 9090, targetPort: 9090 }] } } });
    await until("draining endpoint and grpc port", cluster, () => {
      const s = registry.snapshot();
      return endpointsOf(s, `${ns}/reviews`)[0]?.health === "draining" && (s.services.find((x) => x.id === `${ns}/reviews`)?.ports.length ?? 0) === 2;
    });

    // Delete: pod → workload and identity go; slice → no endpoints; service → gone.
    await api.request("DELETE", `/api/v1/namespaces/${ns}/pods/reviews-a`, { query: { gracePeriodSeconds: 0 } });
    await until("workload removed", cluster, () => !registry.snapshot().workloads.some((w) => w.id === `${ns}/reviews-a`));
    await api.request("DELETE", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/reviews-1`);
    await until("endpoints removed", cluster, () => endpointsOf(registry.snapshot(), `${ns}/reviews`).length === 0);
    await api.request("DELETE", `/api/v1/namespaces/${ns}/services/reviews`);
    await until("service removed", cluster, () => !registry.snapshot().services.some((s) => s.id === `${ns}/reviews`));
    expect(discovery.status().state).toBe("synced");
  });

  it("mirrors valid Istio resources into the config store and reports invalid ones with kind/name and field", async () => {
    const vsPath = `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices`;
    await api.request("POST", vsPath, { body: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "reviews" }, spec: { hosts: ["reviews"], http: [{ timeout: "5s", route: [{ destination: { host: "reviews" } }] }] } } });
    const key = { group: "networking.istio.io", kind: "VirtualService", namespace: ns, name: "reviews" };
    await until("VirtualService in the store", cluster, () => store.get(key) !== undefined);
    expect(store.get(key)!.object.spec).toEqual({ hosts: ["reviews"], http: [{ timeout: "5s", route: [{ destination: { host: "reviews" } }] }] });

    // An edit the API server accepts (Istio's CRD schema allows it) but weft's validation does not: reported; last good kept.
    const vs = await api.request("GET", `${vsPath}/reviews`);
    await api.request("PUT", `${vsPath}/reviews`, { body: { ...vs, spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" }, weight: -5 }] }] } } });
    await until("invalid VirtualService reported", cluster, () => discovery.status().invalid.length > 0);
    expect(discovery.status().invalid).toContainEqual(expect.objectContaining({ severity: "error", object: `VirtualService/${ns}/reviews`, path: expect.stringContaining("spec.http[0].route[0].weight") }));
    expect(store.get(key)!.object.spec).toMatchObject({ http: [{ timeout: "5s" }] });
    expect(logs.some((l) => l.includes(`VirtualService/${ns}/reviews`))).toBe(true);

    // An AuthorizationPolicy with an unknown `when` key: stored (as Istio would) but warned about loudly.
    await api.request("POST", `/apis/security.istio.io/v1/namespaces/${ns}/authorizationpolicies`, {
      body: { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "odd" }, spec: { action: "ALLOW", rules: [{ when: [{ key: "request.bogus", values: ["x"] }] }] } },
    });
    await until("AuthorizationPolicy warning", cluster, () => discovery.status().warnings.some((d) => d.object === `AuthorizationPolicy/${ns}/odd`));
    expect(store.get({ group: "security.istio.io", kind: "AuthorizationPolicy", namespace: ns, name: "odd" })).toBeDefined();

    await api.request("DELETE", `${vsPath}/reviews`);
    await until("VirtualService removed from the store", cluster, () => store.get(key) === undefined);
    expect(discovery.status().invalid).toEqual([]);
  });

  it("keeps the last good view while the API server is down and recovers when it is back", async () => {
    await api.request("POST", `/api/v1/namespaces/${ns}/services`, { body: service("ratings") });
    await api.request("POST", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, { body: slice("ratings-1", "ratings", [{ addresses: ["10.244.0.9"], conditions: { ready: true } }]) });
    await until("ratings endpoint", cluster, () => endpointsOf(registry.snapshot(), `${ns}/ratings`).length === 1);

    const start = await stopApiserver(cluster, cluster.apiserver);
    await until("discovery degraded", cluster, () => discovery.status().state === "degraded" && registry.status().sources.some((s) => s.name === "kubernetes" && s.error));
    // Still the last good view.
    expect(endpointsOf(registry.snapshot(), `${ns}/ratings`)).toEqual([{ address: "10.244.0.9", port: 9080, health: "healthy" }]);
    expect(discovery.status().resources.some((r) => r.failures > 0)).toBe(true);

    restarted = await start();
    await api.request("POST", `/api/v1/namespaces/${ns}/services`, { body: service("details") });
    await until("recovered and converged", cluster, () => discovery.status().state === "synced" && registry.snapshot().services.some((s) => s.id === `${ns}/details`));
    expect(registry.status().sources.find((s) => s.name === "kubernetes")?.error).toBeUndefined();
    expect(endpointsOf(registry.snapshot(), `${ns}/ratings`)).toHaveLength(1);
  });
});

describe.skipIf(!ready)("kubernetes discovery: expired watch (410 Gone)", () => {
  let cluster: KubernetesHandle;
  let api: KubeApi;
  let registry: Registry;
  let discovery: KubernetesDiscovery;

  beforeAll(async () => {
    // Without the watch cache, watches are served by etcd, so a compacted resourceVersion is a real 410.
    cluster = await kubernetes.start({ extraApiserverArgs: ["--watch-cache=false"] });
    api = apiFor(cluster);
    await setupNamespace(api);
    registry = createRegistry();
    discovery = startKubernetesDiscovery({ api, registry, backoff: { baseMs: 200, maxMs: 2_000 } });
    await discovery.synced();
  });
  afterAll(async () => {
    await discovery?.stop();
    await cluster?.stop();
  });

  it("relists after 410 Gone and never drops the last good view", async () => {
    await api.request("POST", `/api/v1/namespaces/${ns}/services`, { body: service("reviews") });
    await until("reviews in the registry", cluster, () => registry.snapshot().services.some((s) => s.id === `${ns}/reviews`));
    let dropped = 0;
    const unsubscribe = registry.subscribe((s) => {
      if (!s.services.some((x) => x.id === `${ns}/reviews`)) dropped++;
    });
    const before = discovery.status().resources.find((r) => r.path === "/api/v1/services")!;

    await api.request("POST", `/api/v1/namespaces/${ns}/services`, { body: service("ratings") });
    await compactEtcd(cluster);
    discovery.restartWatches("2", "/api/v1/services"); // far behind the compaction: etcd answers 410
    await until("services watch expired and relisted", cluster, () => {
      const r = discovery.status().resources.find((x) => x.path === "/api/v1/services")!;
      return r.expired > before.expired && r.lists > before.lists && r.healthy;
    });
    await api.request("POST", `/api/v1/namespaces/${ns}/services`, { body: service("details") });
    await until("converged after the relist", cluster, () => ["reviews", "ratings", "details"].every((n) => registry.snapshot().services.some((s) => s.id === `${ns}/${n}`)));
    unsubscribe();
    expect(dropped).toBe(0);
    expect(discovery.status().state).toBe("synced");
  });
});
