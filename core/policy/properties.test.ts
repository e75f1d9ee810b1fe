import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuthzPolicy } from "../ir/model.ts";
import { authorizationPolicyFromIstio, compileAuthorizer, normalizePath } from "./index.ts";
import type { AuthzRequest, PathNormalization } from "./types.ts";

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const subset = <T>(xs: readonly T[]) => fc.subarray([...xs], { minLength: 1, maxLength: Math.min(2, xs.length) });

const principals = ["cluster.local/ns/a/sa/x", "cluster.local/ns/b/*", "*", "*/sa/y"];
const paths = ["/a", "/a/*", "*", "/b/{*}", "/c/{**}"];

const source = fc.record({
  principals: fc.option(subset(principals), { nil: undefined }),
  notPrincipals: fc.option(subset(principals), { nil: undefined }),
  namespaces: fc.option(subset(["a", "b", "*"]), { nil: undefined }),
  ipBlocks: fc.option(subset(["10.0.0.0/8", "192.168.1.1"]), { nil: undefined }),
  requestPrincipals: fc.option(subset(["iss/alice", "*"]), { nil: undefined }),
}, { requiredKeys: [] }).filter((s) => Object.values(s).some((v) => v !== undefined));

const operation = fc.record({
  paths: fc.option(subset(paths), { nil: undefined }),
  notPaths: fc.option(subset(paths), { nil: undefined }),
  methods: fc.option(subset(["GET", "POST"]), { nil: undefined }),
  ports: fc.option(subset(["80", "8080"]), { nil: undefined }),
}, { requiredKeys: [] }).filter((o) => Object.values(o).some((v) => v !== undefined));

const condition = fc.oneof(
  fc.record({ key: fc.constant("request.headers[x-env]"), values: subset(["prod", "dev*"]) }),
  fc.record({ key: fc.constant("source.ip"), notValues: subset(["10.1.0.0/16"]) }),
  fc.record({ key: fc.constant("destination.port"), values: subset(["80"]) }),
);

const rule = fc.record({
  from: fc.option(fc.array(source.map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  to: fc.option(fc.array(operation.map((o) => ({ operation: o })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  when: fc.option(fc.array(condition, { minLength: 1, maxLength: 2 }), { nil: undefined }),
}, { requiredKeys: [] });

let counter = 0;
const policy = (actions: readonly string[] = ["ALLOW", "DENY", "AUDIT", "CUSTOM"]) =>
  fc.record({
    action: pick(actions),
    ns: pick(["foo", "istio-system"]),
    selector: fc.option(pick(["x", "y"]), { nil: undefined }),
    rules: fc.option(fc.array(rule, { maxLength: 3 }), { nil: undefined }),
  }).map(({ action, ns, selector, rules: generated }) => {
    // Istio rejects rule-less DENY/CUSTOM and identity fields in CUSTOM rules; generate only valid policies.
    let rules: GenRule[] | undefined = generated;
    if ((action === "DENY" || action === "CUSTOM") && !rules?.length) rules = [{}];
    if (action === "CUSTOM") rules = rules!.map(stripIdentity);
    return toIr({
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: `p${counter++}`, namespace: ns },
    spec: {
      action,
      ...(action === "CUSTOM" ? { provider: { name: "ext" } } : {}),
      ...(selector ? { selector: { matchLabels: { app: selector } } } : {}),
      ...(rules ? { rules } : {}),
    },
  });
  });

type GenRule = { from?: { source: Record<string, unknown> }[]; to?: { operation: Record<string, unknown> }[]; when?: { key: string }[] };
function stripIdentity(r: GenRule): GenRule {
  const from = r.from?.map((f) => {
    const { principals: _a, notPrincipals: _b, namespaces: _c, requestPrincipals: _d, ...rest } = f.source;
    const kept = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    return { source: Object.keys(kept).length ? kept : { ipBlocks: ["10.0.0.0/8"] } };
  });
  return { ...r, ...(from ? { from } : {}) };
}

function toIr(obj: unknown): AuthzPolicy {
  const r = authorizationPolicyFromIstio(obj);
  if (!r.value) throw new Error(`generator produced an invalid policy: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
}

const request: fc.Arbitrary<AuthzRequest> = fc.record({
  app: pick(["x", "y"]),
  principal: fc.option(pick(["spiffe://cluster.local/ns/a/sa/x", "spiffe://cluster.local/ns/b/sa/y", "spiffe://other.td/ns/c/sa/z"]), { nil: undefined }),
  ip: pick(["10.1.2.3", "192.168.1.1", "172.16.0.1"]),
  http: fc.option(fc.record({
    method: pick(["GET", "POST", "PUT"]),
    path: pick(["/a", "/a/b", "/b/c", "/b/c/d", "/c", "/c/d/e", "/a/../b/x", "//a", "/a?q=1"]),
    headers: fc.option(fc.record({ "x-env": pick(["prod", "dev1", "test"]) }), { nil: undefined }),
  }), { nil: undefined }),
  jwt: fc.boolean(),
  port: pick([80, 8080, 9000]),
}).map(({ app, principal, ip, http, jwt, port }) => ({
  destination: { namespace: "foo", labels: { app }, port },
  source: { ip, ...(principal ? { principal } : {}) },
  ...(http ? { http: { method: http.method, path: http.path, ...(http.headers ? { headers: http.headers } : {}) } } : {}),
  ...(jwt ? { auth: { principal: "iss/alice" } } : {}),
}));

const policies = fc.array(policy(), { maxLength: 6 });
const denyAll = (): AuthzPolicy => toIr({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "zz-deny-all", namespace: "foo" }, spec: { action: "DENY", rules: [{}] } });

describe("policy engine properties", () => {
  it("a matching DENY always wins", () => {
    fc.assert(fc.property(policies, request, (ps, req) => {
      const d = compileAuthorizer([...ps, denyAll()]).check(req);
      expect(d.decision).toBe("deny");
    }));
  });

  it("spec: {} ALLOW on the workload denies everything, whatever DENY/AUDIT/CUSTOM policies exist", () => {
    const empty = toIr({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "nothing", namespace: "foo" }, spec: {} });
    fc.assert(fc.property(fc.array(policy(["DENY", "AUDIT", "CUSTOM"]), { maxLength: 5 }), request, (ps, req) => {
      expect(compileAuthorizer([...ps, empty]).check(req).decision).toBe("deny");
    }));
  });

  it("adding an ALLOW policy never allows what a DENY denies", () => {
    fc.assert(fc.property(policies, policy(["ALLOW"]), request, (ps, extra, req) => {
      const before = compileAuthorizer(ps).check(req);
      fc.pre(before.action === "DENY");
      expect(compileAuthorizer([...ps, extra]).check(req).decision).toBe("deny");
    }));
  });

  it("adding a DENY policy never turns a deny into an allow", () => {
    fc.assert(fc.property(policies, policy(["DENY"]), request, (ps, extra, req) => {
      fc.pre(compileAuthorizer(ps).check(req).decision === "deny");
      expect(compileAuthorizer([...ps, extra]).check(req).decision).toBe("deny");
    }));
  });

  it("AUDIT policies never change the decision", () => {
    fc.assert(fc.property(policies, fc.array(policy(["AUDIT"]), { maxLength: 3 }), request, (ps, audits, req) => {
      const a = compileAuthorizer(ps).check(req);
      const b = compileAuthorizer([...ps, ...audits]).check(req);
      expect(b.decision).toBe(a.decision);
      expect(b.policy).toBe(a.policy);
    }));
  });

  it("the decision does not depend on the order policies are given in", () => {
    fc.assert(fc.property(policies, request, fc.boolean(), (ps, req, deny) => {
      const opts = { customDecision: deny ? "deny" as const : "allow" as const };
      const a = compileAuthorizer(ps).check(req, opts);
      const b = compileAuthorizer([...ps].reverse()).check(req, opts);
      expect({ d: b.decision, p: b.policy, audit: b.audit }).toEqual({ d: a.decision, p: a.policy, audit: a.audit });
    }));
  });

  it("the rule index decides exactly as a linear scan of every rule", () => {
    fc.assert(fc.property(fc.array(policy(), { maxLength: 8 }), request, (ps, req) => {
      const indexed = compileAuthorizer(ps).check(req);
      const linear = compileAuthorizer(ps, { ruleIndex: false }).check(req);
      expect(indexed).toEqual(linear);
    }), { numRuns: 300 });
  });

  it("a CUSTOM provider that denies can only turn allow into deny", () => {
    fc.assert(fc.property(policies, request, (ps, req) => {
      const allowed = compileAuthorizer(ps).check(req, { customDecision: "allow" });
      const denied = compileAuthorizer(ps).check(req, { customDecision: "deny" });
      if (allowed.decision === "deny") expect(denied.decision).toBe("deny");
      if (allowed.custom === null) expect(denied.decision).toBe(allowed.decision);
    }));
  });
});

describe("path normalization properties", () => {
  const segment = fc.constantFrom("a", "b", ".", "..", "", "%2e", "%2E%2e", "%2F", "%5c", "\\", "x%41", "%7e");
  const path = fc.array(segment, { maxLength: 6 }).map((s) => "/" + s.join("/"));
  const modes: PathNormalization[] = ["BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"];
  it("is idempotent and never leaves dot segments", () => {
    fc.assert(fc.property(path, pick(modes), (p, mode) => {
      const once = normalizePath(p, mode);
      if (once === null) return;
      expect(normalizePath(once, mode)).toBe(once);
      expect(once.split("/").some((s) => s === "." || s === "..")).toBe(false);
    }));
  });
  it("MERGE modes leave no empty inner segments", () => {
    fc.assert(fc.property(path, (p) => {
      const n = normalizePath(p, "MERGE_SLASHES");
      if (n !== null) expect(n.includes("//")).toBe(false);
    }));
  });
});
