// The Envoy → weft translation, fed with what weft's own control plane emits (control/xds/translate) and
// with hand-made resources for the corners: fail-closed filters, NACK reasons, warming, per-route config.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ClusterSchema, Cluster_DiscoveryType } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ClusterLoadAssignmentSchema } from "../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { ListenerSchema, type Listener } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { RouteConfigurationSchema } from "../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { SecretSchema } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/secret_pb.ts";
import { RBACSchema } from "../../gen/proto/envoy/extensions/filters/http/rbac/v3/rbac_pb.ts";
import { HttpConnectionManagerSchema } from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import type { Cluster as IrCluster, VirtualHost } from "../../core/ir/model.ts";
import { translateCluster, translateLoadAssignment } from "../../control/xds/translate/cluster.ts";
import { httpConnectionManager, httpFilter, inboundListener, networkFilter, outboundListener } from "../../control/xds/translate/listener.ts";
import { translateRouteConfiguration } from "../../control/xds/translate/route.ts";
import { bundleSecret, svidSecret } from "../../control/xds/translate/tls.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { createFilterCatalog } from "../filter.ts";
import { ENVOY_RBAC_FILTER } from "./http-filters.ts";
import { applyResponse, assembleConfig, EMPTY_STATE, references, type XdsState } from "./state.ts";
import { TypeUrl, type ResourceType } from "./type-urls.ts";

const WITHOUT_ENVOY_RBAC = new Set([...httpFilters.keys()].filter((n) => n !== ENVOY_RBAC_FILTER));
const options = { catalog: createFilterCatalog(httpFilters), available: WITHOUT_ENVOY_RBAC };

function pack<D extends DescMessage>(schema: D, typeUrl: string, msgs: MessageShape<D>[]): Any[] {
  return msgs.map((m) => create(AnySchema, { typeUrl, value: toBinary(schema, m) }));
}

function step(state: XdsState, type: ResourceType, resources: Any[], version = "1"): XdsState {
  const r = applyResponse(state, type, resources, version, options);
  if (!r.ok) throw new Error(r.message);
  return r.state;
}

const APP_CLUSTER: IrCluster = {
  name: "outbound|8080||web.demo.svc.cluster.local", protocol: "http", lb: { kind: "least-request", choiceCount: 3 },
  endpoints: [{ address: "10.0.0.7", port: 8080, health: "healthy", locality: { region: "eu", zone: "a" } }, { address: "10.0.0.8", port: 8080, health: "unhealthy" }],
  tls: { mode: "mutual", expectedIdentities: ["spiffe://cluster.local/ns/demo/sa/web"] },
  circuitBreakers: { maxConnections: 7, maxRequests: 9, connectTimeoutMs: 1500 },
  outlierDetection: { consecutive5xx: 3, intervalMs: 5000, baseEjectionMs: 20_000, maxEjectionPercent: 50 },
  healthChecks: [{ kind: "http", path: "/healthz", intervalMs: 2000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 3 }],
};

const VH: VirtualHost = {
  name: "web", domains: ["web.demo.svc.cluster.local", "web.demo.svc.cluster.local:8080"],
  routes: [
    { name: "slow", match: [{ path: { prefix: "/slow" }, headers: [{ name: "x-canary", match: { exact: "1" } }] }], action: { kind: "forward", destinations: [{ cluster: APP_CLUSTER.name, weight: 100 }], timeoutMs: 3000, retry: { attempts: 2, retryOn: ["5xx", "reset"] } }, fault: { abort: { httpStatus: 418, percent: 100 } } },
    { name: "all", match: [{ path: { prefix: "/" }, methods: ["GET", "HEAD"] }], action: { kind: "forward", destinations: [{ cluster: APP_CLUSTER.name, weight: 100 }] }, requestHeaders: { set: { "x-from": "mesh" } } },
  ],
};

const PEM = { chainPem: ["-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n", "root"], keyPem: "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n" };

function sidecarState(listeners: Listener[]): XdsState {
  let s = step(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, listeners));
  s = step(s, "cluster", pack(ClusterSchema, TypeUrl.cluster, [translateCluster(APP_CLUSTER)]));
  s = step(s, "route", pack(RouteConfigurationSchema, TypeUrl.route, [translateRouteConfiguration("8080", [VH])]));
  s = step(s, "endpoint", pack(ClusterLoadAssignmentSchema, TypeUrl.endpoint, [translateLoadAssignment(APP_CLUSTER)]));
  return step(s, "secret", pack(SecretSchema, TypeUrl.secret, [svidSecret(PEM), bundleSecret(["root-pem"])]));
}

describe("xDS → proxy config", () => {
  it("a sidecar's resources from weft's control plane assemble into a config that serves them", () => {
    const inbound = inboundListener({ name: "inbound|8080", address: "127.0.0.1", port: 18080, protocol: "http", routeConfigName: "8080", mtls: "PERMISSIVE", fault: true });
    const outbound = outboundListener({ name: "outbound|8080", address: "127.0.0.1", port: 8080, protocol: "http", routeConfigName: "8080" });
    const s = sidecarState([inbound, outbound]);
    expect(references(s)).toEqual({ route: ["8080"], endpoint: [APP_CLUSTER.name], secret: ["ROOTCA", "default"] });
    const a = assembleConfig(s, options);
    if (a.status !== "ready") throw new Error(JSON.stringify(a));
    const c = a.config;
    const inL = c.listeners.find((l) => l.name === "inbound|8080")!;
    expect(inL).toMatchObject({ address: "127.0.0.1", port: 18080 });
    expect(inL.filterChains).toHaveLength(1);
    expect(inL.filterChains[0]!.tls).toEqual({ secret: "default", validationSecret: "ROOTCA", mode: "PERMISSIVE", requireClientCertificate: true, alpn: ["h2", "http/1.1"] });
    const http = inL.filterChains[0]!.terminal;
    if (http.kind !== "http") throw new Error("not http");
    expect(http.http.routeConfig).toBe("8080");
    expect(http.http.httpFilters.map((f) => f.name)).toEqual(["fault", "header-mutation", "router"]);
    expect(http.http.httpFilters[0]!.config).toMatchObject({ routes: { slow: { abort: { httpStatus: 418, percentage: 100 } } } });
    expect(http.http.httpFilters[1]!.config).toEqual({ routes: { all: { request: { set: { "x-from": "mesh" } } } } });
    const out = c.listeners.find((l) => l.name === "outbound|8080")!;
    expect(out.filterChains[0]!.tls).toBeUndefined();
    const rc = c.routeConfigs.find((r) => r.name === "8080")!;
    const slow = rc.virtualHosts[0]!.routes[0]!;
    expect(slow.match[0]).toEqual({ path: { prefix: "/slow" }, headers: [{ name: "x-canary", match: { exact: "1" } }] });
    expect(slow.action).toMatchObject({ kind: "forward", destinations: [{ cluster: APP_CLUSTER.name, weight: 1 }], timeoutMs: 3000, retry: { attempts: 2, retryOn: ["5xx", "reset"] } });
    expect(rc.virtualHosts[0]!.routes[1]!.match[0]!.methods).toEqual(["GET", "HEAD"]);
    const cl = c.clusters.find((x) => x.name === APP_CLUSTER.name)!;
    expect(cl.lb).toEqual({ kind: "least-request", choiceCount: 3 });
    expect(cl.tls).toMatchObject({ mode: "mutual", expectedIdentities: ["spiffe://cluster.local/ns/demo/sa/web"], files: { credentialName: "default", caCertificates: "secret:ROOTCA" } });
    expect(cl.circuitBreakers).toEqual({ maxConnections: 7, maxRequests: 9, connectTimeoutMs: 1500 });
    expect(cl.outlierDetection).toMatchObject({ consecutive5xx: 3, intervalMs: 5000, baseEjectionMs: 20_000, maxEjectionPercent: 50 });
    expect(cl.healthChecks).toEqual([{ kind: "http", path: "/healthz", intervalMs: 2000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 3 }]);
    expect(cl.endpoints).toEqual([
      { address: "10.0.0.7", port: 8080, health: "healthy", locality: { region: "eu", zone: "a" } },
      { address: "10.0.0.8", port: 8080, health: "unhealthy" },
    ]);
    const svid = c.secrets.find((x) => x.name === "default")!;
    expect(svid.inline?.certificateChain).toContain("leaf");
    expect(svid.inline?.privateKey).toContain("PRIVATE KEY");
    expect(c.secrets.find((x) => x.name === "ROOTCA")!.inline?.trustedCa).toBe("root-pem");
  });

  it("STRICT mTLS is one TLS chain", () => {
    const s = sidecarState([inboundListener({ name: "in", address: "127.0.0.1", port: 18080, protocol: "http", routeConfigName: "8080", mtls: "STRICT" })]);
    const a = assembleConfig(s, options);
    if (a.status !== "ready") throw new Error(JSON.stringify(a));
    expect(a.config.listeners[0]!.filterChains[0]!.tls?.mode).toBe("STRICT");
  });

  it("waits for the first listener and cluster sets, then for what they reference", () => {
    const l = step(EMPTY_STATE, "listener", []);
    expect(assembleConfig(l, options)).toEqual({ status: "waiting", waitingFor: ["Cluster (first response)"] });
    expect(assembleConfig(step(l, "cluster", []), options).status).toBe("ready");
  });

  it("waits for what the listeners and clusters reference before producing a config", () => {
    let s = step(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [outboundListener({ name: "out", address: "127.0.0.1", port: 8080, protocol: "http", routeConfigName: "8080" })]));
    s = step(s, "cluster", pack(ClusterSchema, TypeUrl.cluster, [translateCluster(APP_CLUSTER)]));
    expect(assembleConfig(s, options)).toEqual({ status: "waiting", waitingFor: ["ClusterLoadAssignment/outbound|8080||web.demo.svc.cluster.local", "RouteConfiguration/8080", "Secret/ROOTCA", "Secret/default"] });
  });

  it("an Envoy RBAC filter without weft's evaluator fails the listener closed: NACK naming listener and filter", () => {
    const rbac = httpFilter("envoy.filters.http.rbac", anyPack(RBACSchema, create(RBACSchema, {})));
    const l = inboundListener({ name: "inbound|9090", address: "127.0.0.1", port: 19090, protocol: "http", routeConfigName: "r", mtls: "DISABLE", httpFilters: [rbac] });
    const r = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [l]), "7", options);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain("Listener/inbound|9090");
    expect(r.message).toContain("envoy.filters.http.rbac");
    expect(r.message).toContain("fail closed");
    expect(r.errors[0]!.path).toBe("filter_chains[0].filters[0].typed_config.http_filters[0]");
  });

  it("with weft's Envoy RBAC evaluator registered, the RBAC filter is wired in with its Envoy config; per-route RBAC fails closed", () => {
    const withRbac = { catalog: options.catalog, available: new Set(httpFilters.keys()) };
    const rbacCfg = create(RBACSchema, { rules: { action: 1, policies: { deny: { permissions: [{ rule: { case: "any", value: true } }], principals: [{ identifier: { case: "any", value: true } }] } } } });
    const rbac = httpFilter("envoy.filters.http.rbac", anyPack(RBACSchema, rbacCfg));
    const l = inboundListener({ name: "inbound|9090", address: "127.0.0.1", port: 19090, protocol: "http", routeConfigName: "8080", mtls: "DISABLE", httpFilters: [rbac] });
    const r = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [l]), "1", withRbac);
    if (!r.ok) throw new Error(r.message);
    const rc = translateRouteConfiguration("8080", [VH]);
    let s = step(step(r.state, "cluster", []), "route", pack(RouteConfigurationSchema, TypeUrl.route, [rc]));
    const a = assembleConfig(s, withRbac);
    if (a.status !== "ready") throw new Error(JSON.stringify(a));
    const t = a.config.listeners[0]!.filterChains[0]!.terminal;
    if (t.kind !== "http") throw new Error("not http");
    expect(t.http.httpFilters.map((f) => f.name)).toEqual([ENVOY_RBAC_FILTER, "header-mutation", "router"]);
    expect((t.http.httpFilters[0]!.config as Any).typeUrl).toBe("type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC");
    rc.virtualHosts[0]!.routes[1]!.typedPerFilterConfig["envoy.filters.http.rbac"] = create(AnySchema, { typeUrl: "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute", value: new Uint8Array() });
    s = step(s, "route", pack(RouteConfigurationSchema, TypeUrl.route, [rc]), "2");
    const refused = assembleConfig(s, withRbac);
    expect(refused.status).toBe("invalid");
    if (refused.status === "invalid") expect(refused.message).toContain("per-route RBAC (route all)");
  });

  const unknownFilter = (extra: { isOptional?: boolean; disabled?: boolean }, typeUrl = "type.googleapis.com/acme.filters.Authz") => {
    const f = { ...httpFilter("acme.authz", create(AnySchema, { typeUrl, value: new Uint8Array() })), ...extra };
    const hcm = httpConnectionManager({ statPrefix: "x", routeConfigName: "8080", filters: [f] });
    return create(ListenerSchema, { name: "l", address: { address: { case: "socketAddress", value: { address: "127.0.0.1", portSpecifier: { case: "portValue", value: 1 } } } }, filterChains: [{ filters: [networkFilter("envoy.filters.network.http_connection_manager", hcm)] }] });
  };

  it("an unknown HTTP filter fails closed unless it is optional or disabled", () => {
    const refused = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [unknownFilter({})]), "1", options);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.message).toMatch(/Listener\/l .*acme\.authz \(acme\.filters\.Authz\).*could affect authorization/);
    for (const extra of [{ isOptional: true }, { disabled: true }]) {
      const ok = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [unknownFilter(extra)]), "1", options);
      if (!ok.ok) throw new Error(ok.message);
      expect(ok.state.ignored.listener?.some((i) => i.message.includes("acme.authz"))).toBe(true);
    }
  });

  it("filters known not to take part in authorization are left out and reported; header mutation is not one of them", () => {
    const stats = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [unknownFilter({}, "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig")]), "1", options);
    if (!stats.ok) throw new Error(stats.message);
    expect(stats.state.ignored.listener?.[0]?.message).toContain("does not take part in authorization");
    const hm = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [unknownFilter({}, "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation")]), "1", options);
    expect(hm.ok).toBe(false);
  });

  it("a disabled unknown filter that a route enables fails closed at assembly", () => {
    let s = step(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [unknownFilter({ disabled: true })]));
    const rc = translateRouteConfiguration("8080", [VH]);
    rc.virtualHosts[0]!.routes[0]!.typedPerFilterConfig["acme.authz"] = create(AnySchema, { typeUrl: "type.googleapis.com/acme.filters.AuthzPerRoute", value: new Uint8Array() });
    s = step(s, "route", pack(RouteConfigurationSchema, TypeUrl.route, [rc]));
    const a = assembleConfig(s, options);
    expect(a.status).toBe("invalid");
    if (a.status === "invalid") expect(a.message).toContain("route slow enables it");
  });

  it("an unknown network filter fails closed", () => {
    const l = inboundListener({ name: "tcp", address: "127.0.0.1", port: 15432, protocol: "tcp", cluster: "c", mtls: "DISABLE", networkFilters: [networkFilter("acme.net", create(AnySchema, { typeUrl: "type.googleapis.com/acme.Net", value: new Uint8Array() }))] });
    const r = applyResponse(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [l]), "1", options);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("network filter acme.net");
  });

  it("bad resources are refused with the resource and field", () => {
    const wrongType = applyResponse(EMPTY_STATE, "cluster", pack(ListenerSchema, TypeUrl.listener, [create(ListenerSchema, { name: "x" })]), "1", options);
    expect(!wrongType.ok && wrongType.message).toContain("a cluster response carries type.googleapis.com/envoy.config.listener.v3.Listener");
    const garbage = applyResponse(EMPTY_STATE, "route", [create(AnySchema, { typeUrl: TypeUrl.route, value: new Uint8Array([0xff, 0xff, 0xff]) })], "1", options);
    expect(!garbage.ok && garbage.message).toContain("cannot decode");
    const redis = create(ClusterSchema, { name: "redis", clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.STATIC }, lbPolicy: 0, http2ProtocolOptions: {}, typedExtensionProtocolOptions: {}, lbSubsetConfig: { fallbackPolicy: 1 } });
    const r = applyResponse(EMPTY_STATE, "cluster", pack(ClusterSchema, TypeUrl.cluster, [redis]), "1", options);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContainEqual({ kind: "Cluster", resource: "redis", path: "lb_subset_config", message: "envoy.config.cluster.v3.Cluster.lb_subset_config is not supported by weft" });
    const dup = applyResponse(EMPTY_STATE, "cluster", pack(ClusterSchema, TypeUrl.cluster, [translateCluster({ ...APP_CLUSTER, tls: { mode: "disable" } }), translateCluster({ ...APP_CLUSTER, tls: { mode: "disable" } })]), "1", options);
    expect(!dup.ok && dup.message).toContain("duplicate resource name");
  });

  it("upstream mTLS without SPIFFE SAN matchers is refused; unsupported but harmless fields are reported", () => {
    const noSan = translateCluster({ ...APP_CLUSTER, tls: { mode: "mutual", expectedIdentities: [] } });
    const r = applyResponse(EMPTY_STATE, "cluster", pack(ClusterSchema, TypeUrl.cluster, [noSan]), "1", options);
    expect(!r.ok && r.message).toContain("give URI SAN matchers");
    const hcmAny = httpConnectionManager({ statPrefix: "x", routeConfigName: "8080" });
    const hcm = anyPack(HttpConnectionManagerSchema, create(HttpConnectionManagerSchema, { ...fromBinary(HttpConnectionManagerSchema, hcmAny.value), serverName: "acme", xffNumTrustedHops: 2 }));
    const l = create(ListenerSchema, { name: "l2", address: { address: { case: "socketAddress", value: { address: "127.0.0.1", portSpecifier: { case: "portValue", value: 2 } } } }, filterChains: [{ filters: [networkFilter("envoy.filters.network.http_connection_manager", hcm)] }] });
    const ok = step(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [l]));
    const paths = ok.ignored.listener!.map((i) => i.path);
    expect(paths).toContain("filter_chains[0].filters[0].typed_config.server_name");
    expect(paths).toContain("filter_chains[0].filters[0].typed_config.xff_num_trusted_hops");
  });

  it("RDS, EDS and SDS responses may carry only what changed; the rest of the subscription stays", () => {
    const s = sidecarState([outboundListener({ name: "out", address: "127.0.0.1", port: 8080, protocol: "http", routeConfigName: "8080" })]);
    const rotated = svidSecret({ ...PEM, chainPem: ["-----BEGIN CERTIFICATE-----\nnew leaf\n-----END CERTIFICATE-----\n", "root"] });
    const r = applyResponse(s, "secret", pack(SecretSchema, TypeUrl.secret, [rotated]), "2", options, ["ROOTCA", "default"]);
    if (!r.ok) throw new Error(r.message);
    expect([...r.state.secrets.keys()].sort()).toEqual(["ROOTCA", "default"]);
    expect(r.state.secrets.get("default")!.inline?.certificateChain).toContain("new leaf");
    const a = assembleConfig(r.state, options);
    expect(a.status).toBe("ready");
    // A name no longer subscribed is dropped.
    const only = applyResponse(s, "secret", pack(SecretSchema, TypeUrl.secret, [rotated]), "3", options, ["default"]);
    expect(only.ok && [...only.state.secrets.keys()]).toEqual(["default"]);
  });

  it("refusing a set keeps the previous one", () => {
    const good = step(EMPTY_STATE, "listener", pack(ListenerSchema, TypeUrl.listener, [outboundListener({ name: "out", address: "127.0.0.1", port: 8080, protocol: "http", routeConfigName: "8080" })]), "v1");
    const bad = applyResponse(good, "listener", pack(ListenerSchema, TypeUrl.listener, [unknownFilter({})]), "v2", options);
    expect(bad.ok).toBe(false);
    expect(good.versions.listener).toBe("v1");
    expect([...good.listeners.keys()]).toEqual(["out"]);
  });
});

