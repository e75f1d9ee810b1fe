/**
 * @module adapters/istio/corpus/security
 * Istio's own examples (authorization policy, peer authentication, request authentication) as its documentation prints them: the reference pages
 * (generated from the istio/api proto comments) and the tasks and Bookinfo samples they use. Data for the
 * round-trip tests (`../roundtrip.test.ts`, `interop-tests/istio/roundtrip.test.ts`); `losses` lists the
 * fields a case is expected to report as lost.
 */
import type { CorpusCase } from "./case.ts";

export const securityCorpus: CorpusCase[] = [
  {
    name: "AuthorizationPolicy reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
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
  },
  {
    name: "AuthorizationPolicy reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  action: DENY
  rules:
  - from:
    - source:
        namespaces: ["dev"]
    to:
    - operation:
        methods: ["POST"]
`,
  },
  {
    name: "AuthorizationPolicy reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["POST"]
        ports: ["8080"]
`,
  },
  {
    name: "AuthorizationPolicy reference: authorization_policy-3",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  namespace: ns1
  name: anyname
spec:
  selector:
    matchLabels:
      app: myapi
  action: AUDIT
  rules:
  - to:
    - operation:
        methods: ["GET"]
        paths: ["/user/profile/*"]
`,
  },
  {
    name: "AuthorizationPolicy reference: allow-nothing",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
 name: allow-nothing
 namespace: foo
spec:
  {}
`,
  },
  {
    name: "AuthorizationPolicy reference: allow-all",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
 name: allow-all
 namespace: foo
spec:
 rules:
 - {}
`,
  },
  {
    name: "AuthorizationPolicy reference: allow-nothing",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: bar
spec:
  selector:
    matchLabels:
      app: httpbin
`,
  },
  {
    name: "AuthorizationPolicy reference: allow-nothing",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
 name: allow-nothing
 namespace: istio-system
spec:
 selector:
   matchLabels:
     version: v1
`,
  },
  {
    name: "AuthorizationPolicy reference: dry-run-example",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: dry-run-example
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
`,
  },
  {
    name: "AuthorizationPolicy reference: ext-authz",
    source: "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
    yaml: `
apiVersion: security.istio.io/v1
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
  },
  {
    name: "PeerAuthentication reference: default",
    source: "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  mtls:
    mode: STRICT
`,
  },
  {
    name: "PeerAuthentication reference: default",
    source: "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  mtls:
    mode: PERMISSIVE
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: finance
  namespace: foo
spec:
  selector:
    matchLabels:
      app: finance
  mtls:
    mode: STRICT
`,
  },
  {
    name: "PeerAuthentication reference: default",
    source: "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  selector:
    matchLabels:
      app: finance
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
`,
  },
  {
    name: "PeerAuthentication reference: default",
    source: "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  selector:
    matchLabels:
      app: finance
  mtls:
    mode: UNSET
  portLevelMtls:
    8080:
      mode: DISABLE
`,
  },
  {
    name: "RequestAuthentication reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/security/request_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
`,
  },
  {
    name: "RequestAuthentication reference: req-authn-for-all",
    source: "https://istio.io/latest/docs/reference/config/security/request_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: req-authn-for-all
  namespace: istio-system
spec:
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt-for-all
  namespace: istio-system
spec:
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
`,
  },
  {
    name: "RequestAuthentication reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/security/request_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "issuer-foo"
  - issuer: "issuer-bar"
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  rules:
  - from:
    - source:
        requestPrincipals: ["issuer-foo/*"]
    to:
    - operation:
        hosts: ["example.com"]
  - from:
    - source:
        requestPrincipals: ["issuer-bar/*"]
    to:
    - operation:
        hosts: ["another-host.com"]
`,
  },
  {
    name: "RequestAuthentication reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/security/request_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
  - to:
    - operation:
        paths: ["/healthz"]
`,
  },
  {
    name: "RequestAuthentication reference: jwt-on-ingress",
    source: "https://istio.io/latest/docs/reference/config/security/request_authentication/",
    yaml: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt-on-ingress
  namespace: istio-system
spec:
  selector:
    matchLabels:
      app: istio-ingressgateway
  jwtRules:
  - issuer: "example.com"
    jwksUri: https://example.com/.well-known/jwks.json
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: istio-system
spec:
  selector:
    matchLabels:
      app: istio-ingressgateway
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: route-jwt
spec:
  hosts:
  - foo.prod.svc.cluster.local
  gateways:
  - istio-ingressgateway
  http:
  - name: "v2"
    match:
    - headers:
        "@request.auth.claims.sub":
          exact: "dev"
    route:
    - destination:
        host: foo.prod.svc.cluster.local
        subset: v2
  - name: "default"
    route:
    - destination:
        host: foo.prod.svc.cluster.local
        subset: v1
`,
  },
  {
    name: "Mutual TLS migration task: default",
    source: "https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/",
    yaml: `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: httpbin
  namespace: bar
spec:
  selector:
    matchLabels:
      app: httpbin
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
`,
  },
  {
    name: "Authentication policy task: jwt-example",
    source: "https://istio.io/latest/docs/tasks/security/authentication/authn-policy/",
    yaml: `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt-example
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: "testing@secure.istio.io"
    jwksUri: "https://raw.githubusercontent.com/istio/istio/master/security/tools/jwt/samples/jwks.json"
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: frontend-ingress
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: DENY
  rules:
  - from:
    - source:
        notRequestPrincipals: ["*"]
`,
  },
];
