/**
 * @module control/xds/mesh-model
 * The mesh model (IR) the xDS server publishes, built from what the control plane holds: services,
 * workloads and endpoints from the registry, and routing and security from the config store's Istio
 * objects (VirtualService, DestinationRule, AuthorizationPolicy, PeerAuthentication,
 * RequestAuthentication). Each service port gets its `outbound|port||host` cluster with the registry's
 * endpoints, with the settings of the DestinationRule for that port or for the whole host, and one
 * `outbound|port|subset|host` cluster per subset (endpoints filtered by the subset's labels); a service
 * with one port also answers to the port-less names (`outbound|||host`) that routes without a port
 * use. Objects that do not convert are reported, never half-applied.
 */
import type { Cluster, Endpoint, MeshModel } from "../../core/ir/model.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import { istioToIr } from "../../adapters/istio/conversion.ts";
import type { RegistrySnapshot } from "../registry/registry.ts";
import { clusterName } from "./translate/common.ts";

export const MESH_CONFIG_KINDS = ["VirtualService", "DestinationRule", "AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"] as const;

export interface MeshModelInput {
  registry: RegistrySnapshot;
  /** Store objects of `MESH_CONFIG_KINDS` (others are skipped). */
  objects: readonly Record<string, unknown>[];
  trustDomain: string;
  rootNamespace?: string;
}

/**
 * @example
 * const { model } = buildMeshModel({ registry: registry.snapshot(), objects: store.list({}).map((r) => r.object), trustDomain });
 */
export function buildMeshModel(input: MeshModelInput): { model: MeshModel; diagnostics: Diagnostic[] } {
  const rootNamespace = input.rootNamespace ?? "istio-system";
  const objects = input.objects.filter((o) => (MESH_CONFIG_KINDS as readonly unknown[]).includes(o.kind));
  const { model: ir, diagnostics } = istioToIr(objects, { trustDomain: input.trustDomain, rootNamespace });
  const reg = input.registry;
  const endpointsOf = new Map<string, Endpoint[]>();
  for (const e of reg.endpoints) endpointsOf.set(`${e.service}|${e.port}`, e.endpoints);
  // DestinationRule clusters: per port (`outbound|port|subset|host`) or for every port (`outbound||subset|host`).
  const rules = new Map<string, Cluster>();
  for (const c of ir.clusters) rules.set(c.name, c);
  const clusters = new Map<string, Cluster>();
  const put = (name: string, c: Cluster, svc: string, eps: Endpoint[]) => {
    const labels = c.subset?.labels;
    const mine = labels ? eps.filter((e) => Object.entries(labels).every(([k, v]) => e.labels?.[k] === v)) : eps;
    clusters.set(name, { ...c, name, service: svc, endpoints: c.endpoints.length ? c.endpoints : mine });
  };
  for (const svc of reg.services) {
    for (const p of svc.ports) {
      const eps = endpointsOf.get(`${svc.id}|${p.port}`) ?? [];
      const protocol = p.protocol === "tcp" || p.protocol === "tls" ? "tcp" : p.protocol === "grpc" || p.protocol === "http2" ? "http2" : "http";
      for (const host of svc.hosts) {
        const fallback: Cluster = { name: "", protocol, lb: { kind: "round-robin" }, endpoints: [], tls: { mode: "disable" } };
        const base = rules.get(clusterName("outbound", p.port, "", host)) ?? rules.get(`outbound|||${host}`) ?? fallback;
        const names = [clusterName("outbound", p.port, "", host), ...(svc.ports.length === 1 ? [`outbound|||${host}`] : [])];
        for (const n of names) put(n, base, svc.id, eps);
        for (const r of rules.values()) {
          const m = /^outbound\|(\d*)\|([^|]+)\|(.*)$/.exec(r.name);
          if (!m || m[3] !== host || (m[1] !== "" && Number(m[1]) !== p.port)) continue;
          put(clusterName("outbound", p.port, m[2]!, host), r, svc.id, eps);
          if (svc.ports.length === 1) put(`outbound||${m[2]}|${host}`, r, svc.id, eps);
        }
      }
    }
  }
  // Rules for hosts the registry does not know keep their own (empty) endpoints.
  for (const r of rules.values()) if (!clusters.has(r.name)) clusters.set(r.name, r);
  const model: MeshModel = {
    trustDomain: input.trustDomain,
    trustDomainAliases: [],
    rootNamespace,
    services: reg.services,
    workloads: reg.workloads,
    clusters: [...clusters.values()],
    virtualHosts: ir.virtualHosts,
    authorization: ir.authorization,
    requestAuthentication: ir.requestAuthentication,
    peerAuthentication: ir.peerAuthentication,
  };
  return { model, diagnostics };
}
