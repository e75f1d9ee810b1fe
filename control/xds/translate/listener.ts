/**
 * @module control/xds/translate/listener
 * Envoy `Listener`s for the three kinds of client weft drives:
 * - API listeners for proxyless gRPC (`host:port`, an HTTP connection manager over RDS with the router);
 * - inbound listeners for a sidecar: HTTP connection manager with the authorization filters (RBAC, and
 *   ext_authz for CUSTOM), fault, CORS and router, behind mesh mTLS from SDS (STRICT) or with a
 *   plaintext chain too (PERMISSIVE); TCP ports get network RBAC filters and a TCP proxy;
 * - outbound listeners: HTTP connection manager over RDS, or a TCP proxy to one cluster.
 * Sidecar HTTP connection managers carry path normalization as istiod sets it from MeshConfig
 * `pathNormalization` (default BASE: `normalize_path`, escaped slashes kept unchanged).
 */
import { create } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { ListenerSchema, type Listener } from "../../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { FilterChainSchema, FilterSchema, type Filter, type FilterChain } from "../../../gen/proto/envoy/config/listener/v3/listener_components_pb.ts";
import {
  HttpConnectionManager_CodecType, HttpConnectionManager_PathWithEscapedSlashesAction, HttpConnectionManagerSchema, HttpFilterSchema, type HttpFilter,
} from "../../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import { RouterSchema } from "../../../gen/proto/envoy/extensions/filters/http/router/v3/router_pb.ts";
import { HTTPFaultSchema } from "../../../gen/proto/envoy/extensions/filters/http/fault/v3/fault_pb.ts";
import { CorsSchema } from "../../../gen/proto/envoy/extensions/filters/http/cors/v3/cors_pb.ts";
import { TcpProxySchema } from "../../../gen/proto/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.ts";
import { adsConfigSource, socketAddress } from "./common.ts";
import { CORS_FILTER, FAULT_FILTER } from "./route.ts";
import { downstreamMtlsSocket } from "./tls.ts";

export const HCM_FILTER = "envoy.filters.network.http_connection_manager";
export const ROUTER_FILTER = "envoy.filters.http.router";
export const TCP_PROXY_FILTER = "envoy.filters.network.tcp_proxy";

export function httpFilter(name: string, config: Any): HttpFilter {
  return create(HttpFilterSchema, { name, configType: { case: "typedConfig", value: config } });
}

export function networkFilter(name: string, config: Any): Filter {
  return create(FilterSchema, { name, configType: { case: "typedConfig", value: config } });
}

export interface HttpChainOptions {
  statPrefix: string;
  routeConfigName: string;
  /** Filters before fault/CORS/router (authorization, ...). */
  filters?: HttpFilter[];
  fault?: boolean;
  cors?: boolean;
  /**
   * MeshConfig `pathNormalization` for a sidecar's HCM (default BASE); absent on API listeners, whose
   * HCM istiod also leaves without normalization (a gRPC client ignores it).
   */
  pathNormalization?: PathNormalization;
}

/** Istio's MeshConfig `pathNormalization.normalization` (DEFAULT is BASE). */
export type PathNormalization = "NONE" | "BASE" | "MERGE_SLASHES" | "DECODE_AND_MERGE_SLASHES";

/** The HCM fields istiod sets for each `pathNormalization` (escaped slashes kept unless decoding). */
export function pathNormalizationFields(n: PathNormalization): { normalizePath: boolean; mergeSlashes: boolean; pathWithEscapedSlashesAction: HttpConnectionManager_PathWithEscapedSlashesAction } {
  const A = HttpConnectionManager_PathWithEscapedSlashesAction;
  return {
    normalizePath: n !== "NONE",
    mergeSlashes: n === "MERGE_SLASHES" || n === "DECODE_AND_MERGE_SLASHES",
    pathWithEscapedSlashesAction: n === "DECODE_AND_MERGE_SLASHES" ? A.UNESCAPE_AND_FORWARD : A.KEEP_UNCHANGED,
  };
}

/** The HTTP filter list: given filters, then fault and CORS when routes use them, router last. */
export function httpFilters(o: Pick<HttpChainOptions, "filters" | "fault" | "cors">): HttpFilter[] {
  return [
    ...(o.filters ?? []),
    ...(o.fault ? [httpFilter(FAULT_FILTER, anyPack(HTTPFaultSchema, create(HTTPFaultSchema)))] : []),
    ...(o.cors ? [httpFilter(CORS_FILTER, anyPack(CorsSchema, create(CorsSchema)))] : []),
    httpFilter(ROUTER_FILTER, anyPack(RouterSchema, create(RouterSchema))),
  ];
}

export function httpConnectionManager(o: HttpChainOptions): Any {
  return anyPack(HttpConnectionManagerSchema, create(HttpConnectionManagerSchema, {
    statPrefix: o.statPrefix,
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: { case: "rds", value: { routeConfigName: o.routeConfigName, configSource: adsConfigSource() } },
    httpFilters: httpFilters(o),
    ...(o.pathNormalization !== undefined ? pathNormalizationFields(o.pathNormalization) : {}),
  }));
}

/** A proxyless gRPC client's listener: named `host:port`, the name in `xds:///host:port`. */
export function apiListener(name: string, routeConfigName: string, opts: { fault?: boolean } = {}): Listener {
  return create(ListenerSchema, {
    name,
    apiListener: { apiListener: httpConnectionManager({ statPrefix: name, routeConfigName, fault: opts.fault === true }) },
  });
}

export interface InboundOptions {
  name: string;
  address: string;
  port: number;
  protocol: "http" | "tcp";
  /** HTTP: the route configuration; TCP: the local cluster. */
  routeConfigName?: string;
  cluster?: string;
  /** Authorization HTTP filters (HTTP) or network filters (TCP), in order. */
  httpFilters?: HttpFilter[];
  networkFilters?: Filter[];
  fault?: boolean;
  cors?: boolean;
  mtls: "STRICT" | "PERMISSIVE" | "DISABLE";
  /** MeshConfig `pathNormalization` (default BASE). */
  pathNormalization?: PathNormalization;
}

function terminalFilters(o: InboundOptions): Filter[] {
  if (o.protocol === "tcp") {
    return [...(o.networkFilters ?? []), networkFilter(TCP_PROXY_FILTER, anyPack(TcpProxySchema, create(TcpProxySchema, { statPrefix: o.name, clusterSpecifier: { case: "cluster", value: o.cluster ?? "" } })))];
  }
  return [networkFilter(HCM_FILTER, httpConnectionManager({
    statPrefix: o.name, routeConfigName: o.routeConfigName ?? o.name, filters: o.httpFilters ?? [], fault: o.fault === true, cors: o.cors === true,
    pathNormalization: o.pathNormalization ?? "BASE",
  }))];
}

/** A sidecar's inbound listener for one workload port. */
export function inboundListener(o: InboundOptions): Listener {
  const chains: FilterChain[] = [];
  if (o.mtls !== "DISABLE") {
    chains.push(create(FilterChainSchema, {
      name: `${o.name}-mtls`,
      filterChainMatch: { transportProtocol: "tls" },
      filters: terminalFilters(o),
      transportSocket: downstreamMtlsSocket(o.protocol === "http" ? ["h2", "http/1.1"] : []),
    }));
  }
  if (o.mtls !== "STRICT") {
    chains.push(create(FilterChainSchema, {
      name: `${o.name}-plaintext`,
      ...(o.mtls === "PERMISSIVE" ? { filterChainMatch: { transportProtocol: "raw_buffer" } } : {}),
      filters: terminalFilters(o),
    }));
  }
  return create(ListenerSchema, {
    name: o.name,
    address: socketAddress(o.address, o.port),
    filterChains: chains,
    ...(o.mtls === "PERMISSIVE" ? { listenerFilters: [{ name: "envoy.filters.listener.tls_inspector" }] } : {}),
  });
}

/** A sidecar's outbound listener: HTTP over RDS, or TCP to one cluster. */
export function outboundListener(o: { name: string; address: string; port: number; protocol: "http" | "tcp"; routeConfigName?: string; cluster?: string; fault?: boolean; cors?: boolean; pathNormalization?: PathNormalization }): Listener {
  const filters = o.protocol === "tcp"
    ? [networkFilter(TCP_PROXY_FILTER, anyPack(TcpProxySchema, create(TcpProxySchema, { statPrefix: o.name, clusterSpecifier: { case: "cluster", value: o.cluster ?? "" } })))]
    : [networkFilter(HCM_FILTER, httpConnectionManager({ statPrefix: o.name, routeConfigName: o.routeConfigName ?? o.name, fault: o.fault === true, cors: o.cors === true, pathNormalization: o.pathNormalization ?? "BASE" }))];
  return create(ListenerSchema, { name: o.name, address: socketAddress(o.address, o.port), filterChains: [{ name: o.name, filters }] });
}
