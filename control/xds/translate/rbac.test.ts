// Table tests: Istio AuthorizationPolicy YAML → IR (core/policy) → Envoy RBAC, compared with the RBAC
// istiod generates for the same input (pilot/pkg/security/authz builder testdata semantics).
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { authorizationPoliciesFromYaml } from "../../../core/policy/index.ts";
import { createPrincipalExpander } from "../../../core/policy/engine.ts";
import { PolicySchema } from "../../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import { StringMatcherSchema } from "../../../gen/proto/envoy/type/matcher/v3/string_pb.ts";
import { nestedRegistry } from "../resource-types.ts";
import { generatePolicy, istioStringMatcher, matchNeverPolicy, policyRuleName } from "./rbac.ts";

function rules(yaml: string) {
  const { policies, diagnostics } = authorizationPoliciesFromYaml(yaml);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return policies[0]!;
}

function gen(yaml: string, forTcp = false, ruleIndex = 0, aliases: string[] = []) {
  const p = rules(yaml);
  const policy = generatePolicy(p.rules![ruleIndex]!, {
    action: p.action, policyNamespace: p.namespace, forTcp, expandPrincipal: createPrincipalExpander("cluster.local", aliases),
  });
  return policy ? toJson(PolicySchema, policy, { registry: nestedRegistry }) : null;
}

const policy = (action: string, rule: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin, namespace: foo }
spec:
  action: ${action}
  rules:
${rule}`;

const any = { andRules: { rules: [{ any: true }] } };
const anyId = { andIds: { ids: [{ any: true }] } };

describe("Istio string matchers", () => {
  it.each([
    ["*", "", { safeRegex: { regex: ".+" } }],
    ["abc", "", { exact: "abc" }],
    ["abc*", "", { prefix: "abc" }],
    ["*abc", "", { suffix: "abc" }],
    ["*-sfx", "spiffe://", { safeRegex: { regex: "spiffe://.*-sfx" } }],
    ["ns/sa*", "spiffe://", { prefix: "spiffe://ns/sa" }],
  ])("%s with prefix %j", (v, pre, want) => {
    expect(toJson(StringMatcherSchema, istioStringMatcher(v, pre))).toEqual(want);
  });
});

describe("generatePolicy", () => {
  it("orders permissions host, method, path, port, then when; principals principal first", () => {
    const got = gen(policy("ALLOW", `
    - from:
        - source: { principals: ["cluster.local/ns/a/sa/b", "*"], namespaces: ["ns-*"], ipBlocks: ["10.0.0.0/8"], notRemoteIpBlocks: ["1.2.3.4"] }
      to:
        - operation: { methods: ["GET", "*"], hosts: ["*.example.com"], ports: ["8080"], paths: ["/api/*", "/x/{*}/y"], notPaths: ["*"] }
      when:
        - key: request.headers[X-Token]
          values: ["abc*"]
        - key: destination.port
          notValues: ["9000"]`));
    expect(got).toEqual({
      permissions: [{
        andRules: {
          rules: [
            { orRules: { rules: [{ header: { name: ":authority", stringMatch: { suffix: ".example.com", ignoreCase: true } } }] } },
            { orRules: { rules: [{ header: { name: ":method", stringMatch: { exact: "GET" } } }, { header: { name: ":method", presentMatch: true } }] } },
            { orRules: { rules: [
              { urlPath: { path: { prefix: "/api/" } } },
              { uriTemplate: { name: "uri-template", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig", pathTemplate: "/x/*/y" } } },
            ] } },
            { notRule: { orRules: { rules: [{ urlPath: { path: { safeRegex: { regex: ".+" } } } }] } } },
            { orRules: { rules: [{ destinationPort: 8080 }] } },
            { notRule: { orRules: { rules: [{ destinationPort: 9000 }] } } },
          ],
        },
      }],
      principals: [{
        andIds: {
          ids: [
            { orIds: { ids: [
              { authenticated: { principalName: { exact: "spiffe://cluster.local/ns/a/sa/b" } } },
              { authenticated: { principalName: { safeRegex: { regex: ".+" } } } },
            ] } },
            { orIds: { ids: [{ authenticated: { principalName: { safeRegex: { regex: ".*/ns/ns-.*/.*" } } } }] } },
            { notId: { orIds: { ids: [{ remoteIp: { addressPrefix: "1.2.3.4", prefixLen: 32 } }] } } },
            { orIds: { ids: [{ directRemoteIp: { addressPrefix: "10.0.0.0", prefixLen: 8 } }] } },
            { orIds: { ids: [{ header: { name: "X-Token", stringMatch: { prefix: "abc" } } }] } },
          ],
        },
      }],
    });
  });

  it("matches service accounts and request principals the way Istio does", () => {
    expect(gen(policy("ALLOW", `
    - from:
        - source: { serviceAccounts: ["other/robot", "local"] }`))).toEqual({
      permissions: [any],
      principals: [{ andIds: { ids: [{ orIds: { ids: [
        { authenticated: { principalName: { safeRegex: { regex: "spiffe://.+/ns/other/(.+/|)sa/robot(/.+)?" } } } },
        { authenticated: { principalName: { safeRegex: { regex: "spiffe://.+/ns/foo/(.+/|)sa/local(/.+)?" } } } },
      ] } }] } }],
    });
    const claim = (c: string, m: object) => ({ metadata: { filter: "envoy.filters.http.jwt_authn", path: [{ key: "payload" }, { key: c }], value: { stringMatch: m } } });
    expect(gen(policy("ALLOW", `
    - from:
        - source: { requestPrincipals: ["https://issuer.example/alice"] }`))).toEqual({
      permissions: [any],
      principals: [{ andIds: { ids: [{ andIds: { ids: [claim("iss", { exact: "https://issuer.example" }), claim("sub", { exact: "alice" })] } }] } }],
    });
  });

  it("expands principals to trust-domain aliases", () => {
    const got = gen(policy("ALLOW", `
    - from:
        - source: { principals: ["cluster.local/ns/a/sa/b"] }`), false, 0, ["old.td"]) as { principals: { andIds: { ids: { orIds: { ids: unknown[] } }[] } }[] };
    expect(got.principals[0]!.andIds.ids[0]!.orIds.ids).toEqual([
      { authenticated: { principalName: { exact: "spiffe://cluster.local/ns/a/sa/b" } } },
      { authenticated: { principalName: { exact: "spiffe://old.td/ns/a/sa/b" } } },
    ]);
  });

  it("an empty rule matches everything", () => {
    expect(gen(policy("ALLOW", "    - {}"))).toEqual({ permissions: [any], principals: [anyId] });
  });

  it("on a TCP chain, HTTP-only attributes drop an ALLOW rule but only the value in a DENY rule", () => {
    const rule = `
    - from:
        - source: { namespaces: ["ns1"] }
      to:
        - operation: { methods: ["GET"], ports: ["80"] }`;
    expect(gen(policy("ALLOW", rule), true)).toBeNull();
    expect(gen(policy("DENY", rule), true)).toEqual({
      permissions: [{ andRules: { rules: [{ orRules: { rules: [{ destinationPort: 80 }] } }] } }],
      principals: [{ andIds: { ids: [{ orIds: { ids: [{ authenticated: { principalName: { safeRegex: { regex: ".*/ns/ns1/.*" } } } }] } }] } }],
    });
    // All values of the only field HTTP-only: the DENY permission widens to any.
    expect(gen(policy("DENY", `
    - to:
        - operation: { paths: ["/admin"] }`), true)).toEqual({ permissions: [any], principals: [anyId] });
  });

  it("JWT claims match a string or a list element", () => {
    const got = gen(policy("ALLOW", `
    - when:
        - key: request.auth.claims[groups]
          values: ["admin"]`)) as { principals: unknown[] };
    const x = { orMatch: { valueMatchers: [{ stringMatch: { exact: "admin" } }] } };
    expect(got.principals).toEqual([{ andIds: { ids: [{ metadata: {
      filter: "envoy.filters.http.jwt_authn", path: [{ key: "payload" }, { key: "groups" }],
      value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: x } }, x] } },
    } }] } }]);
  });

  it("names rules like Istio and has a never-matching policy for rule-less policies", () => {
    expect(policyRuleName("foo", "httpbin", 2)).toBe("ns[foo]-policy[httpbin]-rule[2]");
    expect(policyRuleName("foo", "ext", 0, true)).toBe("istio-ext-authz-ns[foo]-policy[ext]-rule[0]");
    expect(toJson(PolicySchema, matchNeverPolicy())).toEqual({ permissions: [{ notRule: { any: true } }], principals: [{ notId: { any: true } }] });
  });
});
