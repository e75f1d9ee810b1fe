/**
 * @module control/xds/consistency
 * The check a snapshot must pass before it is published (go-control-plane's `Consistent`, extended):
 * every cluster a route or TCP proxy names exists; every EDS cluster has a load assignment; every
 * route configuration a listener names over RDS exists; every SDS secret a listener or cluster names
 * exists. Returns readable problems, one per dangling reference, naming the resource that refers. A
 * snapshot derived from a consistent one is checked in proportion to what changed.
 */
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, type Cluster } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import type { Listener } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import type { FilterChain } from "../../gen/proto/envoy/config/listener/v3/listener_components_pb.ts";
import type { RouteConfiguration } from "../../gen/proto/envoy/config/route/v3/route_pb.ts";
import type { HttpConnectionManager } from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import type { TcpProxy } from "../../gen/proto/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.ts";
import type { CommonTlsContext, DownstreamTlsContext, UpstreamTlsContext } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/tls_pb.ts";
import type { TransportSocket } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { ALL_TYPE_URLS, nestedRegistry, TypeUrl } from "./resource-types.ts";
import type { Snapshot, SnapshotResource } from "./snapshot.ts";

const HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

function unpack<T>(any: Any | undefined): T | undefined {
  if (!any) return undefined;
  try {
    return anyUnpack(any, nestedRegistry) as T | undefined;
  } catch {
    return undefined;
  }
}

function tlsSecretNames(ctx: CommonTlsContext | undefined): string[] {
  if (!ctx) return [];
  const out = ctx.tlsCertificateSdsSecretConfigs.map((s) => s.name);
  const v = ctx.validationContextType;
  if (v.case === "validationContextSdsSecretConfig") out.push(v.value.name);
  if (v.case === "combinedValidationContext" && v.value.validationContextSdsSecretConfig) out.push(v.value.validationContextSdsSecretConfig.name);
  return out.filter((n) => n !== "");
}

function socketSecrets(ts: TransportSocket | undefined): string[] {
  if (!ts || ts.configType.case !== "typedConfig") return [];
  const ctx = unpack<DownstreamTlsContext | UpstreamTlsContext>(ts.configType.value);
  return tlsSecretNames(ctx?.commonTlsContext);
}

/** Route configuration → the clusters its routes send to (including weighted and mirrored ones). */
export function routeClusters(rc: RouteConfiguration): { where: string; cluster: string }[] {
  const out: { where: string; cluster: string }[] = [];
  for (const vh of rc.virtualHosts) {
    vh.routes.forEach((r, i) => {
      const where = `route config "${rc.name}" virtual host "${vh.name}" route ${r.name ? `"${r.name}"` : i}`;
      if (r.action.case !== "route") return;
      const a = r.action.value;
      if (a.clusterSpecifier.case === "cluster") out.push({ where, cluster: a.clusterSpecifier.value });
      if (a.clusterSpecifier.case === "weightedClusters") for (const w of a.clusterSpecifier.value.clusters) out.push({ where, cluster: w.name });
      for (const m of a.requestMirrorPolicies) if (m.cluster) out.push({ where: `${where} mirror`, cluster: m.cluster });
    });
  }
  return out;
}

function chainRefs(l: Listener, fc: FilterChain, refs: ListenerRefs) {
  const where = `listener "${l.name}"${fc.name ? ` filter chain "${fc.name}"` : ""}`;
  for (const f of fc.filters) {
    if (f.configType.case !== "typedConfig") continue;
    const any = f.configType.value;
    if (any.typeUrl.endsWith(HCM)) {
      const hcm = unpack<HttpConnectionManager>(any);
      if (hcm?.routeSpecifier.case === "rds") refs.rds.push(hcm.routeSpecifier.value.routeConfigName);
      if (hcm?.routeSpecifier.case === "routeConfig") for (const c of routeClusters(hcm.routeSpecifier.value)) refs.clusters.push(c);
    } else if (any.typeUrl.endsWith(TCP_PROXY)) {
      const tcp = unpack<TcpProxy>(any);
      if (tcp?.clusterSpecifier.case === "cluster") refs.clusters.push({ where, cluster: tcp.clusterSpecifier.value });
      if (tcp?.clusterSpecifier.case === "weightedClusters") for (const w of tcp.clusterSpecifier.value.clusters) refs.clusters.push({ where, cluster: w.name });
    }
  }
  for (const s of socketSecrets(fc.transportSocket)) refs.secrets.push({ where, secret: s });
}

interface ListenerRefs {
  rds: string[];
  clusters: { where: string; cluster: string }[];
  secrets: { where: string; secret: string }[];
}

// References are a pure function of a message; messages are immutable, so extract them once per object.
const listenerRefCache = new WeakMap<Listener, ListenerRefs>();
const routeRefCache = new WeakMap<RouteConfiguration, { where: string; cluster: string }[]>();
const clusterSecretCache = new WeakMap<Cluster, string[]>();

function listenerRefs(l: Listener): ListenerRefs {
  let refs = listenerRefCache.get(l);
  if (refs) return refs;
  refs = { rds: [], clusters: [], secrets: [] };
  for (const fc of l.filterChains) chainRefs(l, fc, refs);
  if (l.defaultFilterChain) chainRefs(l, l.defaultFilterChain, refs);
  const api = l.apiListener?.apiListener;
  if (api?.typeUrl.endsWith(HCM)) {
    const hcm = unpack<HttpConnectionManager>(api);
    if (hcm?.routeSpecifier.case === "rds") refs.rds.push(hcm.routeSpecifier.value.routeConfigName);
  }
  listenerRefCache.set(l, refs);
  return refs;
}

function cachedRouteClusters(rc: RouteConfiguration) {
  let refs = routeRefCache.get(rc);
  if (!refs) routeRefCache.set(rc, (refs = routeClusters(rc)));
  return refs;
}

function clusterSecrets(c: Cluster): string[] {
  let refs = clusterSecretCache.get(c);
  if (!refs) clusterSecretCache.set(c, (refs = socketSecrets(c.transportSocket)));
  return refs;
}

/**
 * Problems that keep a snapshot from being published; empty when consistent. With `base` — the
 * consistent snapshot `snapshot` was derived from (`snapshot.baseId === base.id`) — and no resource
 * removed since, only the added and changed resources are checked: every reference the base held was
 * valid and still is, since nothing it could point to went away. Otherwise the whole snapshot is checked.
 */
export function checkSnapshot(snapshot: Snapshot, base?: Snapshot): string[] {
  const incremental = base !== undefined && snapshot.baseId === base.id &&
    ALL_TYPE_URLS.every((t) => snapshot.changes(t) !== undefined && snapshot.changes(t)!.removed.length === 0);
  const problems: string[] = [];
  const clusters = snapshot.resources(TypeUrl.cluster);
  const endpoints = snapshot.resources(TypeUrl.endpoint);
  const routes = snapshot.resources(TypeUrl.route);
  const secrets = snapshot.resources(TypeUrl.secret);
  const scope = (typeUrl: string): Iterable<SnapshotResource> => {
    const all = snapshot.resources(typeUrl);
    if (!incremental) return all.values();
    return [...snapshot.changes(typeUrl)!.changed].map((n) => all.get(n)!);
  };

  for (const r of scope(TypeUrl.cluster)) {
    const c = r.message as Cluster;
    if (c.clusterDiscoveryType.case === "type" && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) {
      const name = c.edsClusterConfig?.serviceName || c.name;
      if (!endpoints.has(name)) problems.push(`cluster "${c.name}" uses EDS but the snapshot has no load assignment "${name}"`);
    }
    for (const s of clusterSecrets(c)) {
      if (!secrets.has(s)) problems.push(`cluster "${c.name}" names SDS secret "${s}", which the snapshot does not have`);
    }
  }

  for (const r of scope(TypeUrl.route)) {
    for (const { where, cluster } of cachedRouteClusters(r.message as RouteConfiguration)) {
      if (!clusters.has(cluster)) problems.push(`${where} names cluster "${cluster}", which the snapshot does not have`);
    }
  }

  for (const r of scope(TypeUrl.listener)) {
    const l = r.message as Listener;
    const refs = listenerRefs(l);
    for (const name of refs.rds) {
      if (!routes.has(name)) problems.push(`listener "${l.name}" names route configuration "${name}" (RDS), which the snapshot does not have`);
    }
    for (const { where, cluster } of refs.clusters) {
      if (!clusters.has(cluster)) problems.push(`${where} names cluster "${cluster}", which the snapshot does not have`);
    }
    for (const { where, secret } of refs.secrets) {
      if (!secrets.has(secret)) problems.push(`${where} names SDS secret "${secret}", which the snapshot does not have`);
    }
  }
  return problems;
}
