/**
 * @module core/policy/ordered
 * Compiles an ordered first-match policy (`AuthzPolicy.ordered`, Consul intentions' model) into a
 * decision function. Rules are tried in order; the first whose destination and sources match decides,
 * through its L4 action or its first matching L7 permission, and a decided rule never falls through to
 * a later one: no matching permission, or a failed JWT requirement, yields the policy's default. An L7
 * rule decides DENY for TCP traffic. Matching follows Envoy as Consul configures it: peer identities by
 * SPIFFE shape (any datacenter), paths on the normalized path without query, headers case-insensitive by
 * name with Envoy's `invert_match` (an absent header never matches an inverted value matcher, only an
 * inverted presence matcher), methods exactly, regexes as RE2 full matches.
 */
import type { HeaderMatch, JwtRequirement, OrderedAuthz, OrderedAuthzRule, OrderedPermission, PeerPattern, StringMatch } from "../ir/model.ts";
import { tryClassifyIdentity } from "../identity/mesh-forms.ts";
import { compileFullMatch } from "./re2.ts";
import { compileStringMatch as compileSharedStringMatch, type CompiledStringMatch } from "../match/string-match.ts";
import type { RequestView } from "./request-view.ts";

type Test = (v: RequestView) => boolean;

/** What an ordered policy decided for one request. */
export interface OrderedDecision {
  decision: "allow" | "deny";
  /** Index of the deciding rule, or null when no rule matched. */
  rule: number | null;
  /** Index of the deciding permission, or null. */
  permission: number | null;
  /** True when the default action decided. */
  byDefault: boolean;
  reason: string;
}

export type OrderedEvaluator = (v: RequestView) => OrderedDecision;

/** Envoy's StringMatcher over a value that may be absent, with RE2 regexes (what Envoy accepts). */
export function compileStringMatch(m: StringMatch): CompiledStringMatch {
  return compileSharedStringMatch(m, compileFullMatch);
}

function headerValue(v: RequestView, name: string): string | undefined {
  switch (name) {
    case ":method": return v.req.http?.method;
    case ":path": return v.req.http?.path;
    case ":authority": return v.req.http?.host ?? v.header("host");
    default: return v.header(name);
  }
}

/** Envoy HeaderMatcher with `invert_match` and `treat_missing_header_as_empty: false`. */
function compileHeader(h: HeaderMatch): Test {
  const name = h.name.toLowerCase();
  const m = compileStringMatch(h.match);
  const presence = "present" in h.match;
  const invert = h.invert === true;
  return (v) => {
    const value = headerValue(v, name);
    if (value === undefined) return presence && invert;
    return m(value) !== invert;
  };
}

function compilePeer(p: PeerPattern): Test {
  if ("principal" in p) {
    const m = compileStringMatch(p.principal);
    return (v) => m(v.principal);
  }
  const c = p.consul;
  if (c.peer !== undefined && c.trustDomain === undefined) return () => false;
  const partition = c.partition ?? "default";
  return (v) => {
    if (!v.principal) return false;
    const id = tryClassifyIdentity(v.principal);
    if (!id || id.kind !== "consul") return false;
    // Consul leaves the default partition out of its URIs; `/ap/default/...` is not a Consul identity.
    if (id.id.path.startsWith("/ap/default/")) return false;
    const s = id.consul;
    return (c.trustDomain === undefined || s.trustDomain === c.trustDomain)
      && (s.partition ?? "default") === partition
      && (c.namespace === "*" || s.namespace === c.namespace)
      && (c.service === "*" || s.service === c.service);
  };
}

function claimAt(claims: unknown, path: string[]): unknown {
  let c = claims;
  for (const seg of path) c = c && typeof c === "object" && !Array.isArray(c) ? (c as Record<string, unknown>)[seg] : undefined;
  return c;
}

function compileJwt(reqs: JwtRequirement[] | undefined): Test | null {
  if (!reqs || reqs.length === 0) return null;
  const one = (r: JwtRequirement): Test => (v) => {
    if (!v.req.auth || v.iss !== r.issuer) return false;
    for (const c of r.claims ?? []) {
      const got = claimAt(v.req.auth.claims, c.path);
      const ok = typeof got === "string" ? got === c.value : Array.isArray(got) && got.some((x) => x === c.value);
      if (!ok) return false;
    }
    return true;
  };
  const all = reqs.map(one);
  return (v) => all.some((t) => t(v));
}

function compilePermission(p: OrderedPermission): { test: Test; jwt: Test | null } {
  const parts: Test[] = [];
  if (p.http.path) {
    const m = compileStringMatch(p.http.path);
    parts.push((v) => m(v.path ?? undefined));
  }
  for (const h of p.http.headers ?? []) parts.push(compileHeader(h));
  if (p.http.methods && p.http.methods.length > 0) {
    const methods = new Set(p.http.methods);
    parts.push((v) => v.req.http !== undefined && methods.has(v.req.http.method));
  }
  return { test: (v) => v.isHttp && parts.every((t) => t(v)), jwt: compileJwt(p.jwt) };
}

interface CompiledRule {
  name: string;
  destination: (ns: string, service: string | undefined) => boolean;
  source: Test;
  action: "allow" | "deny" | null;
  permissions: { test: Test; jwt: Test | null; action: "allow" | "deny"; }[] | null;
  jwt: Test | null;
}

const lower = (a: "ALLOW" | "DENY"): "allow" | "deny" => (a === "ALLOW" ? "allow" : "deny");

function compileRule(r: OrderedAuthzRule, i: number): CompiledRule {
  const ns = r.destination.namespace;
  const svc = r.destination.service;
  const part = r.destination.partition;
  const sources = r.sources.map(compilePeer);
  return {
    name: r.name ?? `rule ${i}`,
    destination: (reqNs, reqSvc) => (part === undefined || part === "default")
      && (ns === undefined || ns === "*" || ns === reqNs)
      && (svc === undefined || svc === "*" || svc === reqSvc),
    source: (v) => sources.some((t) => t(v)),
    action: r.permissions ? null : lower(r.action ?? "DENY"),
    permissions: r.permissions ? r.permissions.map((p) => ({ ...compilePermission(p), action: lower(p.action) })) : null,
    jwt: compileJwt(r.jwt),
  };
}

/**
 * Compiles an ordered policy once; the result is pure and reentrant.
 * @throws Error when a regex is not valid RE2.
 */
export function compileOrdered(o: OrderedAuthz): OrderedEvaluator {
  const rules = o.rules.map(compileRule);
  const dflt = lower(o.defaultAction);
  return (v) => {
    const ns = v.req.destination.namespace;
    const svc = v.req.destination.service;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!r.destination(ns, svc) || !r.source(v)) continue;
      const byDefault = (why: string, permission: number | null = null): OrderedDecision => ({ decision: dflt, rule: i, permission, byDefault: true, reason: `${r.name} matched; ${why}; the default (${dflt}) applies` });
      if (r.permissions) {
        if (!v.isHttp) return { decision: "deny", rule: i, permission: null, byDefault: false, reason: `${r.name} matched and has L7 permissions, which deny TCP traffic` };
        if (r.jwt && !r.jwt(v)) return byDefault("no required JWT matched");
        for (let j = 0; j < r.permissions.length; j++) {
          const p = r.permissions[j]!;
          if (!p.test(v)) continue;
          if (p.jwt && !p.jwt(v)) return byDefault(`permission ${j} matched but no required JWT did`, j);
          return { decision: p.action, rule: i, permission: j, byDefault: false, reason: `${r.name} permission ${j} matched (${p.action})` };
        }
        return byDefault("no permission matched");
      }
      if (v.isHttp && r.jwt && !r.jwt(v)) return byDefault("no required JWT matched");
      return { decision: r.action!, rule: i, permission: null, byDefault: false, reason: `${r.name} matched (${r.action})` };
    }
    return { decision: dflt, rule: null, permission: null, byDefault: true, reason: `no rule matched; the default (${dflt}) applies` };
  };
}
