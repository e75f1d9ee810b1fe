/**
 * @module core/policy/corpus/conditions
 * Cases for every documented `when` key (Authorization Policy Conditions page): request headers, source and
 * remote IP, source namespace/principal/service account, JWT principal, audiences, presenter and claims (nested
 * and list-valued), destination IP and port, and SNI.
 */
import { CONCEPTS, DOCS, ISTIO_SRC, http, spiffe, type CorpusCase } from "./case.ts";

const CONDITIONS = `${DOCS}/reference/config/security/conditions/`;
const NORMALIZATION = `${DOCS}/reference/config/security/normalization/`;

/** One ALLOW policy per condition, named after it, so `policy` tells which condition matched. */
const when = (name: string, body: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: foo
spec:
  rules:
  - when:
    - ${body}
`;

const jwt = (claims: Record<string, unknown>, extra: { audiences?: string[]; presenter?: string } = {}) => {
  const iss = String(claims.iss ?? "https://idp.example.com");
  const sub = String(claims.sub ?? "user-1");
  return { principal: `${iss}/${sub}`, claims: { iss, sub, ...claims }, ...extra };
};

export const conditionCases: CorpusCase[] = [
  {
    name: "custom condition request.headers[version] with principal and method",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
 name: httpbin
 namespace: foo
spec:
 selector:
   matchLabels:
     app: httpbin
     version: v1
 action: ALLOW
 rules:
 - from:
   - source:
       principals: ["cluster.local/ns/default/sa/sleep"]
   to:
   - operation:
       methods: ["GET"]
   when:
   - key: request.headers[version]
     values: ["v1", "v2"]
`,
    requests: [
      { name: "version: v2 is allowed", request: http("GET", "/", { principal: spiffe("default", "sleep"), headers: { version: "v2" } }), expect: { decision: "allow", policy: "foo/httpbin" } },
      { name: "version: v3 is denied", request: http("GET", "/", { principal: spiffe("default", "sleep"), headers: { version: "v3" } }), expect: { decision: "deny" } },
      { name: "no version header is denied", request: http("GET", "/", { principal: spiffe("default", "sleep") }), expect: { decision: "deny" } },
      { name: "header name in the request is matched case-insensitively", request: http("GET", "/", { principal: spiffe("default", "sleep"), headers: { Version: "v1" } }), expect: { decision: "allow" } },
    ],
  },
  {
    name: "request.headers: name case, prefix, suffix, presence, notValues",
    source: CONDITIONS,
    note: "matcher/header.go HeaderMatcher: * is an Envoy present_match (the header exists), other values are exact/prefix/suffix string matches.",
    policies: [
      when("ua", 'key: request.headers[User-Agent]\n      values: ["Mozilla/*"]'),
      when("internal", 'key: request.headers[x-caller]\n      values: ["*-internal"]'),
      when("has-trace", 'key: request.headers[x-trace-id]\n      values: ["*"]'),
    ].join("---\n"),
    requests: [
      { name: "user-agent Mozilla/5.0 is allowed", request: http("GET", "/", { headers: { "user-agent": "Mozilla/5.0" } }), expect: { decision: "allow", policy: "foo/ua" } },
      { name: "user-agent curl/8 is denied", request: http("GET", "/", { headers: { "user-agent": "curl/8.0" } }), expect: { decision: "deny" } },
      { name: "x-caller billing-internal is allowed", request: http("GET", "/", { headers: { "x-caller": "billing-internal" } }), expect: { decision: "allow", policy: "foo/internal" } },
      { name: "x-caller internal-billing is denied", request: http("GET", "/", { headers: { "x-caller": "internal-billing" } }), expect: { decision: "deny" } },
      { name: "x-trace-id present is allowed", request: http("GET", "/", { headers: { "x-trace-id": "abc" } }), expect: { decision: "allow", policy: "foo/has-trace" } },
      {
        name: "x-trace-id present but empty still matches *", request: http("GET", "/", { headers: { "x-trace-id": "" } }), expect: { decision: "allow", policy: "foo/has-trace" },
        note: "header.go: \"*\" becomes present_match, which Envoy evaluates on presence alone (unlike the non-empty .+ used for other fields).",
      },
      { name: "no headers is denied", request: http("GET", "/"), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "request.headers notValues",
    source: CONDITIONS,
    policies: when("not-guest", 'key: request.headers[x-role]\n      notValues: ["guest", "anon*"]'),
    requests: [
      { name: "x-role admin is allowed", request: http("GET", "/", { headers: { "x-role": "admin" } }), expect: { decision: "allow", policy: "foo/not-guest" } },
      { name: "x-role anonymous is denied", request: http("GET", "/", { headers: { "x-role": "anonymous" } }), expect: { decision: "deny" } },
      { name: "x-role guest is denied", request: http("GET", "/", { headers: { "X-Role": "guest" } }), expect: { decision: "deny" } },
      {
        name: "no x-role header is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: "foo/not-guest" },
        note: "An absent x-role does not match guest/anon*, so the NOT matches (model.go principalNot).",
      },
    ],
  },
  {
    name: "duplicate headers are joined with a comma before matching",
    source: NORMALIZATION,
    policies: [
      when("joined", 'key: request.headers[x-header]\n      values: ["foo,bar"]'),
      when("first", 'key: request.headers[x-first]\n      values: ["foo"]'),
    ].join("---\n"),
    requests: [
      { name: "x-header: foo and x-header: bar match foo,bar", request: http("GET", "/", { headers: { "x-header": ["foo", "bar"] } }), expect: { decision: "allow", policy: "foo/joined" } },
      { name: "x-first: foo and x-first: bar do not match exact foo", request: http("GET", "/", { headers: { "x-first": ["foo", "bar"] } }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "source.ip and remote.ip",
    source: CONDITIONS,
    policies: [
      when("src", 'key: source.ip\n      values: ["10.1.2.3", "10.2.0.0/16"]\n      notValues: ["10.2.3.4"]'),
      when("remote", 'key: remote.ip\n      values: ["203.0.113.0/24"]'),
    ].join("---\n"),
    requests: [
      { name: "source 10.1.2.3 is allowed", request: http("GET", "/", { ip: "10.1.2.3" }), expect: { decision: "allow", policy: "foo/src" } },
      { name: "source 10.2.9.9 is allowed", request: http("GET", "/", { ip: "10.2.9.9" }), expect: { decision: "allow", policy: "foo/src" } },
      { name: "source 10.2.3.4 is excluded by notValues", request: http("GET", "/", { ip: "10.2.3.4" }), expect: { decision: "deny" } },
      { name: "source 10.1.2.4 is denied", request: http("GET", "/", { ip: "10.1.2.4" }), expect: { decision: "deny" } },
      { name: "remote 203.0.113.40 via proxy 192.168.0.1 is allowed", request: http("GET", "/", { ip: "192.168.0.1", remoteIp: "203.0.113.40" }), expect: { decision: "allow", policy: "foo/remote" } },
    ],
  },
  {
    name: "source.namespace, source.principal and source.serviceAccount",
    source: CONDITIONS,
    note: "source.serviceAccount takes ns/sa (model.go attrSrcServiceAccount, generator.go serviceAccountRegex).",
    policies: [
      when("ns", 'key: source.namespace\n      values: ["default"]'),
      when("principal", 'key: source.principal\n      values: ["cluster.local/ns/bookinfo/sa/productpage"]'),
      when("sa", 'key: source.serviceAccount\n      values: ["tools/curl"]'),
    ].join("---\n"),
    requests: [
      { name: "a peer in default is allowed", request: http("GET", "/", { principal: spiffe("default", "any") }), expect: { decision: "allow", policy: "foo/ns" } },
      { name: "bookinfo/productpage is allowed", request: http("GET", "/", { principal: spiffe("bookinfo", "productpage") }), expect: { decision: "allow", policy: "foo/principal" } },
      { name: "bookinfo/reviews is denied", request: http("GET", "/", { principal: spiffe("bookinfo", "reviews") }), expect: { decision: "deny" } },
      { name: "tools/curl is allowed", request: http("GET", "/", { principal: spiffe("tools", "curl") }), expect: { decision: "allow", policy: "foo/sa" } },
      { name: "tools/curl-2 is denied", request: http("GET", "/", { principal: spiffe("tools", "curl-2") }), expect: { decision: "deny" } },
      { name: "plaintext is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "request.auth.principal, audiences and presenter",
    source: CONDITIONS,
    policies: [
      when("rp", 'key: request.auth.principal\n      values: ["accounts.my-svc.com/104958560606"]'),
      when("aud", 'key: request.auth.audiences\n      values: ["my-svc.com"]'),
      when("azp", 'key: request.auth.presenter\n      values: ["123456789012.my-svc.com"]'),
    ].join("---\n"),
    requests: [
      { name: "principal accounts.my-svc.com/104958560606 is allowed", request: http("GET", "/", { auth: jwt({ iss: "accounts.my-svc.com", sub: "104958560606" }) }), expect: { decision: "allow", policy: "foo/rp" } },
      { name: "audience list containing my-svc.com is allowed", request: http("GET", "/", { auth: jwt({ aud: ["other.com", "my-svc.com"] }, { audiences: ["other.com", "my-svc.com"] }) }), expect: { decision: "allow", policy: "foo/aud" } },
      { name: "audience other.com only is denied", request: http("GET", "/", { auth: jwt({ aud: "other.com" }, { audiences: ["other.com"] }) }), expect: { decision: "deny" } },
      { name: "presenter 123456789012.my-svc.com is allowed", request: http("GET", "/", { auth: jwt({ azp: "123456789012.my-svc.com" }, { presenter: "123456789012.my-svc.com" }) }), expect: { decision: "allow", policy: "foo/azp" } },
      { name: "no JWT is denied", request: http("GET", "/"), expect: { decision: "deny" } },
    ],
  },
  {
    name: "request.auth.claims: suffix, list-valued and nested claims",
    source: CONDITIONS,
    note: "requestClaimGenerator: [a][b] is a path into the JWT payload; the value matches a string claim or any element of a list claim (MetadataListValueMatcherForJWTClaims).",
    policies: [
      when("iss-suffix", 'key: request.auth.claims[iss]\n      values: ["*@foo.com"]'),
      when("roles", 'key: request.auth.claims[realm_access][roles]\n      values: ["admin"]'),
      when("org", 'key: request.auth.claims[org][name]\n      values: ["acme"]'),
    ].join("---\n"),
    requests: [
      { name: "iss ci@foo.com is allowed", request: http("GET", "/", { auth: jwt({ iss: "ci@foo.com" }) }), expect: { decision: "allow", policy: "foo/iss-suffix" } },
      { name: "nested list realm_access.roles containing admin is allowed", request: http("GET", "/", { auth: jwt({ realm_access: { roles: ["user", "admin"] } }) }), expect: { decision: "allow", policy: "foo/roles" } },
      { name: "nested list without admin is denied", request: http("GET", "/", { auth: jwt({ realm_access: { roles: ["user"] } }) }), expect: { decision: "deny" } },
      { name: "top-level roles claim does not satisfy the nested key", request: http("GET", "/", { auth: jwt({ roles: ["admin"] }) }), expect: { decision: "deny" } },
      { name: "nested string org.name acme is allowed", request: http("GET", "/", { auth: jwt({ org: { name: "acme" } }) }), expect: { decision: "allow", policy: "foo/org" } },
      { name: "nested string org.name acme-corp is denied", request: http("GET", "/", { auth: jwt({ org: { name: "acme-corp" } }) }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "DENY with claims notValues also denies requests without a JWT",
    source: `${ISTIO_SRC}/model/model.go`,
    note: "Extended principal with notValues becomes NOT(claim matcher); without a JWT the metadata is missing, the matcher is false and the NOT is true.",
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: admins-only
  namespace: foo
spec:
  action: DENY
  rules:
  - when:
    - key: request.auth.claims[groups]
      notValues: ["admins"]
`,
    requests: [
      { name: "groups [admins] is allowed", request: http("GET", "/", { auth: jwt({ groups: ["dev", "admins"] }) }), expect: { decision: "allow" } },
      { name: "groups [dev] is denied", request: http("GET", "/", { auth: jwt({ groups: ["dev"] }) }), expect: { decision: "deny", policy: "foo/admins-only" } },
      { name: "no JWT is denied", request: http("GET", "/"), expect: { decision: "deny", policy: "foo/admins-only" } },
    ],
  },
  {
    name: "destination.ip, destination.port and connection.sni",
    source: CONDITIONS,
    policies: [
      when("dip", 'key: destination.ip\n      values: ["10.1.2.3", "10.2.0.0/16"]'),
      when("dport", 'key: destination.port\n      values: ["80", "443"]'),
      when("sni", 'key: connection.sni\n      values: ["www.example.com", "*.internal.example.com"]'),
    ].join("---\n"),
    requests: [
      { name: "destination 10.2.7.7 is allowed", request: http("GET", "/", { dest: { namespace: "foo", labels: { app: "httpbin" }, ip: "10.2.7.7", port: 8000 } }), expect: { decision: "allow", policy: "foo/dip" } },
      { name: "destination port 443 is allowed", request: http("GET", "/", { port: 443 }), expect: { decision: "allow", policy: "foo/dport" } },
      { name: "destination port 8443 is denied", request: http("GET", "/", { port: 8443 }), expect: { decision: "deny" } },
      { name: "SNI www.example.com is allowed", request: http("GET", "/", { sni: "www.example.com" }), expect: { decision: "allow", policy: "foo/sni" } },
      { name: "SNI db.internal.example.com is allowed", request: http("GET", "/", { sni: "db.internal.example.com" }), expect: { decision: "allow", policy: "foo/sni" } },
      { name: "SNI example.com is denied", request: http("GET", "/", { sni: "example.com" }), expect: { decision: "deny" } },
      { name: "no SNI is denied", request: http("GET", "/"), expect: { decision: "deny" } },
    ],
  },
  {
    name: "all when conditions are ANDed",
    source: `${DOCS}/reference/config/security/authorization-policy/#Rule`,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: both
  namespace: foo
spec:
  rules:
  - when:
    - key: request.headers[x-a]
      values: ["1"]
    - key: destination.port
      values: ["8000"]
`,
    requests: [
      { name: "both true is allowed", request: http("GET", "/", { headers: { "x-a": "1" } }), expect: { decision: "allow", policy: "foo/both" } },
      { name: "header missing is denied", request: http("GET", "/"), expect: { decision: "deny" } },
      { name: "other port is denied", request: http("GET", "/", { headers: { "x-a": "1" }, port: 9000 }), expect: { decision: "deny" } },
    ],
  },
];
