/**
 * @module core/policy/corpus/request-principals
 * Cases for JWT-derived sources: `requestPrincipals` (iss/sub split at the last `/`, with wildcards),
 * `notRequestPrincipals`, and claims, from the authz-jwt task and the concepts page.
 */
import { CONCEPTS, DOCS, ISTIO_SRC, http, workload, type CorpusCase } from "./case.ts";

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

export const requestPrincipalCases: CorpusCase[] = [
  {
    name: "authz-jwt task: requestPrincipals, then a list-valued groups claim",
    source: `${DOCS}/tasks/security/authorization/authz-jwt/`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
       requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: require-group
  namespace: bar
spec:
  action: ALLOW
  rules:
  - from:
    - source:
       requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
    when:
    - key: request.auth.claims[groups]
      values: ["group1"]
`,
    requests: [
      { name: "valid token is allowed", request: http("GET", "/headers", { auth: jwt("testing@secure.istio.io", "testing@secure.istio.io", { foo: "bar" }) }), expect: { decision: "allow", policy: "foo/require-jwt" } },
      { name: "no token is denied", request: http("GET", "/headers"), expect: { decision: "deny", policy: null } },
      { name: "groups [group1, group2] is allowed", request: http("GET", "/headers", { dest: workload("bar", { app: "httpbin" }), auth: jwt("testing@secure.istio.io", "testing@secure.istio.io", { groups: ["group1", "group2"], scope: ["scope1", "scope2"] }) }), expect: { decision: "allow", policy: "bar/require-group" } },
      { name: "token without groups is denied", request: http("GET", "/headers", { dest: workload("bar", { app: "httpbin" }), auth: jwt("testing@secure.istio.io", "testing@secure.istio.io", { foo: "bar" }) }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "requestPrincipals wildcards split iss/sub at the last /",
    source: `${ISTIO_SRC}/model/generator.go`,
    note: "requestPrincipalGenerator: value split at strings.LastIndex(\"/\"); *-prefixed with a / = iss suffix (or any) + exact sub; *-suffixed with a / = exact iss + sub prefix (or any); without a / the wildcard applies to sub (leading *) or iss (trailing *).",
    policies: [
      allowFrom("google-any-sub", 'requestPrincipals: ["https://accounts.google.com/*"]'),
      allowFrom("any-iss-admin", 'requestPrincipals: ["*/admin"]'),
      allowFrom("sub-suffix", 'requestPrincipals: ["*@example.com"]'),
      allowFrom("iss-prefix", 'requestPrincipals: ["issuer-a*"]'),
    ].join("---\n"),
    requests: [
      { name: "google issuer, any subject is allowed", request: http("GET", "/", { auth: GOOGLE }), expect: { decision: "allow", policy: "foo/google-any-sub" } },
      { name: "look-alike issuer is denied", request: http("GET", "/", { auth: jwt("https://accounts.google.com.evil.com", "1234") }), expect: { decision: "deny" } },
      { name: "any issuer with subject admin is allowed", request: http("GET", "/", { auth: jwt("https://idp.example.com", "admin") }), expect: { decision: "allow", policy: "foo/any-iss-admin" } },
      { name: "subject superadmin is denied", request: http("GET", "/", { auth: jwt("https://idp.example.com", "superadmin") }), expect: { decision: "deny" } },
      { name: "subject ending @example.com is allowed", request: http("GET", "/", { auth: jwt("https://idp.other", "alice@example.com") }), expect: { decision: "allow", policy: "foo/sub-suffix" } },
      { name: "issuer ending @example.com with another subject is denied", request: http("GET", "/", { auth: jwt("alice@example.com", "bob") }), expect: { decision: "deny" } },
      { name: "issuer starting issuer-a is allowed", request: http("GET", "/", { auth: jwt("issuer-abc", "x") }), expect: { decision: "allow", policy: "foo/iss-prefix" } },
    ],
  },
  {
    name: "exclusion matching: notPaths with requestPrincipals [*]",
    source: CONCEPTS,
    note: "Concepts, disable-jwt-for-healthz: the single ALLOW rule needs both its to and from; /healthz fails notPaths, so with no other ALLOW policy /healthz is denied.",
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: disable-jwt-for-healthz
  namespace: default
spec:
  selector:
    matchLabels:
      app: products
  action: ALLOW
  rules:
  - to:
    - operation:
        notPaths: ["/healthz"]
    from:
    - source:
        requestPrincipals: ["*"]
`,
    requests: [
      { name: "/api with a JWT is allowed", request: http("GET", "/api", { dest: workload("default", { app: "products" }), auth: GOOGLE }), expect: { decision: "allow" } },
      { name: "/api without a JWT is denied", request: http("GET", "/api", { dest: workload("default", { app: "products" }) }), expect: { decision: "deny" } },
      { name: "/healthz without a JWT is denied", request: http("GET", "/healthz", { dest: workload("default", { app: "products" }) }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "exclusion matching: DENY /admin without a request principal",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: enable-jwt-for-admin
  namespace: default
spec:
  selector:
    matchLabels:
      app: products
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin"]
    from:
    - source:
        notRequestPrincipals: ["*"]
`,
    requests: [
      { name: "/admin without a JWT is denied", request: http("GET", "/admin", { dest: workload("default", { app: "products" }) }), expect: { decision: "deny", policy: "default/enable-jwt-for-admin" } },
      { name: "/admin with a JWT is allowed", request: http("GET", "/admin", { dest: workload("default", { app: "products" }), auth: GOOGLE }), expect: { decision: "allow" } },
      { name: "/other without a JWT is allowed", request: http("GET", "/other", { dest: workload("default", { app: "products" }) }), expect: { decision: "allow" } },
    ],
  },
];
