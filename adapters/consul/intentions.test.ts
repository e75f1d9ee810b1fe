import { describe, expect, it } from "vitest";
import { compileAuthorizer } from "../../core/policy/engine.ts";
import { compileFullMatch } from "../../core/policy/re2.ts";
import { consulAuthzPolicy, consulToIr, irToConsul } from "./conversion.ts";
import { containsOf, containsRegex, intentionPrecedence, intentionsToPolicy, normalizeIntentions } from "./intentions.ts";
import type { ServiceIntentionsEntry } from "./schema.ts";

const TD = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.consul";
const id = (svc: string, ns = "default", extra = "") => `spiffe://${TD}${extra}/ns/${ns}/dc/dc1/svc/${svc}`;

describe("precedence, as Consul computes it", () => {
  it("matches the documented table, namespaces included", () => {
    expect(intentionPrecedence("api", "default", "web", "default")).toBe(9);
    expect(intentionPrecedence("api", "default", "*", "default")).toBe(8);
    expect(intentionPrecedence("api", "default", "*", "*")).toBe(7);
    expect(intentionPrecedence("*", "default", "web", "default")).toBe(6);
    expect(intentionPrecedence("*", "default", "*", "default")).toBe(5);
    expect(intentionPrecedence("*", "*", "*", "*")).toBe(1);
  });

  it("sorts sources across entries by precedence, then lexically, and inherits the destination namespace", () => {
    const entries: ServiceIntentionsEntry[] = [
      { Kind: "service-intentions", Name: "*", Namespace: "team", Sources: [{ Name: "*", Action: "allow" }, { Name: "web", Action: "deny" }] },
      { Kind: "service-intentions", Name: "api", Namespace: "team", Sources: [{ Name: "db", Action: "allow" }, { Name: "*", Namespace: "*", Action: "deny" }, { Name: "cache", Action: "deny" }] },
    ];
    expect(normalizeIntentions(entries).map((n) => `${n.srcNs}/${n.srcName}→${n.dstNs}/${n.dstName}:${n.precedence}`)).toEqual([
      "team/cache→team/api:9", "team/db→team/api:9", "*/*→team/api:7", "team/web→team/*:6", "team/*→team/*:5",
    ]);
  });
});

describe("intentions → IR", () => {
  const entries: ServiceIntentionsEntry[] = [
    { Kind: "service-intentions", Name: "api", Sources: [
      { Name: "web", Permissions: [{ Action: "allow", HTTP: { Header: [{ Name: "x-env", Contains: "Prod", IgnoreCase: true }], Methods: ["get"] } }] },
      { Name: "web", Peer: "east", Action: "allow" },
    ] },
  ];

  it("maps header Contains to an equivalent regex and back", () => {
    const re = containsRegex("a.b", true);
    expect(compileFullMatch(re)("xxA.Byy")).toBe(true);
    expect(compileFullMatch(re)("xxaXbyy")).toBe(false);
    expect(containsOf(re)).toEqual({ value: "a.b", ignoreCase: true });
    expect(containsOf(containsRegex("/v1?", false))).toEqual({ value: "/v1?", ignoreCase: false });
    expect(containsOf("v[0-9].*")).toBeNull();
  });

  it("matches peer sources only through a configured trust domain, and says so otherwise", () => {
    const { policy, losses } = intentionsToPolicy(entries, { trustDomain: TD, defaultAction: "deny" });
    expect(losses).toEqual([expect.objectContaining({ object: "service-intentions/api", field: "Sources[1].Peer", kind: "approximated" })]);
    const peerReq = { destination: { namespace: "default", service: "api" }, source: { principal: "spiffe://east-td.consul/ns/default/dc/dc9/svc/web" } };
    expect(compileAuthorizer([policy]).check(peerReq).decision).toBe("deny");
    const withPeer = intentionsToPolicy(entries, { trustDomain: TD, defaultAction: "deny", peerTrustDomains: { east: "east-td.consul" } });
    expect(withPeer.losses).toEqual([]);
    expect(compileAuthorizer([withPeer.policy]).check(peerReq).decision).toBe("allow");
    const local = { destination: { namespace: "default", service: "api" }, source: { principal: id("web") }, http: { method: "GET", path: "/", headers: { "X-Env": "pre-PROD" } } };
    expect(compileAuthorizer([withPeer.policy]).check(local).decision).toBe("allow");
  });

  it("resolves JWT providers through jwt-provider entries, and reports missing ones", () => {
    const jwtEntries = [
      { kind: "service-intentions" as const, entry: { Kind: "service-intentions", Name: "api", JWT: { Providers: [{ Name: "okta", VerifyClaims: [{ Path: ["perms", "role"], Value: "admin" }] }] }, Sources: [{ Name: "web", Action: "allow" }] } },
      { kind: "jwt-provider" as const, entry: { Kind: "jwt-provider", Name: "okta", Issuer: "https://okta" } },
    ];
    const { policy, losses } = consulAuthzPolicy(jwtEntries, { defaultAction: "deny" });
    expect(losses).toEqual([]);
    const a = compileAuthorizer([policy]);
    const base = { destination: { namespace: "default", service: "api" }, source: { principal: id("web") }, http: { method: "GET", path: "/" } };
    expect(a.check({ ...base, auth: { claims: { iss: "https://okta", perms: { role: "admin" } } } }).decision).toBe("allow");
    expect(a.check({ ...base, auth: { claims: { iss: "https://okta", perms: { role: "user" } } } }).decision).toBe("deny");
    expect(a.check(base).decision).toBe("deny");
    const missing = consulAuthzPolicy([jwtEntries[0]!], { defaultAction: "allow" });
    expect(missing.losses.map((l) => l.field)).toEqual(["JWT.Providers[0]"]);
  });

  it("round-trips through the IR back to the same entries", () => {
    const src: ServiceIntentionsEntry[] = [
      { Kind: "service-intentions", Name: "api", Sources: [
        { Name: "web", Permissions: [{ Action: "deny", HTTP: { PathRegex: "/admin/.*" } }, { Action: "allow", HTTP: { PathPrefix: "/", Methods: ["GET", "HEAD"], Header: [{ Name: "x-env", Contains: "prod", Invert: true }] } }] },
        { Name: "*", Action: "deny" },
      ] },
      { Kind: "service-intentions", Name: "*", Sources: [{ Name: "*", Action: "allow" }] },
    ];
    const { model, losses } = consulToIr(src.map((entry) => ({ kind: "service-intentions", entry })));
    expect(losses).toEqual([]);
    const back = irToConsul(model);
    expect(back.losses).toEqual([]);
    expect(back.entries).toEqual(src);
  });
});
