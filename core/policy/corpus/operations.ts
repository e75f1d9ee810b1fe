/**
 * @module core/policy/corpus/operations
 * Cases for `to.operation`: exact/prefix/suffix/presence paths, `{*}`/`{**}` templates, query strings, methods,
 * case-insensitive hosts, ports, gRPC, and positive plus negative values in the same field.
 */
import { CONCEPTS, DOCS, ISTIO_SRC, REF, http, workload, type CorpusCase } from "./case.ts";

const allowTo = (name: string, operation: string, action = "ALLOW") => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: foo
spec:
  action: ${action}
  rules:
  - to:
    - operation:
        ${operation}
`;

const GRPC = { "content-type": "application/grpc" };

export const operationCases: CorpusCase[] = [
  {
    name: "paths: exact, prefix, suffix and presence",
    source: `${ISTIO_SRC}/builder/testdata/http/allow-path-in.yaml`,
    policies: allowTo("paths", 'paths: ["/exact", "/prefix/*", "*/suffix"]'),
    requests: [
      { name: "/exact is allowed", request: http("GET", "/exact"), expect: { decision: "allow", policy: "foo/paths" } },
      { name: "/exact/ is denied", request: http("GET", "/exact/"), expect: { decision: "deny" } },
      { name: "/exactly is denied", request: http("GET", "/exactly"), expect: { decision: "deny" } },
      { name: "/prefix/a/b is allowed", request: http("GET", "/prefix/a/b"), expect: { decision: "allow" } },
      { name: "/prefix is denied", request: http("GET", "/prefix"), expect: { decision: "deny" } },
      { name: "/a/b/suffix is allowed", request: http("GET", "/a/b/suffix"), expect: { decision: "allow" } },
      { name: "/suffix is allowed", request: http("GET", "/suffix"), expect: { decision: "allow" } },
      { name: "/suffixes is denied", request: http("GET", "/suffixes"), expect: { decision: "deny" } },
    ],
  },
  {
    name: "value matching example: /test/* or */info",
    source: CONCEPTS,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: tester
  namespace: default
spec:
  selector:
    matchLabels:
      app: products
  action: ALLOW
  rules:
  - to:
    - operation:
        paths: ["/test/*", "*/info"]
`,
    requests: [
      { name: "/test/a is allowed", request: http("GET", "/test/a", { dest: workload("default", { app: "products" }) }), expect: { decision: "allow", policy: "default/tester" } },
      { name: "/api/v1/info is allowed", request: http("GET", "/api/v1/info", { dest: workload("default", { app: "products" }) }), expect: { decision: "allow" } },
      { name: "/test is denied", request: http("GET", "/test", { dest: workload("default", { app: "products" }) }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "paths are matched without the query string",
    source: `${DOCS}/reference/config/security/normalization/`,
    policies: [
      allowTo("exact", 'paths: ["/exact", "/prefix/*"]'),
      allowTo("deny-admin", 'paths: ["/admin*"]', "DENY"),
    ].join("---\n"),
    requests: [
      { name: "/exact?x=1 is allowed", request: http("GET", "/exact?x=1"), expect: { decision: "allow", policy: "foo/exact" } },
      { name: "/prefix/a?b=/c is allowed", request: http("GET", "/prefix/a?b=/c"), expect: { decision: "allow" } },
      { name: "/admin?debug=1 is denied", request: http("GET", "/admin?debug=1"), expect: { decision: "deny", policy: "foo/deny-admin" } },
      { name: "/exact?redirect=/admin is not denied", request: http("GET", "/exact?redirect=/admin"), expect: { decision: "allow", policy: "foo/exact" } },
    ],
  },
  {
    name: "path templates {*} and {**}",
    source: `${ISTIO_SRC}/matcher/template.go`,
    note: "{*} becomes the Envoy uri_template operator * (exactly one non-empty segment), {**} becomes ** (any number of segments, must be the last operator).",
    policies: allowTo("templates", 'paths: ["/api/{*}/profile", "/files/{**}", "/{**}/download", "/v1/{*}"]'),
    requests: [
      { name: "/api/alice/profile is allowed", request: http("GET", "/api/alice/profile"), expect: { decision: "allow", policy: "foo/templates" } },
      { name: "/api/a/b/profile is denied ({*} is one segment)", request: http("GET", "/api/a/b/profile"), expect: { decision: "deny" } },
      { name: "/api//profile is denied ({*} is not empty)", request: http("GET", "/api//profile"), expect: { decision: "deny" } },
      { name: "/files/a is allowed", request: http("GET", "/files/a"), expect: { decision: "allow" } },
      { name: "/files/a/b/c.txt is allowed", request: http("GET", "/files/a/b/c.txt"), expect: { decision: "allow" } },
      { name: "/filesystem/a is denied", request: http("GET", "/filesystem/a"), expect: { decision: "deny" } },
      { name: "/x/y/download is allowed", request: http("GET", "/x/y/download"), expect: { decision: "allow" } },
      { name: "/x/y/download2 is denied", request: http("GET", "/x/y/download2"), expect: { decision: "deny" } },
      { name: "/v1/users is allowed", request: http("GET", "/v1/users"), expect: { decision: "allow" } },
      { name: "/v1/users/1 is denied", request: http("GET", "/v1/users/1"), expect: { decision: "deny" } },
      { name: "/v1/users?page=2 is allowed (query removed)", request: http("GET", "/v1/users?page=2"), expect: { decision: "allow" } },
    ],
  },
  {
    name: "notPaths template in a DENY policy",
    source: `${ISTIO_SRC}/builder/testdata/http/allow-path-in.yaml`,
    policies: allowTo("public-only", 'notPaths: ["/public/{**}"]', "DENY"),
    requests: [
      { name: "/public/css/site.css is allowed", request: http("GET", "/public/css/site.css"), expect: { decision: "allow", policy: null } },
      { name: "/private/data is denied", request: http("GET", "/private/data"), expect: { decision: "deny", policy: "foo/public-only" } },
    ],
  },
  {
    name: "paths and notPaths in the same operation",
    source: REF,
    policies: allowTo("api-not-admin", 'paths: ["/api/*"]\n        notPaths: ["/api/admin*"]'),
    requests: [
      { name: "/api/users is allowed", request: http("GET", "/api/users"), expect: { decision: "allow", policy: "foo/api-not-admin" } },
      { name: "/api/admin/users is denied", request: http("GET", "/api/admin/users"), expect: { decision: "deny" } },
      { name: "/other is denied", request: http("GET", "/other"), expect: { decision: "deny" } },
    ],
  },
  {
    name: "methods: list, prefix and notMethods",
    source: REF,
    policies: [
      allowTo("read", 'methods: ["GET", "HEAD"]'),
      allowTo("p-methods", 'methods: ["P*"]\n        paths: ["/write"]'),
      allowTo("deny-non-get", 'notMethods: ["GET", "HEAD", "POST", "PUT", "PATCH"]', "DENY"),
    ].join("---\n"),
    requests: [
      { name: "HEAD is allowed", request: http("HEAD", "/"), expect: { decision: "allow", policy: "foo/read" } },
      { name: "PATCH /write is allowed", request: http("PATCH", "/write"), expect: { decision: "allow", policy: "foo/p-methods" } },
      { name: "PUT / is denied (no ALLOW)", request: http("PUT", "/"), expect: { decision: "deny", policy: null } },
      { name: "DELETE is denied by notMethods", request: http("DELETE", "/write"), expect: { decision: "deny", policy: "foo/deny-non-get" } },
    ],
  },
  {
    name: "Operation example: hosts suffix, methods, notPaths",
    source: REF,
    note: "Reference, Operation: hosts [*.example.com] AND methods [GET, HEAD] AND notPaths [/admin*]. Hosts compare case-insensitively.",
    policies: allowTo("site", 'hosts: ["*.example.com"]\n        methods: ["GET", "HEAD"]\n        notPaths: ["/admin*"]'),
    requests: [
      { name: "GET www.example.com/x is allowed", request: http("GET", "/x", { host: "www.example.com" }), expect: { decision: "allow", policy: "foo/site" } },
      { name: "GET WWW.Example.COM/x is allowed", request: http("GET", "/x", { host: "WWW.Example.COM" }), expect: { decision: "allow" } },
      { name: "GET example.com/x is denied (suffix needs the dot)", request: http("GET", "/x", { host: "example.com" }), expect: { decision: "deny" } },
      { name: "GET www.example.com/admin/x is denied", request: http("GET", "/admin/x", { host: "www.example.com" }), expect: { decision: "deny" } },
      { name: "POST www.example.com/x is denied", request: http("POST", "/x", { host: "www.example.com" }), expect: { decision: "deny" } },
      { name: "GET evil.com/x is denied", request: http("GET", "/x", { host: "evil.com" }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "hosts: exact, notHosts and ports in the authority",
    source: `${ISTIO_SRC}/matcher/header.go`,
    note: "HostMatcher matches the :authority header as sent (IgnoreCase), so a host with a port does not equal the bare name; \"example.com:*\" is a prefix match that covers any port.",
    policies: [
      allowTo("bookinfo", 'hosts: ["Bookinfo.com", "api.example.com:*"]'),
      allowTo("only-known-hosts", 'notHosts: ["bookinfo.com", "api.example.com*"]', "DENY"),
    ].join("---\n"),
    requests: [
      { name: "bookinfo.COM is allowed", request: http("GET", "/", { host: "bookinfo.COM" }), expect: { decision: "allow", policy: "foo/bookinfo" } },
      { name: "api.example.com:8443 is allowed", request: http("GET", "/", { host: "api.example.com:8443" }), expect: { decision: "allow", policy: "foo/bookinfo" } },
      { name: "bookinfo.com:80 is neither bookinfo.com nor in the notHosts exception", request: http("GET", "/", { host: "bookinfo.com:80" }), expect: { decision: "deny", policy: "foo/only-known-hosts" } },
      { name: "other.com is denied by notHosts", request: http("GET", "/", { host: "other.com" }), expect: { decision: "deny", policy: "foo/only-known-hosts" } },
    ],
  },
  {
    name: "ports and notPorts on HTTP",
    source: REF,
    note: "Reference page: DENY POST on port 8080 in foo.",
    policies: [
      allowTo("post-8080", 'methods: ["POST"]\n        ports: ["8080"]', "DENY"),
      allowTo("not-admin-port", 'notPorts: ["15000"]'),
    ].join("---\n"),
    requests: [
      { name: "POST on 8080 is denied", request: http("POST", "/", { port: 8080 }), expect: { decision: "deny", policy: "foo/post-8080" } },
      { name: "POST on 8000 is allowed", request: http("POST", "/", { port: 8000 }), expect: { decision: "allow", policy: "foo/not-admin-port" } },
      { name: "GET on 15000 is denied by default", request: http("GET", "/", { port: 15000 }), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "gRPC: method is POST, path is /package.Service/Method",
    source: REF,
    policies: [
      allowTo("greeter", 'methods: ["POST"]\n        paths: ["/helloworld.Greeter/SayHello"]'),
      allowTo("health", 'paths: ["/grpc.health.v1.Health/*"]'),
      allowTo("deny-get", 'methods: ["GET"]', "DENY"),
    ].join("---\n"),
    requests: [
      { name: "SayHello is allowed", request: http("POST", "/helloworld.Greeter/SayHello", { headers: GRPC }), expect: { decision: "allow", policy: "foo/greeter" } },
      { name: "SayGoodbye is denied", request: http("POST", "/helloworld.Greeter/SayGoodbye", { headers: GRPC }), expect: { decision: "deny", policy: null } },
      { name: "Health/Check is allowed by prefix", request: http("POST", "/grpc.health.v1.Health/Check", { headers: GRPC }), expect: { decision: "allow", policy: "foo/health" } },
    ],
  },
];
