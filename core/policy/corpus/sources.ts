/**
 * @module core/policy/corpus/sources
 * Cases for `from.source`: peer principals against SPIFFE URIs, namespaces derived from the principal, plaintext
 * peers, service accounts and IP blocks (direct and remote, IPv4 and IPv6). JWT sources are in request-principals.ts.
 */
import { CONCEPTS, DOCS, ISTIO_SRC, REF, http, spiffe, workload, type CorpusCase } from "./case.ts";

const INGRESS_SA = spiffe("istio-system", "istio-ingressgateway-service-account");
const INGRESS = workload("istio-system", { app: "istio-ingressgateway", istio: "ingressgateway" }, 8080);
const GOOGLE = { principal: "https://accounts.google.com/1234", claims: { iss: "https://accounts.google.com", sub: "1234" } };
const jwt = (iss: string, sub: string, claims: Record<string, unknown> = {}) => ({ principal: `${iss}/${sub}`, claims: { iss, sub, ...claims } });

const allowFrom = (name: string, source: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: foo
spec:
  rules:
  - from:
    - source:
        ${source}
`;

export const sourceCases: CorpusCase[] = [
  {
    name: "reference example: principal or namespace, per-operation methods and paths, iss claim",
    source: REF,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    - source:
        namespaces: ["test"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*"]
    - operation:
        methods: ["POST"]
        paths: ["/data"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
`,
    requests: [
      { name: "sleep GET /info/1 with a Google JWT is allowed", request: http("GET", "/info/1", { principal: spiffe("default", "sleep"), auth: GOOGLE }), expect: { decision: "allow", policy: "foo/httpbin" } },
      { name: "sleep GET /info without a JWT is denied", request: http("GET", "/info", { principal: spiffe("default", "sleep") }), expect: { decision: "deny", policy: null } },
      { name: "namespace test POST /data is allowed", request: http("POST", "/data", { principal: spiffe("test", "anyone"), auth: GOOGLE }), expect: { decision: "allow" } },
      { name: "POST /info is denied (operations are not mixed)", request: http("POST", "/info", { principal: spiffe("default", "sleep"), auth: GOOGLE }), expect: { decision: "deny" } },
      { name: "GET /data is denied", request: http("GET", "/data", { principal: spiffe("test", "anyone"), auth: GOOGLE }), expect: { decision: "deny" } },
      { name: "another service account in default is denied", request: http("GET", "/info", { principal: spiffe("default", "other"), auth: GOOGLE }), expect: { decision: "deny" } },
      { name: "plaintext is denied", request: http("GET", "/info", { principal: null, auth: GOOGLE }), expect: { decision: "deny" } },
      { name: "another issuer is denied", request: http("GET", "/info", { principal: spiffe("default", "sleep"), auth: jwt("https://evil.example", "1234") }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "principals: prefix, suffix and presence forms against spiffe:// URIs",
    source: `${ISTIO_SRC}/matcher/string.go`,
    note: "StringMatcherWithPrefix(v, \"spiffe://\"): exact and prefix get spiffe:// prepended, *x becomes regex spiffe://.*x, * becomes .+ (any authenticated peer).",
    policies: [
      allowFrom("prefix", 'principals: ["cluster.local/ns/prod/*"]'),
      allowFrom("suffix", 'principals: ["*/sa/admin"]'),
    ].join("---\n"),
    requests: [
      { name: "prefix: prod/sa/a is allowed", request: http("GET", "/", { principal: spiffe("prod", "a") }), expect: { decision: "allow", policy: "foo/prefix" } },
      { name: "prefix: prod-2 is denied", request: http("GET", "/", { principal: spiffe("prod-2", "a") }), expect: { decision: "deny" } },
      { name: "suffix: admin in any trust domain is allowed", request: http("GET", "/", { principal: spiffe("x", "admin", "other.td") }), expect: { decision: "allow", policy: "foo/suffix" } },
      { name: "suffix: admin2 is denied", request: http("GET", "/", { principal: spiffe("x", "admin2") }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "principals [\"*\"] allows only authenticated (mTLS) peers",
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
       principals: ["*"]
   to:
   - operation:
       methods: ["GET", "POST"]
`,
    requests: [
      { name: "mTLS GET is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: "foo/httpbin" } },
      { name: "plaintext GET is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "require mTLS with DENY notPrincipals [\"*\"]",
    source: `${DOCS}/ops/configuration/security/security-policy-examples/`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: require-mtls
  namespace: foo
spec:
  action: DENY
  rules:
  - from:
    - source:
        notPrincipals: ["*"]
`,
    requests: [
      { name: "plaintext is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny", policy: "foo/require-mtls" } },
      { name: "mTLS is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "notPrincipals in an ALLOW policy also matches plaintext peers",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "srcPrincipalGenerator emits an Envoy Authenticated matcher, which is false without TLS; notPrincipals wraps it in NOT, so a plaintext peer matches. This is the bypass the 2021-004 advisory warns about (concepts: Dependency on mutual TLS).",
    policies: allowFrom("not-evil", 'notPrincipals: ["cluster.local/ns/foo/sa/evil"]'),
    requests: [
      { name: "evil is denied", request: http("GET", "/", { principal: spiffe("foo", "evil") }), expect: { decision: "deny" } },
      { name: "sleep is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: "foo/not-evil" } },
      { name: "plaintext is allowed", request: http("GET", "/", { principal: null }), expect: { decision: "allow", policy: "foo/not-evil" } },
    ],
  },
  {
    name: "namespace isolation: namespaces [foo]",
    source: `${DOCS}/ops/configuration/security/security-policy-examples/`,
    note: "srcNamespaceGenerator matches the peer principal against regex .*/ns/<ns>/.*, so the namespace must be a whole path segment and plaintext never matches.",
    policies: allowFrom("foo-isolation", 'namespaces: ["foo"]'),
    requests: [
      { name: "from foo is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: "foo/foo-isolation" } },
      { name: "from bar is denied", request: http("GET", "/", { principal: spiffe("bar", "sleep") }), expect: { decision: "deny" } },
      { name: "from foo-bar is denied", request: http("GET", "/", { principal: spiffe("foo-bar", "sleep") }), expect: { decision: "deny" } },
      { name: "from foo in another trust domain is allowed", request: http("GET", "/", { principal: spiffe("foo", "sleep", "other.td") }), expect: { decision: "allow" } },
      { name: "plaintext is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "namespace isolation with an ingress exception (ALLOW and DENY forms)",
    source: `${DOCS}/ops/configuration/security/security-policy-examples/`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: ns-isolation-except-ingress
  namespace: foo
spec:
  action: DENY
  rules:
  - from:
    - source:
        notNamespaces: ["foo"]
        notPrincipals: ["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"]
`,
    requests: [
      { name: "from bar is denied", request: http("GET", "/", { principal: spiffe("bar", "sleep") }), expect: { decision: "deny", policy: "foo/ns-isolation-except-ingress" } },
      { name: "from the ingress gateway is allowed", request: http("GET", "/", { principal: INGRESS_SA }), expect: { decision: "allow" } },
      { name: "from foo is allowed", request: http("GET", "/"), expect: { decision: "allow" } },
      { name: "plaintext is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "namespaces with wildcards",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "srcNamespaceGenerator replaces * with .* inside .*/ns/<ns>/.*; [\"*\"] therefore means any mTLS peer with a namespace.",
    policies: [
      allowFrom("team", 'namespaces: ["team-*", "*-prod"]'),
      allowFrom("any-ns", 'namespaces: ["*"]').replace("namespace: foo", "namespace: bar"),
    ].join("---\n"),
    requests: [
      { name: "team-a is allowed", request: http("GET", "/", { principal: spiffe("team-a", "x") }), expect: { decision: "allow", policy: "foo/team" } },
      { name: "web-prod is allowed", request: http("GET", "/", { principal: spiffe("web-prod", "x") }), expect: { decision: "allow", policy: "foo/team" } },
      { name: "prod-web is denied", request: http("GET", "/", { principal: spiffe("prod-web", "x") }), expect: { decision: "deny" } },
      { name: "[*]: any mTLS peer reaches bar", request: http("GET", "/", { dest: workload("bar", { app: "x" }), principal: spiffe("zzz", "x") }), expect: { decision: "allow", policy: "bar/any-ns" } },
      { name: "[*]: plaintext to bar is denied", request: http("GET", "/", { dest: workload("bar", { app: "x" }), principal: null }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "serviceAccounts: ns/sa of the peer",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "serviceAccountRegex: spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)? - the service account must be whole.",
    policies: allowFrom("sa", 'serviceAccounts: ["foo/sleep"]'),
    requests: [
      { name: "foo/sleep is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: "foo/sa" } },
      { name: "foo/sleep-v2 is denied", request: http("GET", "/", { principal: spiffe("foo", "sleep-v2") }), expect: { decision: "deny" } },
      { name: "bar/sleep is denied", request: http("GET", "/", { principal: spiffe("bar", "sleep") }), expect: { decision: "deny" } },
      { name: "plaintext is denied", request: http("GET", "/", { principal: null }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "ipBlocks: IPv4 and IPv6 CIDRs and single addresses against the direct peer",
    source: REF,
    policies: allowFrom("ips", 'ipBlocks: ["10.1.0.0/16", "192.168.1.7", "2001:db8::/32", "fd00::1"]'),
    requests: [
      { name: "10.1.200.3 is allowed", request: http("GET", "/", { ip: "10.1.200.3" }), expect: { decision: "allow", policy: "foo/ips" } },
      { name: "10.2.0.1 is denied", request: http("GET", "/", { ip: "10.2.0.1" }), expect: { decision: "deny" } },
      { name: "192.168.1.7 is allowed", request: http("GET", "/", { ip: "192.168.1.7" }), expect: { decision: "allow" } },
      { name: "192.168.1.8 is denied", request: http("GET", "/", { ip: "192.168.1.8" }), expect: { decision: "deny" } },
      { name: "2001:db8:1::5 is allowed", request: http("GET", "/", { ip: "2001:db8:1::5" }), expect: { decision: "allow" } },
      { name: "2001:db9::1 is denied", request: http("GET", "/", { ip: "2001:db9::1" }), expect: { decision: "deny" } },
      { name: "fd00::1 is allowed", request: http("GET", "/", { ip: "fd00::1" }), expect: { decision: "allow" } },
      { name: "ipBlocks ignores the forwarded client address", request: http("GET", "/", { ip: "172.16.0.1", remoteIp: "10.1.0.1" }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "DENY notIpBlocks",
    source: REF,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: only-internal
  namespace: foo
spec:
  action: DENY
  rules:
  - from:
    - source:
        notIpBlocks: ["10.0.0.0/8"]
`,
    requests: [
      { name: "10.9.8.7 is allowed", request: http("GET", "/", { ip: "10.9.8.7" }), expect: { decision: "allow" } },
      { name: "172.16.0.1 is denied", request: http("GET", "/", { ip: "172.16.0.1" }), expect: { decision: "deny", policy: "foo/only-internal" } },
    ],
  },
  {
    name: "authz-ingress: remoteIpBlocks use the original client address",
    source: `${DOCS}/tasks/security/authorization/authz-ingress/`,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ingress-policy
  namespace: istio-system
spec:
  selector:
    matchLabels:
      app: istio-ingressgateway
  action: ALLOW
  rules:
  - from:
    - source:
        remoteIpBlocks: ["203.0.113.0/24"]
`,
    requests: [
      { name: "client 203.0.113.7 behind a load balancer is allowed", request: http("GET", "/headers", { dest: INGRESS, principal: null, ip: "10.0.0.1", remoteIp: "203.0.113.7" }), expect: { decision: "allow", policy: "istio-system/ingress-policy" } },
      { name: "client 198.51.100.1 is denied", request: http("GET", "/headers", { dest: INGRESS, principal: null, ip: "10.0.0.1", remoteIp: "198.51.100.1" }), expect: { decision: "deny" } },
      { name: "without a forwarded address the direct peer is used", request: http("GET", "/headers", { dest: INGRESS, principal: null, ip: "203.0.113.9" }), expect: { decision: "allow" } },
    ],
  },
  {
    name: "authz-ingress: DENY remoteIpBlocks",
    source: `${DOCS}/tasks/security/authorization/authz-ingress/`,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ingress-policy
  namespace: istio-system
spec:
  selector:
    matchLabels:
      app: istio-ingressgateway
  action: DENY
  rules:
  - from:
    - source:
        remoteIpBlocks: ["203.0.113.0/24", "2001:db8:abcd::/48"]
`,
    requests: [
      { name: "client 203.0.113.5 is denied", request: http("GET", "/", { dest: INGRESS, principal: null, ip: "10.0.0.1", remoteIp: "203.0.113.5" }), expect: { decision: "deny", policy: "istio-system/ingress-policy" } },
      { name: "IPv6 client in 2001:db8:abcd::/48 is denied", request: http("GET", "/", { dest: INGRESS, principal: null, ip: "10.0.0.1", remoteIp: "2001:db8:abcd:12::1" }), expect: { decision: "deny" } },
      { name: "other clients are allowed", request: http("GET", "/", { dest: INGRESS, principal: null, ip: "203.0.113.5", remoteIp: "198.51.100.3" }), expect: { decision: "allow" } },
    ],
  },
];
