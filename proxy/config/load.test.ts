import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../core/schema/index.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { createFilterCatalog } from "../filter.ts";
import { loadProxyConfig } from "./load.ts";

const catalog = createFilterCatalog(httpFilters);
const load = (text: string) => loadProxyConfig(text, "weft.yaml", catalog);

const GOOD = `
admin:
  address: 127.0.0.1:9901
listeners:
  - name: web
    address: 127.0.0.1:8080
    http:
      routeConfig: main
  - name: db
    address: 127.0.0.1:5433
    tcp:
      cluster: pg
routeConfigs:
  - name: main
    virtualHosts:
      - name: all
        domains: ["*"]
        routes:
          - name: canary
            match: { prefix: /api, headers: [{ name: X-Canary, exact: "1" }] }
            route:
              weightedClusters: [{ cluster: api-v1, weight: 90 }, { cluster: api-v2, weight: 10 }]
              timeoutMs: 2000
          - match: { path: /old }
            redirect: { path: /new }
          - match: { template: "/files/{**}" }
            directResponse: { status: 200, body: ok }
          - route: { cluster: api-v1, prefixRewrite: / }
clusters:
  - name: api-v1
    endpoints: [127.0.0.1:9001, { address: 127.0.0.1, port: 9002, weight: 3 }]
  - name: api-v2
    protocol: http2
    lb: { kind: least-request, choiceCount: 3 }
    endpoints: ["[::1]:9003"]
  - name: pg
    endpoints: [127.0.0.1:5432]
`;

describe("loadProxyConfig", () => {
  it("turns a good file into the config model", () => {
    const r = load(GOOD);
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
    const c = r.config;
    expect(c.admin).toEqual({ address: "127.0.0.1", port: 9901 });
    expect(c.listeners.map((l) => [l.name, l.port, l.filterChains[0]!.terminal.kind])).toEqual([["web", 8080, "http"], ["db", 5433, "tcp"]]);
    const routes = c.routeConfigs[0]!.virtualHosts[0]!.routes;
    expect(routes[0]!.match[0]).toEqual({ path: { prefix: "/api" }, headers: [{ name: "x-canary", match: { exact: "1" } }] });
    expect(routes[0]!.action).toMatchObject({ kind: "forward", timeoutMs: 2000, destinations: [{ cluster: "api-v1", weight: 90 }, { cluster: "api-v2", weight: 10 }] });
    expect(routes[1]!.action).toEqual({ kind: "redirect", status: 301, path: "/new" });
    expect(routes[3]!.match).toEqual([{ path: { prefix: "/" } }]);
    expect(c.clusters[0]!.endpoints).toEqual([
      { address: "127.0.0.1", port: 9001, health: "unknown" },
      { address: "127.0.0.1", port: 9002, weight: 3, health: "unknown" },
    ]);
    expect(c.clusters[1]).toMatchObject({ protocol: "http2", lb: { kind: "least-request", choiceCount: 3 }, endpoints: [{ address: "::1", port: 9003 }] });
    expect(c.version).toMatch(/^[0-9a-f]{8}$/);
  });

  it("names file, line, object and field for a schema error", () => {
    const r = load(GOOD.replace("127.0.0.1:9002", "127.0.0.1:9002x").replace("port: 9002", "port: high"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const d = r.diagnostics[0]!;
    expect(d).toMatchObject({ file: "weft.yaml", object: "Cluster/api-v1", path: "endpoints[1].port" });
    expect(d.line).toBe(GOOD.split("\n").findIndex((l) => l.includes("port: 9002")) + 1);
    expect(formatDiagnostic(d)).toMatch(/^weft\.yaml:\d+:\d+: error: Cluster\/api-v1: endpoints\[1\]\.port: /);
  });

  it("reports unknown fields by name", () => {
    const r = load(GOOD.replace("timeoutMs: 2000", "timeoutMs: 2000\n              retries: 3"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics[0]).toMatchObject({ object: "RouteConfig/main", path: "virtualHosts[0].routes[0].route.retries", message: 'unknown field "retries"' });
  });

  it("checks references, duplicates, regexes and templates", () => {
    const bad = GOOD
      .replace("cluster: api-v2, weight: 10", "cluster: api-v3, weight: 10")
      .replace("routeConfig: main", "routeConfig: mian")
      .replace('template: "/files/{**}"', 'template: "/files/{**}/x"')
      .replace("match: { path: /old }", "match: { regex: \"/old(\" }")
      .replace("- name: pg", "- name: api-v1");
    const r = load(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.diagnostics.map((d) => `${d.object} ${d.path}: ${d.message}`);
    expect(got).toEqual(expect.arrayContaining([
      "Listener/web http.routeConfig: unknown route config \"mian\"",
      "Listener/db tcp.cluster: unknown cluster \"pg\"",
      "Cluster/api-v1 name: duplicate cluster name",
      "RouteConfig/main virtualHosts[0].routes[0].route.weightedClusters[1].cluster: unknown cluster \"api-v3\"",
      "RouteConfig/main virtualHosts[0].routes[2].match.template: {**} may only be the last segment",
    ]));
    expect(got.some((g) => g.startsWith("RouteConfig/main virtualHosts[0].routes[1].match.regex: invalid regex"))).toBe(true);
    expect(r.diagnostics.every((d) => d.file === "weft.yaml" && typeof d.line === "number")).toBe(true);
  });

  it("rejects unknown filters and a router that is not last", () => {
    const r = load(GOOD.replace("routeConfig: main", "routeConfig: main\n      filters: [{ name: router }, { name: nope }]"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => `${d.path}: ${d.message}`)).toEqual(expect.arrayContaining([
      "http.filters[1].name: unknown HTTP filter \"nope\"",
      "http.filters[0].name: \"router\" is terminal and must be last",
    ]));
  });

  it("reports YAML syntax errors with a line", () => {
    const r = load("listeners:\n  - name: [unclosed\n");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics[0]).toMatchObject({ file: "weft.yaml", severity: "error" });
    if (!r.ok) expect(r.diagnostics[0]!.line).toBeGreaterThan(0);
  });

  it("requires exactly one action per route and one path kind per match", () => {
    const r = load(GOOD.replace("match: { path: /old }", "match: { path: /old, prefix: /o }"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics[0]!.message).toMatch(/at most one of path, prefix, regex, template/);
  });

  it("loads TLS chains, secrets, retries, mirrors, outlier detection and health checks", () => {
    const r = load(`
listeners:
  - name: in
    address: 127.0.0.1:0
    tls: { secret: svid, mode: PERMISSIVE }
    http:
      pathNormalization: MERGE_SLASHES
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: api, retry: { attempts: 2, retryOn: "5xx,reset" }, mirror: [{ cluster: api, percent: 5 }] } }] }]
    filterChains:
      - name: admin
        match: { serverNames: ["*.admin.test"] }
        tls: { secret: svid }
        http: { virtualHosts: [{ name: a, domains: ["*"], routes: [{ directResponse: { status: 200 } }] }] }
clusters:
  - name: api
    tls: { secret: svid, expectedIdentities: ["spiffe://cluster.local/ns/default/sa/api"] }
    outlierDetection: { consecutive5xx: 3 }
    healthChecks: [{ kind: grpc }]
    endpoints: [127.0.0.1:9000]
secrets:
  - name: svid
    tlsCertificate: { certificateChainFile: a.crt, privateKeyFile: a.key }
    validationContext: { trustedCaFile: bundle.pem }
`);
    if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
    const l = r.config.listeners[0]!;
    expect(l.filterChains.map((c) => [c.name, c.match?.serverNames, c.tls?.mode])).toEqual([["admin", ["*.admin.test"], "STRICT"], ["default", undefined, "PERMISSIVE"]]);
    const t = l.filterChains[1]!.terminal;
    expect(t.kind === "http" && t.http.pathNormalization).toBe("MERGE_SLASHES");
    const action = r.config.routeConfigs.find((rc) => rc.name === "listener/in")!.virtualHosts[0]!.routes[0]!.action;
    expect(action).toMatchObject({ retry: { attempts: 2, retryOn: ["5xx", "reset"], backoff: { baseMs: 25, maxMs: 250 } }, mirror: [{ cluster: "api", percent: 5 }] });
    expect(r.config.clusters[0]).toMatchObject({
      tls: { mode: "mutual", expectedIdentities: ["spiffe://cluster.local/ns/default/sa/api"], files: { credentialName: "svid" } },
      outlierDetection: { consecutive5xx: 3, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10 },
      healthChecks: [{ kind: "grpc", intervalMs: 10_000, healthyThreshold: 1, unhealthyThreshold: 2 }],
    });
  });

  it("names unknown secrets, secrets without a bundle, and unknown retry conditions", () => {
    const r = load(`
listeners:
  - name: in
    address: 127.0.0.1:0
    tls: { secret: nope }
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: api, retry: { attempts: 1, retryOn: "5xx,sometimes" } } }] }] }
clusters:
  - name: api
    tls: { secret: certonly, expectedIdentities: ["spiffe://td/x"] }
    endpoints: [127.0.0.1:9000]
secrets:
  - name: certonly
    tlsCertificate: { certificateChainFile: a.crt, privateKeyFile: a.key }
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const got = r.diagnostics.map((d) => `${d.object} ${d.path}: ${d.message}`);
    expect(got).toEqual(expect.arrayContaining([
      expect.stringMatching(/retryOn: unknown retry condition "sometimes"/),
    ]));
    const r2 = load(`
listeners:
  - name: in
    address: 127.0.0.1:0
    tls: { secret: nope }
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: api } }] }] }
clusters:
  - name: api
    tls: { secret: certonly, expectedIdentities: ["spiffe://td/x"] }
    endpoints: [127.0.0.1:9000]
secrets:
  - name: certonly
    tlsCertificate: { certificateChainFile: a.crt, privateKeyFile: a.key }
`);
    expect(r2.ok).toBe(false);
    if (r2.ok) return;
    expect(r2.diagnostics.map((d) => `${d.object} ${d.path}: ${d.message}`)).toEqual(expect.arrayContaining([
      'Listener/in tls.secret: unknown secret "nope"',
      'Cluster/api tls.secret: secret "certonly" has no validationContext (trust bundle)',
    ]));
  });
});
