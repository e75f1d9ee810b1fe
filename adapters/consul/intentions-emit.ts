/**
 * @module adapters/consul/intentions-emit
 * IR authorization → Consul `service-intentions`, with a loss report. An ordered policy (from Consul)
 * goes back rule for rule. Istio-style policies are translated so Consul decides as Istio would, for what
 * Consul can express: per destination (the `app` label, else a `Service` targetRef, else `*`), one
 * intention per source pattern the rules mention (exact service, namespace `*`, `*`), whose permissions are
 * the DENY rules that cover that source, then its ALLOW rules, then a catch-all (`deny` when ALLOW policies
 * apply, else `allow`), so the result does not depend on Consul's default. Rules with sources broader than
 * every pattern (from all sources) are copied into every more specific intention, since in Consul only the
 * highest-precedence source is consulted. Identities map `ns/<ns>/sa/<sa>` → service `<sa>` in namespace
 * `<ns>` (weft's convention that the service account names the service) and Consul SPIFFE IDs to their
 * service. What Consul has no word for — IP blocks, ports, negations, JWT principals, most `when` keys,
 * AUDIT/CUSTOM actions, L7 rules on wildcard destinations — is reported, never silently dropped.
 */
import type { AuthzPolicy, AuthzRule, HeaderMatch, OperationMatch, OrderedAuthzRule, OrderedPermission, SourceMatch, StringMatch } from "../../core/ir/model.ts";
import { tryClassifyIdentity } from "../../core/identity/mesh-forms.ts";
import { containsOf } from "./intentions.ts";
import type { Loss } from "./loss.ts";

type Json = Record<string, unknown>;
interface Src { ns: string; name: string }
interface Perm { action: "allow" | "deny"; http: Json }

const srcKey = (s: Src) => `${s.ns}/${s.name}`;
const covers = (outer: Src, inner: Src) => (outer.ns === "*" || outer.ns === inner.ns) && (outer.name === "*" || outer.name === inner.name);

function headerJson(h: HeaderMatch): Json {
  const m = h.match;
  const out: Json = { Name: h.name };
  if ("present" in m) out.Present = true;
  else if ("exact" in m) out.Exact = m.exact;
  else if ("prefix" in m) out.Prefix = m.prefix;
  else if ("suffix" in m) out.Suffix = m.suffix;
  else {
    const c = containsOf(m.regex);
    if (c) out.Contains = c.value;
    else out.Regex = m.regex;
    if (c?.ignoreCase) out.IgnoreCase = true;
  }
  if ("ignoreCase" in m && m.ignoreCase) out.IgnoreCase = true;
  if (h.invert) out.Invert = true;
  return out;
}

function pathJson(p: StringMatch | undefined): Json {
  if (!p) return {};
  if ("exact" in p) return { PathExact: p.exact };
  if ("prefix" in p) return { PathPrefix: p.prefix };
  if ("regex" in p) return { PathRegex: p.regex };
  if ("suffix" in p) return { PathRegex: `.*${p.suffix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}` };
  return { PathPrefix: "/" };
}

function permissionJson(p: OrderedPermission, object: string, losses: Loss[]): Json {
  const http: Json = { ...pathJson(p.http.path) };
  if (p.http.headers?.length) http.Header = p.http.headers.map(headerJson);
  if (p.http.methods?.length) http.Methods = p.http.methods;
  if (p.jwt) losses.push({ object, field: "jwt", reason: "JWT requirements need jwt-provider entries naming their issuers; write them by hand" });
  return { Action: p.action === "ALLOW" ? "allow" : "deny", HTTP: http };
}

/** An ordered (Consul) policy back to its entries. */
function orderedToEntries(p: AuthzPolicy, losses: Loss[]): Json[] {
  const byDest = new Map<string, Json>();
  for (const r of p.ordered!.rules as OrderedAuthzRule[]) {
    const ns = r.destination.namespace ?? "default";
    const name = r.destination.service ?? "*";
    const k = `${r.destination.partition ?? ""}/${ns}/${name}`;
    let e = byDest.get(k);
    if (!e) {
      e = { Kind: "service-intentions", Name: name, ...(ns !== "default" ? { Namespace: ns } : {}), ...(r.destination.partition ? { Partition: r.destination.partition } : {}), Sources: [] };
      byDest.set(k, e);
    }
    for (const s of r.sources) {
      if (!("consul" in s)) {
        losses.push({ object: p.id, field: r.name ?? "", reason: "a source given as a SPIFFE matcher has no Consul form" });
        continue;
      }
      const src: Json = { Name: s.consul.service, ...(s.consul.namespace !== "default" ? { Namespace: s.consul.namespace } : {}), ...(s.consul.partition ? { Partition: s.consul.partition } : {}), ...(s.consul.peer ? { Peer: s.consul.peer } : {}) };
      if (r.permissions) src.Permissions = r.permissions.map((x) => permissionJson(x, p.id, losses));
      else src.Action = r.action === "ALLOW" ? "allow" : "deny";
      (e.Sources as Json[]).push(src);
    }
    if (r.jwt) losses.push({ object: p.id, field: r.name ?? "", reason: "JWT requirements need jwt-provider entries naming their issuers; write them by hand" });
  }
  return [...byDest.values()];
}

/** Istio source → Consul source patterns, or null (with losses) when Consul cannot say it. */
function sourcesOf(s: SourceMatch, object: string, field: string, losses: Loss[]): Src[] | null {
  const lose = (f: string, reason: string) => losses.push({ object, field: `${field}.${f}`, reason });
  let ok = true;
  for (const k of ["ipBlocks", "remoteIpBlocks", "requestPrincipals"] as const) if (s[k]) { lose(k, `Consul intentions cannot match ${k}; the rule is left out`); ok = false; }
  for (const k of ["principals", "namespaces", "serviceAccounts"] as const) if (s[k]?.notValues) { lose(`${k}.notValues`, "Consul intentions have no negated sources; the rule is left out"); ok = false; }
  if (!ok) return null;
  const out: Src[] = [];
  for (const v of s.principals?.values ?? []) {
    if (v === "*") { out.push({ ns: "*", name: "*" }); continue; }
    const c = tryClassifyIdentity(v.startsWith("spiffe://") ? v : `spiffe://${v}`);
    if (c?.kind === "istio") out.push({ ns: c.workload.namespace, name: c.workload.serviceAccount });
    else if (c?.kind === "consul") out.push({ ns: c.consul.namespace, name: c.consul.service });
    else { lose("principals", `principal ${JSON.stringify(v)} has no Consul service form; the rule is left out`); return null; }
  }
  for (const v of s.serviceAccounts?.values ?? []) {
    const [ns, sa] = v.includes("/") ? v.split("/") : ["default", v];
    out.push({ ns: ns!, name: sa! });
  }
  const nss = s.namespaces?.values ?? [];
  if (nss.some((n) => n.includes("*") && n !== "*")) { lose("namespaces", "partial namespace wildcards have no Consul form; the rule is left out"); return null; }
  if (out.length === 0) return nss.map((ns) => (ns === "*" ? { ns: "*", name: "*" } : { ns, name: "*" }));
  if (nss.length) losses.push({ object, field: `${field}.namespaces`, reason: "namespaces beside principals: the principals' own namespaces are used", kind: "approximated" });
  return out;
}

/** Istio operation (+ header conditions) → Consul HTTP matches (cartesian over ORed values), or null. */
function httpMatchesOf(rule: AuthzRule, object: string, field: string, losses: Loss[]): Json[] | null {
  const lose = (f: string, reason: string) => losses.push({ object, field: `${field}.${f}`, reason });
  const headerAlts: Json[][] = [];
  for (const [i, c] of rule.when.entries()) {
    const m = /^request\.headers\[(.+)\]$/.exec(c.key);
    if (!m || c.notValues) { lose(`when[${i}]`, `condition ${c.key}${c.notValues ? " with notValues" : ""} has no Consul form; the rule is left out`); return null; }
    headerAlts.push((c.values ?? []).map((v) => ({ Name: m[1], ...(v === "*" ? { Present: true } : v.startsWith("*") ? { Suffix: v.slice(1) } : v.endsWith("*") ? { Prefix: v.slice(0, -1) } : { Exact: v }) })));
  }
  const ops: OperationMatch[] = rule.to.length ? rule.to : [{}];
  const out: Json[] = [];
  for (const [i, o] of ops.entries()) {
    for (const k of ["hosts", "ports"] as const) if (o[k]) { lose(`to[${i}].${k}`, `Consul intentions cannot match ${k}; the rule is left out`); return null; }
    if (o.paths?.notValues || o.methods?.notValues) { lose(`to[${i}]`, "Consul permissions have no negated paths or methods; the rule is left out"); return null; }
    const paths: Json[] = (o.paths?.values ?? [""]).map((p) => {
      if (p === "") return {};
      if (p === "*") return { PathPrefix: "/" };
      if (p.includes("{*}") || p.includes("{**}")) return { PathRegex: p.split(/(\{\*\*\}|\{\*\})/).map((x) => (x === "{**}" ? "[^?#]*" : x === "{*}" ? "[^/?#]+" : x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("") };
      if (p.startsWith("*")) return { PathRegex: `.*${p.slice(1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}` };
      if (p.endsWith("*")) return { PathPrefix: p.slice(0, -1) };
      return { PathExact: p };
    });
    const methods = o.methods?.values;
    if (methods?.includes("*")) lose(`to[${i}].methods`, "method \"*\" matches any method; dropped from the match");
    const ms = methods?.filter((x) => x !== "*");
    const combos = headerAlts.reduce<Json[][]>((acc, alts) => acc.flatMap((a) => alts.map((h) => [...a, h])), [[]]);
    for (const p of paths) for (const hs of combos) {
      const m: Json = { ...p, ...(ms?.length ? { Methods: ms } : {}), ...(hs.length ? { Header: hs } : {}) };
      out.push(Object.keys(m).length ? m : { PathPrefix: "/" });
    }
  }
  return out;
}

/**
 * Converts IR authorization policies into `service-intentions` entries.
 * @example
 * const { entries, losses } = policiesToIntentions(policies);
 */
export function policiesToIntentions(policies: readonly AuthzPolicy[], options: { rootNamespace?: string } = {}): { entries: Json[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const entries: Json[] = [];
  const root = options.rootNamespace ?? "istio-system";
  type Compiled = { src: Src[]; l7: Json[] | null; action: "allow" | "deny" };
  const byDest = new Map<string, { ns: string; name: string; rules: Compiled[]; hasAllow: boolean }>();
  const dest = (ns: string, name: string) => {
    const k = `${ns}/${name}`;
    let d = byDest.get(k);
    if (!d) byDest.set(k, (d = { ns, name, rules: [], hasAllow: false }));
    return d;
  };
  const wide: { ns: string; rules: Compiled[]; hasAllow: boolean }[] = [];
  for (const p of policies) {
    const object = p.origin?.object ?? `AuthorizationPolicy/${p.id}`;
    if (p.ordered) { entries.push(...orderedToEntries(p, losses)); continue; }
    if (p.action === "AUDIT" || p.action === "CUSTOM") { losses.push({ object, field: "spec.action", reason: `Consul has no ${p.action} intentions; the policy is left out` }); continue; }
    if (p.dryRun) { losses.push({ object, field: "metadata.annotations", reason: "dry-run policies have no Consul form; the policy is left out" }); continue; }
    const app = p.selector.matchLabels?.app;
    const extra = Object.keys(p.selector.matchLabels ?? {}).filter((k) => k !== "app");
    if (extra.length) losses.push({ object, field: "spec.selector.matchLabels", reason: `Consul selects destinations by service name only; labels ${extra.join(", ")} are ignored`, kind: "approximated" });
    const target = app ?? p.selector.targetRefs?.find((t) => t.kind === "Service")?.name;
    const ns = p.namespace === root ? "*" : p.namespace;
    const rules: Compiled[] = [];
    (p.rules ?? []).forEach((r, i) => {
      const field = `spec.rules[${i}]`;
      const froms = r.from.length ? r.from.map((s, j) => sourcesOf(s, object, `${field}.from[${j}].source`, losses)) : [[{ ns: "*", name: "*" }]];
      if (froms.some((f) => f === null)) return;
      const l4 = r.to.length === 0 && r.when.length === 0;
      const l7 = l4 ? null : httpMatchesOf(r, object, field, losses);
      if (!l4 && !l7) return;
      if (!target && l7) { losses.push({ object, field, reason: "Consul forbids L7 permissions on wildcard destinations; name the service with an app label or targetRef" }); return; }
      rules.push({ src: froms.flat() as Src[], l7, action: p.action === "ALLOW" ? "allow" : "deny" });
    });
    const d = target ? dest(ns, target) : null;
    const sink = d ?? (wide.find((w) => w.ns === ns) ?? (wide.push({ ns, rules: [], hasAllow: false }), wide[wide.length - 1]!));
    sink.rules.push(...rules);
    if (p.action === "ALLOW") sink.hasAllow = true;
  }
  wide.sort((a, b) => Number(a.ns === "*") - Number(b.ns === "*"));
  for (const w of wide) {
    for (const d of byDest.values()) if (w.ns === "*" || w.ns === d.ns) { d.rules.push(...w.rules); d.hasAllow ||= w.hasAllow; }
    dest(w.ns === "*" ? "*" : w.ns, "*").rules.push(...w.rules);
    byDest.get(`${w.ns === "*" ? "*" : w.ns}/*`)!.hasAllow ||= w.hasAllow;
  }
  for (const d of byDest.values()) {
    // Consul CE has one namespace: spell "any namespace" as the default one unless others appear.
    const multiNs = d.rules.some((r) => r.src.some((s) => s.ns !== "*" && s.ns !== "default")) || (d.ns !== "*" && d.ns !== "default");
    const fold = (s: Src): Src => (!multiNs && s.ns === "*" ? { ns: "default", name: s.name } : s);
    const rules = d.rules.map((r) => ({ ...r, src: r.src.map(fold) }));
    const patterns = new Map<string, Src>([[srcKey(fold({ ns: "*", name: "*" })), fold({ ns: "*", name: "*" })]]);
    for (const r of rules) for (const s of r.src) patterns.set(srcKey(s), s);
    const catchAll = d.hasAllow ? "deny" : "allow";
    const sources: Json[] = [];
    for (const s of patterns.values()) {
      const applicable = rules.filter((r) => r.src.some((x) => covers(x, s)));
      const anyL7 = applicable.some((r) => r.l7);
      const srcJson: Json = { Name: s.name, ...(s.ns !== "default" ? { Namespace: s.ns } : {}) };
      if (!anyL7 || d.name === "*") {
        srcJson.Action = applicable.some((r) => r.action === "deny") ? "deny" : applicable.some((r) => r.action === "allow") ? "allow" : catchAll;
      } else {
        const perms: Perm[] = [];
        for (const action of ["deny", "allow"] as const) {
          for (const r of applicable.filter((x) => x.action === action)) for (const m of r.l7 ?? [{ PathPrefix: "/" }]) perms.push({ action, http: m });
        }
        perms.push({ action: catchAll, http: { PathPrefix: "/" } });
        srcJson.Permissions = perms.map((p) => ({ Action: p.action, HTTP: p.http }));
        losses.push({ object: `service-intentions/${d.name}`, field: `Sources[${sources.length}]`, reason: "L7 permissions deny TCP connections, where Istio would apply only the rules without HTTP fields", kind: "approximated" });
      }
      sources.push(srcJson);
    }
    const dns = d.ns === "*" && !multiNs ? "default" : d.ns;
    entries.push({ Kind: "service-intentions", Name: d.name, ...(dns !== "default" ? { Namespace: dns } : {}), Sources: sources });
  }
  if (policies.some((p) => !p.ordered)) {
    losses.push({ object: "AuthorizationPolicy/*", field: "", reason: "Istio allows traffic to workloads no policy selects; in Consul those destinations get the default intention policy", kind: "approximated" });
  }
  return { entries, losses };
}
