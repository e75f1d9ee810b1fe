// What the translator does with the shapes istiod sends a sidecar that weft cannot honour (see docs/istio.md,
// "Weft proxy as an Istio sidecar: status"): catch-all listeners for redirected traffic and ORIGINAL_DST
// clusters are left out, clusters with auto mTLS (`transport_socket_matches`) and TLS chains whose certificates
// come from istio-agent's SDS are not served (fail closed), and filters wrapped in a TypedStruct are classified
// by the type they stand for.
import { create } from "@bufbuild/protobuf";
import { anyPack, AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { ClusterSchema, Cluster_DiscoveryType } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ListenerSchema, type Listener } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { FilterChainSchema } from "../../gen/proto/envoy/config/listener/v3/listener_components_pb.ts";
import { DownstreamTlsContextSchema } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/tls_pb.ts";
import { inboundListener, networkFilter } from "../../control/xds/translate/listener.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { createFilterCatalog } from "../filter.ts";
import { applyResponse, EMPTY_STATE, type ResponseResult } from "./state.ts";
import { TypeUrl } from "./type-urls.ts";

const options = { catalog: createFilterCatalog(httpFilters), available: new Set(httpFilters.keys()) };
const ignoredOf = (r: ResponseResult) => (r.ok ? Object.values(r.state.ignored).flat().map((i) => `${i.resource} ${i.path}: ${i.message}`) : []);
const listeners = (ls: Listener[]) => applyResponse(EMPTY_STATE, "listener", ls.map((l) => anyPack(ListenerSchema, l)), "1", options);

function typedStruct(typeUrl: string): Any {
  return create(AnySchema, { typeUrl: "type.googleapis.com/udpa.type.v1.TypedStruct", value: new BinaryWriter().tag(1, 2).string(typeUrl).finish() });
}

const http = () => inboundListener({ name: "in", address: "127.0.0.1", port: 15080, protocol: "http", cluster: "c", mtls: "DISABLE", routeConfigName: "r" } as never);

describe("xDS from istiod: shapes weft leaves out or refuses", () => {
  it("leaves out catch-all listeners for redirected traffic, serving nothing for them", () => {
    const r = listeners([create(ListenerSchema, { ...http(), name: "virtualOutbound", useOriginalDst: true })]);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.state.listeners.size).toBe(0);
    expect(ignoredOf(r)).toEqual(["virtualOutbound use_original_dst: a catch-all listener for transparently redirected traffic (original destination) is not served by weft: weft does not intercept traffic"]);
  });

  it("does not serve ORIGINAL_DST clusters nor clusters with per-endpoint transport sockets", () => {
    const origDst = create(ClusterSchema, { name: "PassthroughCluster", clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.ORIGINAL_DST } });
    const autoMtls = create(ClusterSchema, { name: "outbound|80||web", clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS }, transportSocketMatches: [{ name: "tlsMode-istio" }] });
    const r = applyResponse(EMPTY_STATE, "cluster", [origDst, autoMtls].map((c) => anyPack(ClusterSchema, c)), "1", options);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.state.clusters.size).toBe(0);
    expect(ignoredOf(r).join("\n")).toMatch(/PassthroughCluster type: an ORIGINAL_DST cluster is not served[\s\S]*outbound\|80\|\|web transport_socket_matches: .*fail closed/);
  });

  it("classifies a TypedStruct-wrapped network filter by its inner type", () => {
    const harmless = http();
    harmless.filterChains[0]!.filters.unshift(networkFilter("istio.metadata_exchange", typedStruct("type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange")));
    const ok = listeners([harmless]);
    expect(ok.ok).toBe(true);
    expect(ignoredOf(ok).some((i) => i.includes("istio.metadata_exchange (envoy.tcp.metadataexchange.config.MetadataExchange) is not supported by weft; left out"))).toBe(true);
    const unknown = http();
    unknown.filterChains[0]!.filters.unshift(networkFilter("acme.authz", typedStruct("type.googleapis.com/acme.Authz")));
    const refused = listeners([unknown]);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.message).toContain("network filter acme.authz (acme.Authz) is not supported by weft and could affect authorization");
  });

  it("does not serve a TLS chain whose certificates come from an SDS server other than the ADS stream", () => {
    const l = http();
    const sds = { configSourceSpecifier: { case: "apiConfigSource" as const, value: {} } };
    const tls = anyPack(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, { commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: "default", sdsConfig: sds }] } }));
    l.filterChains.unshift(create(FilterChainSchema, { filters: l.filterChains[0]!.filters, name: "mtls", filterChainMatch: { transportProtocol: "tls" }, transportSocket: { name: "envoy.transport_sockets.tls", configType: { case: "typedConfig", value: tls } } }));
    const r = listeners([l]);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.state.listeners.get("in")?.chains.map((c) => [c.name, Boolean(c.tls)])).toEqual([["default", false]]);
    expect(ignoredOf(r)).toContain("in filter_chains[0].transport_socket: the chain's certificates come from an SDS server outside the ADS stream (Istio's istio-agent); the chain is not served (fail closed)");
  });
});
