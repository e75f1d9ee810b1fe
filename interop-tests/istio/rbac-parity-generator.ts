// Random AuthorizationPolicies and requests for the istiod parity suite (fast-check arbitraries drawn with a
// fixed seed): policies for `httpbin` in `foo` mixing ALLOW/DENY/AUDIT, sources (principals, namespaces,
// request principals, IP blocks, positive and negative), operations (methods, paths with wildcards and
// templates, ports, hosts) and `when` conditions (headers, JWT claims and audiences, source namespace/IP,
// destination port, SNI); and requests drawn from pools that hit and miss those values.
import fc from "fast-check";
import { stringify } from "yaml";
import type { AuthzRequest } from "../../core/policy/types.ts";

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const some = (xs: readonly string[]) => fc.uniqueArray(pick(xs), { minLength: 1, maxLength: 2 });

/** `values`/`notValues` style field pair: `{ key: [...] }` or `{ notKey: [...] }` (or both). */
function field(key: string, pool: readonly string[]): fc.Arbitrary<Record<string, string[]>> {
  const not = `not${key[0]!.toUpperCase()}${key.slice(1)}`;
  return fc.oneof(
    some(pool).map((v) => ({ [key]: v })),
    some(pool).map((v) => ({ [not]: v })),
    fc.tuple(some(pool), some(pool)).map(([a, b]) => ({ [key]: a, [not]: b })),
  );
}

function fields(parts: fc.Arbitrary<Record<string, string[]>>[]): fc.Arbitrary<Record<string, string[]>> {
  return fc.subarray(parts.map((_, i) => i), { minLength: 1, maxLength: 2 }).chain((idx) =>
    fc.tuple(...idx.map((i) => parts[i]!)).map((fs) => Object.assign({}, ...fs) as Record<string, string[]>));
}

const source = fields([
  field("principals", ["cluster.local/ns/foo/sa/sleep", "cluster.local/ns/bar/*", "*/sa/admin", "*"]),
  field("namespaces", ["foo", "bar", "ba*", "*"]),
  field("requestPrincipals", ["https://issuer.example/alice", "https://issuer.example/*", "*"]),
  field("ipBlocks", ["10.0.1.0/24", "192.168.0.0/16", "10.0.1.5"]),
  field("remoteIpBlocks", ["203.0.113.0/24", "10.0.1.5"]),
]);

const operation = fields([
  field("methods", ["GET", "POST", "DELETE"]),
  field("paths", ["/api/*", "/admin", "/admin/", "/ADMIN", "*/info", "/x/{*}/y", "/x/{*}", "/files/{**}", "*"]),
  field("ports", ["8000", "9000"]),
  field("hosts", ["httpbin.foo*", "*.example.com", "HTTPBIN.foo:8000"]),
]);

const WHEN: Record<string, readonly string[]> = {
  "request.headers[x-token]": ["abc", "a*", "*"],
  "request.auth.claims[groups]": ["dev", "ops*"],
  "request.auth.audiences": ["api", "*"],
  "source.namespace": ["foo", "bar"],
  "source.ip": ["10.0.1.0/24"],
  "destination.port": ["8000"],
  "connection.sni": ["*.local", "httpbin.local"],
  "request.auth.presenter": ["client-a", "client-*"],
  "request.auth.claims[nested][role]": ["admin", "ad*"],
  "request.auth.principal": ["https://issuer.example/alice", "*/bob"],
  "request.headers[x-multi]": ["a", "a,b", "*b"],
  "remote.ip": ["203.0.113.0/24"],
  "destination.ip": ["10.0.0.0/24", "10.9.0.0/16"],
  "source.principal": ["cluster.local/ns/foo/sa/sleep", "*/sa/admin"],
};

const condition = pick(Object.keys(WHEN)).chain((key) =>
  fc.oneof(some(WHEN[key]!).map((values) => ({ key, values })), some(WHEN[key]!).map((notValues) => ({ key, notValues }))));

const rule = fc.record({
  from: fc.option(fc.array(source.map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  to: fc.option(fc.array(operation.map((o) => ({ operation: o })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  when: fc.option(fc.array(condition, { minLength: 1, maxLength: 2 }), { nil: undefined }),
}, { requiredKeys: [] }).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));

const policy = (i: number) => fc.record({
  action: pick(["ALLOW", "ALLOW", "DENY", "AUDIT"]),
  selector: pick([{ app: "httpbin" }, null, { app: "other" }]),
  rules: fc.array(rule, { minLength: 1, maxLength: 2 }),
}).map((p) => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: `gen-${i}`, namespace: "foo" },
  spec: { ...(p.selector ? { selector: { matchLabels: p.selector } } : {}), action: p.action, rules: p.rules },
}));

/** A multi-document YAML of 1–3 random policies. */
export const policySet: fc.Arbitrary<string> = fc.integer({ min: 1, max: 3 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policy(i))))
  .map((ps) => ps.map((p) => stringify(p)).join("---\n"));

const AUTHS: (AuthzRequest["auth"] | undefined)[] = [
  undefined,
  { principal: "https://issuer.example/alice", audiences: ["api"], presenter: "client-a", claims: { iss: "https://issuer.example", sub: "alice", aud: "api", azp: "client-a", groups: ["dev"], nested: { role: "admin" } } },
  { principal: "https://issuer.example/bob", audiences: ["web"], presenter: "client-b", claims: { iss: "https://issuer.example", sub: "bob", aud: ["web", "x"], azp: "client-b", groups: ["ops1", "qa"], nested: { role: ["adm", "user"] } } },
  { principal: "https://other.example/alice", audiences: [], claims: { iss: "https://other.example", sub: "alice", groups: "dev" } },
];

/** A request to `httpbin` in `foo` (HTTP most of the time, sometimes plain TCP). */
export const request: fc.Arbitrary<AuthzRequest> = fc.record({
  tcp: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  principal: pick([undefined, "spiffe://cluster.local/ns/foo/sa/sleep", "spiffe://cluster.local/ns/bar/sa/admin", "spiffe://cluster.local/ns/baz/sa/x"]),
  method: pick(["GET", "POST", "DELETE"]),
  path: pick(["/api/v1", "/admin", "/admin/", "/ADMIN", "/a/info", "/x/1/y", "/x/1", "/x//y", "/x/a%2Fb/y", "/files/a/b", "/files", "/", "/API/v1",
    "/admin?x=1", "/api/../admin", "//admin", "/api%2Fv1", "/admin#frag", "/a/./info", "/%61dmin"]),
  host: pick(["httpbin.foo:8000", "www.example.com", "HTTPBIN.FOO:8000", "httpbin.foo"]),
  token: pick([undefined, "abc", "zzz"]),
  multi: pick([undefined, "a", ["a", "b"], "b"]),
  remoteIp: pick([undefined, "203.0.113.9"]),
  auth: pick(AUTHS),
  port: pick([8000, 9000]),
  ip: pick(["10.0.1.5", "192.168.3.4"]),
  sni: pick([undefined, "httpbin.local"]),
}).map((r): AuthzRequest => ({
  destination: { namespace: "foo", labels: { app: "httpbin" }, port: r.port, ip: "10.0.0.10" },
  source: { ...(r.principal ? { principal: r.principal } : {}), ip: r.ip, ...(r.remoteIp ? { remoteIp: r.remoteIp } : {}) },
  ...(r.tcp ? {} : {
    http: { method: r.method, path: r.path, host: r.host, headers: { ...(r.token ? { "x-token": r.token } : {}), ...(r.multi ? { "x-multi": r.multi } : {}) } },
  }),
  ...(r.auth && !r.tcp ? { auth: r.auth } : {}),
  ...(r.sni ? { sni: r.sni } : {}),
}));
