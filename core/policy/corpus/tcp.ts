/**
 * @module core/policy/corpus/tcp
 * Cases for plain TCP traffic (a request without `http`): an ALLOW rule that uses an HTTP-only field is dropped
 * (narrower), while DENY and AUDIT rules ignore their HTTP-only parts (wider). From the authz-tcp task, the
 * concepts page, and model.go checkError.
 */
import { CONCEPTS, DOCS, ISTIO_SRC, http, spiffe, tcp, workload, type CorpusCase } from "./case.ts";

const TASK = `${DOCS}/tasks/security/authorization/authz-tcp/`;
const TCP_ECHO = workload("foo", { app: "tcp-echo" }, 9000);

const tcpPolicy = (action: string, operation: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: tcp-policy
  namespace: foo
spec:
  selector:
    matchLabels:
      app: tcp-echo
  action: ${action}
  rules:
  - to:
    - operation:
        ${operation}
`;

const echo = (port: number, o: Parameters<typeof tcp>[1] = {}) => tcp(port, { dest: TCP_ECHO, ...o });

const policy = (name: string, action: string, rules: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: foo
spec:
  action: ${action}
  rules:
${rules}`;

export const tcpCases: CorpusCase[] = [
  {
    name: "authz-tcp: ALLOW ports 9000 and 9001",
    source: TASK,
    policies: tcpPolicy("ALLOW", 'ports: ["9000", "9001"]'),
    requests: [
      { name: "port 9000 is allowed", request: echo(9000), expect: { decision: "allow", policy: "foo/tcp-policy" } },
      { name: "port 9001 is allowed", request: echo(9001), expect: { decision: "allow", policy: "foo/tcp-policy" } },
      { name: "port 9002 is denied", request: echo(9002), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "authz-tcp: an ALLOW rule with methods is dropped for TCP",
    source: TASK,
    policies: tcpPolicy("ALLOW", 'methods: ["GET"]\n        ports: ["9000"]'),
    requests: [
      { name: "TCP port 9000 is denied", request: echo(9000), expect: { decision: "deny", policy: null } },
      { name: "TCP port 9001 is denied", request: echo(9001), expect: { decision: "deny", policy: null } },
      { name: "HTTP GET on 9000 is allowed (the rule is valid for HTTP)", request: http("GET", "/", { dest: TCP_ECHO }), expect: { decision: "allow", policy: "foo/tcp-policy" } },
    ],
  },
  {
    name: "authz-tcp: a DENY rule with only methods denies all TCP",
    source: TASK,
    policies: tcpPolicy("DENY", 'methods: ["GET"]'),
    requests: [
      { name: "TCP port 9000 is denied", request: echo(9000), expect: { decision: "deny", policy: "foo/tcp-policy" } },
      { name: "TCP port 9001 is denied", request: echo(9001), expect: { decision: "deny", policy: "foo/tcp-policy" } },
      { name: "HTTP POST is allowed (HTTP honours methods)", request: http("POST", "/", { dest: TCP_ECHO }), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "authz-tcp: a DENY rule with methods and ports denies TCP on that port",
    source: TASK,
    policies: tcpPolicy("DENY", 'methods: ["GET"]\n        ports: ["9000"]'),
    requests: [
      { name: "TCP port 9000 is denied", request: echo(9000), expect: { decision: "deny", policy: "foo/tcp-policy" } },
      { name: "TCP port 9001 is allowed", request: echo(9001), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "concepts: MongoDB allowed only from bookinfo-ratings-v2 on 27017",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: mongodb-policy
  namespace: default
spec:
 selector:
   matchLabels:
     app: mongodb
 action: ALLOW
 rules:
 - from:
   - source:
       principals: ["cluster.local/ns/default/sa/bookinfo-ratings-v2"]
   to:
   - operation:
       ports: ["27017"]
`,
    requests: [
      { name: "ratings-v2 on 27017 is allowed", request: tcp(27017, { dest: workload("default", { app: "mongodb" }), principal: spiffe("default", "bookinfo-ratings-v2") }), expect: { decision: "allow", policy: "default/mongodb-policy" } },
      { name: "ratings-v1 on 27017 is denied", request: tcp(27017, { dest: workload("default", { app: "mongodb" }), principal: spiffe("default", "bookinfo-ratings") }), expect: { decision: "deny" } },
      { name: "plaintext on 27017 is denied", request: tcp(27017, { dest: workload("default", { app: "mongodb" }), principal: null }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "ALLOW: only the rule with HTTP-only fields is dropped, other rules still apply",
    source: `${ISTIO_SRC}/builder/builder.go`,
    note: "builder.go build(): a rule whose Generate fails is skipped (\"skipped rule ... on TCP filter chain\"); the policy's other rules are kept.",
    policies: policy("mixed", "ALLOW", `  - from:
    - source:
        requestPrincipals: ["*"]
  - to:
    - operation:
        ports: ["5432"]
  - to:
    - operation:
        notPaths: ["/admin"]
  - when:
    - key: request.headers[x-db]
      values: ["primary"]
`),
    requests: [
      { name: "TCP 5432 is allowed by the ports rule", request: tcp(5432), expect: { decision: "allow", policy: "foo/mixed" } },
      { name: "TCP 5433 is denied (the other rules are dropped)", request: tcp(5433), expect: { decision: "deny", policy: null } },
      { name: "HTTP GET /x on 8000 is allowed by the notPaths rule", request: http("GET", "/x"), expect: { decision: "allow", policy: "foo/mixed" } },
    ],
  },
  {
    name: "DENY ignores HTTP-only when conditions and request principals on TCP",
    source: `${ISTIO_SRC}/model/model.go`,
    note: "checkError returns nil for DENY, so the HTTP-only condition or source field is left out of the generated rule, which therefore matches more.",
    policies: [
      policy("deny-header-9000", "DENY", `  - to:
    - operation:
        ports: ["9000"]
    when:
    - key: request.headers[x-debug]
      values: ["1"]
`),
      policy("require-jwt", "DENY", `  - from:
    - source:
        notRequestPrincipals: ["*"]
    to:
    - operation:
        ports: ["7000"]
`),
    ].join("---\n"),
    requests: [
      { name: "TCP 9000 is denied (header condition ignored)", request: tcp(9000), expect: { decision: "deny", policy: "foo/deny-header-9000" } },
      { name: "HTTP on 9000 without x-debug is allowed", request: http("GET", "/", { port: 9000 }), expect: { decision: "allow", policy: null } },
      { name: "TCP 7000 is denied (notRequestPrincipals ignored)", request: tcp(7000), expect: { decision: "deny", policy: "foo/require-jwt" } },
      { name: "TCP 9001 is allowed", request: tcp(9001), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "DENY ignores hosts on TCP but keeps ipBlocks",
    source: `${ISTIO_SRC}/model/generator.go`,
    policies: policy("deny-admin-host", "DENY", `  - from:
    - source:
        ipBlocks: ["10.0.0.0/8"]
    to:
    - operation:
        hosts: ["admin.example.com"]
`),
    requests: [
      { name: "TCP from 10.1.1.1 is denied", request: tcp(8443, { ip: "10.1.1.1" }), expect: { decision: "deny", policy: "foo/deny-admin-host" } },
      { name: "TCP from 192.168.0.1 is allowed", request: tcp(8443, { ip: "192.168.0.1" }), expect: { decision: "allow", policy: null } },
      { name: "HTTP from 10.1.1.1 to www.example.com is allowed", request: http("GET", "/", { ip: "10.1.1.1", host: "www.example.com" }), expect: { decision: "allow", policy: null } },
    ],
  },
  {
    name: "AUDIT ignores HTTP-only fields on TCP (wider)",
    source: `${ISTIO_SRC}/builder/builder.go`,
    note: "AUDIT rules are built with RBAC LOG; checkError only propagates errors for ALLOW.",
    policies: policy("audit-path", "AUDIT", `  - to:
    - operation:
        paths: ["/audited"]
`),
    requests: [
      { name: "TCP is audited", request: tcp(9000), expect: { decision: "allow", audit: true } },
      { name: "HTTP /other is not audited", request: http("GET", "/other"), expect: { decision: "allow", audit: false } },
    ],
  },
  {
    name: "TCP-capable conditions: source.ip, destination.port and connection.sni",
    source: `${DOCS}/reference/config/security/conditions/`,
    policies: policy("tcp-conds", "ALLOW", `  - when:
    - key: source.ip
      values: ["10.0.0.0/8"]
    - key: connection.sni
      values: ["db.example.com"]
  - from:
    - source:
        namespaces: ["ops"]
    when:
    - key: destination.port
      values: ["22"]
`),
    requests: [
      { name: "10.x with SNI db.example.com is allowed", request: tcp(5432, { ip: "10.3.3.3", sni: "db.example.com" }), expect: { decision: "allow", policy: "foo/tcp-conds" } },
      { name: "10.x without SNI is denied", request: tcp(5432, { ip: "10.3.3.3" }), expect: { decision: "deny" } },
      { name: "ops namespace on port 22 is allowed", request: tcp(22, { principal: spiffe("ops", "admin") }), expect: { decision: "allow" } },
      { name: "ops namespace on port 23 is denied", request: tcp(23, { principal: spiffe("ops", "admin") }), expect: { decision: "deny" } },
    ],
  },
];
