// Table tests: a whole mesh model → one node's resources (grpc and sidecar profiles), the listener
// layouts, the authorization filter chain in Istio's order, and the snapshot consistency of the result.
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import type { AuthzPolicy, MeshModel, Workload } from "../../../core/ir/model.ts";
import { HttpFilterSchema } from "../../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import { ListenerSchema, type Listener } from "../../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { RouteConfigurationSchema, type RouteConfiguration } from "../../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { checkSnapshot } from "../consistency.ts";
import { nestedRegistry, TypeUrl } from "../resource-types.ts";
import { createSnapshot } from "../snapshot.ts";
import { buildNodeResources, mtlsModeFor } from "./mesh-snapshot.ts";
import { authzHttpFilters, policiesForWorkload } from "./rbac-filters.ts";

const web: Workload = {
  id: "default/web-1", name: "web-1", namespace: "default", labels: { app: "web" }, serviceAccount: "web",
  identity: "spiffe://cluster.local/ns/default/sa/web", addresses: ["10.0.0.5"],
};

const policy = (name: string, action: AuthzPolicy["action"], extra: Partial<AuthzPolicy> = {}): AuthzPolicy => ({
  id: `default/${name}`, name, namespace: "default", action, selector: { namespace: "default", matchLabels: { app: "web" } },
  rules: [{ from: [{ principals: { values: ["cluster.local/ns/default/sa/frontend"] } }], to: [], when: [] }], ...extra,
});

function mesh(): MeshModel {
  const cluster = (host: string, port: number, protocol: "http" | "grpc") => ({
    name: `outbound|${port}||${host}`, protocol, lb: { kind: "round-robin" as const },
    endpoints: [{ address: "10.0.0.9", port, health: "healthy" as const }],
    tls: { mode: "mutual" as const, expectedIdentities: ["spiffe://cluster.local/ns/default/sa/api"] },
  });
  return {
    trustDomain: "cluster.local", trustDomainAliases: [], rootNamespace: "istio-system",
    services: [
      { id: "default/web", name: "web", namespace: "default", hosts: ["web.default.svc.cluster.local"], ports: [{ port: 80, targetPort: 8080, protocol: "http" }, { port: 5432, protocol: "tcp" }], selector: { app: "web" } },
      { id: "default/api", name: "api", namespace: "default", hosts: ["api.default.svc.cluster.local"], ports: [{ port: 9000, protocol: "grpc" }], selector: { app: "api" } },
    ],
    workloads: [web],
    clusters: [cluster("web.default.svc.cluster.local", 80, "http"), cluster("api.default.svc.cluster.local", 9000, "grpc")],
    virtualHosts: [{
      name: "api", domains: ["api.default.svc.cluster.local"],
      routes: [{ match: [{ path: { prefix: "/" } }], action: { kind: "forward", destinations: [{ cluster: "outbound|9000||api.default.svc.cluster.local", weight: 100 }], retry: { attempts: 2, retryOn: ["unavailable"] } }, fault: { abort: { grpcStatus: 14, percent: 1 } } }],
    }],
    authorization: [
      policy("allow-frontend", "ALLOW"),
      policy("deny-nothing", "DENY", { rules: null }),
      policy("audit-all", "AUDIT", { rules: [{ from: [], to: [], when: [] }] }),
      policy("try-deny", "DENY", { dryRun: true }),
      policy("other-app", "ALLOW", { selector: { namespace: "default", matchLabels: { app: "api" } } }),
    ],
    requestAuthentication: [],
    peerAuthentication: [{ id: "default/strict", namespace: "default", selector: { namespace: "default" }, mode: "STRICT", portLevel: { 5432: "PERMISSIVE" } }],
  };
}

const names = (ms: readonly unknown[]) => ms.map((m) => (m as { name: string }).name);

describe("grpc profile", () => {
  it("one API listener and route configuration per host:port, clusters without TLS, consistent", () => {
    const res = buildNodeResources(mesh(), { kind: "grpc" });
    expect(names(res[TypeUrl.listener]!)).toEqual(["web.default.svc.cluster.local:80", "api.default.svc.cluster.local:9000"]);
    const rc = toJson(RouteConfigurationSchema, res[TypeUrl.route]![1] as RouteConfiguration, { registry: nestedRegistry }) as { virtualHosts: { domains: string[] }[] };
    expect(rc.virtualHosts[0]!.domains).toEqual(["api.default.svc.cluster.local", "api.default.svc.cluster.local:9000"]);
    const l = toJson(ListenerSchema, res[TypeUrl.listener]![1] as Listener, { registry: nestedRegistry }) as { apiListener: { apiListener: { httpFilters: { name: string }[]; rds: { routeConfigName: string } } } };
    expect(l.apiListener.apiListener.httpFilters.map((f) => f.name)).toEqual(["envoy.filters.http.fault", "envoy.filters.http.router"]);
    expect(l.apiListener.apiListener.rds.routeConfigName).toBe("api.default.svc.cluster.local:9000");
    expect(res[TypeUrl.cluster]!.every((c) => !(c as { transportSocket?: unknown }).transportSocket)).toBe(true);
    expect(checkSnapshot(createSnapshot(res))).toEqual([]);
  });
});

describe("sidecar profile", () => {
  const profile = { kind: "sidecar" as const, workload: web, svid: { chainPem: ["L\n", "I\n", "R\n"], keyPem: "K\n" }, trustBundle: ["R\n"] };

  it("inbound per workload port, outbound per service port, secrets; consistent", () => {
    const res = buildNodeResources(mesh(), profile);
    expect(names(res[TypeUrl.listener]!)).toEqual(["inbound|8080", "inbound|5432", "outbound|80", "outbound|9000"]);
    expect(names(res[TypeUrl.cluster]!)).toEqual([
      "outbound|80||web.default.svc.cluster.local", "outbound|9000||api.default.svc.cluster.local", "inbound|8080||", "inbound|5432||",
    ]);
    expect(names(res[TypeUrl.secret]!)).toEqual(["default", "ROOTCA"]);
    expect(checkSnapshot(createSnapshot(res))).toEqual([]);
  });

  it("without an SVID the snapshot is refused: listeners and clusters name missing secrets", () => {
    const res = buildNodeResources(mesh(), { kind: "sidecar", workload: web });
    const problems = checkSnapshot(createSnapshot(res));
    expect(problems).toContain('listener "inbound|8080" filter chain "inbound|8080-mtls" names SDS secret "default", which the snapshot does not have');
    expect(problems).toContain('cluster "outbound|9000||api.default.svc.cluster.local" names SDS secret "ROOTCA", which the snapshot does not have');
  });

  it("STRICT has only the mTLS chain; a PERMISSIVE port also accepts plaintext", () => {
    const res = buildNodeResources(mesh(), profile);
    const [http, tcp] = (res[TypeUrl.listener]! as Listener[]).map((l) => toJson(ListenerSchema, l, { registry: nestedRegistry }) as { filterChains: { name: string; filterChainMatch?: { transportProtocol: string } }[]; address: unknown });
    expect(http!.filterChains.map((c) => [c.name, c.filterChainMatch?.transportProtocol])).toEqual([["inbound|8080-mtls", "tls"]]);
    expect(http!.address).toEqual({ socketAddress: { address: "0.0.0.0", portValue: 18080 } });
    expect(tcp!.filterChains.map((c) => [c.name, c.filterChainMatch?.transportProtocol])).toEqual([["inbound|5432-mtls", "tls"], ["inbound|5432-plaintext", "raw_buffer"]]);
    expect(mtlsModeFor(mesh(), web, 8080)).toBe("STRICT");
    expect(mtlsModeFor(mesh(), web, 5432)).toBe("PERMISSIVE");
  });

  it("HTTP listeners carry the profile's path normalization (default BASE); TCP listeners none", () => {
    type Hcm = { normalizePath?: boolean; mergeSlashes?: boolean; pathWithEscapedSlashesAction?: string };
    const hcms = (p: typeof profile & { pathNormalization?: "MERGE_SLASHES" }) => Object.fromEntries((buildNodeResources(mesh(), p)[TypeUrl.listener]! as Listener[]).map((l) => {
      const j = toJson(ListenerSchema, l, { registry: nestedRegistry }) as { name: string; filterChains: { filters: { typedConfig: Hcm }[] }[] };
      const h = j.filterChains[0]!.filters.at(-1)!.typedConfig;
      return [j.name, [h.normalizePath, h.mergeSlashes, h.pathWithEscapedSlashesAction]];
    }));
    expect(hcms(profile)).toEqual({
      "inbound|8080": [true, undefined, "KEEP_UNCHANGED"], "inbound|5432": [undefined, undefined, undefined],
      "outbound|80": [true, undefined, "KEEP_UNCHANGED"], "outbound|9000": [true, undefined, "KEEP_UNCHANGED"],
    });
    expect(hcms({ ...profile, pathNormalization: "MERGE_SLASHES" })["outbound|80"]).toEqual([true, true, "KEEP_UNCHANGED"]);
  });
});

describe("authorization filters", () => {
  it("select the workload's policies and lay out AUDIT, DENY (with dry-run shadow), ALLOW", () => {
    const m = mesh();
    const ps = policiesForWorkload(m, web);
    expect(ps.map((p) => p.name)).toEqual(["allow-frontend", "audit-all", "deny-nothing", "try-deny"]);
    const filters = authzHttpFilters(ps, m).map((f) => toJson(HttpFilterSchema, f, { registry: nestedRegistry }) as {
      name: string; typedConfig: { rules?: { action?: string; policies: Record<string, unknown> }; shadowRules?: { action?: string; policies: Record<string, unknown> }; shadowRulesStatPrefix?: string };
    });
    expect(filters.map((f) => [f.name, f.typedConfig.rules?.action ?? "ALLOW", Object.keys(f.typedConfig.rules?.policies ?? {}), Object.keys(f.typedConfig.shadowRules?.policies ?? {}), f.typedConfig.shadowRulesStatPrefix])).toEqual([
      ["envoy.filters.http.rbac", "LOG", ["ns[default]-policy[audit-all]-rule[0]"], [], "istio_dry_run_allow_"],
      ["envoy.filters.http.rbac", "DENY", ["ns[default]-policy[deny-nothing]-rule[0]"], ["ns[default]-policy[try-deny]-rule[0]"], "istio_dry_run_deny_"],
      ["envoy.filters.http.rbac", "ALLOW", ["ns[default]-policy[allow-frontend]-rule[0]"], [], "istio_dry_run_allow_"],
    ]);
  });

  it("CUSTOM: shadow RBAC marks requests for ext_authz; an unknown provider denies", () => {
    const m = mesh();
    const custom = [{ ...policy("ext", "CUSTOM"), provider: "opa" }];
    const known = authzHttpFilters(custom, m, { providers: { opa: { cluster: "outbound|9191||opa.default.svc.cluster.local" } } }).map((f) => toJson(HttpFilterSchema, f, { registry: nestedRegistry }) as { name: string; typedConfig: Record<string, unknown> });
    expect(known.map((f) => f.name)).toEqual(["envoy.filters.http.rbac", "envoy.filters.http.ext_authz"]);
    expect(Object.keys((known[0]!.typedConfig.shadowRules as { policies: object }).policies)).toEqual(["istio-ext-authz-ns[default]-policy[ext]-rule[0]"]);
    expect(known[1]!.typedConfig).toMatchObject({
      grpcService: { envoyGrpc: { clusterName: "outbound|9191||opa.default.svc.cluster.local" } },
      transportApiVersion: "V3",
      filterEnabledMetadata: { filter: "envoy.filters.http.rbac", path: [{ key: "istio_ext_authz_shadow_effective_policy_id" }], value: { stringMatch: { prefix: "istio-ext-authz" } } },
    });
    const unknown = authzHttpFilters(custom, m).map((f) => toJson(HttpFilterSchema, f, { registry: nestedRegistry }) as { typedConfig: { rules: { action: string } } });
    expect(unknown.map((f) => f.typedConfig.rules.action)).toEqual(["DENY"]);
  });
});
