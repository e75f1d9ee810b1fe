/**
 * @module bench/control/model
 * The control-plane benchmark's mesh: N services (one HTTP/2 port each, one EDS cluster each) with M
 * endpoints per cluster, and `changeOneEndpoint`, which returns a new model where only one cluster
 * object differs (one endpoint's port moved) — the shape an endpoint watch produces, so the
 * translators' per-object caches see one new cluster and every other object reused.
 */
import type { Cluster, MeshModel, Service } from "../../core/ir/model.ts";

export const clusterNameOf = (i: number): string => `outbound|8080||svc-${i}.bench.svc.cluster.local`;

export function buildModel(services: number, endpointsPerService: number): MeshModel {
  const svcs: Service[] = [];
  const clusters: Cluster[] = [];
  for (let i = 0; i < services; i++) {
    const host = `svc-${i}.bench.svc.cluster.local`;
    svcs.push({ id: `bench/svc-${i}`, name: `svc-${i}`, namespace: "bench", hosts: [host], ports: [{ port: 8080, protocol: "grpc" }], selector: { app: `svc-${i}` } });
    clusters.push({
      name: clusterNameOf(i), service: `bench/svc-${i}`, protocol: "grpc", lb: { kind: "round-robin" }, tls: { mode: "disable" },
      endpoints: Array.from({ length: endpointsPerService }, (_, j) => ({
        address: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, port: 8080, health: "healthy" as const,
        locality: { region: "r1", zone: `z${j % 3}` },
      })),
    });
  }
  return {
    trustDomain: "cluster.local", trustDomainAliases: [], rootNamespace: "istio-system",
    services: svcs, workloads: [], clusters, virtualHosts: [], authorization: [], requestAuthentication: [], peerAuthentication: [],
  };
}

/** A new model in which endpoint 0 of cluster `index` has port `8080 + step` (all other objects shared). */
export function changeOneEndpoint(model: MeshModel, index: number, step: number): MeshModel {
  const clusters = model.clusters.slice();
  const old = clusters[index]!;
  const endpoints = old.endpoints.slice();
  endpoints[0] = { ...endpoints[0]!, port: 8080 + (step % 1000) + 1 };
  clusters[index] = { ...old, endpoints };
  return { ...model, clusters };
}
