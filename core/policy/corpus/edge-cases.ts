/**
 * @module core/policy/corpus/edge-cases
 * Less obvious consequences of how Istio compiles policies to Envoy RBAC: CIDR corner cases, case-sensitive
 * methods, a spiffe:// prefix written into a policy, empty {**} tails, negated conditions on plaintext peers,
 * and AUDIT alongside DENY.
 */
import { ISTIO_SRC, REF, http, spiffe, tcp, type CorpusCase } from "./case.ts";

const policy = (name: string, spec: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: foo
spec:
${spec}`;

export const edgeCases: CorpusCase[] = [
  {
    name: "CIDRs: host bits, 0.0.0.0/0 is IPv4-only, ::/0",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "srcIPGenerator builds an Envoy CidrRange {address_prefix, prefix_len}; Envoy compares the first prefix_len bits, so host bits in the address are irrelevant, and an IPv4 range never matches an IPv6 peer.",
    policies: [
      policy("host-bits", `  rules:
  - from:
    - source:
        ipBlocks: ["10.1.2.3/16"]
`),
      policy("all-v4", `  rules:
  - from:
    - source:
        ipBlocks: ["0.0.0.0/0"]
    to:
    - operation:
        paths: ["/v4"]
`),
      policy("all-v6", `  rules:
  - from:
    - source:
        ipBlocks: ["::/0"]
    to:
    - operation:
        paths: ["/v6"]
`),
    ].join("---\n"),
    requests: [
      { name: "10.1.99.99 is in 10.1.2.3/16", request: http("GET", "/x", { ip: "10.1.99.99" }), expect: { decision: "allow", policy: "foo/host-bits" } },
      { name: "10.2.2.3 is not", request: http("GET", "/x", { ip: "10.2.2.3" }), expect: { decision: "deny" } },
      { name: "IPv4 peer on /v4 is allowed", request: http("GET", "/v4", { ip: "192.0.2.1" }), expect: { decision: "allow", policy: "foo/all-v4" } },
      { name: "IPv6 peer on /v4 is denied", request: http("GET", "/v4", { ip: "2001:db8::1" }), expect: { decision: "deny" } },
      { name: "IPv6 peer on /v6 is allowed", request: http("GET", "/v6", { ip: "2001:db8::1" }), expect: { decision: "allow", policy: "foo/all-v6" } },
      { name: "IPv4 peer on /v6 is denied", request: http("GET", "/v6", { ip: "192.0.2.1" }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "methods are matched case-sensitively",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "methodGenerator is an exact :method header match without ignore_case; Istio rejects non-upper-case request methods (normalization page), so a lower-case policy value never matches.",
    policies: policy("deny-get-lower", `  action: DENY
  rules:
  - to:
    - operation:
        methods: ["get"]
`),
    requests: [
      { name: "GET is not denied by [get]", request: http("GET", "/"), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "a principal written with spiffe:// matches nothing",
    source: `${ISTIO_SRC}/matcher/string.go`,
    note: "StringMatcherWithPrefix always prepends spiffe://, so spiffe://cluster.local/... in a policy becomes spiffe://spiffe://cluster.local/...; the reference says principals are written <TRUST_DOMAIN>/ns/<NAMESPACE>/sa/<SERVICE_ACCOUNT>.",
    policies: policy("with-scheme", `  rules:
  - from:
    - source:
        principals: ["spiffe://cluster.local/ns/foo/sa/sleep"]
`),
    requests: [
      { name: "sleep is denied", request: http("GET", "/"), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "{**} at the end also matches an empty tail",
    source: `${ISTIO_SRC}/matcher/template.go`,
    note: "{**} becomes the uri_template ** operator, which matches zero or more path segments.",
    policies: policy("files", `  rules:
  - to:
    - operation:
        paths: ["/files/{**}"]
`),
    requests: [
      { name: "/files/ is allowed", request: http("GET", "/files/"), expect: { decision: "allow", policy: "foo/files" } },
      { name: "/files/a/b is allowed", request: http("GET", "/files/a/b"), expect: { decision: "allow", policy: "foo/files" } },
    ],
  },
  {
    name: "negated source conditions match plaintext peers",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "source.namespace and source.principal compile to Envoy Authenticated matchers (false without TLS); notValues negates them, so a plaintext peer satisfies notValues. Concepts: use these fields only with STRICT mTLS.",
    policies: policy("not-from-bar", `  action: DENY
  rules:
  - when:
    - key: source.namespace
      notValues: ["foo"]
`),
    requests: [
      { name: "plaintext is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny", policy: "foo/not-from-bar" } },
      { name: "from foo is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: null } },
      { name: "from bar is denied", request: http("GET", "/", { principal: spiffe("bar", "x") }), expect: { decision: "deny", policy: "foo/not-from-bar" } },
    ],
  },
  {
    name: "AUDIT is flagged even when DENY decides",
    source: REF,
    note: "builder.go emits the AUDIT (RBAC LOG) filter before the DENY filter, so the audit mark is set on denied requests too.",
    policies: `${policy("audit-all", `  action: AUDIT
  rules:
  - {}
`)}---${policy("deny-post", `  action: DENY
  rules:
  - to:
    - operation:
        methods: ["POST"]
`)}`,
    requests: [
      { name: "POST is denied and audited", request: http("POST", "/"), expect: { decision: "deny", audit: true, policy: "foo/deny-post" } },
      { name: "GET is allowed and audited", request: http("GET", "/"), expect: { decision: "allow", audit: true, policy: null } },
    ],
  },
  {
    name: "destination.ip with IPv6 and remote.ip notValues",
    source: `${REF.replace("authorization-policy/", "conditions/")}`,
    policies: `${policy("v6-dest", `  rules:
  - when:
    - key: destination.ip
      values: ["fd00:10::/64"]
`)}---${policy("not-blocked-client", `  action: DENY
  rules:
  - when:
    - key: remote.ip
      notValues: ["198.51.100.0/24", "203.0.113.0/24"]
    - key: destination.port
      values: ["8443"]
`)}`,
    requests: [
      { name: "destination fd00:10::5 is allowed", request: http("GET", "/", { dest: { namespace: "foo", labels: { app: "httpbin" }, ip: "fd00:10::5", port: 8000 } }), expect: { decision: "allow", policy: "foo/v6-dest" } },
      { name: "destination fd00:11::5 is denied", request: http("GET", "/", { dest: { namespace: "foo", labels: { app: "httpbin" }, ip: "fd00:11::5", port: 8000 } }), expect: { decision: "deny", policy: null } },
      { name: "unknown client on 8443 is denied", request: tcp(8443, { ip: "10.0.0.1", remoteIp: "192.0.2.44" }), expect: { decision: "deny", policy: "foo/not-blocked-client" } },
      { name: "known client on 8443 is not denied (then default-deny)", request: http("GET", "/", { port: 8443, ip: "10.0.0.1", remoteIp: "203.0.113.9" }), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "several DENY rules: any matching rule denies",
    source: REF,
    policies: policy("deny-several", `  action: DENY
  rules:
  - from:
    - source:
        namespaces: ["dev"]
    to:
    - operation:
        methods: ["POST"]
  - to:
    - operation:
        paths: ["/debug/*"]
`),
    requests: [
      { name: "POST from dev is denied", request: http("POST", "/", { principal: spiffe("dev", "x") }), expect: { decision: "deny", policy: "foo/deny-several" } },
      { name: "POST from prod is allowed", request: http("POST", "/", { principal: spiffe("prod", "x") }), expect: { decision: "allow", policy: null } },
      { name: "GET /debug/pprof from prod is denied", request: http("GET", "/debug/pprof", { principal: spiffe("prod", "x") }), expect: { decision: "deny", policy: "foo/deny-several" } },
    ],
  },
  {
    name: "only string and list-of-string claims can match",
    source: "https://github.com/istio/istio/issues/39703",
    note: "Conditions page: request.auth.claims supports string and list-of-string claims. The values are Envoy string matchers on the JWT payload in metadata, so a boolean or number claim never equals the string \"true\" or \"3\".",
    policies: policy("claims-typed", `  rules:
  - when:
    - key: request.auth.claims[email_verified]
      values: ["true"]
  - when:
    - key: request.auth.claims[level]
      values: ["3"]
  - when:
    - key: request.auth.claims[tier]
      values: ["gold"]
`),
    requests: [
      { name: "boolean true is not \"true\"", request: http("GET", "/", { auth: { principal: "iss/sub", claims: { iss: "iss", sub: "sub", email_verified: true } } }), expect: { decision: "deny", policy: null } },
      { name: "number 3 is not \"3\"", request: http("GET", "/", { auth: { principal: "iss/sub", claims: { iss: "iss", sub: "sub", level: 3 } } }), expect: { decision: "deny", policy: null } },
      { name: "string \"true\" matches", request: http("GET", "/", { auth: { principal: "iss/sub", claims: { iss: "iss", sub: "sub", email_verified: "true" } } }), expect: { decision: "allow", policy: "foo/claims-typed" } },
      { name: "string tier gold matches", request: http("GET", "/", { auth: { principal: "iss/sub", claims: { iss: "iss", sub: "sub", tier: "gold" } } }), expect: { decision: "allow", policy: "foo/claims-typed" } },
    ],
  },
  {
    name: "a * inside a value is a literal character",
    source: `${ISTIO_SRC}/matcher/string.go`,
    note: "StringMatcherWithPrefix only treats a leading or trailing * (or a lone *) as a wildcard; anything else is an exact match, and CheckValidPathTemplate applies only to {*}/{**} templates.",
    policies: `${policy("mid-star-principal", `  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/*/sa/sleep"]
`)}---${policy("mid-star-path", `  rules:
  - to:
    - operation:
        paths: ["/api/*/users"]
`)}`,
    requests: [
      { name: "sleep in foo does not match ns/*/sa/sleep", request: http("GET", "/"), expect: { decision: "deny", policy: null } },
      { name: "/api/v1/users does not match /api/*/users", request: http("GET", "/api/v1/users", { principal: null }), expect: { decision: "deny", policy: null } },
      { name: "the literal path /api/*/users matches", request: http("GET", "/api/*/users", { principal: null }), expect: { decision: "allow", policy: "foo/mid-star-path" } },
    ],
  },
  {
    name: "ports are compared as numbers",
    source: `${ISTIO_SRC}/model/util.go`,
    note: "convertToPort parses the string with strconv.ParseUint(v, 10, 32), so 08080 is port 8080.",
    policies: policy("leading-zero", `  rules:
  - to:
    - operation:
        ports: ["08080"]
  - when:
    - key: destination.port
      values: ["0443"]
`),
    requests: [
      { name: "port 8080 matches 08080", request: tcp(8080), expect: { decision: "allow", policy: "foo/leading-zero" } },
      { name: "port 443 matches 0443", request: tcp(443), expect: { decision: "allow", policy: "foo/leading-zero" } },
      { name: "port 80 matches neither", request: tcp(80), expect: { decision: "deny", policy: null } },
    ],
  },
];
