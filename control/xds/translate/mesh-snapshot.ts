/**
 * @module control/xds/translate/mesh-snapshot
 * Builds one node's complete xDS resource set from the mesh model (IR), ready for `createSnapshot`:
 * - `grpc` (proxyless gRPC clients): an API listener and a route configuration per service host and
 *   port (`host:port`, what `xds:///host:port` resolves), every cluster (EDS) and its load assignment;
 * - `sidecar` (weft proxy, Envoy): inbound listeners for the ports of the services the node's workload
 *   serves (authorization filters from the policies that select it, mesh mTLS per PeerAuthentication),
 *   outbound HTTP listeners per service port with one route configuration each, clusters, load
 *   assignments, and the workload's SVID and trust bundle as SDS secrets.
 * Virtual hosts come from `model.virtualHosts`; a service port with no virtual host gets a default route
 * to its `outbound|port||host` cluster when that cluster exists.
 */
import type { Cluster as IrCluster, MeshModel, MtlsMode, Service, VirtualHost, Workload } from "../../../core/ir/model.ts";
import type { Message } from "@bufbuild/protobuf";
import { TypeUrl } from "../resource-types.ts";
import type { SnapshotInput } from "../snapshot.ts";
import { translateCluster, translateLoadAssignment } from "./cluster.ts";
import { clusterName } from "./common.ts";
import { apiListener, inboundListener, outboundListener, type PathNormalization } from "./listener.ts";
import { authzHttpFilters, authzNetworkFilters, policiesForWorkload, type AuthzOptions } from "./rbac-filters.ts";
import { routeFilterNeeds, translateRouteConfiguration } from "./route.ts";
import { bundleSecret, svidSecret } from "./tls.ts";

export interface GrpcProfile {
  kind: "grpc";
}

export interface SidecarProfile {
  kind: "sidecar";
  workload: Workload;
  /** Address listeners bind (default `0.0.0.0`). */
  listenAddress?: string;
  /** Where the sidecar accepts inbound traffic for a service port (default: the port itself + 10000). */
  inboundPort?: (servicePort: number) => number;
  /** Where the application listens (default 127.0.0.1 on the target port). */
  appAddress?: string;
  svid?: { chainPem: string[]; keyPem: string };
  trustBundle?: readonly string[];
  authz?: AuthzOptions;
  /** MeshConfig `pathNormalization.normalization` for the sidecar's HTTP listeners (default BASE, as istiod). */
  pathNormalization?: PathNormalization;
}

export type NodeProfile = GrpcProfile | SidecarProfile;

function hostVirtualHosts(model: MeshModel, host: string, port: number): VirtualHost[] {
  const hp = `${host}:${port}`;
  return model.virtualHosts
    .filter((vh) => vh.domains.includes(host) || vh.domains.includes(hp))
    .map((vh) => ({ ...vh, domains: [...new Set([...vh.domains, host, hp])] }));
}

function defaultVirtualHost(host: string, port: number, clusters: Map<string, IrCluster>): VirtualHost | null {
  const name = clusterName("outbound", port, "", host);
  if (!clusters.has(name)) return null;
  return {
    name: `${host}:${port}`,
    domains: [host, `${host}:${port}`],
    routes: [{ name: "default", match: [{ path: { prefix: "/" } }], action: { kind: "forward", destinations: [{ cluster: name, weight: 100 }] } }],
  };
}

// Translations per IR object: a model update that reuses unchanged objects re-translates (and the
// snapshot re-serializes) only what changed. IR objects are immutable once published.
const clusterCache = new WeakMap<IrCluster, Message>();
const plainClusterCache = new WeakMap<IrCluster, Message>();
const endpointCache = new WeakMap<IrCluster, Message>();

function cached<K extends object>(cache: WeakMap<K, Message>, key: K, make: () => Message): Message {
  let m = cache.get(key);
  if (!m) cache.set(key, (m = make()));
  return m;
}

function clusterResources(model: MeshModel, opts: { stripTls: boolean }): { clusters: Message[]; endpoints: Message[] } {
  return {
    clusters: model.clusters.map((c) => opts.stripTls
      ? cached(plainClusterCache, c, () => translateCluster({ ...c, tls: { mode: "disable" } }))
      : cached(clusterCache, c, () => translateCluster(c))),
    endpoints: model.clusters.map((c) => cached(endpointCache, c, () => translateLoadAssignment(c))),
  };
}

interface GrpcServiceEntry {
  virtualHosts: readonly VirtualHost[];
  defaults: string;
  listeners: Message[];
  routes: Message[];
}
const grpcServiceCache = new WeakMap<Service, GrpcServiceEntry>();

function grpcServiceResources(model: MeshModel, svc: Service, byName: Map<string, IrCluster>): GrpcServiceEntry {
  // Reusable while the service object, the virtual host list and its default clusters are unchanged.
  const defaults = svc.ports.flatMap((p) => svc.hosts.map((h) => (byName.has(clusterName("outbound", p.port, "", h)) ? "1" : "0"))).join("");
  const hit = grpcServiceCache.get(svc);
  if (hit && hit.virtualHosts === model.virtualHosts && hit.defaults === defaults) return hit;
  const entry: GrpcServiceEntry = { virtualHosts: model.virtualHosts, defaults, listeners: [], routes: [] };
  for (const p of svc.ports) {
    for (const host of svc.hosts) {
      const name = `${host}:${p.port}`;
      const vhs = hostVirtualHosts(model, host, p.port);
      const fallback = vhs.length ? null : defaultVirtualHost(host, p.port, byName);
      const all = fallback ? [fallback] : vhs;
      if (!all.length) continue;
      entry.listeners.push(apiListener(name, name, { fault: routeFilterNeeds(all).fault }));
      entry.routes.push(translateRouteConfiguration(name, all, { port: p.port }));
    }
  }
  grpcServiceCache.set(svc, entry);
  return entry;
}

function grpcSnapshot(model: MeshModel): SnapshotInput {
  const byName = new Map(model.clusters.map((c) => [c.name, c]));
  const listeners: Message[] = [];
  const routes: Message[] = [];
  for (const svc of model.services) {
    const e = grpcServiceResources(model, svc, byName);
    listeners.push(...e.listeners);
    routes.push(...e.routes);
  }
  // Proxyless gRPC takes its certificates from its own providers, not SDS: clusters carry no TLS here.
  const { clusters, endpoints } = clusterResources(model, { stripTls: true });
  return { [TypeUrl.listener]: listeners, [TypeUrl.route]: routes, [TypeUrl.cluster]: clusters, [TypeUrl.endpoint]: endpoints };
}

function selects(svc: Service, w: Workload): boolean {
  if (svc.namespace !== w.namespace || !svc.selector) return false;
  return Object.entries(svc.selector).every(([k, v]) => w.labels[k] === v);
}

/** The effective mTLS mode for a workload port (workload policy, then namespace, then root namespace). */
export function mtlsModeFor(model: MeshModel, w: Workload, port: number): MtlsMode {
  const applicable = model.peerAuthentication.filter((p) =>
    (p.namespace === w.namespace || p.namespace === model.rootNamespace) &&
    Object.entries(p.selector.matchLabels ?? {}).every(([k, v]) => w.labels[k] === v));
  const rank = (p: (typeof applicable)[number]) => (p.selector.matchLabels && Object.keys(p.selector.matchLabels).length ? 0 : p.namespace === w.namespace ? 1 : 2);
  applicable.sort((a, b) => rank(a) - rank(b));
  for (const p of applicable) {
    const mode = p.portLevel?.[port] ?? p.mode;
    if (mode !== "UNSET") return mode;
  }
  return "PERMISSIVE";
}

function sidecarSnapshot(model: MeshModel, prof: SidecarProfile): SnapshotInput {
  const w = prof.workload;
  const listenAddress = prof.listenAddress ?? "0.0.0.0";
  const inboundPort = prof.inboundPort ?? ((p: number) => p + 10000);
  const listeners: Message[] = [];
  const routes: Message[] = [];
  const { clusters, endpoints } = clusterResources(model, { stripTls: false });
  const byName = new Map(model.clusters.map((c) => [c.name, c]));
  const policies = policiesForWorkload(model, w);

  // Inbound: one listener per port of each service this workload serves, routing to the local app.
  for (const svc of model.services.filter((s) => selects(s, w))) {
    for (const p of svc.ports) {
      const target = p.targetPort ?? p.port;
      const local: IrCluster = {
        name: clusterName("inbound", target, "", ""),
        protocol: p.protocol,
        lb: { kind: "round-robin" },
        endpoints: [{ address: prof.appAddress ?? "127.0.0.1", port: target, health: "healthy" }],
        tls: { mode: "disable" },
      };
      if (!byName.has(local.name)) {
        byName.set(local.name, local);
        clusters.push(translateCluster(local));
        endpoints.push(translateLoadAssignment(local));
      }
      const name = `inbound|${target}`;
      const mtls = mtlsModeFor(model, w, target);
      const isTcp = p.protocol === "tcp" || p.protocol === "tls";
      const listenerMtls = mtls === "UNSET" ? "PERMISSIVE" : mtls;
      if (listeners.some((l) => (l as unknown as { name: string }).name === name)) continue;
      if (isTcp) {
        listeners.push(inboundListener({ name, address: listenAddress, port: inboundPort(target), protocol: "tcp", cluster: local.name, networkFilters: authzNetworkFilters(policies, model, prof.authz), mtls: listenerMtls }));
      } else {
        const vh: VirtualHost = { name: "inbound", domains: ["*"], routes: [{ name: "default", match: [], action: { kind: "forward", destinations: [{ cluster: local.name, weight: 100 }] } }] };
        routes.push(translateRouteConfiguration(name, [vh]));
        listeners.push(inboundListener({ name, address: listenAddress, port: inboundPort(target), protocol: "http", routeConfigName: name, httpFilters: authzHttpFilters(policies, model, prof.authz), mtls: listenerMtls, pathNormalization: prof.pathNormalization ?? "BASE" }));
      }
    }
  }

  // Outbound: per service port, one HTTP listener and route configuration with every host on that port.
  const ports = new Map<number, VirtualHost[]>();
  for (const svc of model.services) {
    for (const p of svc.ports) {
      if (p.protocol === "tcp" || p.protocol === "tls") continue;
      const list = ports.get(p.port) ?? [];
      for (const host of svc.hosts) {
        const vhs = hostVirtualHosts(model, host, p.port);
        const fallback = vhs.length ? null : defaultVirtualHost(host, p.port, byName);
        for (const vh of fallback ? [fallback] : vhs) if (!list.some((x) => x.name === vh.name)) list.push(vh);
      }
      ports.set(p.port, list);
    }
  }
  for (const [port, vhs] of ports) {
    if (!vhs.length) continue;
    const name = String(port);
    const needs = routeFilterNeeds(vhs);
    routes.push(translateRouteConfiguration(name, vhs, { port, sourceLabels: w.labels }));
    listeners.push(outboundListener({ name: `outbound|${port}`, address: listenAddress, port, protocol: "http", routeConfigName: name, fault: needs.fault, cors: needs.cors, pathNormalization: prof.pathNormalization ?? "BASE" }));
  }

  const secrets: Message[] = [];
  if (prof.svid) secrets.push(svidSecret(prof.svid));
  if (prof.trustBundle) secrets.push(bundleSecret(prof.trustBundle));
  return { [TypeUrl.listener]: listeners, [TypeUrl.route]: routes, [TypeUrl.cluster]: clusters, [TypeUrl.endpoint]: endpoints, [TypeUrl.secret]: secrets };
}

/**
 * The resources for one node.
 * @example
 * cache.setSnapshot(node.id, createSnapshot(buildNodeResources(model, { kind: "grpc" }), `rev-${rev}`));
 */
export function buildNodeResources(model: MeshModel, profile: NodeProfile): SnapshotInput {
  return profile.kind === "grpc" ? grpcSnapshot(model) : sidecarSnapshot(model, profile);
}
