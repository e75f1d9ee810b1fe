/**
 * @module plugins/envoy-rbac/compile
 * One Envoy RBAC filter (HTTP `envoy.filters.http.rbac` or network `envoy.filters.network.rbac`) compiled
 * into `decide(request)`, with Envoy's filter semantics on top of the engine: the shadow engine runs first
 * and only writes dynamic metadata (`<shadow_rules_stat_prefix>shadow_effective_policy_id` and
 * `…shadow_engine_result`, which Istio's ext_authz reads to know whether a CUSTOM policy matched); the
 * enforcing engine then allows or denies (403, `rbac_access_denied_matched_policy[<policy>|none]`); no
 * `rules` means nothing is enforced; a `LOG` engine sets `envoy.common` → `access_log_hint`. The
 * `matcher`/`shadow_matcher` forms (which istiod does not emit at 1.31) are reported and fail closed.
 * A network filter sees no HTTP attributes: headers, paths and JWT metadata are absent for it.
 */
import type { RBAC as RbacRules } from "../../gen/proto/envoy/config/rbac/v3/rbac_pb.ts";
import type { AuthzRequest, PathNormalization } from "../../core/policy/types.ts";
import { parseEnvoyRbacConfig, type EnvoyRbacConfig } from "./config.ts";
import { compileRbacRules, type RbacActionName, type RbacEngine } from "./engine.ts";
import type { DynamicMetadata } from "./matchers.ts";
import { toRbacInput, type RbacInput } from "./request.ts";

export const HTTP_RBAC_FILTER = "envoy.filters.http.rbac";
export const NETWORK_RBAC_FILTER = "envoy.filters.network.rbac";

/** What one RBAC filter decided for one request. */
export interface EnvoyRbacDecision {
  decision: "allow" | "deny";
  /** The enforcing engine's action, or null when the filter enforces nothing. */
  action: RbacActionName | null;
  /** The enforcing engine's first matching policy, or null. */
  policy: string | null;
  /** What the shadow engine decided, when the filter has shadow rules. */
  shadow: { result: "allowed" | "denied"; policy: string | null } | null;
  /** Dynamic metadata the filter writes, by filter namespace (its own name, and `envoy.common` for LOG). */
  metadata: Record<string, Record<string, unknown>>;
  /** Envoy's response code details for a deny, e.g. `rbac_access_denied_matched_policy[none]`. */
  details: string | null;
  /** True when an unsupported construct could have changed the result; the decision then fails closed. */
  uncertain: boolean;
  /** True when the shadow result (and so the metadata it writes) is not certain. */
  shadowUncertain: boolean;
  reason: string;
}

export interface DecideOptions {
  /** Dynamic metadata written by earlier filters, by filter name (merged over what the request implies). */
  metadata?: DynamicMetadata;
}

export interface CompileOptions {
  /** Path normalization the HTTP connection manager applied (Istio's default `BASE`). */
  pathNormalization?: PathNormalization;
}

/** A compiled RBAC filter. Immutable; `decide` is safe to call concurrently. */
export interface CompiledEnvoyRbac {
  readonly kind: "http" | "network";
  /** The filter name Envoy registers it under. */
  readonly filterName: string;
  /** Unsupported constructs found while compiling; decisions that depend on them fail closed. */
  readonly problems: readonly string[];
  decide(request: AuthzRequest, options?: DecideOptions): EnvoyRbacDecision;
  /** The same on a prepared input (for a chain of filters sharing one input). */
  decideInput(input: RbacInput): EnvoyRbacDecision;
}

function engineOf(rules: RbacRules | undefined, where: string): RbacEngine | null {
  return rules === undefined ? null : compileRbacRules(rules, where);
}

/** Strips what a network filter cannot see. */
export function tcpView(request: AuthzRequest): AuthzRequest {
  const { http: _http, auth: _auth, ...rest } = request;
  void _http;
  void _auth;
  return rest;
}

/**
 * Compiles one Envoy RBAC filter config (message, Any or JSON; see `config.ts`).
 * @example
 * const rbac = compileEnvoyRbac({ rules: { action: "ALLOW", policies: { admins: {
 *   permissions: [{ any: true }], principals: [{ authenticated: { principalName: { exact: "spiffe://cluster.local/ns/a/sa/b" } } }] } } } });
 * rbac.decide({ destination: { namespace: "a" }, source: { principal: "spiffe://cluster.local/ns/a/sa/b" } }).decision; // "allow"
 */
export function compileEnvoyRbac(config: unknown, options: CompileOptions = {}): CompiledEnvoyRbac {
  const cfg: EnvoyRbacConfig = typeof config === "object" && config !== null && "kind" in config && "message" in config
    ? (config as EnvoyRbacConfig)
    : parseEnvoyRbacConfig(config);
  const m = cfg.message;
  const problems: string[] = [];
  const filterName = cfg.kind === "http" ? HTTP_RBAC_FILTER : NETWORK_RBAC_FILTER;
  let denyAll = false;
  let shadowUnknown = false;
  if (cfg.kind === "http" && cfg.message.matcher !== undefined) {
    problems.push("matcher: the matcher-based RBAC config is not supported (istiod does not emit it); every request is denied");
    denyAll = true;
  }
  if (cfg.kind === "http" && cfg.message.shadowMatcher !== undefined) {
    problems.push("shadowMatcher: the matcher-based shadow config is not supported; shadow results are unknown");
    shadowUnknown = true;
  }
  const enforce = denyAll ? null : engineOf(m.rules, "rules");
  const shadow = shadowUnknown ? null : engineOf(m.shadowRules, "shadowRules");
  problems.push(...(enforce?.problems ?? []), ...(shadow?.problems ?? []));
  const rulesPrefix = cfg.kind === "http" ? cfg.message.rulesStatPrefix : "";
  const shadowPrefix = m.shadowRulesStatPrefix;

  const decideInput = (input: RbacInput): EnvoyRbacDecision => {
    const own: Record<string, unknown> = {};
    const metadata: Record<string, Record<string, unknown>> = { [filterName]: own };
    let shadowUncertain = false;
    let shadowOut: EnvoyRbacDecision["shadow"] = null;
    if (shadow) {
      const s = shadow.evaluate(input);
      shadowUncertain = s.uncertain;
      shadowOut = { result: s.allowed ? "allowed" : "denied", policy: s.matchedPolicy };
      if (s.matchedPolicy !== null) own[`${shadowPrefix}shadow_effective_policy_id`] = s.matchedPolicy;
      own[`${shadowPrefix}shadow_engine_result`] = shadowOut.result;
    } else if (shadowUnknown) shadowUncertain = true;
    if (denyAll) {
      return { decision: "deny", action: null, policy: null, shadow: shadowOut, metadata, details: "rbac_access_denied_matched_policy[none]", uncertain: true, shadowUncertain, reason: problems[0]! };
    }
    if (!enforce) {
      return { decision: "allow", action: null, policy: null, shadow: shadowOut, metadata, details: null, uncertain: false, shadowUncertain, reason: "no enforcing rules" };
    }
    const e = enforce.evaluate(input);
    if (enforce.action === "LOG") metadata["envoy.common"] = { access_log_hint: e.matchedPolicy !== null };
    if (e.matchedPolicy !== null) own[`${rulesPrefix}enforced_effective_policy_id`] = e.matchedPolicy;
    own[`${rulesPrefix}enforced_engine_result`] = e.allowed ? "allowed" : "denied";
    const matched = e.matchedPolicy ?? "none";
    const reason = e.uncertain
      ? `an unsupported construct could have matched (${enforce.action}); denied (fail closed)`
      : e.matchedPolicy !== null ? `${enforce.action} policy ${e.matchedPolicy} matched` : `no ${enforce.action} policy matched`;
    return {
      decision: e.allowed ? "allow" : "deny",
      action: enforce.action,
      policy: e.matchedPolicy,
      shadow: shadowOut,
      metadata,
      details: e.allowed ? null : `rbac_access_denied_matched_policy[${matched}]`,
      uncertain: e.uncertain,
      shadowUncertain,
      reason,
    };
  };

  return {
    kind: cfg.kind,
    filterName,
    problems,
    decideInput,
    decide(request, opts = {}) {
      const req = cfg.kind === "network" ? tcpView(request) : request;
      return decideInput(toRbacInput(req, { pathNormalization: options.pathNormalization, metadata: opts.metadata }));
    },
  };
}
