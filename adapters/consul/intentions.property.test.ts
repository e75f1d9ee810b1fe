// Equivalence of the compiled engine with a reference evaluator written straight from Consul's documented
// intention algorithm (developer.hashicorp.com/consul/docs/connect/intentions, "Precedence and match order"
// and "L7 traffic intentions"): the highest-precedence intention whose source and destination match decides;
// an L4 intention by its action, an L7 one by its first matching permission (none: the default); L7
// intentions deny L4 traffic; no intention: the default. Header matchers follow Envoy's HeaderMatcher.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileAuthorizer } from "../../core/policy/engine.ts";
import type { AuthzRequest } from "../../core/policy/types.ts";
import { intentionsToPolicy } from "./intentions.ts";
import type { IntentionPermission, ServiceIntentionsEntry, SourceIntention } from "./schema.ts";

const TD = "0a1b2c3d-0000-4000-8000-000000000001.consul";
const SERVICES = ["web", "api", "db"];
const NAMESPACES = ["default", "team"];
const PATHS = ["/", "/admin", "/admin/users", "/v1/users", "/v2", "/api/v1/x"];

// ---------------------------------------------------------------- the reference evaluator

function refPrecedence(dstNs: string, dst: string, srcNs: string, src: string): number {
  // The table from Consul's docs, namespaces included (Enterprise): rows by destination exactness.
  const exactness = (ns: string, n: string) => (ns === "*" ? "**" : n === "*" ? "n*" : "nn");
  const table: Record<string, number> = {
    "nn|nn": 9, "nn|n*": 8, "nn|**": 7, "n*|nn": 6, "n*|n*": 5, "n*|**": 4, "**|nn": 3, "**|n*": 2, "**|**": 1,
  };
  return table[`${exactness(dstNs, dst)}|${exactness(srcNs, src)}`]!;
}

function refHeader(h: NonNullable<NonNullable<IntentionPermission["HTTP"]>["Header"]>[number], headers: Record<string, string>): boolean {
  const v = headers[(h.Name ?? "").toLowerCase()];
  if (v === undefined) return h.Present === true && h.Invert === true;
  const ic = (s: string) => (h.IgnoreCase ? s.toLowerCase() : s);
  let m: boolean;
  if (h.Present) m = true;
  else if (h.Exact !== undefined) m = ic(v) === ic(h.Exact);
  else if (h.Prefix !== undefined) m = ic(v).startsWith(ic(h.Prefix));
  else if (h.Suffix !== undefined) m = ic(v).endsWith(ic(h.Suffix));
  else if (h.Contains !== undefined) m = ic(v).includes(ic(h.Contains));
  else m = new RegExp(`^(?:${h.Regex})$`).test(v);
  return m !== (h.Invert === true);
}

function refPermission(p: IntentionPermission, http: NonNullable<AuthzRequest["http"]>): boolean {
  const h = p.HTTP!;
  const path = http.path.split("?")[0]!;
  if (h.PathExact !== undefined && path !== h.PathExact) return false;
  if (h.PathPrefix !== undefined && !path.startsWith(h.PathPrefix)) return false;
  if (h.PathRegex !== undefined && !new RegExp(`^(?:${h.PathRegex})$`).test(path)) return false;
  if (h.Methods && !h.Methods.includes(http.method)) return false;
  const headers = Object.fromEntries(Object.entries(http.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return (h.Header ?? []).every((x) => refHeader(x, headers));
}

function reference(entries: ServiceIntentionsEntry[], defaultAllow: boolean, req: AuthzRequest): "allow" | "deny" {
  const dflt = defaultAllow ? "allow" : "deny";
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/dc\/([^/]+)\/svc\/([^/]+)$/.exec(req.source?.principal ?? "");
  let best: { prec: number; src: SourceIntention } | null = null;
  for (const e of entries) {
    const dstNs = e.Namespace ?? "default";
    if (!(dstNs === "*" || dstNs === req.destination.namespace) || !(e.Name === "*" || e.Name === req.destination.service)) continue;
    for (const s of e.Sources ?? []) {
      const srcNs = s.Namespace ?? (dstNs === "*" ? "default" : dstNs);
      if (!m || m[1] !== TD) continue;
      if (!(srcNs === "*" || srcNs === m[2]) || !(s.Name === "*" || s.Name === m[4])) continue;
      const prec = refPrecedence(dstNs, e.Name, srcNs, s.Name!);
      if (!best || prec > best.prec) best = { prec, src: s };
    }
  }
  if (!best) return dflt;
  const perms = best.src.Permissions ?? [];
  if (perms.length === 0) return best.src.Action === "allow" ? "allow" : "deny";
  if (!req.http) return "deny";
  for (const p of perms) if (refPermission(p, req.http)) return p.Action === "allow" ? "allow" : "deny";
  return dflt;
}

// ---------------------------------------------------------------- generators

const action = fc.constantFrom("allow", "deny");
const header = fc.oneof(
  fc.record({ Name: fc.constant("X-Role"), Exact: fc.constantFrom("admin", "Admin", "user") }),
  fc.record({ Name: fc.constant("x-role"), Prefix: fc.constantFrom("ad", "us"), IgnoreCase: fc.boolean() }),
  fc.record({ Name: fc.constant("x-env"), Suffix: fc.constantFrom("prod", "-dev") }),
  fc.record({ Name: fc.constant("x-env"), Contains: fc.constantFrom("pro", "Pro", "."), IgnoreCase: fc.boolean() }),
  fc.record({ Name: fc.constant("x-debug"), Present: fc.constant(true) }),
  fc.record({ Name: fc.constant("x-env"), Regex: fc.constantFrom("(prod|stage)", "[a-z]+-dev") }),
).chain((h) => fc.boolean().map((invert) => (invert ? { ...h, Invert: true } : h)));

const httpMatch = fc.record({
  path: fc.option(fc.oneof(
    fc.constantFrom(...PATHS).map((p) => ({ PathExact: p })),
    fc.constantFrom("/", "/admin", "/v", "/api/").map((p) => ({ PathPrefix: p })),
    fc.constantFrom("/v[0-9]+(/.*)?", "/admin(/.*)?", ".*users").map((p) => ({ PathRegex: p })),
  ), { nil: undefined }),
  methods: fc.option(fc.subarray(["GET", "POST", "DELETE"], { minLength: 1 }), { nil: undefined }),
  headers: fc.array(header, { maxLength: 2 }),
}).filter((h) => h.path !== undefined || h.methods !== undefined || h.headers.length > 0)
  .map((h) => ({ ...h.path, ...(h.methods ? { Methods: h.methods } : {}), ...(h.headers.length ? { Header: h.headers } : {}) }));

const permission = fc.record({ Action: action, HTTP: httpMatch }) as fc.Arbitrary<IntentionPermission>;

const identity = fc.oneof(
  fc.record({ ns: fc.constantFrom(...NAMESPACES), name: fc.constantFrom(...SERVICES, "*") }),
  fc.constant({ ns: "*", name: "*" }),
);

const source = (l7: boolean) => fc.record({ id: identity, l4: action, perms: fc.array(permission, { minLength: 1, maxLength: 4 }), useL7: fc.boolean() })
  .map(({ id, l4, perms, useL7 }): SourceIntention => ({
    Name: id.name, Namespace: id.ns, ...(l7 && useL7 ? { Permissions: perms } : { Action: l4 }),
  }));

const entry = identity.chain((dst) => fc.uniqueArray(source(dst.name !== "*" && dst.ns !== "*"), { minLength: 1, maxLength: 4, selector: (s) => `${s.Namespace}/${s.Name}` })
  .map((Sources): ServiceIntentionsEntry => ({ Kind: "service-intentions", Name: dst.name, Namespace: dst.ns, Sources })));

const entries = fc.uniqueArray(entry, { maxLength: 5, selector: (e) => `${e.Namespace}/${e.Name}` });

const request: fc.Arbitrary<AuthzRequest> = fc.record({
  src: fc.oneof(
    fc.record({ ns: fc.constantFrom(...NAMESPACES), name: fc.constantFrom(...SERVICES, "other") }).map(({ ns, name }) => `spiffe://${TD}/ns/${ns}/dc/dc1/svc/${name}`),
    fc.constantFrom(`spiffe://other.consul/ns/default/dc/dc1/svc/web`, "spiffe://cluster.local/ns/default/sa/web", `spiffe://${TD}/ns/default/dc/dc2/svc/api`),
    fc.constant(undefined),
  ),
  dstNs: fc.constantFrom(...NAMESPACES),
  dst: fc.constantFrom(...SERVICES, "other"),
  http: fc.option(fc.record({
    method: fc.constantFrom("GET", "POST", "DELETE", "PUT"),
    path: fc.constantFrom(...PATHS, "/v1/users?x=1", "/admin/"),
    headers: fc.dictionary(fc.constantFrom("x-role", "X-Role", "x-env", "x-debug"), fc.constantFrom("admin", "ADMIN", "user", "prod", "Pre-prod", "my-dev", "stage", ""), { maxKeys: 3 }),
  }), { nil: undefined }),
}).map(({ src, dstNs, dst, http }) => ({
  destination: { namespace: dstNs, service: dst },
  ...(src ? { source: { principal: src } } : {}),
  ...(http ? { http } : {}),
}));

describe("intentions: compiled engine = Consul's algorithm", () => {
  it("decides every generated request as the reference evaluator does", () => {
    fc.assert(fc.property(entries, fc.boolean(), fc.array(request, { minLength: 1, maxLength: 12 }), (es, defaultAllow, reqs) => {
      const { policy } = intentionsToPolicy(es, { defaultAction: defaultAllow ? "allow" : "deny", trustDomain: TD });
      const authz = compileAuthorizer([policy]);
      for (const r of reqs) {
        // Header names differing only in case are one header; keep the generated request unambiguous.
        const keys = Object.keys(r.http?.headers ?? {}).map((k) => k.toLowerCase());
        if (new Set(keys).size !== keys.length) continue;
        expect(authz.check(r).decision, JSON.stringify({ es, defaultAllow, r })).toBe(reference(es, defaultAllow, r));
      }
    }), { numRuns: 400 });
  });
});
