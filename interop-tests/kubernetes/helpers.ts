// Shared by the Kubernetes interop suites: a raw-JSON API client for a peer, Istio's CRDs from the
// peer's install (Istio's own crd-all.gen.yaml), etcd compaction (to make old resourceVersions expire
// for real), and restarting just the API server on its own etcd (same flags, same port).

import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { KubeApi, KubeObject } from "../../adapters/kubernetes/api.ts";
import { createKubeApi, loadKubeConfig } from "../../adapters/kubernetes/api-client.ts";
import { istioCrdsPath, kubeGet, type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { spawnPeer, waitFor } from "../peers/lib.ts";
import type { SpawnedProcess } from "../peers/types.ts";

export function apiFor(cluster: KubernetesHandle): KubeApi {
  return createKubeApi(loadKubeConfig(cluster.kubeconfigPath));
}

/** Istio's CRDs for the given kinds (all when omitted). */
export function istioCrds(kinds?: string[]): KubeObject[] {
  return parseAllDocuments(readFileSync(istioCrdsPath, "utf8"))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d?.kind === "CustomResourceDefinition")
    .filter((d) => !kinds || kinds.includes(((d.spec as { names?: { kind?: string } }).names?.kind) ?? ""));
}

/** Compacts etcd's history up to its current revision; returns that revision. */
export async function compactEtcd(cluster: KubernetesHandle): Promise<number> {
  const range = await fetch(`${cluster.etcdUrl}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: Buffer.from("a").toString("base64") }) });
  const revision = Number(((await range.json()) as { header: { revision: string } }).header.revision);
  const res = await fetch(`${cluster.etcdUrl}/v3/kv/compaction`, { method: "POST", body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
  return revision;
}

/**
 * Stops the API server (etcd keeps running) and returns a function that starts it again with the same
 * command line, waiting for /readyz. The restarted process is returned for cleanup.
 */
export async function stopApiserver(cluster: KubernetesHandle, current: SpawnedProcess): Promise<() => Promise<SpawnedProcess>> {
  const argv = readFileSync(`/proc/${current.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  await current.stop();
  return async () => {
    const proc = spawnPeer(argv[0]!, argv.slice(1), { cwd: cluster.dataDir, logPath: cluster.apiserverLogPath });
    await waitFor(async () => {
      const res = await kubeGet(`${cluster.url}/readyz`, cluster.token, cluster.caPem);
      return res.status === 200;
    }, { what: "restarted kube-apiserver /readyz", logPath: cluster.apiserverLogPath, process: proc, timeoutMs: 120_000 });
    return proc;
  };
}
