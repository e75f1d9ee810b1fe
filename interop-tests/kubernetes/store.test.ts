// The Kubernetes config store against a real kube-apiserver and etcd: two store instances (two control-plane
// replicas) on the same API server see each other's applies and deletes through their watches; Istio kinds
// live in Istio's own CRDs, a foreign kind in a generated weft.dev CRD; validation happens before anything
// is written, and an apply the API server rejects half-way is rolled back; a replica that restarts finds
// the shared state again.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeApi } from "../../adapters/kubernetes/api.ts";
import { createKubernetesStore } from "../../control/store/kubernetes-store.ts";
import { type ChangeEvent, CompactedError, type ConfigStore, ConflictError, StoreValidationError } from "../../control/store/types.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource } from "../../core/resources/kind.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import kubernetes, { type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { waitFor } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";
import { apiFor, istioCrds } from "./helpers.ts";

const { ready } = await requirePeers(import.meta.url, kubernetes);

// A kind outside Istio's groups, stored under a generated `consul.hashicorp.com.weft.dev` CRD.
const defaultsKind = { group: "consul.hashicorp.com", kind: "ServiceDefaults", versions: ["v1alpha1"] };
const kinds = [...allKinds, defaultsKind];
const validate = (o: Record<string, unknown>): Diagnostic[] => (o.kind === "ServiceDefaults" ? [] : validateResource(o, allKinds));

const vs = (name: string, host: string) => ({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "shop" }, spec: { hosts: [host], http: [{ route: [{ destination: { host } }] }] } });
const vsKey = (name: string) => ({ group: "networking.istio.io", kind: "VirtualService", namespace: "shop", name });

describe.skipIf(!ready)("kubernetes config store", () => {
  let cluster: KubernetesHandle;
  let api: KubeApi;
  let a: ConfigStore;
  let b: ConfigStore;
  const open = () => createKubernetesStore({ api, kinds, validate, crds: istioCrds(), backoff: { baseMs: 200, maxMs: 2_000 } });

  async function until(what: string, check: () => boolean) {
    await waitFor(async () => check(), { what, logPath: cluster.apiserverLogPath, timeoutMs: 30_000 });
  }

  beforeAll(async () => {
    cluster = await kubernetes.start();
    api = apiFor(cluster);
    a = await open();
    b = await open();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.stop();
  });

  it("installs Istio's own CRDs for Istio kinds and a weft.dev CRD for other groups", async () => {
    const vsCrd = await api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualservices.networking.istio.io");
    expect(vsCrd.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBeUndefined(); // Istio's, not generated
    const sdCrd = await api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/servicedefaults.consul.hashicorp.com.weft.dev");
    expect(sdCrd.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("weft");
  });

  it("two replicas see each other's applies, updates and deletes", async () => {
    const seenByB: ChangeEvent[] = [];
    const stop = b.watch(b.revision(), (evs) => seenByB.push(...evs));
    const r1 = await a.apply([vs("reviews", "reviews"), { apiVersion: "consul.hashicorp.com/v1alpha1", kind: "ServiceDefaults", metadata: { name: "web", namespace: "shop" }, spec: { protocol: "http" } }], { actor: "alice" });
    expect(r1.changes.map((c) => c.action)).toEqual(["create", "create"]);
    expect(a.get(vsKey("reviews"))?.revision).toBeGreaterThan(0); // read-your-writes on the writer
    await until("B sees A's apply", () => b.get(vsKey("reviews")) !== undefined && b.list({ kind: "ServiceDefaults" }).length === 1);
    expect(b.get(vsKey("reviews"))).toMatchObject({ revision: a.get(vsKey("reviews"))!.revision, object: vs("reviews", "reviews") });
    expect(b.list({ kind: "ServiceDefaults" })[0]!.object).toEqual({ apiVersion: "consul.hashicorp.com/v1alpha1", kind: "ServiceDefaults", metadata: { name: "web", namespace: "shop" }, spec: { protocol: "http" } });

    const r2 = await b.apply([vs("reviews", "reviews.shop.svc.cluster.local")], { actor: "bob" });
    expect(r2.changes).toEqual([{ key: "networking.istio.io/VirtualService/shop/reviews", action: "update", changedPaths: ["spec.hosts[0]", "spec.http[0].route[0].destination.host"] }]);
    expect(r2.revision).toBeGreaterThan(r1.revision);
    await until("A sees B's update", () => a.get(vsKey("reviews"))?.revision === r2.revision);
    expect(a.history(vsKey("reviews")).map((h) => h.actor)).toEqual(["alice", "bob"]);
    expect((await a.apply([vs("reviews", "reviews.shop.svc.cluster.local")])).changes[0]!.action).toBe("unchanged");

    await a.delete([vsKey("reviews")]);
    await until("B sees A's delete", () => b.get(vsKey("reviews")) === undefined);
    stop();
    expect(seenByB.filter((e) => e.key.endsWith("/reviews")).map((e) => e.type)).toEqual(["PUT", "PUT", "DELETE"]);
  });

  it("validates before writing and rolls back an apply the API server rejects half-way", async () => {
    await expect(a.apply([vs("ok", "ok"), { ...vs("bad", "bad"), spec: { hosts: ["bad"], http: [{ timeout: "5x", route: [{ destination: { host: "bad" } }] }] } }])).rejects.toThrow(StoreValidationError);
    // Valid for weft, refused by the API server (names must be DNS-1123 subdomains): nothing stays written.
    const err = await a.apply([vs("first", "first"), vs("Not_A_Name", "x")]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreValidationError);
    expect((err as StoreValidationError).diagnostics).toContainEqual(expect.objectContaining({ path: "metadata.name", object: "networking.istio.io/VirtualService/shop/Not_A_Name" }));
    await until("rollback visible on B", () => b.get(vsKey("first")) === undefined);
    const list = await api.list("/apis/networking.istio.io/v1/namespaces/shop/virtualservices");
    expect(list.items.map((i) => i.metadata?.name)).not.toContain("first");
    expect(a.get(vsKey("ok"))).toBeUndefined();
  });

  it("refuses a stale expectRevision, and a restarted replica finds the shared state", async () => {
    await a.apply([vs("cart", "cart")]);
    await until("B sees cart", () => b.get(vsKey("cart")) !== undefined);
    await expect(b.apply([vs("cart", "cart2")], { expectRevision: 1 })).rejects.toThrow(ConflictError);
    await a.close();
    a = await open();
    expect(a.get(vsKey("cart"))?.object).toEqual(vs("cart", "cart"));
    expect(() => a.watch(0, () => undefined)).toThrow(CompactedError);
    const r = await a.apply([vs("cart", "cart2")], { expectRevision: a.revision() });
    await until("B sees the restarted replica's write", () => b.get(vsKey("cart"))?.revision === r.revision);
  });
});
