/**
 * @module core/policy/engine
 * The authorization engine: compiles IR policies once into an `Authorizer` whose `check` decides a
 * request in Istio's order — CUSTOM (provider denies → deny) → DENY → no ALLOW policy on the workload →
 * allow → an ALLOW policy matches → allow → deny. AUDIT policies are reported, never deciding; dry-run
 * policies (`istio.io/dry-run`) are evaluated and reported, never enforced. Policies in the root
 * namespace apply mesh-wide. Within one action, the first match in (namespace, name, rule) order is
 * reported as the deciding policy.
 *
 * Ordered first-match policies (`AuthzPolicy.ordered`, Consul intentions; see `ordered.ts`) form a second
 * layer for requests that name a `destination.service`: their deny is final (after CUSTOM and DENY), and
 * the Istio-style result stands only when they allow.
 */
import type { AuthzAction, AuthzPolicy, AuthzRule } from "../ir/model.ts";
import { compileRule, type CompiledRule } from "./compile-rule.ts";
import { compileOrdered, type OrderedDecision, type OrderedEvaluator } from "./ordered.ts";
import { RequestView } from "./request-view.ts";
import type { Authorizer, AuthzRequest, CheckOptions, Decision, EngineOptions, PathNormalization } from "./types.ts";

interface CompiledPolicy {
  id: string;
  namespace: string;
  action: AuthzAction;
  provider: string | null;
  dryRun: boolean;
  labels: [string, string][] | null;
  targetServices: string[] | null;
  rules: CompiledRule[];
  index: RuleIndex;
}

/**
 * Rules bucketed so a check scans only those that can match: by exact source principal, else by the
 * literal first path segment of every positive path (HTTP only), else in `rest`. Each rule sits in one
 * bucket; `firstMatch` merges the candidate buckets by rule index, so the first match is the same as a
 * linear scan's. TCP traffic scans all rules.
 */
interface RuleIndex {
  byPrincipal: Map<string, CompiledRule[]>;
  bySegment: Map<string, CompiledRule[]>;
  rest: CompiledRule[];
}

const EMPTY: CompiledRule[] = [];
/** Shared empty list for decisions without audits; never mutated (replaced on first push). */
const NO_AUDITS = Object.freeze([]) as unknown as string[];

function exactPrincipals(rule: AuthzRule, expand: (v: string) => string[]): string[] | null {
  if (rule.from.length === 0) return null;
  const out: string[] = [];
  for (const s of rule.from) {
    const f = s.principals;
    if (!f?.values?.length) return null;
    for (const v of f.values) {
      if (v.includes("*")) return null;
      for (const e of expand(v)) out.push("spiffe://" + e);
    }
  }
  return out;
}

function firstSegmentOf(value: string): string | null {
  if (!value.startsWith("/")) return null;
  const slash = value.indexOf("/", 1);
  const seg = slash < 0 ? value.slice(1) : value.slice(1, slash);
  if (slash < 0 && value.endsWith("*")) return null;
  if (seg === "" || seg.includes("*") || seg.includes("{")) return null;
  return seg;
}

function firstSegments(rule: AuthzRule): string[] | null {
  if (rule.to.length === 0) return null;
  const out: string[] = [];
  for (const o of rule.to) {
    const f = o.paths;
    if (!f?.values?.length) return null;
    for (const v of f.values) {
      const seg = firstSegmentOf(v);
      if (seg === null) return null;
      out.push(seg);
    }
  }
  return out;
}

function buildIndex(rules: readonly AuthzRule[], compiled: CompiledRule[], expand: (v: string) => string[]): RuleIndex {
  const idx: RuleIndex = { byPrincipal: new Map(), bySegment: new Map(), rest: [] };
  const add = (m: Map<string, CompiledRule[]>, k: string, r: CompiledRule) => {
    const l = m.get(k) ?? [];
    if (l[l.length - 1] !== r) l.push(r);
    m.set(k, l);
  };
  compiled.forEach((c, i) => {
    const r = rules[i]!;
    const ps = exactPrincipals(r, expand);
    if (ps) { for (const p of ps) add(idx.byPrincipal, p, c); return; }
    const segs = firstSegments(r);
    if (segs) { for (const s of segs) add(idx.bySegment, s, c); return; }
    idx.rest.push(c);
  });
  return idx;
}

function segmentOfPath(path: string): string {
  const slash = path.indexOf("/", 1);
  return slash < 0 ? path.slice(1) : path.slice(1, slash);
}

function principalParts(p: string): string[] | null {
  const parts = p.split("/");
  return parts.length === 5 ? parts : null;
}

/** Istio's trust-domain alias expansion for principal values (pilot/pkg/security/trustdomain). */
export function createPrincipalExpander(trustDomain: string, aliases: string[]): (value: string) => string[] {
  const domains = [trustDomain, ...aliases.filter((a) => a !== trustDomain)];
  return (value) => {
    const parts = principalParts(value);
    if (!parts || parts[0] === "*") return [value];
    const td = parts[0]!;
    if (!domains.includes(td) && td !== "cluster.local") return [value];
    const out: string[] = [];
    for (const d of domains) {
      const suffixMatch = td.startsWith("*") && d.endsWith(td.slice(1));
      const np = suffixMatch ? value : [d, ...parts.slice(1)].join("/");
      if (!out.includes(np)) out.push(np);
    }
    return out;
  };
}

function sortKey(p: AuthzPolicy): string {
  return `${p.namespace}\u0000${p.name}`;
}

/**
 * Compiles policies into an authorizer. Compile once per policy set; `check` is cheap and reentrant.
 * @example
 * const authz = compileAuthorizer(policies, { rootNamespace: "istio-system" });
 * const d = authz.check({ destination: { namespace: "foo", labels: { app: "httpbin" } }, http: { method: "GET", path: "/" } });
 */
export function compileAuthorizer(policies: readonly AuthzPolicy[], options: EngineOptions = {}): Authorizer {
  const rootNamespace = options.rootNamespace ?? "istio-system";
  const mode: PathNormalization = options.pathNormalization ?? "BASE";
  const useIndex = options.ruleIndex !== false;
  const expandPrincipal = createPrincipalExpander(options.trustDomain ?? "cluster.local", options.trustDomainAliases ?? []);
  const sorted = [...policies].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const byNamespace = new Map<string, CompiledPolicy[]>();
  const ordered: { id: string; dryRun: boolean; evaluate: OrderedEvaluator }[] = [];
  for (const p of sorted) {
    if (p.ordered) {
      ordered.push({ id: p.id, dryRun: p.dryRun === true, evaluate: compileOrdered(p.ordered) });
      continue;
    }
    const cp: CompiledPolicy = {
      id: p.id,
      namespace: p.namespace,
      action: p.action,
      provider: p.provider ?? null,
      dryRun: p.dryRun === true,
      labels: p.selector.matchLabels && Object.keys(p.selector.matchLabels).length ? Object.entries(p.selector.matchLabels) : null,
      targetServices: p.selector.targetRefs?.map((t) => t.name) ?? null,
      rules: [],
      index: { byPrincipal: new Map(), bySegment: new Map(), rest: [] },
    };
    cp.rules = (p.rules ?? []).map((r, i) => compileRule(r, i, { action: p.action, policyNamespace: p.namespace, expandPrincipal }));
    cp.index = buildIndex(p.rules ?? [], cp.rules, expandPrincipal);
    const list = byNamespace.get(p.namespace) ?? [];
    list.push(cp);
    byNamespace.set(p.namespace, list);
  }
  const root = byNamespace.get(rootNamespace) ?? [];
  /** Policies that may apply to a destination namespace (root's first), built once per namespace. */
  const candidatesByNamespace = new Map<string, CompiledPolicy[]>();

  const applies = (p: CompiledPolicy, req: AuthzRequest): boolean => {
    if (p.targetServices) return req.destination.service !== undefined && p.targetServices.includes(req.destination.service);
    if (!p.labels) return true;
    const labels = req.destination.labels;
    if (!labels) return false;
    for (const [k, val] of p.labels) if (labels[k] !== val) return false;
    return true;
  };

  /** Index of the first matching rule, or -1. */
  const firstMatch = (p: CompiledPolicy, view: RequestView): number => {
    if (!view.isHttp || !useIndex) {
      if (view.isHttp) {
        for (const r of p.rules) if (r.http && r.http(view)) return r.index;
        return -1;
      }
      for (const r of p.rules) if (r.tcp && r.tcp(view)) return r.index;
      return -1;
    }
    const a = view.principal !== undefined ? (p.index.byPrincipal.get(view.principal) ?? EMPTY) : EMPTY;
    const path = view.path;
    const b = path !== null && p.index.bySegment.size ? (p.index.bySegment.get(segmentOfPath(path)) ?? EMPTY) : EMPTY;
    const c = p.index.rest;
    let i = 0, j = 0, k = 0;
    // Three-way merge in rule order: the first match is the lowest index, as in a linear scan.
    for (;;) {
      const ra = i < a.length ? a[i]!.index : Infinity;
      const rb = j < b.length ? b[j]!.index : Infinity;
      const rc = k < c.length ? c[k]!.index : Infinity;
      let r: CompiledRule;
      if (ra <= rb && ra <= rc) { if (ra === Infinity) return -1; r = a[i++]!; }
      else if (rb <= rc) r = b[j++]!;
      else r = c[k++]!;
      if (r.http && r.http(view)) return r.index;
    }
  };

  return {
    size: policies.length,
    check(request: AuthzRequest, opts: CheckOptions = {}): Decision {
      const view = new RequestView(request, mode);
      const ns = request.destination.namespace;
      let candidates = candidatesByNamespace.get(ns);
      if (!candidates) {
        candidates = ns === rootNamespace ? root : [...root, ...(byNamespace.get(ns) ?? [])];
        if (candidatesByNamespace.size < 10_000) candidatesByNamespace.set(ns, candidates);
      }
      let custom: { p: CompiledPolicy; rule: number } | null = null;
      let deny: { p: CompiledPolicy; rule: number } | null = null;
      let allow: { p: CompiledPolicy; rule: number } | null = null;
      let allowApplies = false;
      let audits: string[] = NO_AUDITS;
      let dryRun: { policy: string; action: AuthzAction; matched: boolean }[] | null = null;
      for (const p of candidates) {
        if (!applies(p, request)) continue;
        if (p.dryRun) {
          (dryRun ??= []).push({ policy: p.id, action: p.action, matched: firstMatch(p, view) >= 0 });
          continue;
        }
        switch (p.action) {
          case "ALLOW": {
            allowApplies = true;
            if (!allow) {
              const r = firstMatch(p, view);
              if (r >= 0) allow = { p, rule: r };
            }
            break;
          }
          case "DENY": {
            if (!deny) {
              const r = firstMatch(p, view);
              if (r >= 0) deny = { p, rule: r };
            }
            break;
          }
          case "AUDIT": {
            if (firstMatch(p, view) >= 0) (audits === NO_AUDITS ? (audits = []) : audits).push(p.id);
            break;
          }
          case "CUSTOM": {
            if (!custom) {
              const r = firstMatch(p, view);
              if (r >= 0) custom = { p, rule: r };
            }
            break;
          }
        }
      }
      let layer: { id: string; d: OrderedDecision } | null = null;
      if (ordered.length > 0 && request.destination.service !== undefined) {
        for (const o of ordered) {
          const d = o.evaluate(view);
          if (o.dryRun) (dryRun ??= []).push({ policy: o.id, action: d.decision === "allow" ? "ALLOW" : "DENY", matched: !d.byDefault });
          else if (!layer || (layer.d.decision === "allow" && d.decision === "deny")) layer = { id: o.id, d };
        }
      }
      // One plain object built once per check (no per-check closures: they cost more than the rules).
      let decision: "allow" | "deny";
      let policy: string | null = null;
      let rule: number | null = null;
      let action: AuthzAction | null = null;
      let reason: string;
      if (custom && opts.customDecision === "deny") {
        decision = "deny"; policy = custom.p.id; rule = custom.rule; action = "CUSTOM";
        reason = `CUSTOM policy ${custom.p.id} rule ${custom.rule} matched and provider "${custom.p.provider}" denied`;
      } else if (deny) {
        decision = "deny"; policy = deny.p.id; rule = deny.rule; action = "DENY";
        reason = `DENY policy ${deny.p.id} rule ${deny.rule} matched`;
      } else if (layer && (layer.d.decision === "deny" || !allowApplies)) {
        decision = layer.d.decision; policy = layer.id; rule = layer.d.rule;
        action = layer.d.byDefault ? null : layer.d.decision === "deny" ? "DENY" : "ALLOW";
        reason = `ordered policy ${layer.id}: ${layer.d.reason}`;
      } else if (!allowApplies) {
        decision = "allow"; reason = "no ALLOW policy applies to the workload";
      } else if (allow) {
        decision = "allow"; policy = allow.p.id; rule = allow.rule; action = "ALLOW";
        reason = `ALLOW policy ${allow.p.id} rule ${allow.rule} matched`;
      } else {
        decision = "deny"; reason = "ALLOW policies apply to the workload and none matched";
      }
      const d: Decision = {
        decision, policy, rule, action,
        audit: audits.length > 0,
        auditPolicies: audits,
        custom: custom ? custom.p.provider : null,
        customPolicy: custom ? custom.p.id : null,
        reason,
      };
      if (dryRun) d.dryRun = dryRun;
      if (view.isHttp) d.normalizedPath = view.path ?? undefined;
      if (layer) d.ordered = { policy: layer.id, rule: layer.d.rule, permission: layer.d.permission, byDefault: layer.d.byDefault, decision: layer.d.decision };
      return d;
    },
  };
}
