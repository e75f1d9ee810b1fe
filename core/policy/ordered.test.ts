import { describe, expect, it } from "vitest";
import type { AuthzPolicy, OrderedAuthz } from "../ir/model.ts";
import { compileAuthorizer } from "./engine.ts";
import { authorizationPoliciesFromYaml } from "./index.ts";
import { re2Problem, compileFullMatch } from "./re2.ts";
import type { AuthzRequest } from "./types.ts";

const TD = "11111111-2222-3333-4444-555555555555.consul";
const id = (svc: string, ns = "default") => `spiffe://${TD}/ns/${ns}/dc/dc1/svc/${svc}`;

function policy(ordered: OrderedAuthz, extra: Partial<AuthzPolicy> = {}): AuthzPolicy {
  return { id: "consul/intentions", name: "intentions", namespace: "consul", action: "ALLOW", selector: { namespace: "consul" }, rules: null, ordered, ...extra };
}

const req = (src: string | undefined, http?: AuthzRequest["http"], service = "api"): AuthzRequest => ({
  destination: { namespace: "default", service },
  ...(src ? { source: { principal: src } } : {}),
  ...(http ? { http } : {}),
});

const intentions: OrderedAuthz = {
  defaultAction: "DENY",
  rules: [
    { name: "web → api", destination: { namespace: "default", service: "api" }, sources: [{ consul: { namespace: "default", service: "web" } }], permissions: [
      { action: "DENY", http: { path: { prefix: "/admin" } } },
      { action: "ALLOW", http: { path: { regex: "/v[0-9]+/.*" }, methods: ["GET"] } },
      { action: "ALLOW", http: { headers: [{ name: "X-Debug", match: { exact: "1" }, invert: true }] } },
    ] },
    { name: "* → api", destination: { namespace: "default", service: "api" }, sources: [{ consul: { namespace: "default", service: "*" } }], action: "ALLOW" },
    { name: "db → *", destination: { namespace: "default", service: "*" }, sources: [{ consul: { namespace: "default", service: "db" } }], action: "DENY" },
  ],
};

describe("ordered first-match policies", () => {
  const authz = compileAuthorizer([policy(intentions)]);
  const check = (r: AuthzRequest) => authz.check(r);

  it("the first matching source decides and never falls through", () => {
    expect(check(req(id("web"), { method: "GET", path: "/v1/users" })).decision).toBe("allow");
    // web's rule decides even though `* → api` would allow: no permission matched → default deny.
    const d = check(req(id("web"), { method: "POST", path: "/v1/users", headers: { "x-debug": "1" } }));
    expect(d.decision).toBe("deny");
    expect(d.ordered).toMatchObject({ rule: 0, permission: null, byDefault: true });
    expect(check(req(id("other"), { method: "POST", path: "/admin" })).decision).toBe("allow");
  });

  it("first matching permission wins", () => {
    const d = check(req(id("web"), { method: "GET", path: "/admin/v1/x" }));
    expect(d).toMatchObject({ decision: "deny", rule: 0, action: "DENY" });
    expect(d.ordered?.permission).toBe(0);
  });

  it("an inverted value matcher never matches an absent header (Envoy)", () => {
    expect(check(req(id("web"), { method: "POST", path: "/x", headers: { "x-debug": "0" } })).decision).toBe("allow");
    expect(check(req(id("web"), { method: "POST", path: "/x" })).decision).toBe("deny");
  });

  it("L7 rules deny TCP traffic; L4 rules apply to both", () => {
    expect(check(req(id("web"))).decision).toBe("deny");
    expect(check(req(id("other"))).decision).toBe("allow");
    expect(check(req(id("db"), undefined, "cache")).decision).toBe("deny");
  });

  it("unmatched sources, plaintext and other identity shapes get the default", () => {
    expect(check(req(undefined, { method: "GET", path: "/" })).decision).toBe("deny");
    expect(check(req("spiffe://cluster.local/ns/default/sa/web", { method: "GET", path: "/" })).decision).toBe("deny");
    expect(check(req(`spiffe://${TD}/ap/default/ns/default/dc/dc1/svc/other`)).decision).toBe("deny");
    expect(check(req(id("other", "team")), ).decision).toBe("deny");
  });

  it("applies only to requests that name destination.service", () => {
    expect(check({ destination: { namespace: "default" }, source: { principal: id("db") } }).decision).toBe("allow");
  });

  it("JWT requirements gate a rule: failing them yields the default", () => {
    const a = compileAuthorizer([policy({ defaultAction: "ALLOW", rules: [
      { destination: { service: "api" }, sources: [{ consul: { namespace: "default", service: "*" } }], action: "DENY", jwt: [{ issuer: "https://idp", claims: [{ path: ["role"], value: "guest" }] }] },
    ] })]);
    const http = { method: "GET", path: "/" };
    expect(a.check({ ...req(id("web"), http), auth: { claims: { iss: "https://idp", role: ["guest", "x"] } } }).decision).toBe("deny");
    expect(a.check({ ...req(id("web"), http), auth: { claims: { iss: "https://idp", role: "admin" } } }).decision).toBe("allow");
    expect(a.check(req(id("web"), http)).decision).toBe("allow");
  });

  it("combines with Istio policies as a second layer", () => {
    const { policies } = authorizationPoliciesFromYaml(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: only-get, namespace: default}
spec:
  rules: [{to: [{operation: {methods: [GET]}}]}]
`);
    const a = compileAuthorizer([...policies, policy(intentions)]);
    expect(a.check(req(id("other"), { method: "GET", path: "/" })).decision).toBe("allow");
    expect(a.check(req(id("other"), { method: "PUT", path: "/" })).decision).toBe("deny");
    const d = a.check(req(id("db"), { method: "GET", path: "/" }, "cache"));
    expect(d).toMatchObject({ decision: "deny", policy: "consul/intentions", rule: 2, action: "DENY" });
  });

  it("dry-run ordered policies are reported, not enforced", () => {
    const a = compileAuthorizer([policy(intentions, { dryRun: true })]);
    const d = a.check(req(id("db"), undefined, "cache"));
    expect(d.decision).toBe("allow");
    expect(d.dryRun).toEqual([{ policy: "consul/intentions", action: "DENY", matched: true }]);
  });
});

describe("RE2 full matches", () => {
  it("translates RE2 spellings and rejects what RE2 rejects", () => {
    expect(compileFullMatch("(?i)/API/[[:digit:]]+")("/api/42")).toBe(true);
    expect(compileFullMatch("/a")("/ab")).toBe(false);
    expect(compileFullMatch("(?P<v>v[0-9])/.*")("v1/x")).toBe(true);
    expect(re2Problem("(?=x)y")).toMatch(/look-around/);
    expect(re2Problem("(a)\\1")).toMatch(/back-references/);
    expect(() => compileFullMatch("([")).toThrow(/invalid regular expression/);
  });
});
