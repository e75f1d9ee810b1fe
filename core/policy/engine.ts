/**
 * @module core/policy/engine
 * The authorization engine: compiles IR policies once into an `Authorizer` whose `check` decides a
 * request in Istio's order — CUSTOM (provider denies → deny) → DENY → no ALLOW policy on the workload →
 * allow → an ALLOW policy matches → allow → deny. AUDIT policies are reported, never deciding; dry-run
 * policies (`istio.io/dry-run`) are evaluated and reported, never enforced. Policies in the root
 * namespace apply mesh-wide. Within one action, the first match in (namespace, name, rule) order is
 * reported as the deciding policy.
 */
import type { AuthzAction, AuthzPolicy } from "../ir/model.ts";
import { compileRule, type CompiledRule } from "./compile-rule.ts";
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
  const expandPrincipal = createPrincipalExpander(options.trustDomain ?? "cluster.local", options.trustDomainAliases ?? []);
  const sorted = [...policies].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const byNamespace = new Map<string, CompiledPolicy[]>();
  for (const p of sorted) {
    const cp: CompiledPolicy = {
      id: p.id,
      namespace: p.namespace,
      action: p.action,
      provider: p.provider ?? null,
      dryRun: p.dryRun === true,
      labels: p.selector.matchLabels && Object.keys(p.selector.matchLabels).length ? Object.entries(p.selector.matchLabels) : null,
      targetServices: p.selector.targetRefs?.map((t) => t.name) ?? null,
      rules: (p.rules ?? []).map((r, i) => compileRule(r, i, { action: p.action, policyNamespace: p.namespace, expandPrincipal })),
    };
    const list = byNamespace.get(p.namespace) ?? [];
    list.push(cp);
    byNamespace.set(p.namespace, list);
  }
  const root = byNamespace.get(rootNamespace) ?? [];

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
    for (const r of p.rules) {
      const t = view.isHttp ? r.http : r.tcp;
      if (t && t(view)) return r.index;
    }
    return -1;
  };

  return {
    size: policies.length,
    check(request: AuthzRequest, opts: CheckOptions = {}): Decision {
      const view = new RequestView(request, mode);
      const ns = request.destination.namespace;
      const candidates = ns === rootNamespace ? root : [...root, ...(byNamespace.get(ns) ?? [])];
      let custom: { p: CompiledPolicy; rule: number } | null = null;
      let deny: { p: CompiledPolicy; rule: number } | null = null;
      let allow: { p: CompiledPolicy; rule: number } | null = null;
      let allowApplies = false;
      const audits: string[] = [];
      const dryRun: { policy: string; action: AuthzAction; matched: boolean }[] = [];
      for (const p of candidates) {
        if (!applies(p, request)) continue;
        if (p.dryRun) {
          dryRun.push({ policy: p.id, action: p.action, matched: firstMatch(p, view) >= 0 });
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
            if (firstMatch(p, view) >= 0) audits.push(p.id);
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
      const base = {
        audit: audits.length > 0,
        auditPolicies: audits,
        custom: custom?.p.provider ?? null,
        customPolicy: custom?.p.id ?? null,
        ...(dryRun.length ? { dryRun } : {}),
        ...(view.isHttp ? { normalizedPath: view.path ?? undefined } : {}),
      };
      if (custom && opts.customDecision === "deny") {
        return { ...base, decision: "deny", policy: custom.p.id, rule: custom.rule, action: "CUSTOM", reason: `CUSTOM policy ${custom.p.id} rule ${custom.rule} matched and provider "${custom.p.provider}" denied` };
      }
      if (deny) {
        return { ...base, decision: "deny", policy: deny.p.id, rule: deny.rule, action: "DENY", reason: `DENY policy ${deny.p.id} rule ${deny.rule} matched` };
      }
      if (!allowApplies) {
        return { ...base, decision: "allow", policy: null, rule: null, action: null, reason: "no ALLOW policy applies to the workload" };
      }
      if (allow) {
        return { ...base, decision: "allow", policy: allow.p.id, rule: allow.rule, action: "ALLOW", reason: `ALLOW policy ${allow.p.id} rule ${allow.rule} matched` };
      }
      return { ...base, decision: "deny", policy: null, rule: null, action: null, reason: "ALLOW policies apply to the workload and none matched" };
    },
  };
}
