/**
 * @module core/policy/matchers
 * Compiles Istio's value syntax into predicates, exactly as Istio generates Envoy matchers:
 * `*` alone = any non-empty value (regex `.+`; for headers, methods and hosts: "present"),
 * `*abc` = suffix, `abc*` = prefix, anything else exact; principals get a `spiffe://` prefix;
 * hosts compare case-insensitively; `{*}`/`{**}` in paths are Envoy URI templates; `namespaces` match
 * the regex `.*[/]ns[/]<ns>[/].*` on the peer URI; `serviceAccounts` match
 * `spiffe://.+[/]ns[/]<ns>[/](.+[/]|)sa[/]<sa>([/].+)?`.
 */

export type StringTest = (s: string | undefined) => boolean;

/** Istio's StringMatcherWithPrefix. */
export function stringMatcher(v: string, prefix = "", ignoreCase = false): StringTest {
  if (v === "*") return (s) => s !== undefined && s.length > 0;
  if (ignoreCase) {
    if (v.startsWith("*")) {
      const suf = (prefix + v.slice(1)).toLowerCase();
      return (s) => s !== undefined && s.toLowerCase().endsWith(suf);
    }
    if (v.endsWith("*")) {
      const pre = (prefix + v.slice(0, -1)).toLowerCase();
      return (s) => s !== undefined && s.toLowerCase().startsWith(pre);
    }
    const ex = (prefix + v).toLowerCase();
    return (s) => s !== undefined && s.length === ex.length && s.toLowerCase() === ex;
  }
  if (v.startsWith("*")) {
    const suf = v.slice(1);
    if (prefix === "") return (s) => s !== undefined && s.endsWith(suf);
    // Istio generates the RE2 regex `<prefix>.*<suffix>` without quoting the suffix, so a `.` in it
    // matches any character; mirror that (everything else is quoted) for decision parity.
    const rx = new RegExp(`^${escapeRegex(prefix)}.*${escapeRegex(suf).replace(/\\\./g, ".")}$`);
    return (s) => s !== undefined && rx.test(s);
  }
  if (v.endsWith("*")) {
    const pre = prefix + v.slice(0, -1);
    return (s) => s !== undefined && s.startsWith(pre);
  }
  const ex = prefix + v;
  return (s) => s === ex;
}

/** Istio's HeaderMatcher: `*` = header present (even empty), else a string matcher. */
export function headerMatcher(v: string): StringTest {
  if (v === "*") return (s) => s !== undefined;
  return stringMatcher(v);
}

/** Istio's HostMatcher: `*` = present, else case-insensitive string matcher. */
export function hostMatcher(v: string): StringTest {
  if (v === "*") return (s) => s !== undefined;
  return stringMatcher(v, "", true);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const PCHARS = "a-zA-Z0-9\\-._~%!$&'()+,;:@=";

/** Envoy URI template (`{*}` one segment, `{**}` the rest) → full-match regex. */
export function pathTemplateMatcher(template: string): StringTest {
  let re = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("{**}", i)) {
      re += `[${PCHARS}/]*`;
      i += 4;
    } else if (template.startsWith("{*}", i)) {
      re += `[${PCHARS}]+`;
      i += 3;
    } else {
      re += escapeRegex(template[i]!);
      i += 1;
    }
  }
  const rx = new RegExp(`^${re}$`);
  return (s) => s !== undefined && rx.test(s);
}

export function containsPathTemplate(v: string): boolean {
  return v.includes("{*}") || v.includes("{**}");
}

/** `namespaces` / `source.namespace`: regex `.*[/]ns[/]<v, with * as .*>[/].*` on the peer URI. */
export function namespaceMatcher(v: string): StringTest {
  const body = v.split("*").map(escapeRegex).join(".*");
  const rx = new RegExp(`^.*/ns/${body}/.*$`);
  return (s) => s !== undefined && rx.test(s);
}

/** `serviceAccounts` / `source.serviceAccount` (`sa` or `ns/sa`; namespace defaults to the policy's). */
export function serviceAccountMatcher(v: string, policyNamespace: string): StringTest {
  const slash = v.indexOf("/");
  const ns = slash >= 0 ? v.slice(0, slash) : policyNamespace;
  const sa = slash >= 0 ? v.slice(slash + 1) : v;
  const rx = new RegExp(`^spiffe://.+/ns/${escapeRegex(ns)}/(.+/|)sa/${escapeRegex(sa)}(/.+)?$`);
  return (s) => s !== undefined && rx.test(s);
}

/**
 * `requestPrincipals` / `request.auth.principal`: `iss/sub` split at the last `/`, each half matched as
 * Istio's extended generator does (see pilot/pkg/security/authz/model/generator.go).
 */
export function requestPrincipalMatcher(value: string): (iss: string | undefined, sub: string | undefined) => boolean {
  const any: StringTest = (s) => s !== undefined && s.length > 0;
  const exact = (x: string): StringTest => (s) => s === x;
  const idx = value.lastIndexOf("/");
  const found = idx >= 0;
  const iss = found ? value.slice(0, idx) : value;
  const sub = found ? value.slice(idx + 1) : "";
  let mi: StringTest;
  let ms: StringTest;
  if (value === "*") {
    mi = any;
    ms = any;
  } else if (value.startsWith("*")) {
    if (found) {
      const suf = iss.slice(1);
      mi = iss === "*" ? any : (s) => s !== undefined && s.endsWith(suf);
      ms = exact(sub);
    } else {
      const suf = value.slice(1);
      mi = any;
      ms = (s) => s !== undefined && s.endsWith(suf);
    }
  } else if (value.endsWith("*")) {
    if (found) {
      mi = exact(iss);
      const pre = sub.slice(0, -1);
      ms = sub === "*" ? any : (s) => s !== undefined && s.startsWith(pre);
    } else {
      const pre = value.slice(0, -1);
      mi = (s) => s !== undefined && s.startsWith(pre);
      ms = any;
    }
  } else {
    mi = exact(iss);
    ms = exact(sub);
  }
  return (i, s) => mi(i) && ms(s);
}

/** A claim matches when it is a string that matches, or a list with a string element that matches. */
export function claimMatches(claim: unknown, test: StringTest): boolean {
  if (typeof claim === "string") return test(claim);
  if (Array.isArray(claim)) return claim.some((c) => typeof c === "string" && test(c));
  return false;
}

/** Parses `[a][b]` (after `request.auth.claims`) into `["a", "b"]`; null when malformed. */
export function parseBracketPath(s: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] !== "[") return null;
    const close = s.indexOf("]", i);
    if (close < 0 || close === i + 1) return null;
    out.push(s.slice(i + 1, close));
    i = close + 1;
  }
  return out.length > 0 ? out : null;
}
