/**
 * @module core/policy/corpus/evaluation-order
 * Cases for the order Istio evaluates ALLOW and DENY (DENY first, then "no ALLOW policy means allow", then ALLOW,
 * else deny) and the empty-spec / empty-rule special forms. CUSTOM, AUDIT and dry-run live in custom-audit.ts.
 */
import { CONCEPTS, DOCS, ISTIO_SRC, REF, http, spiffe, tcp, workload, type CorpusCase } from "./case.ts";

const BOOKINFO = (app: string) => workload("default", { app }, 9080);
const PRODUCTPAGE_SA = spiffe("default", "bookinfo-productpage");
const REVIEWS_SA = spiffe("default", "bookinfo-reviews");
const INGRESS_SA = spiffe("istio-system", "istio-ingressgateway-service-account");

const viewer = (name: string, app: string, principal?: string) => `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: default
spec:
  selector:
    matchLabels:
      app: ${app}
  action: ALLOW
  rules:
  - ${principal ? `from:
    - source:
        principals: ["${principal}"]
    ` : ""}to:
    - operation:
        methods: ["GET"]
`;

const DENY_GET_UNLESS_ADMIN = `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: deny-method-get
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["GET"]
    when:
    - key: request.headers[x-token]
      notValues: ["admin"]
`;

export const evaluationOrderCases: CorpusCase[] = [
  {
    name: "allow-nothing: spec {} in a namespace denies every request to its workloads",
    source: `${DOCS}/tasks/security/authorization/authz-http/`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: default
spec:
  {}
`,
    requests: [
      { name: "GET productpage is denied", request: http("GET", "/productpage", { dest: BOOKINFO("productpage"), principal: INGRESS_SA }), expect: { decision: "deny", policy: null } },
      { name: "TCP to productpage is denied", request: tcp(9080, { dest: BOOKINFO("productpage") }), expect: { decision: "deny", policy: null } },
      { name: "a workload in another namespace is unaffected", request: http("GET", "/productpage", { dest: workload("other", { app: "productpage" }) }), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "authz-http task: allow-nothing plus per-workload GET viewers",
    source: `${DOCS}/tasks/security/authorization/authz-http/`,
    policies: [
      "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata:\n  name: allow-nothing\n  namespace: default\nspec:\n  {}\n",
      viewer("productpage-viewer", "productpage"),
      viewer("details-viewer", "details", "cluster.local/ns/default/sa/bookinfo-productpage"),
      viewer("reviews-viewer", "reviews", "cluster.local/ns/default/sa/bookinfo-productpage"),
      viewer("ratings-viewer", "ratings", "cluster.local/ns/default/sa/bookinfo-reviews"),
    ].join("---\n"),
    requests: [
      { name: "GET productpage from the ingress gateway is allowed", request: http("GET", "/productpage", { dest: BOOKINFO("productpage"), principal: INGRESS_SA }), expect: { decision: "allow", policy: "default/productpage-viewer" } },
      { name: "POST productpage is denied (no ALLOW matches)", request: http("POST", "/productpage", { dest: BOOKINFO("productpage"), principal: INGRESS_SA }), expect: { decision: "deny", policy: null } },
      { name: "GET details from productpage is allowed", request: http("GET", "/details/0", { dest: BOOKINFO("details"), principal: PRODUCTPAGE_SA }), expect: { decision: "allow", policy: "default/details-viewer" } },
      { name: "GET details from reviews is denied", request: http("GET", "/details/0", { dest: BOOKINFO("details"), principal: REVIEWS_SA }), expect: { decision: "deny", policy: null } },
      { name: "GET reviews from productpage is allowed", request: http("GET", "/reviews/0", { dest: BOOKINFO("reviews"), principal: PRODUCTPAGE_SA }), expect: { decision: "allow", policy: "default/reviews-viewer" } },
      { name: "GET ratings from reviews is allowed", request: http("GET", "/ratings/0", { dest: BOOKINFO("ratings"), principal: REVIEWS_SA }), expect: { decision: "allow", policy: "default/ratings-viewer" } },
      { name: "GET ratings from productpage is denied", request: http("GET", "/ratings/0", { dest: BOOKINFO("ratings"), principal: PRODUCTPAGE_SA }), expect: { decision: "deny", policy: null } },
      { name: "plaintext GET ratings is denied (principals need mTLS)", request: http("GET", "/ratings/0", { dest: BOOKINFO("ratings"), principal: null }), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "authz-deny task step 1: DENY GET",
    source: `${DOCS}/tasks/security/authorization/authz-deny/`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: deny-method-get
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["GET"]
`,
    requests: [
      { name: "GET /get is denied", request: http("GET", "/get"), expect: { decision: "deny", policy: "foo/deny-method-get" } },
      { name: "POST /post is allowed (no ALLOW policy)", request: http("POST", "/post"), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "authz-deny task step 2: DENY GET unless x-token is admin",
    source: `${DOCS}/tasks/security/authorization/authz-deny/`,
    policies: DENY_GET_UNLESS_ADMIN,
    requests: [
      { name: "GET with x-token: admin is allowed", request: http("GET", "/get", { headers: { "x-token": "admin" } }), expect: { decision: "allow" } },
      { name: "GET with x-token: guest is denied", request: http("GET", "/get", { headers: { "x-token": "guest" } }), expect: { decision: "deny", policy: "foo/deny-method-get" } },
      {
        name: "GET without x-token is denied", request: http("GET", "/get"), expect: { decision: "deny", policy: "foo/deny-method-get" },
        note: "notValues is NOT(header matches admin); an absent header does not match, so the NOT matches (model.go principal(): principalNot).",
      },
    ],
  },
  {
    name: "authz-deny task step 3: DENY takes precedence over ALLOW",
    source: `${DOCS}/tasks/security/authorization/authz-deny/`,
    policies: `${DENY_GET_UNLESS_ADMIN}---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-path-ip
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - to:
    - operation:
        paths: ["/ip"]
`,
    requests: [
      { name: "GET /ip as guest is denied by the DENY policy", request: http("GET", "/ip", { headers: { "x-token": "guest" } }), expect: { decision: "deny", policy: "foo/deny-method-get" } },
      { name: "GET /ip as admin is allowed by the ALLOW policy", request: http("GET", "/ip", { headers: { "x-token": "admin" } }), expect: { decision: "allow", policy: "foo/allow-path-ip" } },
      { name: "GET /get as admin is denied by default (no ALLOW match)", request: http("GET", "/get", { headers: { "x-token": "admin" } }), expect: { decision: "deny", policy: null } },
      { name: "POST /ip is allowed (DENY needs GET)", request: http("POST", "/ip"), expect: { decision: "allow", policy: "foo/allow-path-ip" } },
    ],
  },
  {
    name: "deny-all (rules: [{}]) beats allow-all",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-all
  namespace: foo
spec:
  action: DENY
  rules:
  - {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-all
  namespace: foo
spec:
  action: ALLOW
  rules:
  - {}
`,
    requests: [
      { name: "GET is denied", request: http("GET", "/"), expect: { decision: "deny", policy: "foo/deny-all" } },
      { name: "plaintext TCP is denied", request: tcp(3306, { principal: null }), expect: { decision: "deny", policy: "foo/deny-all" } },
    ],
  },
  {
    name: "allow-all (rules: [{}]) allows HTTP and TCP",
    source: REF,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-all
  namespace: foo
spec:
  rules:
  - {}
`,
    requests: [
      { name: "plaintext DELETE is allowed", request: http("DELETE", "/anything", { principal: null }), expect: { decision: "allow", policy: "foo/allow-all" } },
      { name: "TCP is allowed", request: tcp(5432), expect: { decision: "allow", policy: "foo/allow-all" } },
    ],
  },
  {
    name: "ALLOW policies are additive; allow-nothing does not cancel another ALLOW",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: foo
spec:
  action: ALLOW
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-read
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - to:
    - operation:
        methods: ["GET", "HEAD"]
`,
    requests: [
      { name: "HEAD is allowed", request: http("HEAD", "/status/200"), expect: { decision: "allow", policy: "foo/allow-read" } },
      { name: "DELETE is denied", request: http("DELETE", "/status/200"), expect: { decision: "deny", policy: null } },
      { name: "GET to an unselected workload in foo is denied by allow-nothing", request: http("GET", "/", { dest: workload("foo", { app: "sleep" }) }), expect: { decision: "deny", policy: null } },
    ],
  },
];
