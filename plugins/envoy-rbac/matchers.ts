/**
 * @module plugins/envoy-rbac/matchers
 * Envoy's leaf matchers, compiled once from their protobuf messages into plain test functions with
 * Envoy's semantics: `StringMatcher` (exact/prefix/suffix/contains with `ignore_case`, `safe_regex` as
 * an RE2 full match), `HeaderMatcher` (absent headers, `invert_match`, `treat_missing_header_as_empty`,
 * ranges, presence), `PathMatcher` (query and fragment cut off), `ValueMatcher`/`MetadataMatcher` on
 * dynamic metadata (a `google.protobuf.Value` tree seen as JSON), CIDR ranges (absent `prefix_len` = 0)
 * and URI templates. A construct this module cannot evaluate throws `Unsupported`, which the compiler
 * turns into a reported problem and a fail-closed node.
 */
import type { CidrRange } from "../../gen/proto/envoy/config/core/v3/address_pb.ts";
import type { HeaderMatcher } from "../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import type { MetadataMatcher } from "../../gen/proto/envoy/type/matcher/v3/metadata_pb.ts";
import type { PathMatcher } from "../../gen/proto/envoy/type/matcher/v3/path_pb.ts";
import type { StringMatcher } from "../../gen/proto/envoy/type/matcher/v3/string_pb.ts";
import type { ValueMatcher } from "../../gen/proto/envoy/type/matcher/v3/value_pb.ts";
import { cidrContains, parseCidr } from "../../core/policy/cidr.ts";
import { compileFullMatch } from "../../core/policy/re2.ts";

/** A construct the evaluator cannot decide (reported at compile time; evaluates to "unknown"). */
export class Unsupported extends Error {}

export type StringTest = (s: string) => boolean;

/** Envoy `StringMatcher` → test. */
export function compileString(m: StringMatcher | undefined, where: string): StringTest {
  if (m === undefined) throw new Unsupported(`${where}: missing string matcher`);
  const ic = m.ignoreCase;
  const low = (s: string) => (ic ? s.toLowerCase() : s);
  const p = m.matchPattern;
  switch (p.case) {
    case "exact": {
      const v = low(p.value);
      return (s) => low(s) === v;
    }
    case "prefix": {
      const v = low(p.value);
      return (s) => low(s).startsWith(v);
    }
    case "suffix": {
      const v = low(p.value);
      return (s) => low(s).endsWith(v);
    }
    case "contains": {
      const v = low(p.value);
      return (s) => low(s).includes(v);
    }
    case "safeRegex":
      try {
        return compileFullMatch(p.value.regex);
      } catch (err) {
        throw new Unsupported(`${where}: ${(err as Error).message}`);
      }
    default:
      throw new Unsupported(`${where}: string matcher kind ${p.case ?? "(none)"} is not supported`);
  }
}

/** Request headers as Envoy's RBAC sees them: lower-case names (pseudo-headers included), values joined with `,`. */
export type HeaderLookup = (lowerName: string) => string | undefined;

/** Envoy `HeaderMatcher` (HeaderUtility::matchHeaders). */
export function compileHeader(h: HeaderMatcher, where: string): (headers: HeaderLookup) => boolean {
  const name = h.name.toLowerCase();
  const s = h.headerMatchSpecifier;
  let present = true;
  let test: StringTest;
  let isPresence = false;
  switch (s.case) {
    case undefined:
      isPresence = true;
      test = () => true;
      break;
    case "presentMatch":
      isPresence = true;
      present = s.value;
      test = () => s.value;
      break;
    case "exactMatch": {
      const v = s.value;
      test = (x) => v === "" || x === v;
      break;
    }
    case "prefixMatch": {
      const v = s.value;
      test = (x) => x.startsWith(v);
      break;
    }
    case "suffixMatch": {
      const v = s.value;
      test = (x) => x.endsWith(v);
      break;
    }
    case "containsMatch": {
      const v = s.value;
      test = (x) => x.includes(v);
      break;
    }
    case "safeRegexMatch":
      try {
        test = compileFullMatch(s.value.regex);
      } catch (err) {
        throw new Unsupported(`${where}: ${(err as Error).message}`);
      }
      break;
    case "rangeMatch": {
      const { start, end } = s.value;
      test = (x) => {
        if (!/^[+-]?\d+$/.test(x)) return false;
        const n = BigInt(x);
        return n >= start && n < end;
      };
      break;
    }
    case "stringMatch":
      test = compileString(s.value, `${where}.stringMatch`);
      break;
    default:
      throw new Unsupported(`${where}: header match kind ${(s as { case: string }).case} is not supported`);
  }
  const invert = h.invertMatch;
  const missingAsEmpty = h.treatMissingHeaderAsEmpty;
  return (headers) => {
    const value = headers(name);
    if (value === undefined && !missingAsEmpty) return invert ? isPresence && present : isPresence && !present;
    return test(value ?? "") !== invert;
  };
}

/** Cuts `?query` and `#fragment` off a request target (Envoy's `PathUtil::removeQueryAndFragment`). */
export function stripQueryAndFragment(path: string): string {
  let end = path.length;
  const q = path.indexOf("?");
  if (q >= 0) end = q;
  const f = path.indexOf("#");
  if (f >= 0 && f < end) end = f;
  return path.slice(0, end);
}

/** Envoy `PathMatcher`: the request's `:path` without query, through a string matcher; no path = no match. */
export function compilePath(m: PathMatcher, where: string): (path: string | undefined) => boolean {
  if (m.rule.case !== "path") throw new Unsupported(`${where}: path matcher without a rule`);
  const test = compileString(m.rule.value, `${where}.path`);
  return (path) => path !== undefined && path !== "" && test(stripQueryAndFragment(path));
}

/** Envoy `CidrRange` (absent `prefix_len` is 0) → test on a parsed address. */
export function compileCidr(c: CidrRange, where: string): (ip: Uint8Array | null) => boolean {
  const parsed = parseCidr(`${c.addressPrefix}/${c.prefixLen ?? 0}`);
  if (!parsed) throw new Unsupported(`${where}: bad CIDR range ${c.addressPrefix}/${c.prefixLen ?? 0}`);
  return (ip) => ip !== null && cidrContains(parsed, ip);
}

/** A `google.protobuf.Value` seen as JSON; `undefined` is Envoy's unset value (KIND_NOT_SET). */
export type MetaValue = unknown;

/** Envoy `ValueMatcher`. */
export function compileValue(m: ValueMatcher | undefined, where: string): (v: MetaValue) => boolean {
  if (m === undefined) throw new Unsupported(`${where}: missing value matcher`);
  const p = m.matchPattern;
  switch (p.case) {
    case "nullMatch":
      return (v) => v === null;
    case "doubleMatch": {
      const d = p.value.matchPattern;
      if (d.case === "exact") return (v) => typeof v === "number" && v === d.value;
      if (d.case === "range") return (v) => typeof v === "number" && v >= d.value.start && v < d.value.end;
      throw new Unsupported(`${where}: empty double matcher`);
    }
    case "stringMatch": {
      const t = compileString(p.value, `${where}.stringMatch`);
      return (v) => typeof v === "string" && t(v);
    }
    case "boolMatch": {
      const b = p.value;
      return (v) => typeof v === "boolean" && v === b;
    }
    case "presentMatch": {
      const want = p.value;
      return (v) => want && v !== undefined;
    }
    case "listMatch": {
      if (p.value.matchPattern.case !== "oneOf") throw new Unsupported(`${where}: empty list matcher`);
      const one = compileValue(p.value.matchPattern.value, `${where}.listMatch.oneOf`);
      return (v) => Array.isArray(v) && v.some((e) => one(e));
    }
    case "orMatch": {
      const all = p.value.valueMatchers.map((x, i) => compileValue(x, `${where}.orMatch[${i}]`));
      return (v) => all.some((t) => t(v));
    }
    default:
      throw new Unsupported(`${where}: value match kind ${p.case ?? "(none)"} is not supported`);
  }
}

/** Dynamic metadata by filter name (e.g. `envoy.filters.http.jwt_authn`), as JSON values. */
export type DynamicMetadata = Readonly<Record<string, unknown>>;

/** Envoy `MetadataMatcher` on the request's dynamic metadata. */
export function compileMetadata(m: MetadataMatcher, where: string): (md: DynamicMetadata) => boolean {
  const keys = m.path.map((seg, i) => {
    if (seg.segment.case !== "key") throw new Unsupported(`${where}.path[${i}]: empty path segment`);
    return seg.segment.value;
  });
  const test = compileValue(m.value, `${where}.value`);
  const filter = m.filter;
  const invert = m.invert;
  return (md) => {
    let v: unknown = Object.prototype.hasOwnProperty.call(md, filter) ? md[filter] : undefined;
    for (const k of keys) {
      if (v === null || typeof v !== "object" || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, k)) {
        v = undefined;
        break;
      }
      v = (v as Record<string, unknown>)[k];
    }
    return test(v) !== invert;
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";

/**
 * Envoy's `UriTemplateMatchConfig.path_template` (`/a/*`, `/a/**`, `/{x}/{y=**}`) → full-match test on the
 * path without query: `*` and `{x}` match one segment, `**` and `{x=**}` the rest (possibly empty).
 */
export function compileUriTemplate(template: string, where: string): (path: string | undefined) => boolean {
  if (!template.startsWith("/")) throw new Unsupported(`${where}: URI template must start with "/": ${template}`);
  let re = "";
  let i = 0;
  while (i < template.length) {
    const rest = template.slice(i);
    const variable = /^\{[A-Za-z][A-Za-z0-9_]*(?:=([^}]*))?\}/.exec(rest);
    if (rest.startsWith("**")) {
      re += `[${PCHAR}/]*`;
      i += 2;
    } else if (rest.startsWith("*")) {
      re += `[${PCHAR}]+`;
      i += 1;
    } else if (variable) {
      const inner = variable[1] ?? "*";
      if (inner === "**") re += `[${PCHAR}/]*`;
      else if (inner === "*") re += `[${PCHAR}]+`;
      else throw new Unsupported(`${where}: URI template variable ${variable[0]} is not supported`);
      i += variable[0].length;
    } else if (rest.startsWith("{") || rest.startsWith("}")) {
      throw new Unsupported(`${where}: bad URI template ${template}`);
    } else {
      re += escapeRegex(template[i]!);
      i += 1;
    }
  }
  const rx = new RegExp(`^${re}$`);
  return (path) => path !== undefined && rx.test(stripQueryAndFragment(path));
}
