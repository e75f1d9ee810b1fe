/**
 * @module proxy/xds/listener
 * Envoy `Listener` (LDS) → a weft listener draft: address, filter chains (SNI matches, downstream TLS
 * from SDS, Istio's PERMISSIVE pair of a `tls` and a `raw_buffer` chain folded into one chain that
 * accepts both), and per chain either an HTTP connection manager (codec, RDS name or inline route
 * config, HTTP filter drafts, limits) or a TCP proxy. Network filters before the terminal one, and
 * chain matches weft cannot evaluate, fail the listener closed: a chain chosen wrongly could skip the
 * filters that authorize.
 */
import { equals } from "@bufbuild/protobuf";
import { FilterChainMatchSchema, FilterChainSchema, FilterSchema, type FilterChain } from "../../gen/proto/envoy/config/listener/v3/listener_components_pb.ts";
import { ListenerSchema, type Listener } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import {
  HttpConnectionManager_CodecType, HttpConnectionManager_PathWithEscapedSlashesAction, HttpConnectionManagerSchema, type HttpConnectionManager,
} from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import { TcpProxySchema } from "../../gen/proto/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.ts";
import { HTTP_DEFAULTS, type DownstreamTlsConfig, type HttpConnectionManagerConfig, type SecretConfig, type TcpProxyConfig } from "../config/types.ts";
import { anyTypeName, checkAdsSource, durationMs, reportUnhandled, socketAddress, unpack } from "./common.ts";
import { translateHttpFilter, type HttpFilterOptions, type HttpFilterDraft } from "./http-filters.ts";
import { createIssueSink, joinPath, type IssueSink } from "./issues.ts";
import { translateRouteConfiguration, type RouteDraft } from "./route.ts";
import { downstreamTls } from "./tls.ts";

export type HcmSettings = Omit<HttpConnectionManagerConfig, "routeConfig" | "httpFilters">;

export interface HcmDraft {
  settings: HcmSettings;
  /** RDS: the route configuration's name. */
  rds?: string;
  /** An inline route configuration. */
  inline?: RouteDraft;
  filters: HttpFilterDraft[];
  /** Where the connection manager is in the listener (for messages). */
  path: string;
}

export interface ChainDraft {
  name: string;
  serverNames?: string[];
  tls?: DownstreamTlsConfig;
  terminal: { kind: "http"; hcm: HcmDraft } | { kind: "tcp"; tcp: TcpProxyConfig };
}

export interface ListenerDraft {
  name: string;
  address: string;
  port: number;
  chains: ChainDraft[];
  secrets: SecretConfig[];
}

const HCM_TYPE: string = HttpConnectionManagerSchema.typeName;
const TCP_TYPE: string = TcpProxySchema.typeName;
/** Network filters that only observe (stats, metadata exchange): left out and reported. */
const HARMLESS_NETWORK = new Set(["envoy.tcp.metadataexchange.config.MetadataExchange", "stats.PluginConfig", "envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit"]);

function hcmDraft(h: HttpConnectionManager, listener: string, chain: string, options: HttpFilterOptions, issues: IssueSink, path: string): HcmDraft | undefined {
  reportUnhandled(HttpConnectionManagerSchema, h, [
    "codec_type", "stat_prefix", "rds", "route_config", "http_filters", "generate_request_id", "skip_xff_append", "max_request_headers_kb",
    "request_headers_timeout", "common_http_protocol_options", "normalize_path", "merge_slashes", "access_log", "upgrade_configs", "use_remote_address", "path_with_escaped_slashes_action",
  ], issues, path, ["scoped_routes", "strip_matching_host_port", "strip_any_host_port"]);
  let codec: HcmSettings["codec"] = "auto";
  if (h.codecType === HttpConnectionManager_CodecType.HTTP1) codec = "http1";
  else if (h.codecType === HttpConnectionManager_CodecType.HTTP2) codec = "http2";
  else if (h.codecType !== HttpConnectionManager_CodecType.AUTO) issues.error(joinPath(path, "codec_type"), "only AUTO, HTTP1 and HTTP2 are supported");
  const settings: HcmSettings = {
    ...HTTP_DEFAULTS,
    codec,
    generateRequestId: h.generateRequestId ?? true,
    appendForwardedFor: !h.skipXffAppend,
    accessLog: h.accessLog.length > 0,
    // istiod's DECODE_AND_MERGE_SLASHES is normalize_path + merge_slashes + UNESCAPE_AND_FORWARD.
    pathNormalization: h.normalizePath && h.mergeSlashes && h.pathWithEscapedSlashesAction === HttpConnectionManager_PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD
      ? "DECODE_AND_MERGE_SLASHES"
      : h.normalizePath ? (h.mergeSlashes ? "MERGE_SLASHES" : "BASE") : h.mergeSlashes ? "MERGE_SLASHES" : "NONE",
  };
  if (h.maxRequestHeadersKb !== undefined) settings.maxRequestHeadersBytes = Math.max(1024, Math.min(1024 * 1024, h.maxRequestHeadersKb * 1024));
  const rht = durationMs(h.requestHeadersTimeout);
  if (rht !== undefined && rht > 0) settings.requestHeadersTimeoutMs = rht;
  const idle = durationMs(h.commonHttpProtocolOptions?.idleTimeout);
  if (idle !== undefined && idle > 0) settings.idleTimeoutMs = idle;
  const out: HcmDraft = { settings, filters: [], path };
  const r = h.routeSpecifier;
  if (r.case === "rds") {
    checkAdsSource(r.value.configSource, issues, joinPath(path, "rds.config_source"));
    out.rds = r.value.routeConfigName;
  } else if (r.case === "routeConfig") {
    out.inline = translateRouteConfiguration(r.value, issues, joinPath(path, "route_config"), `listener/${listener}/${chain}`);
  } else if (r.case === undefined) issues.error(path, "the connection manager has no route configuration");
  h.httpFilters.forEach((f, i) => {
    const d = translateHttpFilter(f, options, listener, issues, joinPath(path, `http_filters[${i}]`));
    if (d) out.filters.push(d);
  });
  const last = out.filters[out.filters.length - 1];
  if (!last || last.weft !== "router") issues.error(joinPath(path, "http_filters"), "the last HTTP filter must be the router");
  if (out.filters.slice(0, -1).some((f) => f.weft === "router")) issues.error(joinPath(path, "http_filters"), "the router must be the last HTTP filter");
  return out;
}

function translateChain(c: FilterChain, listener: string, index: number, options: HttpFilterOptions, issues: IssueSink, path: string, secrets: SecretConfig[], port: number): (ChainDraft & { transport: string }) | undefined {
  reportUnhandled(FilterChainSchema, c, ["filter_chain_match", "filters", "transport_socket", "name", "metadata", "transport_socket_connect_timeout"], issues, path, ["use_proxy_proto", "on_demand_configuration"]);
  const name = c.name || `chain-${index}`;
  const m = c.filterChainMatch;
  if (m) {
    const mp = joinPath(path, "filter_chain_match");
    reportUnhandled(FilterChainMatchSchema, m, ["server_names", "transport_protocol", "destination_port", "application_protocols"], issues, mp,
      ["prefix_ranges", "address_suffix", "suffix_len", "direct_source_prefix_ranges", "source_type", "source_prefix_ranges", "source_ports"]);
    if (m.destinationPort !== undefined && m.destinationPort !== port) issues.error(joinPath(mp, "destination_port"), `weft does not redirect traffic; a chain for port ${m.destinationPort} on a listener of port ${port} cannot be served`);
    if (m.applicationProtocols.length) issues.ignored(joinPath(mp, "application_protocols"), "not evaluated by weft (the codec detects HTTP/1.1 and HTTP/2)");
    if (m.transportProtocol && m.transportProtocol !== "tls" && m.transportProtocol !== "raw_buffer") issues.error(joinPath(mp, "transport_protocol"), `transport protocol ${m.transportProtocol} is not supported`);
  }
  const tsPath = joinPath(path, "transport_socket");
  const scratch = createIssueSink("", "");
  const chainSecrets: SecretConfig[] = [];
  const tls = downstreamTls(c.transportSocket, `listener/${listener}/${name}`, scratch, tsPath, chainSecrets);
  if (scratch.errors.some((e) => e.message.startsWith("config source "))) {
    // Istio's mTLS chains take their certificates from istio-agent's SDS socket: without them weft cannot
    // terminate that TLS, and leaving the chain out refuses what it would have taken (fail closed).
    issues.ignored(tsPath, "the chain's certificates come from an SDS server outside the ADS stream (Istio's istio-agent); the chain is not served (fail closed)");
    return undefined;
  }
  for (const e of scratch.errors) issues.error(e.path, e.message);
  for (const e of scratch.ignoredIssues) issues.ignored(e.path, e.message);
  secrets.push(...chainSecrets);
  let terminal: ChainDraft["terminal"] | undefined;
  c.filters.forEach((f, fi) => {
    const fp = joinPath(path, `filters[${fi}]`);
    reportUnhandled(FilterSchema, f, ["name", "typed_config"], issues, fp, ["config_discovery"]);
    const any = f.configType.case === "typedConfig" ? f.configType.value : undefined;
    const type = any ? anyTypeName(any) : "";
    const isLast = fi === c.filters.length - 1;
    if (type === HCM_TYPE || type === TCP_TYPE) {
      if (!isLast) {
        issues.error(fp, `${f.name} must be the last network filter`);
        return;
      }
      if (type === HCM_TYPE) {
        const h = unpack(any, HttpConnectionManagerSchema, issues, joinPath(fp, "typed_config"));
        const d = h && hcmDraft(h, listener, name, options, issues, joinPath(fp, "typed_config"));
        if (d) terminal = { kind: "http", hcm: d };
      } else {
        const t = unpack(any, TcpProxySchema, issues, joinPath(fp, "typed_config"));
        if (!t) return;
        reportUnhandled(TcpProxySchema, t, ["stat_prefix", "cluster", "idle_timeout", "access_log"], issues, joinPath(fp, "typed_config"), ["weighted_clusters", "tunneling_config", "metadata_match", "on_demand"]);
        if (t.clusterSpecifier.case === "cluster") terminal = { kind: "tcp", tcp: { cluster: t.clusterSpecifier.value, idleTimeoutMs: durationMs(t.idleTimeout) ?? 3_600_000 } };
      }
      return;
    }
    if (HARMLESS_NETWORK.has(type)) {
      issues.ignored(fp, `network filter ${f.name} (${type}) is not supported by weft; left out`);
      return;
    }
    issues.error(fp, `listener ${listener}: network filter ${f.name} (${type || "no typed_config"}) is not supported by weft and could affect authorization; refusing the listener (fail closed)`);
  });
  if (!terminal) {
    if (!c.filters.some((f) => f.configType.case === "typedConfig" && [HCM_TYPE, TCP_TYPE].includes(anyTypeName(f.configType.value)))) {
      issues.error(joinPath(path, "filters"), "a filter chain must end with an HTTP connection manager or a TCP proxy");
    }
    return undefined;
  }
  const serverNames = m?.serverNames.length ? [...m.serverNames] : undefined;
  return { name, ...(serverNames ? { serverNames } : {}), ...(tls ? { tls } : {}), terminal, transport: m?.transportProtocol ?? "" };
}

function sameFilters(a: FilterChain, b: FilterChain): boolean {
  return a.filters.length === b.filters.length && a.filters.every((f, i) => equals(FilterSchema, f, b.filters[i]!));
}

/**
 * Translates a listener; `null` when weft has nothing to serve for it (API listeners for proxyless gRPC,
 * listeners that do not bind), which is reported, not refused.
 * @example
 * const d = translateListener(l, { available: new Set(httpFilters.keys()) }, createIssueSink("Listener", l.name));
 */
export function translateListener(l: Listener, options: HttpFilterOptions, issues: IssueSink): ListenerDraft | null {
  if (l.apiListener) {
    issues.ignored("api_listener", "API listeners are for proxyless gRPC clients; weft serves none");
    return null;
  }
  if (l.bindToPort === false) {
    issues.ignored("bind_to_port", "a listener that does not bind (reached through original-destination redirection) is not served by weft");
    return null;
  }
  if (l.useOriginalDst || l.listenerFilters.some((f) => f.name === "envoy.filters.listener.original_dst")) {
    // Istio's virtualOutbound/virtualInbound: catch-alls for traffic iptables redirects to them. Weft does not
    // intercept traffic, so serving nothing here leaves no path around the filters (authorization included)
    // they carry.
    issues.ignored(l.useOriginalDst ? "use_original_dst" : "listener_filters", "a catch-all listener for transparently redirected traffic (original destination) is not served by weft: weft does not intercept traffic");
    return null;
  }
  reportUnhandled(ListenerSchema, l, ["name", "address", "filter_chains", "default_filter_chain", "listener_filters", "stat_prefix", "traffic_direction", "metadata", "access_log", "continue_on_listener_filters_timeout", "listener_filters_timeout"], issues, "",
    ["use_original_dst", "filter_chain_matcher", "internal_listener", "transparent", "udp_listener_config"]);
  l.listenerFilters.forEach((f, i) => {
    if (!/tls_inspector|http_inspector/.test(f.name)) issues.ignored(`listener_filters[${i}]`, `listener filter ${f.name} is not supported by weft; left out`);
  });
  const addr = socketAddress(l.address, issues, "address");
  const secrets: SecretConfig[] = [];
  const all = [...l.filterChains.map((c, i) => ({ c, path: `filter_chains[${i}]` })), ...(l.defaultFilterChain ? [{ c: l.defaultFilterChain, path: "default_filter_chain" }] : [])];
  const chains = all.map(({ c, path }, i) => ({ proto: c, path, draft: translateChain(c, l.name, i, options, issues, path, secrets, addr?.port ?? 0) }));
  if (!addr) return null;
  const sni = chains.filter((x) => x.draft?.serverNames);
  const plain = chains.filter((x) => x.draft && !x.draft.serverNames);
  const out: ChainDraft[] = [];
  for (const x of sni) {
    const d = x.draft!;
    if (!d.tls) issues.error(x.path, "a chain matched by server name needs TLS");
    if (d.terminal.kind !== "http") issues.error(x.path, "weft chains matched by server name must be HTTP");
    out.push(d);
  }
  if (plain.length > 2 || (plain.length === 2 && Boolean(plain[0]!.draft!.tls) === Boolean(plain[1]!.draft!.tls))) {
    issues.error("filter_chains", "weft serves at most one TLS and one plaintext chain without a server-name match per listener");
  } else if (plain.length === 2) {
    const [a, b] = plain as [typeof plain[0], typeof plain[0]];
    const tlsChain = a.draft!.tls ? a : b;
    if (!sameFilters(a.proto, b.proto)) issues.error("filter_chains", "the TLS and plaintext chains differ in their filters; weft applies one filter chain to both (PERMISSIVE)");
    const d = tlsChain.draft!;
    out.push({ ...d, name: "default", tls: { ...d.tls!, mode: "PERMISSIVE" } });
  } else if (plain.length === 1) {
    const d = plain[0]!.draft!;
    if (d.transport === "raw_buffer" && d.tls) issues.error(plain[0]!.path, "a raw_buffer chain cannot have TLS");
    out.push({ ...d, name: "default" });
  } else if (sni.length > 0) {
    issues.error("filter_chains", "weft needs a default chain (one without a server-name match) beside chains matched by server name");
  }
  if (out.length === 0) {
    issues.error("filter_chains", "no filter chain weft can serve");
    return null;
  }
  if (out.some((c) => c.terminal.kind === "tcp") && out.length > 1) issues.error("filter_chains", "a TCP listener has one chain");
  return { name: l.name, address: addr.address, port: addr.port, chains: out.map(({ name, serverNames, tls, terminal }) => ({ name, ...(serverNames ? { serverNames } : {}), ...(tls ? { tls } : {}), terminal })), secrets };
}
