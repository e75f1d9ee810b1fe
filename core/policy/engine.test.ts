import { describe, expect, it } from "vitest";
import { authorizerFromYaml, compileAuthorizer } from "./index.ts";
import type { AuthzRequest } from "./types.ts";

const ap = (name: string, ns: string, spec: string) =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}}\n${spec}\n---\n`;

const httpbin = (extra: Partial<AuthzRequest> = {}): AuthzRequest => ({
  destination: { namespace: "foo", labels: { app: "httpbin", version: "v1" }, port: 8000, ip: "10.0.0.2" },
  source: { principal: "spiffe://cluster.local/ns/sleep/sa/sleep", ip: "10.0.0.1" },
  http: { method: "GET", path: "/info", host: "httpbin.foo" },
  ...extra,
});

describe("evaluation order", () => {
  const policies =
    ap("ext", "foo", `spec: {action: CUSTOM, provider: {name: opa}, rules: [{to: [{operation: {paths: ["/custom*"]}}]}]}`) +
    ap("deny-admin", "foo", `spec: {action: DENY, rules: [{to: [{operation: {paths: ["/admin*"]}}]}]}`) +
    ap("allow-get", "foo", `spec: {action: ALLOW, rules: [{to: [{operation: {methods: ["GET"]}}]}]}`) +
    ap("audit-all", "foo", `spec: {action: AUDIT, rules: [{}]}`);
  const authz = authorizerFromYaml(policies);

  it("CUSTOM deny decides first", () => {
    const d = authz.check(httpbin({ http: { method: "GET", path: "/custom/x" } }), { customDecision: "deny" });
    expect(d).toMatchObject({ decision: "deny", policy: "foo/ext", action: "CUSTOM", custom: "opa" });
  });
  it("CUSTOM allow falls through to ALLOW, still naming the provider", () => {
    const d = authz.check(httpbin({ http: { method: "GET", path: "/custom/x" } }));
    expect(d).toMatchObject({ decision: "allow", policy: "foo/allow-get", custom: "opa" });
  });
  it("DENY beats ALLOW", () => {
    expect(authz.check(httpbin({ http: { method: "GET", path: "/admin" } }))).toMatchObject({ decision: "deny", policy: "foo/deny-admin", rule: 0 });
  });
  it("ALLOW matches", () => {
    expect(authz.check(httpbin())).toMatchObject({ decision: "allow", policy: "foo/allow-get", audit: true, auditPolicies: ["foo/audit-all"] });
  });
  it("ALLOW present but unmatched denies with no policy", () => {
    expect(authz.check(httpbin({ http: { method: "POST", path: "/info" } }))).toMatchObject({ decision: "deny", policy: null });
  });
  it("no ALLOW policy on another namespace's workload allows", () => {
    const d = authz.check({ ...httpbin(), destination: { namespace: "bar" } });
    expect(d).toMatchObject({ decision: "allow", policy: null, audit: false });
  });
});

describe("rules and specs", () => {
  it("spec: {} ALLOW allows nothing; rules: [{}] allows everything", () => {
    expect(authorizerFromYaml(ap("none", "foo", "spec: {}")).check(httpbin()).decision).toBe("deny");
    expect(authorizerFromYaml(ap("all", "foo", "spec: {rules: [{}]}")).check(httpbin()).decision).toBe("allow");
  });
  it("a rule-less DENY is rejected on input, and matches nothing if it reaches the engine (as builder.go)", () => {
    expect(() => authorizerFromYaml(ap("d", "foo", "spec: {action: DENY}"))).toThrow(/DENY action without `rules` is meaningless/);
    const ir = { id: "foo/d", name: "d", namespace: "foo", action: "DENY" as const, selector: { namespace: "foo" }, rules: null };
    expect(compileAuthorizer([ir]).check(httpbin()).decision).toBe("allow");
  });
  it("selector labels narrow the workloads; root namespace applies mesh-wide", () => {
    const y = ap("sel", "foo", `spec: {selector: {matchLabels: {app: other}}, action: DENY, rules: [{}]}`) +
      ap("mesh", "istio-system", `spec: {action: DENY, rules: [{to: [{operation: {paths: ["/mesh"]}}]}]}`) +
      ap("mesh2", "corp", `spec: {action: DENY, rules: [{to: [{operation: {paths: ["/corp"]}}]}]}`);
    expect(authorizerFromYaml(y).check(httpbin()).decision).toBe("allow");
    expect(authorizerFromYaml(y).check(httpbin({ http: { method: "GET", path: "/mesh" } })).policy).toBe("istio-system/mesh");
    expect(authorizerFromYaml(y).check(httpbin({ http: { method: "GET", path: "/corp" } })).decision).toBe("allow");
    expect(authorizerFromYaml(y, { rootNamespace: "corp" }).check(httpbin({ http: { method: "GET", path: "/corp" } })).policy).toBe("corp/mesh2");
  });
  it("not* fields negate; list values OR; fields AND", () => {
    const a = authorizerFromYaml(ap("p", "foo", `spec:
  rules:
  - to: [{operation: {methods: ["GET", "HEAD"], notPaths: ["/private*"]}}]`));
    expect(a.check(httpbin()).decision).toBe("allow");
    expect(a.check(httpbin({ http: { method: "HEAD", path: "/x" } })).decision).toBe("allow");
    expect(a.check(httpbin({ http: { method: "GET", path: "/private/1" } })).decision).toBe("deny");
    expect(a.check(httpbin({ http: { method: "PUT", path: "/x" } })).decision).toBe("deny");
  });
});

describe("matching", () => {
  const one = (rule: string, req: AuthzRequest, opts = {}) =>
    authorizerFromYaml(ap("p", "foo", `spec:\n  rules:\n  - ${rule}`), opts).check(req).decision;

  it("principals: exact, prefix, suffix, presence", () => {
    expect(one(`from: [{source: {principals: ["cluster.local/ns/sleep/sa/sleep"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {principals: ["cluster.local/ns/sleep/*"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {principals: ["*/sa/sleep"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {principals: ["*"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {principals: ["*"]}}]`, httpbin({ source: { ip: "10.0.0.1" } }))).toBe("deny");
    expect(one(`from: [{source: {notPrincipals: ["*"]}}]`, httpbin({ source: { ip: "10.0.0.1" } }))).toBe("allow");
  });
  it("namespaces come from the peer identity", () => {
    expect(one(`from: [{source: {namespaces: ["sleep"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {namespaces: ["sl*"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {namespaces: ["sleep"]}}]`, httpbin({ source: { ip: "1.2.3.4" } }))).toBe("deny");
  });
  it("serviceAccounts with and without namespace", () => {
    expect(one(`from: [{source: {serviceAccounts: ["sleep/sleep"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {serviceAccounts: ["sleep"]}}]`, httpbin())).toBe("deny"); // defaults to policy ns foo
  });
  it("ipBlocks and remoteIpBlocks (v4, v6)", () => {
    expect(one(`from: [{source: {ipBlocks: ["10.0.0.0/24"]}}]`, httpbin())).toBe("allow");
    expect(one(`from: [{source: {notIpBlocks: ["10.0.0.0/24"]}}]`, httpbin())).toBe("deny");
    expect(one(`from: [{source: {remoteIpBlocks: ["203.0.113.0/24"]}}]`, httpbin({ source: { ip: "10.0.0.1", remoteIp: "203.0.113.9" } }))).toBe("allow");
    expect(one(`from: [{source: {ipBlocks: ["2001:db8::/32"]}}]`, httpbin({ source: { ip: "2001:db8::1" } }))).toBe("allow");
  });
  it("hosts are case-insensitive; methods are not", () => {
    expect(one(`to: [{operation: {hosts: ["HTTPBIN.foo"]}}]`, httpbin())).toBe("allow");
    expect(one(`to: [{operation: {hosts: ["*.foo"]}}]`, httpbin())).toBe("allow");
    expect(one(`to: [{operation: {methods: ["get"]}}]`, httpbin())).toBe("deny");
  });
  it("paths: query stripped, templates, normalization", () => {
    expect(one(`to: [{operation: {paths: ["/info"]}}]`, httpbin({ http: { method: "GET", path: "/info?a=b#x" } }))).toBe("allow");
    expect(one(`to: [{operation: {paths: ["/api/{*}/items"]}}]`, httpbin({ http: { method: "GET", path: "/api/v1/items" } }))).toBe("allow");
    expect(one(`to: [{operation: {paths: ["/api/{*}/items"]}}]`, httpbin({ http: { method: "GET", path: "/api/v1/v2/items" } }))).toBe("deny");
    expect(one(`to: [{operation: {paths: ["/api/{**}"]}}]`, httpbin({ http: { method: "GET", path: "/api/v1/v2/items" } }))).toBe("allow");
    expect(one(`to: [{operation: {paths: ["/admin"]}}]`, httpbin({ http: { method: "GET", path: "/public/../admin" } }))).toBe("allow");
    expect(one(`to: [{operation: {paths: ["/admin"]}}]`, httpbin({ http: { method: "GET", path: "//admin" } }))).toBe("deny");
    expect(one(`to: [{operation: {paths: ["/admin"]}}]`, httpbin({ http: { method: "GET", path: "//admin" } }), { pathNormalization: "MERGE_SLASHES" })).toBe("allow");
    expect(one(`to: [{operation: {paths: ["/a/b"]}}]`, httpbin({ http: { method: "GET", path: "/a%2Fb" } }))).toBe("deny");
    expect(one(`to: [{operation: {paths: ["/a/b"]}}]`, httpbin({ http: { method: "GET", path: "/a%2Fb" } }), { pathNormalization: "DECODE_AND_MERGE_SLASHES" })).toBe("allow");
  });
  it("when: headers, claims, jwt principal, ports, sni", () => {
    const withJwt = httpbin({ auth: { principal: "https://issuer.example/alice", audiences: ["httpbin"], presenter: "cli", claims: { groups: ["admins"], nested: { role: "ops" } } } });
    expect(one(`when: [{key: "request.headers[Version]", values: ["v1"]}]`, httpbin({ http: { method: "GET", path: "/", headers: { version: "v1" } } }))).toBe("allow");
    expect(one(`when: [{key: "request.auth.claims[groups]", values: ["admins"]}]`, withJwt)).toBe("allow");
    expect(one(`when: [{key: "request.auth.claims[nested][role]", values: ["op*"]}]`, withJwt)).toBe("allow");
    const scoped = httpbin({ auth: { principal: "iss/sub", claims: { scope: "read write", other: "read write" } } });
    expect(one(`when: [{key: "request.auth.claims[scope]", values: ["write"]}]`, scoped)).toBe("allow");
    expect(one(`when: [{key: "request.auth.claims[other]", values: ["write"]}]`, scoped)).toBe("deny");
    expect(one(`when: [{key: "request.auth.principal", values: ["https://issuer.example/*"]}]`, withJwt)).toBe("allow");
    expect(one(`from: [{source: {requestPrincipals: ["*"]}}]`, httpbin())).toBe("deny");
    expect(one(`when: [{key: "request.auth.audiences", values: ["httpbin"]}]`, withJwt)).toBe("allow");
    expect(one(`when: [{key: "request.auth.presenter", values: ["cli"]}]`, withJwt)).toBe("allow");
    expect(one(`when: [{key: destination.port, values: ["8000"]}]`, httpbin())).toBe("allow");
    expect(one(`when: [{key: connection.sni, values: ["*.svc.cluster.local"]}]`, httpbin({ sni: "httpbin.foo.svc.cluster.local" }))).toBe("allow");
  });
  it("trust domain aliases expand principals", () => {
    const req = httpbin({ source: { principal: "spiffe://old-td/ns/sleep/sa/sleep" } });
    const rule = `from: [{source: {principals: ["new-td/ns/sleep/sa/sleep"]}}]`;
    expect(one(rule, req)).toBe("deny");
    expect(one(rule, req, { trustDomain: "new-td", trustDomainAliases: ["old-td"] })).toBe("allow");
    expect(one(`from: [{source: {principals: ["cluster.local/ns/sleep/sa/sleep"]}}]`, req, { trustDomain: "new-td", trustDomainAliases: ["old-td"] })).toBe("allow");
  });
});

describe("TCP traffic", () => {
  const tcp = (): AuthzRequest => ({ destination: { namespace: "foo", port: 9000 }, source: { principal: "spiffe://cluster.local/ns/sleep/sa/sleep" } });
  it("an ALLOW rule with HTTP-only fields is dropped", () => {
    expect(authorizerFromYaml(ap("p", "foo", `spec: {rules: [{to: [{operation: {ports: ["9000"], methods: ["GET"]}}]}]}`)).check(tcp()).decision).toBe("deny");
    expect(authorizerFromYaml(ap("p", "foo", `spec: {rules: [{to: [{operation: {ports: ["9000"]}}]}]}`)).check(tcp()).decision).toBe("allow");
  });
  it("a DENY rule's HTTP-only fields are ignored (wider)", () => {
    const d = authorizerFromYaml(ap("p", "foo", `spec: {action: DENY, rules: [{to: [{operation: {methods: ["POST"]}}], when: [{key: "request.headers[x]", values: ["y"]}]}]}`));
    expect(d.check(tcp())).toMatchObject({ decision: "deny", policy: "foo/p" });
  });
});

describe("bad input", () => {
  const bad = (spec: string) => () => authorizerFromYaml(ap("p", "foo", spec), { file: "p.yaml" });
  it("names file, line, object and field", () => {
    expect(bad(`spec:\n  rules:\n  - from:\n    - source: {ipBlocks: ["10.0.0.300/8"]}`)).toThrow(/p\.yaml:7:.*AuthorizationPolicy\/foo\/p: spec\.rules\[0\]\.from\[0\]\.source\.ipBlocks\[0\]: bad CIDR/);
    expect(bad(`spec: {rules: [{to: [{operation: {portz: ["1"]}}]}]}`)).toThrow(/spec\.rules\[0\]\.to\[0\]\.operation\.portz: unknown field "portz"/);
    expect(bad(`spec: {action: CUSTOM, rules: [{}]}`)).toThrow(/must name a provider/);
    expect(bad(`spec: {action: CUSTOM, provider: {name: x}, rules: [{from: [{source: {principals: ["a"]}}]}]}`)).toThrow(/From.Principals is currently not supported with CUSTOM/);
    expect(bad(`spec: {rules: [{from: []}]}`)).toThrow(/`from` must not be empty/);
    expect(bad(`spec: {rules: [{to: [{operation: {ports: ["http"]}}]}]}`)).toThrow(/bad port/);
    expect(bad(`spec: {rules: [{to: [{operation: {paths: ["/{**}/{*}"]}}]}]}`)).toThrow(/not the last operator/);
    expect(bad(`spec: {action: MAYBE}`)).toThrow(/spec\.action/);
  });
  it("unknown when keys warn and the rule is skipped, as Istio does", () => {
    const a = authorizerFromYaml(ap("p", "foo", `spec: {action: DENY, rules: [{when: [{key: request.bogus, values: ["x"]}]}]}`));
    expect(a.check(httpbin()).decision).toBe("allow");
  });
});
