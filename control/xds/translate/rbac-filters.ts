/**
 * @module control/xds/translate/rbac-filters
 * Which authorization policies apply to a workload, and the filters that enforce them, in Istio's
 * layout: CUSTOM first (an RBAC filter in shadow mode that marks matching requests, then ext_authz
 * enabled only for marked requests), then AUDIT (RBAC `LOG`), DENY, ALLOW. Each action is one RBAC
 * filter; dry-run policies go into its shadow rules. An ALLOW filter exists only when some ALLOW policy
 * applies (none means allow). A policy without rules is a policy that never matches. A CUSTOM policy
 * naming a provider weft does not know denies what it selects, as Istio does.
 */
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { AuthzAction, AuthzPolicy, MeshModel, Workload } from "../../../core/ir/model.ts";
import { createPrincipalExpander } from "../../../core/policy/engine.ts";
import { RBAC_Action, RBACSchema as RbacRulesSchema, type RBAC as RbacRules } from "../../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import { RBACSchema as HttpRbacSchema } from "../../../gen/proto/envoy/extensions/filters/http/rbac/v3/rbac_pb.ts";
import { RBACSchema as NetworkRbacSchema } from "../../../gen/proto/envoy/extensions/filters/network/rbac/v3/rbac_pb.ts";
import { ExtAuthzSchema } from "../../../gen/proto/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.ts";
import type { HttpFilter } from "../../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import type { Filter } from "../../../gen/proto/envoy/config/listener/v3/listener_components_pb.ts";
import { ApiVersion } from "../../../gen/proto/envoy/config/core/v3/config_source_pb.ts";
import { duration } from "./common.ts";
import { httpFilter, networkFilter } from "./listener.ts";
import { generatePolicy, matchNeverPolicy, policyRuleName } from "./rbac.ts";

export const HTTP_RBAC_FILTER = "envoy.filters.http.rbac";
export const NETWORK_RBAC_FILTER = "envoy.filters.network.rbac";
export const HTTP_EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz";

export interface ExtAuthzProvider {
  /** The cluster serving `envoy.service.auth.v3.Authorization`. */
  cluster: string;
  timeoutMs?: number;
  failOpen?: boolean;
}

export interface AuthzOptions {
  /** CUSTOM providers by name. */
  providers?: Record<string, ExtAuthzProvider>;
}

/** Policies that select the workload: its namespace's and the root namespace's, labels all matching. */
export function policiesForWorkload(model: MeshModel, w: Workload): AuthzPolicy[] {
  const serviceNames = model.services
    .filter((s) => s.namespace === w.namespace && s.selector && Object.entries(s.selector).every(([k, v]) => w.labels[k] === v))
    .map((s) => s.name);
  return model.authorization
    // Ordered first-match policies (Consul intentions) are not Istio rules; they are not translated here.
    .filter((p) => !p.ordered)
    .filter((p) => p.namespace === w.namespace || p.namespace === model.rootNamespace)
    .filter((p) => {
      if (p.selector.targetRefs?.length) return p.selector.targetRefs.some((t) => serviceNames.includes(t.name));
      return Object.entries(p.selector.matchLabels ?? {}).every(([k, v]) => w.labels[k] === v);
    })
    .sort((a, b) => (a.namespace + "/" + a.name < b.namespace + "/" + b.name ? -1 : 1));
}

const RBAC_ACTION: Record<Exclude<AuthzAction, "CUSTOM">, RBAC_Action> = { ALLOW: RBAC_Action.ALLOW, DENY: RBAC_Action.DENY, AUDIT: RBAC_Action.LOG };

interface Built {
  rules?: RbacRules;
  shadow?: RbacRules;
}

function build(policies: AuthzPolicy[], action: AuthzAction, model: MeshModel, forTcp: boolean): Built | null {
  if (!policies.length) return null;
  const rbacAction = action === "CUSTOM" ? RBAC_Action.DENY : RBAC_ACTION[action];
  const expandPrincipal = createPrincipalExpander(model.trustDomain, model.trustDomainAliases);
  const enforce = create(RbacRulesSchema, { action: rbacAction });
  const shadow = create(RbacRulesSchema, { action: rbacAction });
  let hasEnforce = false;
  let hasShadow = false;
  for (const p of policies) {
    const target = p.dryRun ? shadow : enforce;
    if (p.dryRun) hasShadow = true;
    else hasEnforce = true;
    const custom = action === "CUSTOM";
    if (p.rules === null || p.rules.length === 0) {
      target.policies[policyRuleName(p.namespace, p.name, 0, custom)] = matchNeverPolicy();
      continue;
    }
    p.rules.forEach((rule, i) => {
      const generated = generatePolicy(rule, { action, policyNamespace: p.namespace, forTcp, expandPrincipal });
      if (generated) target.policies[policyRuleName(p.namespace, p.name, i, custom)] = generated;
    });
  }
  return { ...(hasEnforce ? { rules: enforce } : {}), ...(hasShadow ? { shadow } : {}) };
}

/** Istio derives the shadow stat prefix from the shadow rules' action (absent rules read as ALLOW). */
function shadowPrefix(shadow: RbacRules | undefined): string {
  const a = shadow?.action ?? RBAC_Action.ALLOW;
  return a === RBAC_Action.ALLOW ? "istio_dry_run_allow_" : a === RBAC_Action.DENY ? "istio_dry_run_deny_" : "";
}

function denyAll(reason: string): RbacRules {
  return create(RbacRulesSchema, {
    action: RBAC_Action.DENY,
    policies: { [reason]: { permissions: [{ rule: { case: "any", value: true } }], principals: [{ identifier: { case: "any", value: true } }] } },
  });
}

const byAction = (ps: AuthzPolicy[], a: AuthzAction) => ps.filter((p) => p.action === a);

/**
 * HTTP filters enforcing the policies (place them before fault/CORS/router).
 * @example
 * inboundListener({ ..., httpFilters: authzHttpFilters(policiesForWorkload(model, w), model) });
 */
export function authzHttpFilters(policies: AuthzPolicy[], model: MeshModel, options: AuthzOptions = {}): HttpFilter[] {
  const out: HttpFilter[] = [];
  const custom = byAction(policies, "CUSTOM");
  const providers = [...new Set(custom.map((p) => p.provider ?? ""))].sort();
  for (const name of providers) {
    const provider = options.providers?.[name];
    const mine = custom.filter((p) => (p.provider ?? "") === name);
    if (!provider) {
      out.push(httpFilter(HTTP_RBAC_FILTER, anyPack(HttpRbacSchema, create(HttpRbacSchema, { rules: denyAll(`default-deny-due-to-bad-CUSTOM-action-${name}`) }))));
      continue;
    }
    const built = build(mine, "CUSTOM", model, false)!;
    // Shadow mode: the RBAC filter only marks matching requests for ext_authz.
    const shadow = built.rules ?? create(RbacRulesSchema, { action: RBAC_Action.DENY });
    out.push(httpFilter(HTTP_RBAC_FILTER, anyPack(HttpRbacSchema, create(HttpRbacSchema, { shadowRules: shadow, shadowRulesStatPrefix: "istio_ext_authz_" }))));
    out.push(httpFilter(HTTP_EXT_AUTHZ_FILTER, anyPack(ExtAuthzSchema, create(ExtAuthzSchema, {
      services: { case: "grpcService", value: { targetSpecifier: { case: "envoyGrpc", value: { clusterName: provider.cluster } }, timeout: duration(provider.timeoutMs ?? 600_000) } },
      transportApiVersion: ApiVersion.V3,
      failureModeAllow: provider.failOpen === true,
      filterEnabledMetadata: {
        filter: HTTP_RBAC_FILTER,
        path: [{ segment: { case: "key", value: "istio_ext_authz_shadow_effective_policy_id" } }],
        value: { matchPattern: { case: "stringMatch", value: { matchPattern: { case: "prefix", value: "istio-ext-authz" } } } },
      },
    }))));
  }
  for (const action of ["AUDIT", "DENY", "ALLOW"] as const) {
    const built = build(byAction(policies, action), action, model, false);
    if (!built) continue;
    out.push(httpFilter(HTTP_RBAC_FILTER, anyPack(HttpRbacSchema, create(HttpRbacSchema, {
      ...(built.rules ? { rules: built.rules } : {}),
      ...(built.shadow ? { shadowRules: built.shadow } : {}),
      shadowRulesStatPrefix: shadowPrefix(built.shadow),
    }))));
  }
  return out;
}

/** Network filters for TCP ports (rules with HTTP-only attributes follow the ALLOW/DENY asymmetry). */
export function authzNetworkFilters(policies: AuthzPolicy[], model: MeshModel, options: AuthzOptions = {}): Filter[] {
  void options;
  const out: Filter[] = [];
  if (byAction(policies, "CUSTOM").length) {
    // ext_authz for TCP is not offered yet: fail closed like a CUSTOM policy with a bad provider.
    out.push(networkFilter(NETWORK_RBAC_FILTER, anyPack(NetworkRbacSchema, create(NetworkRbacSchema, { rules: denyAll("default-deny-due-to-bad-CUSTOM-action"), statPrefix: "tcp." }))));
  }
  for (const action of ["AUDIT", "DENY", "ALLOW"] as const) {
    const built = build(byAction(policies, action), action, model, true);
    if (!built) continue;
    out.push(networkFilter(NETWORK_RBAC_FILTER, anyPack(NetworkRbacSchema, create(NetworkRbacSchema, {
      ...(built.rules ? { rules: built.rules } : {}),
      ...(built.shadow ? { shadowRules: built.shadow } : {}),
      shadowRulesStatPrefix: shadowPrefix(built.shadow),
      statPrefix: "tcp.",
    }))));
  }
  return out;
}
