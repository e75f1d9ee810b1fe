/**
 * @module core/policy/corpus/selection
 * Cases for which policies apply to a workload: the policy's namespace, `selector.matchLabels`, and the root
 * namespace (default `istio-system`, or a configured one) whose policies apply mesh-wide.
 */
import { CONCEPTS, REF, http, workload, type CorpusCase } from "./case.ts";

const allowNothing = (namespace: string, selector = "") => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: ${namespace}
spec:${selector ? `
  selector:
    matchLabels:
${selector}` : " {}"}
`;

export const selectionCases: CorpusCase[] = [
  {
    name: "selector.matchLabels restricts a policy to matching workloads in its namespace",
    source: REF,
    policies: allowNothing("bar", "      app: httpbin"),
    requests: [
      { name: "httpbin in bar is denied", request: http("GET", "/", { dest: workload("bar", { app: "httpbin", version: "v1" }) }), expect: { decision: "deny", policy: null } },
      { name: "sleep in bar is allowed", request: http("GET", "/", { dest: workload("bar", { app: "sleep" }) }), expect: { decision: "allow", policy: null } },
      { name: "httpbin in foo is allowed", request: http("GET", "/", { dest: workload("foo", { app: "httpbin" }) }), expect: { decision: "allow", policy: null } },
      { name: "a workload without labels in bar is allowed", request: http("GET", "/", { dest: { namespace: "bar" } }), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "every matchLabels entry must match",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: httpbin-v1-get
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
      version: v1
  rules:
  - to:
    - operation:
        methods: ["GET"]
`,
    requests: [
      { name: "httpbin v1 (plus other labels) POST is denied", request: http("POST", "/", { dest: workload("foo", { app: "httpbin", version: "v1", team: "a" }) }), expect: { decision: "deny", policy: null } },
      { name: "httpbin v1 GET is allowed", request: http("GET", "/", { dest: workload("foo", { app: "httpbin", version: "v1" }) }), expect: { decision: "allow", policy: "foo/httpbin-v1-get" } },
      { name: "httpbin v2 POST is allowed (not selected)", request: http("POST", "/", { dest: workload("foo", { app: "httpbin", version: "v2" }) }), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "root namespace istio-system with a selector applies in every namespace",
    source: REF,
    policies: allowNothing("istio-system", "      version: v1"),
    requests: [
      { name: "version v1 in foo is denied", request: http("GET", "/", { dest: workload("foo", { app: "a", version: "v1" }) }), expect: { decision: "deny" } },
      { name: "version v1 in bar is denied", request: http("GET", "/", { dest: workload("bar", { app: "b", version: "v1" }) }), expect: { decision: "deny" } },
      { name: "version v2 in foo is allowed", request: http("GET", "/", { dest: workload("foo", { app: "a", version: "v2" }) }), expect: { decision: "allow" } },
    ],
  },
  {
    name: "mesh-wide allow-nothing in the root namespace plus a namespace ALLOW",
    source: CONCEPTS,
    policies: `${allowNothing("istio-system")}---
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
      { name: "GET in foo is allowed", request: http("GET", "/"), expect: { decision: "allow", policy: "foo/allow-get" } },
      { name: "POST in foo is denied", request: http("POST", "/"), expect: { decision: "deny", policy: null } },
      { name: "GET in bar is denied", request: http("GET", "/", { dest: workload("bar", { app: "httpbin" }) }), expect: { decision: "deny", policy: null } },
      { name: "GET to istiod in istio-system is denied", request: http("GET", "/", { dest: workload("istio-system", { app: "istiod" }) }), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "root-namespace DENY cannot be overridden by a namespace allow-all",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: global-deny-admin
  namespace: istio-system
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin*"]
---
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
      { name: "/admin in foo is denied", request: http("GET", "/admin"), expect: { decision: "deny", policy: "istio-system/global-deny-admin" } },
      { name: "/admin in bar is denied", request: http("GET", "/admin", { dest: workload("bar", { app: "x" }) }), expect: { decision: "deny", policy: "istio-system/global-deny-admin" } },
      { name: "/index in foo is allowed", request: http("GET", "/index"), expect: { decision: "allow", policy: "foo/allow-all" } },
    ],
  },
  {
    name: "a configured root namespace (istio-config) replaces istio-system",
    source: REF,
    note: "Reference (v1beta1 text): with the root namespace configured to istio-config, a policy there selecting version: v1 applies in all namespaces; istio-system becomes an ordinary namespace.",
    options: { rootNamespace: "istio-config" },
    policies: `${allowNothing("istio-config", "      version: v1")}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-all
  namespace: istio-system
spec:
  action: DENY
  rules:
  - {}
`,
    requests: [
      { name: "version v1 in foo is denied by the istio-config policy", request: http("GET", "/", { dest: workload("foo", { app: "a", version: "v1" }) }), expect: { decision: "deny", policy: null } },
      { name: "version v2 in foo is allowed (istio-system is not the root)", request: http("GET", "/", { dest: workload("foo", { app: "a", version: "v2" }) }), expect: { decision: "allow", policy: null } },
      { name: "a workload in istio-system is denied by its own namespace policy", request: http("GET", "/", { dest: workload("istio-system", { app: "istiod" }) }), expect: { decision: "deny", policy: "istio-system/deny-all" } },
    ],
  },
  {
    name: "policies from several scopes combine",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: mesh-allow-health
  namespace: istio-system
spec:
  rules:
  - to:
    - operation:
        paths: ["/healthz"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ns-allow-get
  namespace: foo
spec:
  rules:
  - to:
    - operation:
        methods: ["GET"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin-deny-delete
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: DENY
  rules:
  - to:
    - operation:
        methods: ["DELETE"]
`,
    requests: [
      { name: "POST /healthz in bar is allowed by the mesh policy", request: http("POST", "/healthz", { dest: workload("bar", { app: "x" }) }), expect: { decision: "allow", policy: "istio-system/mesh-allow-health" } },
      { name: "POST /data in bar is denied", request: http("POST", "/data", { dest: workload("bar", { app: "x" }) }), expect: { decision: "deny", policy: null } },
      { name: "GET /data in foo is allowed by the namespace policy", request: http("GET", "/data"), expect: { decision: "allow", policy: "foo/ns-allow-get" } },
      { name: "DELETE /healthz on httpbin is denied", request: http("DELETE", "/healthz"), expect: { decision: "deny", policy: "foo/httpbin-deny-delete" } },
      { name: "DELETE /healthz on sleep in foo is allowed", request: http("DELETE", "/healthz", { dest: workload("foo", { app: "sleep" }) }), expect: { decision: "allow", policy: "istio-system/mesh-allow-health" } },
    ],
  },
];
