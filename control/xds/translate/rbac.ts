/**
 * @module control/xds/translate/rbac
 * IR authorization rules → Envoy RBAC `Policy`s with the semantics of Istio's generator
 * (pilot/pkg/security/authz/model), so Envoys configured by weft enforce what istiod would have them
 * enforce, and the same decisions as weft's own engine (core/policy):
 * - a rule is one Policy named `ns[<ns>]-policy[<name>]-rule[<i>]`; each `to` is one AND permission
 *   (host, method, path, port first, then `when` keys on the destination), ORed; each `from` is one AND
 *   principal (principal, request principal, service account, namespace, remote IP, IP first, then
 *   `when` keys on the source), ORed; `values` become an OR, `notValues` a NOT of an OR;
 * - value syntax: `*` is "non-empty" (regex `.+`) or "present" for headers, methods and hosts; `*x`
 *   suffix, `x*` prefix; principals get `spiffe://`; hosts ignore case; `{*}`/`{**}` paths become URI
 *   templates; namespaces and service accounts are regexes on the peer's URI SAN; JWT attributes are
 *   `envoy.filters.http.jwt_authn` metadata;
 * - a value that cannot be generated (bad CIDR or port, an HTTP attribute on a TCP chain) drops the whole
 *   rule for ALLOW (allow less) and just the value for DENY/AUDIT/CUSTOM (deny more); an unknown `when`
 *   key drops the rule whatever the action.
 */
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { AuthzAction, AuthzRule, FieldMatch } from "../../../core/ir/model.ts";
import {
  Permission_SetSchema, PermissionSchema, PolicySchema, Principal_AuthenticatedSchema, Principal_SetSchema, PrincipalSchema,
  type Permission, type Policy, type Principal,
} from "../../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import { RegexMatcherSchema } from "../../../gen/proto/envoy/type/matcher/v3/regex_pb.ts";
import { PathMatcherSchema } from "../../../gen/proto/envoy/type/matcher/v3/path_pb.ts";
import { TypedExtensionConfigSchema } from "../../../gen/proto/envoy/config/core/v3/extension_pb.ts";
import { CidrRangeSchema, type CidrRange } from "../../../gen/proto/envoy/config/core/v3/address_pb.ts";
import { HeaderMatcherSchema, type HeaderMatcher } from "../../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import { MetadataMatcherSchema, type MetadataMatcher } from "../../../gen/proto/envoy/type/matcher/v3/metadata_pb.ts";
import { ValueMatcherSchema, type ValueMatcher } from "../../../gen/proto/envoy/type/matcher/v3/value_pb.ts";
import { StringMatcherSchema, type StringMatcher } from "../../../gen/proto/envoy/type/matcher/v3/string_pb.ts";
import { UriTemplateMatchConfigSchema } from "../../../gen/proto/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.ts";
import { parseCidr } from "../../../core/policy/cidr.ts";

class GenError extends Error {}

const str = (m: StringMatcher["matchPattern"], ignoreCase = false): StringMatcher => create(StringMatcherSchema, { matchPattern: m, ignoreCase });
const regex = (r: string) => str({ case: "safeRegex", value: create(RegexMatcherSchema, { regex: r }) });
const exact = (v: string, ic = false) => str({ case: "exact", value: v }, ic);
const prefix = (v: string, ic = false) => str({ case: "prefix", value: v }, ic);
const suffix = (v: string, ic = false) => str({ case: "suffix", value: v }, ic);

/** Istio's StringMatcherWithPrefix (`*` → `.+`; `*x` with a prefix is the unquoted regex `<prefix>.*x`). */
export function istioStringMatcher(v: string, pre = ""): StringMatcher {
  if (v === "*") return regex(".+");
  if (v.startsWith("*")) return pre === "" ? suffix(v.slice(1)) : regex(`${pre}.*${v.slice(1)}`);
  if (v.endsWith("*")) return prefix(pre + v.slice(0, -1));
  return exact(pre + v);
}

/** Istio's HeaderMatcher (and HostMatcher with `ignoreCase`): `*` = present. */
function istioHeader(name: string, v: string, ignoreCase = false): HeaderMatcher {
  if (v === "*") return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: "presentMatch", value: true } });
  const m = v.startsWith("*") ? suffix(v.slice(1), ignoreCase) : v.endsWith("*") ? prefix(v.slice(0, -1), ignoreCase) : exact(v, ignoreCase);
  return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: "stringMatch", value: m } });
}

function cidr(v: string): CidrRange {
  const c = parseCidr(v);
  if (!c) throw new GenError(`bad CIDR or IP ${v}`);
  const slash = v.indexOf("/");
  return create(CidrRangeSchema, { addressPrefix: slash >= 0 ? v.slice(0, slash) : v, prefixLen: c.prefix });
}

function port(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new GenError(`bad port ${v}`);
  return Number(v);
}

const perm = (rule: Permission["rule"]): Permission => create(PermissionSchema, { rule });
const princ = (identifier: Principal["identifier"]): Principal => create(PrincipalSchema, { identifier });
const permOr = (rules: Permission[]) => perm({ case: "orRules", value: create(Permission_SetSchema, { rules }) });
const permAnd = (rules: Permission[]) => perm({ case: "andRules", value: create(Permission_SetSchema, { rules }) });
const permNot = (p: Permission) => perm({ case: "notRule", value: p });
const princOr = (ids: Principal[]) => princ({ case: "orIds", value: create(Principal_SetSchema, { ids }) });
const princAnd = (ids: Principal[]) => princ({ case: "andIds", value: create(Principal_SetSchema, { ids }) });
const princNot = (p: Principal) => princ({ case: "notId", value: p });
const authenticated = (m: StringMatcher) => princ({ case: "authenticated", value: create(Principal_AuthenticatedSchema, { principalName: m }) });
const metadataPrincipal = (m: MetadataMatcher) => princ({ case: "metadata", value: m });

function metadata(filter: string, path: string[], value: ValueMatcher): MetadataMatcher {
  return create(MetadataMatcherSchema, { filter, path: path.map((key) => ({ segment: { case: "key" as const, value: key } })), value });
}
const valueStr = (m: StringMatcher) => create(ValueMatcherSchema, { matchPattern: { case: "stringMatch", value: m } });
const valueOr = (ms: ValueMatcher[]) => create(ValueMatcherSchema, { matchPattern: { case: "orMatch", value: { valueMatchers: ms } } });
const valueList = (m: ValueMatcher) => create(ValueMatcherSchema, { matchPattern: { case: "listMatch", value: { matchPattern: { case: "oneOf", value: m } } } });

const JWT_FILTER = "envoy.filters.http.jwt_authn";
const jwtClaim = (claim: string, m: StringMatcher) => metadataPrincipal(metadata(JWT_FILTER, ["payload", claim], valueStr(m)));

/** A claim that may be a string or a list: `orMatch[listMatch.oneOf(X), X]` with X the OR of the values. */
function jwtListClaim(path: string[], values: string[]): Principal {
  const x = valueOr(values.map((v) => valueStr(istioStringMatcher(v))));
  return metadataPrincipal(metadata(JWT_FILTER, ["payload", ...path], valueOr([valueList(x), x])));
}

function requestPrincipal(values: string[]): Principal {
  const any = regex(".+");
  const ors = values.map((value) => {
    const idx = value.lastIndexOf("/");
    const found = idx >= 0;
    const iss = found ? value.slice(0, idx) : value;
    const sub = found ? value.slice(idx + 1) : "";
    let mi: StringMatcher;
    let ms: StringMatcher;
    if (value === "*") [mi, ms] = [any, any];
    else if (value.startsWith("*")) [mi, ms] = found ? [iss === "*" ? any : suffix(iss.slice(1)), exact(sub)] : [any, suffix(value.slice(1))];
    else if (value.endsWith("*")) [mi, ms] = found ? [exact(iss), sub === "*" ? any : prefix(sub.slice(0, -1))] : [prefix(value.slice(0, -1)), any];
    else [mi, ms] = [exact(iss), exact(sub)];
    return princAnd([jwtClaim("iss", mi), jwtClaim("sub", ms)]);
  });
  return ors.length === 1 ? ors[0]! : princOr(ors);
}

function bracketPath(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const close = s.indexOf("]", i);
    if (s[i] !== "[" || close < 0 || close === i + 1) throw new GenError(`bad key: ${s}`);
    out.push(s.slice(i + 1, close));
    i = close + 1;
  }
  if (!out.length) throw new GenError(`bad key: ${s}`);
  return out;
}

/** One attribute with values: per-value generator, or an "extended" one that takes all values at once. */
interface Attr {
  key: string;
  values: string[];
  notValues: string[];
  httpOnly: boolean;
  side: "permission" | "principal";
  one?: (v: string) => Permission | Principal;
  all?: (vs: string[]) => Permission | Principal;
}

function attr(key: string, f: FieldMatch | { values?: string[]; notValues?: string[] } | undefined, side: Attr["side"], httpOnly: boolean, gen: Pick<Attr, "one" | "all">): Attr | null {
  const values = f?.values ?? [];
  const notValues = f?.notValues ?? [];
  if (!values.length && !notValues.length) return null;
  return { key, values, notValues, httpOnly, side, ...gen };
}

function pathPermission(v: string): Permission {
  if (v.includes("{*}") || v.includes("{**}")) {
    const cfg = create(UriTemplateMatchConfigSchema, { pathTemplate: v.replaceAll("{**}", "**").replaceAll("{*}", "*") });
    return perm({ case: "uriTemplate", value: create(TypedExtensionConfigSchema, { name: "uri-template", typedConfig: anyPack(UriTemplateMatchConfigSchema, cfg) }) });
  }
  return perm({ case: "urlPath", value: create(PathMatcherSchema, { rule: { case: "path", value: istioStringMatcher(v) } }) });
}

function whenAttr(key: string, values: string[] | undefined, notValues: string[] | undefined, ns: string, expand: (v: string) => string[]): Attr | null {
  const f = { values, notValues };
  const P = "principal" as const;
  const Q = "permission" as const;
  switch (key) {
    case "destination.ip": return attr(key, f, Q, false, { one: (v) => perm({ case: "destinationIp", value: cidr(v) }) });
    case "destination.port": return attr(key, f, Q, false, { one: (v) => perm({ case: "destinationPort", value: port(v) }) });
    case "connection.sni": return attr(key, f, Q, false, { one: (v) => perm({ case: "requestedServerName", value: istioStringMatcher(v) }) });
    case "source.ip": return attr(key, f, P, false, { one: (v) => princ({ case: "directRemoteIp", value: cidr(v) }) });
    case "remote.ip": return attr(key, f, P, false, { one: (v) => princ({ case: "remoteIp", value: cidr(v) }) });
    case "source.namespace": return attr(key, f, P, false, { one: (v) => authenticated(regex(`.*/ns/${v.replaceAll("*", ".*")}/.*`)) });
    case "source.serviceAccount": return attr(key, f, P, false, { one: (v) => authenticated(regex(serviceAccountRegex(ns, v))) });
    case "source.principal": return attr(key, { values: values?.flatMap(expand), notValues: notValues?.flatMap(expand) }, P, false, { one: (v) => authenticated(istioStringMatcher(v, "spiffe://")) });
    case "request.auth.principal": return attr(key, f, P, true, { all: requestPrincipal });
    case "request.auth.audiences": return attr(key, f, P, true, { all: (vs) => jwtListClaim(["aud"], vs) });
    case "request.auth.presenter": return attr(key, f, P, true, { all: (vs) => jwtListClaim(["azp"], vs) });
  }
  if (key.startsWith("request.headers")) {
    return attr(key, f, P, true, {
      one: (v) => {
        const m = /^\[(.+)\]$/.exec(key.slice("request.headers".length));
        if (!m) throw new GenError(`bad key: ${key}`);
        return princ({ case: "header", value: istioHeader(m[1]!, v) });
      },
    });
  }
  if (key.startsWith("request.auth.claims")) return attr(key, f, P, true, { all: (vs) => jwtListClaim(bracketPath(key.slice("request.auth.claims".length)), vs) });
  if (key.startsWith("experimental.envoy.filters.")) {
    return attr(key, f, Q, false, {
      all: (vs) => {
        const parts = key.slice("experimental.".length).replace(/\]$/, "").split("[");
        if (parts.length !== 2) throw new GenError(`bad key: ${key}`);
        const matchers = vs.map((v) => (v.startsWith("[") && v.endsWith("]") ? valueList(valueStr(istioStringMatcher(v.slice(1, -1)))) : valueStr(istioStringMatcher(v))));
        return perm({ case: "metadata", value: metadata(parts[0]!, [parts[1]!], valueOr(matchers)) });
      },
    });
  }
  throw new GenError(`unknown attribute ${key}`);
}

/** Istio's service-account regex on the peer URI (`sa` or `ns/sa`; namespace defaults to the policy's). */
export function serviceAccountRegex(defaultNamespace: string, value: string): string {
  const slash = value.indexOf("/");
  const ns = slash >= 0 ? value.slice(0, slash) : defaultNamespace;
  const sa = slash >= 0 ? value.slice(slash + 1) : value;
  return `spiffe://.+/ns/${ns}/(.+/|)sa/${sa}(/.+)?`;
}

/** The AND terms one attribute contributes: OR of values, NOT(OR of notValues). */
function terms(a: Attr, forTcp: boolean, action: AuthzAction): (Permission | Principal)[] {
  const check = (err: unknown) => {
    if (!(err instanceof GenError)) throw err;
    if (action === "ALLOW") throw err;
  };
  const isPerm = a.side === "permission";
  const out: (Permission | Principal)[] = [];
  const gen = (vs: string[]): (Permission | Principal)[] => {
    if (forTcp && a.httpOnly) throw new GenError(`"${a.key}" is HTTP only`);
    if (a.all) return [a.all(vs)];
    const got: (Permission | Principal)[] = [];
    for (const v of vs) {
      try {
        got.push(a.one!(v));
      } catch (err) {
        check(err);
      }
    }
    return got.length ? [isPerm ? permOr(got as Permission[]) : princOr(got as Principal[])] : [];
  };
  for (const [vs, negate] of [[a.values, false], [a.notValues, true]] as const) {
    if (!vs.length) continue;
    let got: (Permission | Principal)[] = [];
    try {
      got = gen(vs);
    } catch (err) {
      check(err);
    }
    for (const g of got) out.push(negate ? (isPerm ? permNot(g as Permission) : princNot(g as Principal)) : g);
  }
  return out;
}

export interface GenerateContext {
  action: AuthzAction;
  policyNamespace: string;
  forTcp: boolean;
  /** Trust-domain alias expansion for principals (core/policy `createPrincipalExpander`). */
  expandPrincipal?: (value: string) => string[];
}

/** One rule → one RBAC Policy, or null when Istio would skip the rule. */
export function generatePolicy(rule: AuthzRule, ctx: GenerateContext): Policy | null {
  const expand = ctx.expandPrincipal ?? ((v: string) => [v]);
  try {
    const whens = rule.when.map((c) => whenAttr(c.key, c.values, c.notValues, ctx.policyNamespace, expand)).filter((a): a is Attr => a !== null);
    const basePerm = whens.filter((a) => a.side === "permission");
    const basePrinc = whens.filter((a) => a.side === "principal");
    const permLists = (rule.to.length ? rule.to : [null]).map((o) => [
      ...(o ? [
        attr("host", o.hosts, "permission", true, { one: (v) => perm({ case: "header", value: istioHeader(":authority", v, true) }) }),
        attr("method", o.methods, "permission", true, { one: (v) => perm({ case: "header", value: istioHeader(":method", v) }) }),
        attr("path", o.paths, "permission", true, { one: pathPermission }),
        attr("port", o.ports, "permission", false, { one: (v) => perm({ case: "destinationPort", value: port(v) }) }),
      ] : []),
      ...basePerm,
    ].filter((a): a is Attr => a !== null));
    const princLists = (rule.from.length ? rule.from : [null]).map((s) => [
      ...(s ? [
        attr("source.principal", s.principals && { values: s.principals.values?.flatMap(expand), notValues: s.principals.notValues?.flatMap(expand) }, "principal", false, { one: (v) => authenticated(istioStringMatcher(v, "spiffe://")) }),
        attr("request.auth.principal", s.requestPrincipals, "principal", true, { all: requestPrincipal }),
        attr("source.serviceAccount", s.serviceAccounts, "principal", false, { one: (v) => authenticated(regex(serviceAccountRegex(ctx.policyNamespace, v))) }),
        attr("source.namespace", s.namespaces, "principal", false, { one: (v) => authenticated(regex(`.*/ns/${v.replaceAll("*", ".*")}/.*`)) }),
        attr("remote.ip", s.remoteIpBlocks, "principal", false, { one: (v) => princ({ case: "remoteIp", value: cidr(v) }) }),
        attr("source.ip", s.ipBlocks, "principal", false, { one: (v) => princ({ case: "directRemoteIp", value: cidr(v) }) }),
      ] : []),
      ...basePrinc,
    ].filter((a): a is Attr => a !== null));
    const permissions = permLists.map((list) => {
      const and = list.flatMap((a) => terms(a, ctx.forTcp, ctx.action)) as Permission[];
      return permAnd(and.length ? and : [perm({ case: "any", value: true })]);
    });
    const principals = princLists.map((list) => {
      const and = list.flatMap((a) => terms(a, ctx.forTcp, ctx.action)) as Principal[];
      return princAnd(and.length ? and : [princ({ case: "any", value: true })]);
    });
    return create(PolicySchema, { permissions, principals });
  } catch (err) {
    if (err instanceof GenError) return null;
    throw err;
  }
}

/** The policy Istio emits for a policy without rules: it never matches. */
export function matchNeverPolicy(): Policy {
  return create(PolicySchema, {
    permissions: [permNot(perm({ case: "any", value: true }))],
    principals: [princNot(princ({ case: "any", value: true }))],
  });
}

/** Istio's policy name for rule `i`. */
export function policyRuleName(namespace: string, name: string, i: number, custom = false): string {
  return `${custom ? "istio-ext-authz-" : ""}ns[${namespace}]-policy[${name}]-rule[${i}]`;
}
