/**
 * @module core/policy/corpus/validation
 * Policies Istio's validation (pkg/config/validation ValidateAuthorizationPolicy and pkg/config/security)
 * rejects; compiling them must fail rather than silently match more or less than the author meant.
 */
import { http, type CorpusCase } from "./case.ts";

const VALIDATION = "https://github.com/istio/istio/blob/master/pkg/config/validation/validation.go";
const BUILDER = "https://github.com/istio/istio/blob/master/pilot/pkg/security/authz/builder/builder.go";
const SECURITY = "https://github.com/istio/istio/blob/master/pkg/config/security/security.go";

const policy = (name: string, spec: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: foo
spec:
${spec}`;

const invalid = (name: string, source: string, spec: string, note?: string): CorpusCase => ({
  name, source, policies: policy(name.replace(/[^a-z0-9]+/gi, "-").toLowerCase().slice(0, 40).replace(/-$/, ""), spec),
  invalid: true, requests: [], ...(note ? { note } : {}),
});

export const validationCases: CorpusCase[] = [
  invalid("DENY without rules", VALIDATION, `  action: DENY
`, "\"DENY action without `rules` is meaningless as it will never be triggered\" (the engine itself treats a rule-less policy as matching nothing, as builder.go does; see core/policy/engine.test.ts)"),
  invalid("CUSTOM without rules", VALIDATION, `  action: CUSTOM
  provider: {name: my-authz}
`, "\"CUSTOM action without `rules` is meaningless\""),
  invalid("CUSTOM with source.namespace condition", VALIDATION, `  action: CUSTOM
  provider: {name: my-authz}
  rules:
  - when:
    - key: source.namespace
      values: ["foo"]
`, "\"source.namespace is currently not supported with CUSTOM action\""),
  invalid("CUSTOM with request.auth.claims condition", VALIDATION, `  action: CUSTOM
  provider: {name: my-authz}
  rules:
  - when:
    - key: request.auth.claims[iss]
      values: ["x"]
`, "request.auth.* keys are not supported with CUSTOM"),
  invalid("serviceAccounts with namespaces", VALIDATION, `  rules:
  - from:
    - source: {serviceAccounts: ["sleep"], namespaces: ["foo"]}
`, "\"cannot set serviceAccounts with namespaces or principals\""),
  invalid("empty from.source", VALIDATION, `  rules:
  - from:
    - source: {}
`, "\"`from.source` must not be empty\""),
  invalid("empty to.operation", VALIDATION, `  rules:
  - to:
    - operation: {}
`, "\"`to.operation` must not be empty\""),
  invalid("when condition without values or notValues", VALIDATION, `  rules:
  - when:
    - key: request.headers[x-a]
`, "\"at least one of `values` or `notValues` must be set\""),
  invalid("bad CIDR in ipBlocks", SECURITY, `  rules:
  - from:
    - source:
        ipBlocks: ["10.0.0.0/33"]
`),
  invalid("bad IP in source.ip", SECURITY, `  rules:
  - when:
    - key: source.ip
      values: ["not-an-ip"]
`),
  invalid("port out of range", SECURITY, `  rules:
  - to:
    - operation:
        ports: ["70000"]
`),
  invalid("empty string value", SECURITY, `  rules:
  - from:
    - source:
        principals: [""]
`, "CheckEmptyValues"),
  invalid("serviceAccounts together with principals", VALIDATION, `  rules:
  - from:
    - source:
        serviceAccounts: ["foo/sleep"]
        principals: ["cluster.local/ns/foo/sa/sleep"]
`),
  invalid("unsupported path template (named variable)", SECURITY, `  rules:
  - to:
    - operation:
        paths: ["/api/{*}/{id}"]
`, "CheckValidPathTemplate"),
  invalid("CUSTOM without provider", VALIDATION, `  action: CUSTOM
  rules:
  - {}
`),
  invalid("provider with a non-CUSTOM action", VALIDATION, `  action: ALLOW
  provider:
    name: my-authz
  rules:
  - {}
`),
  invalid("CUSTOM with principals", VALIDATION, `  action: CUSTOM
  provider:
    name: my-authz
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/foo/sa/sleep"]
`, "From.Principals is currently not supported with CUSTOM action"),
  {
    name: "a rule with an unknown or retired when key is skipped at runtime",
    source: BUILDER,
    note: "The webhook rejects these keys (security.go ValidateAttribute), but model.New returns \"unknown attribute\" and builder.go skips the whole rule for every action, keeping the policy's other rules. weft accepts them with a warning and applies this runtime semantics, which is what these requests pin.",
    policies: `${policy("deny-unknown", `  action: DENY
  rules:
  - when:
    - key: request.method
      values: ["GET"]
  - to:
    - operation:
        methods: ["DELETE"]
`)}---${policy("allow-retired", `  rules:
  - when:
    - key: destination.labels[app]
      values: ["httpbin"]
  - to:
    - operation:
        paths: ["/open"]
`)}`,
    requests: [
      { name: "GET /x is not denied by the skipped DENY rule, and not allowed by the skipped ALLOW rule", request: http("GET", "/x"), expect: { decision: "deny", policy: null } },
      { name: "GET /open is allowed by the remaining ALLOW rule", request: http("GET", "/open"), expect: { decision: "allow", policy: "foo/allow-retired" } },
      { name: "DELETE /open is denied by the remaining DENY rule", request: http("DELETE", "/open"), expect: { decision: "deny", policy: "foo/deny-unknown" } },
    ],
  },
];
