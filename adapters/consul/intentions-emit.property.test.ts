// Istio AuthorizationPolicies → service-intentions keeps Istio's decisions: for generated policies in the
// part of Istio's language Consul can express (principals, namespaces, paths, methods, header conditions,
// ALLOW and DENY), and generated HTTP requests, the engine running the emitted intentions (under either
// Consul default) decides as the engine running the Istio policies, with Istio identities mapped to Consul
// services by weft's convention (service account = service name).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileAuthorizer } from "../../core/policy/engine.ts";
import { authorizationPoliciesFromYaml } from "../../core/policy/index.ts";
import type { AuthzRequest } from "../../core/policy/types.ts";
import { stringify } from "yaml";
import { intentionsToPolicy } from "./intentions.ts";
import { policiesToIntentions } from "./intentions-emit.ts";
import { parseEntry } from "./entries.ts";
import type { ServiceIntentionsEntry } from "./schema.ts";

const TD = "0a1b2c3d-0000-4000-8000-000000000002.consul";
const SERVICES = ["web", "api", "db"];

const source = fc.oneof(
  fc.constantFrom(...SERVICES).map((s) => ({ principals: [`cluster.local/ns/default/sa/${s}`] })),
  fc.constant({ namespaces: ["default"] }),
  fc.constant({ principals: ["*"] }),
);
const operation = fc.record({
  paths: fc.option(fc.subarray(["/admin", "/admin/*", "/v1/*", "*/users", "/"], { minLength: 1 }), { nil: undefined }),
  methods: fc.option(fc.subarray(["GET", "POST"], { minLength: 1 }), { nil: undefined }),
}).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
const rule = fc.record({
  from: fc.option(fc.array(source.map((s) => ({ source: s })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  to: fc.option(fc.array(operation.filter((o) => Object.keys(o).length > 0).map((operation) => ({ operation })), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  when: fc.option(fc.constant([{ key: "request.headers[x-role]", values: ["admin", "ops*"] }]), { nil: undefined }),
}).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
const policy = fc.record({
  name: fc.constantFrom("a", "b", "c", "d"),
  app: fc.option(fc.constantFrom("api", "db"), { nil: undefined }),
  action: fc.constantFrom("ALLOW", "DENY"),
  rules: fc.array(rule, { minLength: 1, maxLength: 3 }),
});
const policies = fc.uniqueArray(policy, { maxLength: 4, selector: (p) => p.name })
  // Consul forbids L7 permissions on wildcard destinations; keep namespace-wide policies L4.
  .map((ps) => ps.map((p) => (p.app ? p : { ...p, rules: p.rules.map((r) => ({ ...(r.from ? { from: r.from } : {}) })) })));

const request = fc.record({
  src: fc.constantFrom(...SERVICES, "other"),
  dst: fc.constantFrom("api", "db", "web"),
  method: fc.constantFrom("GET", "POST", "PUT"),
  path: fc.constantFrom("/admin", "/admin/x", "/v1/users", "/users", "/", "/v2"),
  role: fc.option(fc.constantFrom("admin", "ops-1", "user"), { nil: undefined }),
});

describe("Istio policies → intentions keep Istio's HTTP decisions", () => {
  it("for generated policies and requests", () => {
    fc.assert(fc.property(policies, fc.array(request, { minLength: 1, maxLength: 10 }), fc.boolean(), (ps, reqs, consulAllow) => {
      const yaml = ps.map((p) => stringify({
        apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: p.name, namespace: "default" },
        spec: { ...(p.app ? { selector: { matchLabels: { app: p.app } } } : {}), action: p.action, rules: p.rules },
      })).join("---\n");
      const { policies: istio, diagnostics } = authorizationPoliciesFromYaml(yaml);
      expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const { entries, losses } = policiesToIntentions(istio);
      expect(losses.filter((l) => l.kind !== "approximated"), yaml).toEqual([]);
      const parsed = entries.map((e) => {
        const r = parseEntry(e);
        expect(r.diagnostics, JSON.stringify(e)).toEqual([]);
        return r.entry!.entry as ServiceIntentionsEntry;
      });
      const consul = compileAuthorizer([intentionsToPolicy(parsed, { defaultAction: consulAllow ? "allow" : "deny", trustDomain: TD }).policy]);
      const reference = compileAuthorizer(istio);
      const governed = (dst: string) => ps.some((p) => p.app === undefined || p.app === dst);
      for (const r of reqs) {
        const http = { method: r.method, path: r.path, ...(r.role ? { headers: { "x-role": r.role } } : {}) };
        const viaIstio: AuthzRequest = { destination: { namespace: "default", labels: { app: r.dst } }, source: { principal: `spiffe://cluster.local/ns/default/sa/${r.src}` }, http };
        const viaConsul: AuthzRequest = { destination: { namespace: "default", service: r.dst }, source: { principal: `spiffe://${TD}/ns/default/dc/dc1/svc/${r.src}` }, http };
        // Destinations no policy governs keep Consul's default (reported as an approximation).
        const expected = governed(r.dst) ? reference.check(viaIstio).decision : consulAllow ? "allow" : "deny";
        expect(consul.check(viaConsul).decision, `${yaml}\n${JSON.stringify({ entries, r })}`).toBe(expected);
      }
    }), { numRuns: 300 });
  });

  it("reports what Consul cannot express instead of dropping it", () => {
    const { policies: istio } = authorizationPoliciesFromYaml(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: default}
spec:
  selector: {matchLabels: {app: api, version: v1}}
  rules:
  - from: [{source: {ipBlocks: [10.0.0.0/8]}}]
  - to: [{operation: {ports: ["8080"]}}]
  - from: [{source: {notPrincipals: [cluster.local/ns/default/sa/web]}}]
  - when: [{key: "request.auth.claims[iss]", values: [x]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: audit, namespace: default}
spec: {action: AUDIT, rules: [{}]}
`);
    const { losses } = policiesToIntentions(istio);
    const fields = losses.map((l) => `${l.object} ${l.field}`);
    expect(fields).toEqual(expect.arrayContaining([
      "AuthorizationPolicy/default/p spec.selector.matchLabels",
      "AuthorizationPolicy/default/p spec.rules[0].from[0].source.ipBlocks",
      "AuthorizationPolicy/default/p spec.rules[1].to[0].ports",
      "AuthorizationPolicy/default/p spec.rules[2].from[0].source.principals.notValues",
      "AuthorizationPolicy/default/p spec.rules[3].when[0]",
      "AuthorizationPolicy/default/audit spec.action",
    ]));
  });
});
