/**
 * @module core/policy/compile-rule
 * Turns one IR rule into predicates over a `RequestView`, once, in two variants: for HTTP traffic, and
 * for TCP traffic, where Istio treats HTTP-only fields by action — an ALLOW rule that uses them is dropped
 * (allows less); in DENY, AUDIT and CUSTOM rules they are ignored (deny more). A value Istio cannot turn
 * into a matcher (bad CIDR, non-numeric port) follows the same rule: ALLOW drops the rule, the others
 * drop the value. Unknown `when` keys drop the rule whatever the action, as Istio's model.New does.
 */
import type { AuthzAction, AuthzRule, FieldMatch } from "../ir/model.ts";
import { cidrContains, parseCidr } from "./cidr.ts";
import {
  claimMatches, containsPathTemplate, headerMatcher, hostMatcher, namespaceMatcher, parseBracketPath,
  pathTemplateMatcher, requestPrincipalMatcher, serviceAccountMatcher, stringMatcher, type StringTest,
} from "./matchers.ts";
import type { RequestView } from "./request-view.ts";

export type Test = (v: RequestView) => boolean;

interface Cond {
  test: Test;
  httpOnly: boolean;
}

export interface CompiledRule {
  index: number;
  /** null: the rule never matches this kind of traffic (dropped). */
  http: Test | null;
  tcp: Test | null;
}

export interface RuleContext {
  action: AuthzAction;
  policyNamespace: string;
  /** Rewrites a principal value for trust-domain aliases (one value → several). */
  expandPrincipal: (value: string) => string[];
}

class DropRule extends Error {}

/** Builds `(any value) && !(any notValue)` from per-value predicates; invalid values per action. */
function fieldCond(
  f: FieldMatch | undefined,
  httpOnly: boolean,
  ctx: RuleContext,
  make: (value: string) => Test | null,
): Cond | null {
  if (!f) return null;
  const build = (vals: string[] | undefined): Test[] => {
    const out: Test[] = [];
    for (const v of vals ?? []) {
      const t = make(v);
      if (t) out.push(t);
      else if (ctx.action === "ALLOW") throw new DropRule();
    }
    return out;
  };
  const pos = build(f.values);
  const neg = build(f.notValues);
  if (pos.length === 0 && neg.length === 0) return null;
  const anyOf = (ts: Test[]): Test => (ts.length === 1 ? ts[0]! : or(ts));
  const p = pos.length ? anyOf(pos) : null;
  const n = neg.length ? anyOf(neg) : null;
  const test: Test = p && n ? (v) => p(v) && !n(v) : p ? p : (v) => !n!(v);
  return { test, httpOnly };
}

const on = (get: (v: RequestView) => string | undefined, m: StringTest): Test => (v) => m(get(v));
const principalOf = (v: RequestView) => v.principal;

function principalCond(f: FieldMatch | undefined, ctx: RuleContext): Cond | null {
  if (!f) return null;
  const expand = (vals?: string[]) => vals?.flatMap((x) => ctx.expandPrincipal(x));
  return fieldCond({ values: expand(f.values), notValues: expand(f.notValues) }, false, ctx, (x) => on(principalOf, stringMatcher(x, "spiffe://")));
}

function cidrTest(value: string, get: (v: RequestView) => Uint8Array | null): Test | null {
  const c = parseCidr(value);
  if (!c) return null;
  return (v) => {
    const ip = get(v);
    return ip !== null && cidrContains(c, ip);
  };
}

function portTest(value: string): Test | null {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) return null;
  const port = Number(value);
  return (v) => v.req.destination.port === port;
}

function requestPrincipalTest(value: string): Test {
  const m = requestPrincipalMatcher(value);
  return (v) => m(v.iss, v.sub);
}

/** Compiles one `when` condition; throws DropRule for keys Istio does not know. */
function whenCond(key: string, values: string[] | undefined, notValues: string[] | undefined, ctx: RuleContext): Cond | null {
  const f = { values, notValues };
  switch (key) {
    case "source.ip": return fieldCond(f, false, ctx, (x) => cidrTest(x, (v) => v.srcIp));
    case "remote.ip": return fieldCond(f, false, ctx, (x) => cidrTest(x, (v) => v.remoteIp));
    case "destination.ip": return fieldCond(f, false, ctx, (x) => cidrTest(x, (v) => v.dstIp));
    case "destination.port": return fieldCond(f, false, ctx, portTest);
    case "source.namespace": return fieldCond(f, false, ctx, (x) => on(principalOf, namespaceMatcher(x)));
    case "source.principal": return principalCond(f, ctx);
    case "source.serviceAccount": return fieldCond(f, false, ctx, (x) => on(principalOf, serviceAccountMatcher(x, ctx.policyNamespace)));
    case "connection.sni": return fieldCond(f, false, ctx, (x) => on((v) => v.req.sni, stringMatcher(x)));
    case "request.auth.principal": return fieldCond(f, true, ctx, requestPrincipalTest);
    case "request.auth.audiences":
      return fieldCond(f, true, ctx, (x) => {
        const m = stringMatcher(x);
        return (v) => claimMatches(v.req.auth?.audiences ?? v.req.auth?.claims?.["aud"], m);
      });
    case "request.auth.presenter":
      return fieldCond(f, true, ctx, (x) => {
        const m = stringMatcher(x);
        return (v) => claimMatches(v.req.auth?.presenter ?? v.req.auth?.claims?.["azp"], m);
      });
  }
  if (key.startsWith("request.headers[") && key.endsWith("]")) {
    const name = key.slice("request.headers[".length, -1).toLowerCase();
    if (!name) throw new DropRule();
    return fieldCond(f, true, ctx, (x) => {
      const m = headerMatcher(x);
      return (v) => v.isHttp && m(v.header(name));
    });
  }
  if (key.startsWith("request.auth.claims")) {
    const path = parseBracketPath(key.slice("request.auth.claims".length));
    if (!path) throw new DropRule();
    const spaceDelimited = path.length === 1 && (path[0] === "scope" || path[0] === "permission");
    return fieldCond(f, true, ctx, (x) => {
      const m = stringMatcher(x);
      return (v) => {
        let c: unknown = v.req.auth?.claims;
        for (const seg of path) c = c && typeof c === "object" ? (c as Record<string, unknown>)[seg] : undefined;
        // Istio's jwt filter turns the space-delimited `scope` and `permission` claims into lists
        // (RequestAuthentication spaceDelimitedClaims' default) before authorization sees them.
        if (spaceDelimited && typeof c === "string") c = c.split(" ").filter(Boolean);
        return v.req.auth !== undefined && claimMatches(c, m);
      };
    });
  }
  if (key.startsWith("experimental.envoy.filters.")) {
    // Envoy dynamic metadata does not exist in weft. Fail closed: an ALLOW rule never matches on it,
    // a DENY/AUDIT/CUSTOM rule always does.
    return { test: () => ctx.action !== "ALLOW", httpOnly: false };
  }
  throw new DropRule();
}

function all(conds: (Cond | null)[], forTcp: boolean, action: AuthzAction): Test[] | null {
  const out: Test[] = [];
  for (const c of conds) {
    if (!c) continue;
    if (forTcp && c.httpOnly) {
      if (action === "ALLOW") return null;
      continue;
    }
    out.push(c.test);
  }
  return out;
}

function and(ts: Test[]): Test {
  if (ts.length === 0) return () => true;
  if (ts.length === 1) return ts[0]!;
  if (ts.length === 2) { const [a, b] = ts as [Test, Test]; return (v) => a(v) && b(v); }
  if (ts.length === 3) { const [a, b, c] = ts as [Test, Test, Test]; return (v) => a(v) && b(v) && c(v); }
  return (v) => { for (let i = 0; i < ts.length; i++) if (!ts[i]!(v)) return false; return true; };
}
function or(ts: Test[]): Test {
  if (ts.length === 1) return ts[0]!;
  if (ts.length === 2) { const [a, b] = ts as [Test, Test]; return (v) => a(v) || b(v); }
  return (v) => { for (let i = 0; i < ts.length; i++) if (ts[i]!(v)) return true; return false; };
}

/** Compiles a rule into HTTP and TCP predicates (null = never matches). */
export function compileRule(rule: AuthzRule, index: number, ctx: RuleContext): CompiledRule {
  try {
    const froms = (rule.from.length ? rule.from : [{}]).map((s) => [
      principalCond(s.principals, ctx),
      fieldCond(s.requestPrincipals, true, ctx, requestPrincipalTest),
      fieldCond(s.namespaces, false, ctx, (x) => on(principalOf, namespaceMatcher(x))),
      fieldCond(s.serviceAccounts, false, ctx, (x) => on(principalOf, serviceAccountMatcher(x, ctx.policyNamespace))),
      fieldCond(s.ipBlocks, false, ctx, (x) => cidrTest(x, (v) => v.srcIp)),
      fieldCond(s.remoteIpBlocks, false, ctx, (x) => cidrTest(x, (v) => v.remoteIp)),
    ]);
    const tos = (rule.to.length ? rule.to : [{}]).map((o) => [
      fieldCond(o.hosts, true, ctx, (x) => on((v) => v.req.http?.host, hostMatcher(x))),
      fieldCond(o.ports, false, ctx, portTest),
      fieldCond(o.methods, true, ctx, (x) => on((v) => v.req.http?.method, headerMatcher(x))),
      fieldCond(o.paths, true, ctx, (x) => {
        const m = containsPathTemplate(x) ? pathTemplateMatcher(x) : stringMatcher(x);
        return (v) => m(v.path ?? undefined);
      }),
    ]);
    const whens = rule.when.map((c) => whenCond(c.key, c.values, c.notValues, ctx));
    const variant = (forTcp: boolean): Test | null => {
      const w = all(whens, forTcp, ctx.action);
      if (!w) return null;
      const f: Test[] = [];
      for (const g of froms) {
        const t = all(g, forTcp, ctx.action);
        if (!t) return null;
        f.push(and(t));
      }
      const o: Test[] = [];
      for (const g of tos) {
        const t = all(g, forTcp, ctx.action);
        if (!t) return null;
        o.push(and(t));
      }
      return and([or(f), or(o), ...w]);
    };
    return { index, http: variant(false), tcp: variant(true) };
  } catch (err) {
    if (err instanceof DropRule) return { index, http: null, tcp: null };
    throw err;
  }
}
