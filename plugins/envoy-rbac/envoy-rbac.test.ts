// Unit tests of the Envoy RBAC evaluator: Envoy's matcher semantics (string, header, path, metadata,
// CIDR, ports, SNI, URI templates), policy order and actions, shadow metadata and the ext_authz gate,
// fail-closed handling of unsupported constructs, the accepted config forms, and the HTTP filter.
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { MetadataMatcherSchema } from "../../gen/proto/envoy/type/matcher/v3/metadata_pb.ts";
import { anyPack } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AuthzRequest } from "../../core/policy/types.ts";
import { buildFilterChain } from "../../proxy/filter.ts";
import { createTestContext, createTestStream } from "../common/testing.ts";
import { httpFilters } from "../registry.ts";
import { compileEnvoyAuthzChain } from "./chain.ts";
import { compileEnvoyRbac } from "./compile.ts";
import { parseEnvoyRbacConfig } from "./config.ts";
import { HttpRbacSchema } from "./protos.ts";

const req = (o: Partial<AuthzRequest> & { path?: string; method?: string; headers?: Record<string, string | string[]> } = {}): AuthzRequest => ({
  destination: o.destination ?? { namespace: "foo", port: 8000, ip: "10.0.0.10" },
  source: o.source ?? { principal: "spiffe://cluster.local/ns/foo/sa/sleep", ip: "10.0.1.5" },
  ...(o.http === undefined && o.path === undefined ? { http: { method: o.method ?? "GET", path: "/", host: "httpbin.foo:8000", headers: o.headers ?? {} } } : {}),
  ...(o.path !== undefined ? { http: { method: o.method ?? "GET", path: o.path, host: "httpbin.foo:8000", headers: o.headers ?? {} } } : {}),
  ...(o.http !== undefined ? { http: o.http } : {}),
  ...(o.auth ? { auth: o.auth } : {}),
  ...(o.sni ? { sni: o.sni } : {}),
});

/** An ALLOW filter with one policy: the permission and principal given (principal default any). */
function allowOne(permission: unknown, principal: unknown = { any: true }) {
  return compileEnvoyRbac({ rules: { action: "ALLOW", policies: { p: { permissions: [permission], principals: [principal] } } } });
}
const allows = (permission: unknown, r: AuthzRequest, principal?: unknown) => allowOne(permission, principal).decide(r).decision === "allow";

describe("string matchers", () => {
  it.each([
    [{ exact: "/a" }, "/a", true], [{ exact: "/a" }, "/A", false], [{ exact: "/a", ignoreCase: true }, "/A", true],
    [{ prefix: "/api/" }, "/api/x", true], [{ prefix: "/api/" }, "/apix", false], [{ prefix: "/API/", ignoreCase: true }, "/api/x", true],
    [{ suffix: ".png" }, "/a.png", true], [{ suffix: ".PNG", ignoreCase: true }, "/a.png", true], [{ suffix: ".png" }, "/a.PNG", false],
    [{ contains: "adm" }, "/x/admin", true], [{ contains: "ADM", ignoreCase: true }, "/x/admin", true], [{ contains: "adm" }, "/x", false],
    [{ safeRegex: { regex: "/v[0-9]+/.*" } }, "/v2/users", true], [{ safeRegex: { regex: "/v[0-9]+" } }, "/v2/users", false],
  ])("%j on path %s → %s", (m, path, want) => {
    expect(allows({ urlPath: { path: m } }, req({ path }))).toBe(want);
  });

  it("url_path ignores the query and fragment and sees the normalized path", () => {
    expect(allows({ urlPath: { path: { exact: "/a" } } }, req({ path: "/a?x=1#f" }))).toBe(true);
    expect(allows({ urlPath: { path: { exact: "/b" } } }, req({ path: "/a/../b" }))).toBe(true);
    expect(allows({ header: { name: ":path", stringMatch: { exact: "/a?x=1" } } }, req({ path: "/a?x=1" }))).toBe(true);
  });

  it("ignore_case equals lower-casing both sides (property)", () => {
    fc.assert(fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (a, b) => {
      const got = allows({ header: { name: "x-v", stringMatch: { prefix: a, ignoreCase: true } } }, req({ headers: { "x-v": b } }));
      expect(got).toBe(a === "" ? true : b.toLowerCase().startsWith(a.toLowerCase()));
    }));
  });
});

describe("header matchers", () => {
  const h = (m: Record<string, unknown>, headers: Record<string, string | string[]>) => allows({ header: { name: "X-Token", ...m } }, req({ headers }));
  it("absent headers match only present_match false (or its inversion of true)", () => {
    expect(h({ presentMatch: true }, {})).toBe(false);
    expect(h({ presentMatch: false }, {})).toBe(true);
    expect(h({ presentMatch: true, invertMatch: true }, {})).toBe(true);
    expect(h({ stringMatch: { exact: "a" }, invertMatch: true }, {})).toBe(false);
    expect(h({ stringMatch: { exact: "" } }, {})).toBe(false);
    expect(h({ stringMatch: { exact: "" }, treatMissingHeaderAsEmpty: true }, {})).toBe(true);
  });
  it("joins repeated values with a comma, matches names case-insensitively, inverts", () => {
    expect(h({ stringMatch: { exact: "a,b" } }, { "x-token": ["a", "b"] })).toBe(true);
    expect(h({ stringMatch: { exact: "a" }, invertMatch: true }, { "x-token": "b" })).toBe(true);
    expect(h({ rangeMatch: { start: "10", end: "20" } }, { "x-token": "19" })).toBe(true);
    expect(h({ rangeMatch: { start: "10", end: "20" } }, { "x-token": "20" })).toBe(false);
    expect(h({ prefixMatch: "ab" }, { "X-TOKEN": "abc" })).toBe(true);
  });
  it("sees :method and :authority, and no HTTP attribute on the network filter", () => {
    expect(allows({ header: { name: ":method", stringMatch: { exact: "POST" } } }, req({ method: "POST" }))).toBe(true);
    expect(allows({ header: { name: ":authority", stringMatch: { prefix: "httpbin.foo", ignoreCase: true } } }, req())).toBe(true);
    const tcp = compileEnvoyRbac({ "@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC", statPrefix: "tcp.", rules: { action: "DENY", policies: { p: { permissions: [{ header: { name: ":method", presentMatch: true } }], principals: [{ any: true }] } } } });
    expect(tcp.kind).toBe("network");
    expect(tcp.decide(req({ method: "GET" })).decision).toBe("allow");
  });
});

describe("connection attributes", () => {
  it("matches destination port, port range [start, end), destination IP, SNI", () => {
    expect(allows({ destinationPort: 8000 }, req())).toBe(true);
    expect(allows({ destinationPort: 8001 }, req())).toBe(false);
    expect(allows({ destinationPortRange: { start: 8000, end: 8001 } }, req())).toBe(true);
    expect(allows({ destinationPortRange: { start: 7000, end: 8000 } }, req())).toBe(false);
    expect(allows({ destinationIp: { addressPrefix: "10.0.0.0", prefixLen: 24 } }, req())).toBe(true);
    expect(allows({ destinationIp: { addressPrefix: "10.0.1.0", prefixLen: 24 } }, req())).toBe(false);
    expect(allows({ destinationIp: { addressPrefix: "192.168.0.0" } }, req())).toBe(true); // prefix_len absent = 0
    expect(allows({ requestedServerName: { suffix: ".local" } }, req({ sni: "a.svc.local" }))).toBe(true);
    expect(allows({ requestedServerName: { safeRegex: { regex: ".+" } } }, req())).toBe(false);
  });
  it("tells direct, remote and source IPs apart", () => {
    const r = req({ source: { ip: "10.0.1.5", remoteIp: "203.0.113.7" } });
    expect(allows({ any: true }, r, { directRemoteIp: { addressPrefix: "10.0.1.0", prefixLen: 24 } })).toBe(true);
    expect(allows({ any: true }, r, { sourceIp: { addressPrefix: "10.0.1.0", prefixLen: 24 } })).toBe(true);
    expect(allows({ any: true }, r, { remoteIp: { addressPrefix: "10.0.1.0", prefixLen: 24 } })).toBe(false);
    expect(allows({ any: true }, r, { remoteIp: { addressPrefix: "203.0.113.0", prefixLen: 24 } })).toBe(true);
  });
  it("authenticated needs mTLS; principal_name matches the URI SAN", () => {
    const plain = req({ source: { ip: "10.0.1.5" } });
    expect(allows({ any: true }, req(), { authenticated: {} })).toBe(true);
    expect(allows({ any: true }, plain, { authenticated: {} })).toBe(false);
    expect(allows({ any: true }, req(), { authenticated: { principalName: { safeRegex: { regex: ".*/ns/foo/.*" } } } })).toBe(true);
    expect(allows({ any: true }, plain, { notId: { authenticated: { principalName: { safeRegex: { regex: ".*" } } } } })).toBe(true);
    expect(allows({ any: true }, req(), { filterState: { key: "io.istio.peer_principal", stringMatch: { prefix: "spiffe://cluster.local/ns/foo/" } } })).toBe(true);
  });
});

describe("metadata matchers (JWT claims as istiod reads them)", () => {
  const auth = { principal: "https://issuer/alice", audiences: ["a", "b"], claims: { groups: ["dev", "ops"], nested: { k: "v" }, n: 3, ok: true } };
  const jwt = (path: string[], value: unknown, invert = false) =>
    allows({ any: true }, req({ auth }), { metadata: { filter: "envoy.filters.http.jwt_authn", path: ["payload", ...path].map((key) => ({ key })), value, invert } });
  it("reads iss/sub split from the principal, lists with oneOf, nested keys, numbers, bools, presence", () => {
    expect(jwt(["iss"], { stringMatch: { exact: "https://issuer" } })).toBe(true);
    expect(jwt(["sub"], { stringMatch: { exact: "alice" } })).toBe(true);
    expect(jwt(["groups"], { listMatch: { oneOf: { stringMatch: { exact: "ops" } } } })).toBe(true);
    expect(jwt(["groups"], { stringMatch: { exact: "ops" } })).toBe(false);
    expect(jwt(["aud"], { orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: { exact: "b" } } } }, { stringMatch: { exact: "b" } }] } })).toBe(true);
    expect(jwt(["nested", "k"], { stringMatch: { exact: "v" } })).toBe(true);
    expect(jwt(["n"], { doubleMatch: { range: { start: 1, end: 4 } } })).toBe(true);
    expect(jwt(["ok"], { boolMatch: true })).toBe(true);
    expect(jwt(["missing"], { presentMatch: true })).toBe(false);
    expect(jwt(["missing"], { presentMatch: true }, true)).toBe(true);
    expect(jwt(["missing"], { nullMatch: {} })).toBe(false);
  });
  it("no token means no jwt_authn metadata", () => {
    expect(allows({ any: true }, req(), { metadata: { filter: "envoy.filters.http.jwt_authn", path: [{ key: "payload" }], value: { presentMatch: true } } })).toBe(false);
  });
});

describe("URI templates", () => {
  const tpl = (pathTemplate: string) => ({ uriTemplate: { name: "uri-template", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig", pathTemplate } } });
  it.each([
    ["/x/*/y", "/x/a/y", true], ["/x/*/y", "/x/a/b/y", false], ["/x/**", "/x/a/b", true], ["/x/**", "/y/a", false],
    ["/x/{id}/y", "/x/1/y", true], ["/x/{rest=**}", "/x/1/2?q", true], ["/x/*", "/x/", false],
  ])("%s on %s → %s", (t, path, want) => {
    expect(allows(tpl(t), req({ path }))).toBe(want);
  });
});

describe("engine: order, actions, logic", () => {
  it("reports the first matching policy in lexicographic order", () => {
    const rbac = compileEnvoyRbac({ rules: { action: "DENY", policies: {
      "b-second": { permissions: [{ any: true }], principals: [{ any: true }] },
      "a-first": { permissions: [{ any: true }], principals: [{ any: true }] },
    } } });
    const d = rbac.decide(req());
    expect(d).toMatchObject({ decision: "deny", policy: "a-first", details: "rbac_access_denied_matched_policy[a-first]" });
  });
  it("ALLOW with no match denies with [none]; no rules allows; empty DENY allows; LOG allows and hints", () => {
    expect(compileEnvoyRbac({ rules: { action: "ALLOW" } }).decide(req())).toMatchObject({ decision: "deny", details: "rbac_access_denied_matched_policy[none]" });
    expect(compileEnvoyRbac({}).decide(req()).decision).toBe("allow");
    expect(compileEnvoyRbac({ rules: { action: "DENY" } }).decide(req()).decision).toBe("allow");
    const log = compileEnvoyRbac({ rules: { action: "LOG", policies: { p: { permissions: [{ any: true }], principals: [{ any: true }] } } } }).decide(req());
    expect(log.decision).toBe("allow");
    expect(log.metadata["envoy.common"]).toEqual({ access_log_hint: true });
  });
  it("and/or/not trees agree with boolean logic (property)", () => {
    type T = { leaf: boolean } | { and: T[] } | { or: T[] } | { not: T };
    const tree: fc.Arbitrary<T> = fc.letrec<{ t: T }>((tie) => ({
      t: fc.oneof({ depthSize: "small", withCrossShrink: true },
        fc.record({ leaf: fc.boolean() }),
        fc.record({ and: fc.array(tie("t"), { minLength: 1, maxLength: 3 }) }),
        fc.record({ or: fc.array(tie("t"), { minLength: 1, maxLength: 3 }) }),
        fc.record({ not: tie("t") })),
    })).t;
    const evalT = (t: T): boolean => ("leaf" in t ? t.leaf : "and" in t ? t.and.every(evalT) : "or" in t ? t.or.some(evalT) : !evalT(t.not));
    const perm = (t: T): unknown => ("leaf" in t ? { destinationPort: t.leaf ? 8000 : 1 } : "and" in t ? { andRules: { rules: t.and.map(perm) } } : "or" in t ? { orRules: { rules: t.or.map(perm) } } : { notRule: perm(t.not) });
    const princ = (t: T): unknown => ("leaf" in t ? { directRemoteIp: { addressPrefix: t.leaf ? "10.0.1.5" : "10.9.9.9", prefixLen: 32 } } : "and" in t ? { andIds: { ids: t.and.map(princ) } } : "or" in t ? { orIds: { ids: t.or.map(princ) } } : { notId: princ(t.not) });
    fc.assert(fc.property(tree, tree, (a, b) => {
      expect(allows(perm(a), req(), princ(b))).toBe(evalT(a) && evalT(b));
    }));
  });
});

describe("unsupported constructs fail closed", () => {
  it("an unknown permission kind in ALLOW is reported and never allows", () => {
    const rbac = allowOne({ matcher: { name: "x", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig", pathTemplate: "/a" } } });
    expect(rbac.problems).toEqual([expect.stringContaining("permission kind matcher is not supported")]);
    expect(rbac.decide(req())).toMatchObject({ decision: "deny", uncertain: true });
  });
  it("in DENY it denies unless another part definitely decides; a definite match wins", () => {
    const rbac = compileEnvoyRbac({ rules: { action: "DENY", policies: { p: { permissions: [{ andRules: { rules: [{ destinationPort: 9 }, { matcher: { name: "x" } }] } }], principals: [{ any: true }] } } } });
    expect(rbac.decide(req()).decision).toBe("allow"); // port 9 is false: AND is false whatever the unknown is
    const rbac2 = compileEnvoyRbac({ rules: { action: "DENY", policies: { p: { permissions: [{ matcher: { name: "x" } }], principals: [{ any: true }] } } } });
    expect(rbac2.decide(req())).toMatchObject({ decision: "deny", uncertain: true });
  });
  it("CEL conditions, unknown filter state keys, RE2-only syntax and the matcher field are reported", () => {
    const cel = compileEnvoyRbac({ rules: { action: "ALLOW", policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], condition: { constExpr: { boolValue: true } } } } } });
    expect(cel.problems).toEqual([expect.stringContaining("CEL")]);
    expect(cel.decide(req()).decision).toBe("deny");
    expect(allowOne({ any: true }, { filterState: { key: "other", stringMatch: { exact: "x" } } }).problems).toHaveLength(1);
    expect(allowOne({ urlPath: { path: { safeRegex: { regex: "(?=a)" } } } }).problems).toHaveLength(1);
    const m = compileEnvoyRbac({ matcher: { onNoMatch: { action: { name: "allow" } } } });
    expect(m.problems).toHaveLength(1);
    expect(m.decide(req()).decision).toBe("deny");
  });
});

describe("shadow rules and the ext_authz gate", () => {
  const customChain = () => compileEnvoyAuthzChain([
    { name: "envoy.filters.http.rbac", config: { shadowRulesStatPrefix: "istio_ext_authz_", shadowRules: { action: "DENY", policies: {
      "istio-ext-authz-ns[foo]-policy[ext]-rule[0]": { permissions: [{ urlPath: { path: { prefix: "/admin" } } }], principals: [{ any: true }] },
    } } } },
    { name: "envoy.filters.http.ext_authz", config: { filterEnabledMetadata: { filter: "envoy.filters.http.rbac", path: [{ key: "istio_ext_authz_shadow_effective_policy_id" }], value: { stringMatch: { prefix: "istio-ext-authz" } } } } },
    { name: "envoy.filters.http.rbac", config: { rules: { action: "DENY", policies: { d: { permissions: [{ header: { name: ":method", stringMatch: { exact: "DELETE" } } }], principals: [{ any: true }] } } } } },
  ]);
  it("shadow rules only write metadata; ext_authz runs only for marked requests", () => {
    const d = compileEnvoyRbac({ shadowRulesStatPrefix: "istio_dry_run_allow_", shadowRules: { action: "ALLOW" } }).decide(req());
    expect(d.decision).toBe("allow");
    expect(d.metadata["envoy.filters.http.rbac"]).toEqual({ istio_dry_run_allow_shadow_engine_result: "denied" });
    const chain = customChain();
    expect(chain.problems).toEqual([]);
    expect(chain.decide(req({ path: "/admin/x" }), { customDecision: "deny" })).toMatchObject({ decision: "deny", customAsked: true, details: "ext_authz_denied" });
    expect(chain.decide(req({ path: "/admin/x" }), { customDecision: "allow" })).toMatchObject({ decision: "allow", customAsked: true });
    expect(chain.decide(req({ path: "/public" }), { customDecision: "deny" })).toMatchObject({ decision: "allow", customAsked: false });
    expect(chain.decide(req({ path: "/public", method: "DELETE" }))).toMatchObject({ decision: "deny", deniedBy: 2, policy: "d" });
  });
  it("a provider error denies unless failure_mode_allow; an AUDIT match is reported", () => {
    const chain = (failureModeAllow: boolean) => compileEnvoyAuthzChain([
      { name: "envoy.filters.http.ext_authz", config: { failureModeAllow } },
      { name: "envoy.filters.http.rbac", config: { rules: { action: "LOG", policies: { a: { permissions: [{ any: true }], principals: [{ any: true }] } } } } },
    ]);
    expect(chain(false).decide(req(), { customDecision: "error" })).toMatchObject({ decision: "deny", details: "ext_authz_error" });
    expect(chain(true).decide(req(), { customDecision: "error" })).toMatchObject({ decision: "allow", audit: true, customAsked: true });
  });
  it("reads the network ext_authz gate from its bytes; other filters are skipped", () => {
    const gate = create(MetadataMatcherSchema, { filter: "envoy.filters.network.rbac", path: [{ segment: { case: "key", value: "istio_ext_authz_shadow_effective_policy_id" } }], value: { matchPattern: { case: "stringMatch", value: { matchPattern: { case: "prefix", value: "istio-ext-authz" } } } } });
    // ExtAuthz{ stat_prefix: "x" (1), failure_mode_allow: false (3), filter_enabled_metadata (6) } written by hand.
    const w = new BinaryWriter().tag(1, WireType.LengthDelimited).string("x").tag(3, WireType.Varint).bool(false).tag(6, WireType.LengthDelimited).bytes(toBinary(MetadataMatcherSchema, gate));
    const chain = compileEnvoyAuthzChain([
      { name: "istio.metadata_exchange", config: { typeUrl: "type.googleapis.com/udpa.type.v1.TypedStruct", value: new Uint8Array() } },
      { name: "envoy.filters.network.rbac", config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC", statPrefix: "tcp.", shadowRulesStatPrefix: "istio_ext_authz_", shadowRules: { action: "DENY", policies: { "istio-ext-authz-p": { permissions: [{ destinationPort: 9000 }], principals: [{ any: true }] } } } } },
      { name: "envoy.filters.network.ext_authz", config: { typeUrl: "type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz", value: w.finish() } },
    ], { kind: "network" });
    expect(chain.problems).toEqual([]);
    expect(chain.authzFilters).toEqual(["envoy.filters.network.rbac", "envoy.filters.network.ext_authz"]);
    const tcp = (port: number): AuthzRequest => ({ destination: { namespace: "foo", port }, source: { ip: "10.0.1.5" } });
    expect(chain.decide(tcp(9000), { customDecision: "deny" })).toMatchObject({ decision: "deny", customAsked: true, details: "ext_authz_denied" });
    expect(chain.decide(tcp(8000), { customDecision: "deny" })).toMatchObject({ decision: "allow", customAsked: false });
    const broken = compileEnvoyAuthzChain([{ name: "envoy.filters.network.ext_authz", config: { typeUrl: "type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz", value: new Uint8Array([0x32, 0x05, 0x01]) } }], { kind: "network" });
    expect(broken.problems).toHaveLength(1);
    expect(broken.decide(tcp(8000))).toMatchObject({ decision: "deny", uncertain: true });
  });
  it("a shadow rule the evaluator cannot decide makes the ext_authz gate fail closed", () => {
    const chain = compileEnvoyAuthzChain([
      { name: "envoy.filters.http.rbac", config: { shadowRulesStatPrefix: "istio_ext_authz_", shadowRules: { action: "DENY", policies: { "istio-ext-authz-x": { permissions: [{ matcher: { name: "m" } }], principals: [{ any: true }] } } } } },
      { name: "envoy.filters.http.ext_authz", config: { filterEnabledMetadata: { filter: "envoy.filters.http.rbac", path: [{ key: "istio_ext_authz_shadow_effective_policy_id" }], value: { stringMatch: { prefix: "istio-ext-authz" } } } } },
    ]);
    expect(chain.decide(req(), { customDecision: "allow" })).toMatchObject({ decision: "deny", uncertain: true });
  });
});

describe("config forms and the HTTP filter", () => {
  const json = { rules: { action: "DENY", policies: { "no-admin": { permissions: [{ urlPath: { path: { prefix: "/admin" } } }], principals: [{ any: true }] } } } };
  it("accepts the message, its binary round trip, an Any and the JSON form alike", () => {
    const parsed = parseEnvoyRbacConfig(json);
    expect(parsed.kind).toBe("http");
    const message = fromBinary(HttpRbacSchema, toBinary(HttpRbacSchema, parsed.message as never));
    for (const form of [json, message, anyPack(HttpRbacSchema, message), create(HttpRbacSchema, message)]) {
      expect(compileEnvoyRbac(form).decide(req({ path: "/admin/1" })).decision).toBe("deny");
    }
    expect(() => parseEnvoyRbacConfig({ rules: { action: "NOPE" } })).toThrow();
    expect(() => parseEnvoyRbacConfig({ "@type": "type.googleapis.com/some.Other" })).toThrow(/not an RBAC/);
  });
  it("is registered as envoy.filters.http.rbac, validates its config and denies with Envoy's details", async () => {
    const ctx = createTestContext();
    const [filter] = buildFilterChain([{ name: "envoy.filters.http.rbac", config: json }], httpFilters, ctx);
    const denied = createTestStream({ path: "/admin/x", principal: "spiffe://cluster.local/ns/foo/sa/sleep" });
    expect(await filter!.onRequest!(denied)).toMatchObject({ status: 403, body: "RBAC: access denied", details: "rbac_access_denied_matched_policy[no-admin]" });
    expect(await filter!.onRequest!(createTestStream({ path: "/ok" }))).toBeUndefined();
    expect(httpFilters.get("envoy.filters.http.rbac")!.schema.safeParse({ rules: { action: 7, policies: 3 } }).success).toBe(false);
  });
  it("decides destination_port and destination_ip from the stream's local port and address", async () => {
    const ctx = createTestContext();
    const config = { rules: { action: "ALLOW", policies: { p: { permissions: [{ andRules: { rules: [{ destinationPort: 8080 }, { destinationIp: { addressPrefix: "10.0.0.0", prefixLen: 8 } }] } }], principals: [{ any: true }] } } } };
    const [filter] = buildFilterChain([{ name: "envoy.filters.http.rbac", config }], httpFilters, ctx);
    const at = (localAddress: string | undefined, localPort: number | undefined) => filter!.onRequest!(createTestStream({ connection: { remoteAddress: "10.1.1.1", ...(localAddress ? { localAddress } : {}), ...(localPort ? { localPort } : {}) } }));
    expect(await at("10.0.0.9", 8080)).toBeUndefined();
    expect(await at("::ffff:10.0.0.9", 8080)).toBeUndefined();
    expect(await at("10.0.0.9", 8081)).toMatchObject({ status: 403 });
    expect(await at("192.168.0.1", 8080)).toMatchObject({ status: 403 });
    expect(await at(undefined, undefined)).toMatchObject({ status: 403 });
  });
});
