/**
 * @module core/policy/corpus/custom-audit
 * Cases for the actions that do not simply allow or deny: AUDIT (flags, never decides), CUSTOM (an external
 * provider asked first, only when its rules match) and dry-run policies (evaluated, never enforced).
 */
import { DOCS, ISTIO_SRC, REF, http, tcp, workload, type CorpusCase } from "./case.ts";

const INGRESS = workload("istio-system", { app: "istio-ingressgateway", istio: "ingressgateway" }, 8080);

export const customAuditCases: CorpusCase[] = [
  {
    name: "AUDIT flags matching requests but never decides",
    source: REF,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  namespace: foo
  name: audit-profile
spec:
  selector:
    matchLabels:
      app: httpbin
  action: AUDIT
  rules:
  - to:
    - operation:
        methods: ["GET"]
        paths: ["/user/profile/*"]
`,
    requests: [
      { name: "GET /user/profile/1 is allowed and audited", request: http("GET", "/user/profile/1"), expect: { decision: "allow", audit: true, policy: null } },
      { name: "POST /user/profile/1 is allowed and not audited", request: http("POST", "/user/profile/1"), expect: { decision: "allow", audit: false } },
      { name: "GET /user/other is not audited", request: http("GET", "/user/other"), expect: { decision: "allow", audit: false } },
    ],
  },
  {
    name: "AUDIT with allow-nothing: denied and still audited",
    source: REF,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  namespace: foo
  name: audit-all
spec:
  action: AUDIT
  rules:
  - {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  namespace: foo
  name: allow-nothing
spec: {}
`,
    requests: [
      { name: "GET is denied and audited", request: http("GET", "/"), expect: { decision: "deny", audit: true, policy: null } },
      { name: "TCP is denied and audited", request: tcp(9000), expect: { decision: "deny", audit: true } },
    ],
  },
  {
    name: "AUDIT without rules audits nothing",
    source: `${ISTIO_SRC}/builder/builder.go`,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  namespace: foo
  name: audit-nothing
spec:
  action: AUDIT
`,
    requests: [
      { name: "GET is allowed and not audited", request: http("GET", "/"), expect: { decision: "allow", audit: false } },
    ],
  },
  {
    name: "CUSTOM is evaluated first, and only when its rules match",
    source: REF,
    note: "Reference page, Action CUSTOM example: ext-authz in istio-system for the ingress gateway, paths /admin/*.",
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: ext-authz
  namespace: istio-system
spec:
  selector:
    matchLabels:
      app: istio-ingressgateway
  action: CUSTOM
  provider:
    name: "my-custom-authz"
  rules:
  - to:
    - operation:
        paths: ["/admin/*"]
`,
    requests: [
      { name: "/admin/users denied by the provider is denied", request: http("GET", "/admin/users", { dest: INGRESS, principal: null }), customDecision: "deny", expect: { decision: "deny", custom: "my-custom-authz", policy: "istio-system/ext-authz" } },
      { name: "/admin/users allowed by the provider is allowed", request: http("GET", "/admin/users", { dest: INGRESS, principal: null }), customDecision: "allow", expect: { decision: "allow", custom: "my-custom-authz" } },
      { name: "/public is not sent to the provider", request: http("GET", "/public", { dest: INGRESS, principal: null }), customDecision: "deny", expect: { decision: "allow", custom: null } },
      { name: "other workloads are not selected", request: http("GET", "/admin/users"), customDecision: "deny", expect: { decision: "allow", custom: null } },
    ],
  },
  {
    name: "CUSTOM allow cannot bypass DENY or default-deny",
    source: REF,
    note: "Reference, Action CUSTOM: a request is allowed if and only if all the actions return allow.",
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ext-authz
  namespace: foo
spec:
  action: CUSTOM
  provider:
    name: sample-ext-authz-grpc
  rules:
  - {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-delete
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["DELETE"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-get
  namespace: foo
spec:
  rules:
  - to:
    - operation:
        methods: ["GET"]
`,
    requests: [
      { name: "provider allows, ALLOW matches: allowed", request: http("GET", "/"), customDecision: "allow", expect: { decision: "allow", custom: "sample-ext-authz-grpc", policy: "foo/allow-get" } },
      { name: "provider allows, DENY matches: denied", request: http("DELETE", "/"), customDecision: "allow", expect: { decision: "deny", custom: "sample-ext-authz-grpc", policy: "foo/deny-delete" } },
      { name: "provider allows, no ALLOW matches: denied", request: http("POST", "/"), customDecision: "allow", expect: { decision: "deny", custom: "sample-ext-authz-grpc", policy: null } },
      { name: "provider denies a request ALLOW would allow: denied", request: http("GET", "/"), customDecision: "deny", expect: { decision: "deny", custom: "sample-ext-authz-grpc", policy: "foo/ext-authz" } },
    ],
  },
  {
    name: "authz-custom task: ext-authz on /headers",
    source: `${DOCS}/tasks/security/authorization/authz-custom/`,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ext-authz
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: CUSTOM
  provider:
    name: sample-ext-authz-grpc
  rules:
  - to:
    - operation:
        paths: ["/headers"]
`,
    requests: [
      { name: "/headers with x-ext-authz: deny is denied", request: http("GET", "/headers", { headers: { "x-ext-authz": "deny" } }), customDecision: "deny", expect: { decision: "deny", custom: "sample-ext-authz-grpc" } },
      { name: "/headers with x-ext-authz: allow is allowed", request: http("GET", "/headers", { headers: { "x-ext-authz": "allow" } }), customDecision: "allow", expect: { decision: "allow", custom: "sample-ext-authz-grpc" } },
      { name: "/ip is not checked by the provider", request: http("GET", "/ip", { headers: { "x-ext-authz": "deny" } }), customDecision: "deny", expect: { decision: "allow", custom: null } },
    ],
  },
  {
    name: "dry-run policies are evaluated but never enforced",
    source: `${DOCS}/tasks/security/authorization/authz-dry-run/`,
    note: "builder.go: istio.io/dry-run policies go to shadow rules; with only dry-run ALLOW policies the enforced ALLOW filter is nil, so the workload is not deny-by-default.",
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-path-headers
  namespace: foo
  annotations:
    "istio.io/dry-run": "true"
spec:
  selector:
    matchLabels:
      app: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/headers"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing-dry
  namespace: foo
  annotations:
    istio.io/dry-run: "true"
spec: {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-delete
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["DELETE"]
`,
    requests: [
      { name: "GET /headers is allowed (dry-run DENY)", request: http("GET", "/headers"), expect: { decision: "allow", policy: null } },
      { name: "GET /ip is allowed (dry-run allow-nothing)", request: http("GET", "/ip"), expect: { decision: "allow", policy: null } },
      { name: "DELETE is denied by the enforced policy", request: http("DELETE", "/headers"), expect: { decision: "deny", policy: "foo/deny-delete" } },
    ],
  },
];
