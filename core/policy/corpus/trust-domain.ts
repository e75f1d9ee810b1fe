/**
 * @module core/policy/corpus/trust-domain
 * Cases for the trust domain part of principals: the authz-td-migration task (with and without aliases),
 * `cluster.local` as a pointer to the local trust domain, and Istio's bundle rules for other trust domains.
 */
import { DOCS, ISTIO_SRC, http, spiffe, workload, type CorpusCase } from "./case.ts";

const TASK = `${DOCS}/tasks/security/authorization/authz-td-migration/`;
const BUNDLE = `${ISTIO_SRC.replace("/authz", "")}/trustdomain/bundle.go`;
const HTTPBIN_DEFAULT = workload("default", { app: "httpbin" });

const TASK_POLICY = `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: service-httpbin.default.svc.cluster.local
  namespace: default
spec:
  rules:
  - from:
    - source:
        principals:
        - old-td/ns/sleep-allow/sa/sleep
    to:
    - operation:
        methods:
        - GET
  selector:
    matchLabels:
      app: httpbin
---
`;

const POLICY_NAME = "default/service-httpbin.default.svc.cluster.local";
const get = (principal: string) => http("GET", "/ip", { dest: HTTPBIN_DEFAULT, principal });

const allowPrincipal = (value: string, key = "principals") => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: by-principal
  namespace: default
spec:
  rules:
  - ${key === "principals" ? `from:
    - source:
        principals: ["${value}"]` : `when:
    - key: ${key}
      values: ["${value}"]`}
`;

export const trustDomainCases: CorpusCase[] = [
  {
    name: "authz-td-migration: before migration (trust domain old-td)",
    source: TASK,
    options: { trustDomain: "old-td" },
    policies: TASK_POLICY,
    requests: [
      { name: "sleep in default is denied", request: get(spiffe("default", "sleep", "old-td")), expect: { decision: "deny", policy: null } },
      { name: "sleep in sleep-allow is allowed", request: get(spiffe("sleep-allow", "sleep", "old-td")), expect: { decision: "allow", policy: POLICY_NAME } },
    ],
  },
  {
    name: "authz-td-migration: new-td without aliases denies the migrated identity",
    source: TASK,
    options: { trustDomain: "new-td" },
    policies: TASK_POLICY,
    requests: [
      { name: "sleep in default is denied", request: get(spiffe("default", "sleep", "new-td")), expect: { decision: "deny" } },
      { name: "sleep in sleep-allow (new-td) is denied", request: get(spiffe("sleep-allow", "sleep", "new-td")), expect: { decision: "deny", policy: null } },
    ],
  },
  {
    name: "authz-td-migration: new-td with alias old-td accepts both identities",
    source: TASK,
    note: "bundle.go ReplaceTrustDomainAliases: a principal whose trust domain is in [new-td, old-td] is expanded to every trust domain of the bundle.",
    options: { trustDomain: "new-td", trustDomainAliases: ["old-td"] },
    policies: TASK_POLICY,
    requests: [
      { name: "sleep in default is denied", request: get(spiffe("default", "sleep", "new-td")), expect: { decision: "deny" } },
      { name: "sleep in sleep-allow (new-td) is allowed", request: get(spiffe("sleep-allow", "sleep", "new-td")), expect: { decision: "allow", policy: POLICY_NAME } },
      { name: "sleep in sleep-allow (old-td) is allowed", request: get(spiffe("sleep-allow", "sleep", "old-td")), expect: { decision: "allow", policy: POLICY_NAME } },
      { name: "POST from sleep-allow is denied", request: http("POST", "/ip", { dest: HTTPBIN_DEFAULT, principal: spiffe("sleep-allow", "sleep", "new-td") }), expect: { decision: "deny" } },
    ],
  },
  {
    name: "cluster.local in a policy points at the local trust domain and its aliases",
    source: TASK,
    note: "Task, Best practices: cluster.local is a pointer to the current trust domain and aliases. bundle.go replaceTrustDomains substitutes each bundle trust domain, so the literal cluster.local is not kept unless it is itself in the bundle.",
    options: { trustDomain: "new-td", trustDomainAliases: ["old-td"] },
    policies: allowPrincipal("cluster.local/ns/sleep-allow/sa/sleep"),
    requests: [
      { name: "new-td identity is allowed", request: get(spiffe("sleep-allow", "sleep", "new-td")), expect: { decision: "allow", policy: "default/by-principal" } },
      { name: "old-td identity is allowed", request: get(spiffe("sleep-allow", "sleep", "old-td")), expect: { decision: "allow", policy: "default/by-principal" } },
      { name: "a literal cluster.local identity is denied", request: get(spiffe("sleep-allow", "sleep", "cluster.local")), expect: { decision: "deny" } },
    ],
  },
  {
    name: "cluster.local maps to a custom trust domain without aliases",
    source: BUNDLE,
    options: { trustDomain: "td1" },
    policies: allowPrincipal("cluster.local/ns/a/sa/b"),
    requests: [
      { name: "td1/ns/a/sa/b is allowed", request: get(spiffe("a", "b", "td1")), expect: { decision: "allow" } },
      { name: "cluster.local/ns/a/sa/b is denied", request: get(spiffe("a", "b", "cluster.local")), expect: { decision: "deny" } },
    ],
  },
  {
    name: "default trust domain: other trust domains are not equivalent",
    source: BUNDLE,
    policies: allowPrincipal("cluster.local/ns/a/sa/b"),
    requests: [
      { name: "cluster.local/ns/a/sa/b is allowed", request: get(spiffe("a", "b")), expect: { decision: "allow" } },
      { name: "other-td/ns/a/sa/b is denied", request: get(spiffe("a", "b", "other-td")), expect: { decision: "deny" } },
    ],
  },
  {
    name: "a policy naming a trust domain outside the bundle is kept as written",
    source: BUNDLE,
    note: "bundle_test.go \"Principals not match any trust domains\": some-td/ns/foo/sa/bar stays as is with bundle [td1, td2].",
    options: { trustDomain: "td1", trustDomainAliases: ["td2"] },
    policies: allowPrincipal("some-td/ns/foo/sa/bar"),
    requests: [
      { name: "some-td identity is allowed", request: get(spiffe("foo", "bar", "some-td")), expect: { decision: "allow" } },
      { name: "td1 identity is denied", request: get(spiffe("foo", "bar", "td1")), expect: { decision: "deny" } },
    ],
  },
  {
    name: "a * trust domain matches any trust domain",
    source: BUNDLE,
    options: { trustDomain: "td1" },
    policies: allowPrincipal("*/ns/foo/sa/bar"),
    requests: [
      { name: "td9 identity is allowed", request: get(spiffe("foo", "bar", "td9")), expect: { decision: "allow" } },
      { name: "another service account is denied", request: get(spiffe("foo", "baz", "td9")), expect: { decision: "deny" } },
    ],
  },
  {
    name: "aliases also apply to the source.principal condition",
    source: `${ISTIO_SRC}/model/model.go`,
    note: "Model.MigrateTrustDomain rewrites every rule keyed source.principal, which covers both principals and when: source.principal.",
    options: { trustDomain: "new-td", trustDomainAliases: ["old-td"] },
    policies: allowPrincipal("old-td/ns/x/sa/y", "source.principal"),
    requests: [
      { name: "new-td/ns/x/sa/y is allowed", request: get(spiffe("x", "y", "new-td")), expect: { decision: "allow", policy: "default/by-principal" } },
      { name: "new-td/ns/x/sa/z is denied", request: get(spiffe("x", "z", "new-td")), expect: { decision: "deny" } },
    ],
  },
];
