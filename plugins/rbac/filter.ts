/**
 * @module plugins/rbac/filter
 * The rbac filter: the compiled authorizer of `core/policy` asked once per request, in Istio's order
 * (CUSTOM provider → DENY → ALLOW). A deny answers 403 `RBAC: access denied` and records Envoy's
 * response code details (`rbac_access_denied_matched_policy[...]`); AUDIT and dry-run results are
 * recorded in the metadata for the access log. A CUSTOM policy asks the host-supplied provider; a
 * provider deny or error answers with flag `UAEX` (an error allows only with `failOpen`).
 */
import type { FilterContext, FilterStream, FilterVerdict, HttpFilter, LocalReply } from "../../proxy/filter.ts";
import { compileAuthorizer, type AuthzRequest, type Decision } from "../../core/policy/index.ts";
import { ValidationError } from "../../core/schema/index.ts";
import { RBAC_KEY, setResponseDetails, type RbacRecord } from "../common/metadata.ts";
import { convertPolicies, type CustomCheckResult, type RbacConfig } from "./config.ts";
import { toAuthzRequest } from "./request.ts";

const DENIED: LocalReply = { status: 403, body: "RBAC: access denied", headers: { "content-type": "text/plain" } };

/** Istio's name for a policy rule in Envoy's RBAC config: `ns[foo]-policy[bar]-rule[0]`. */
export function envoyPolicyName(decision: Decision): string {
  if (decision.policy === null) return "none";
  const slash = decision.policy.indexOf("/");
  return `ns[${decision.policy.slice(0, slash)}]-policy[${decision.policy.slice(slash + 1)}]-rule[${decision.rule ?? 0}]`;
}

function record(d: Decision): RbacRecord {
  return {
    decision: d.decision,
    policy: d.policy,
    rule: d.rule,
    action: d.action,
    reason: d.reason,
    accessLogHint: d.audit,
    auditPolicies: d.auditPolicies,
    dryRun: d.dryRun ?? [],
  };
}

export function createRbacFilter(cfg: RbacConfig, context: FilterContext): HttpFilter {
  const converted = convertPolicies(cfg.policies, cfg.namespace);
  const { diagnostics } = converted;
  const policies = [...converted.policies, ...(cfg.irPolicies ?? [])];
  if (diagnostics.some((d) => d.severity === "error")) throw new ValidationError(diagnostics);
  for (const d of diagnostics) context.log(`rbac: ${d.message}`);
  const authorizer = compileAuthorizer(policies, {
    rootNamespace: cfg.rootNamespace,
    trustDomain: cfg.trustDomain,
    trustDomainAliases: cfg.trustDomainAliases,
    pathNormalization: cfg.pathNormalization,
  });
  const providers = cfg.customProviders ?? {};
  for (const p of policies) {
    if (p.action === "CUSTOM" && p.provider !== undefined && providers[p.provider] === undefined) {
      context.log(`rbac: CUSTOM policy ${p.id} names provider "${p.provider}", which the host did not supply; matching requests are ${cfg.failOpen ? "allowed (failOpen)" : "denied"}`);
    }
  }

  const deny = (stream: FilterStream, d: Decision): LocalReply => {
    const details = `rbac_access_denied_matched_policy[${envoyPolicyName(d)}]`;
    setResponseDetails(stream, details);
    return { ...DENIED, details };
  };

  const finish = (stream: FilterStream, d: Decision): FilterVerdict => (d.decision === "deny" ? deny(stream, d) : undefined);

  const askCustom = async (stream: FilterStream, request: AuthzRequest, first: Decision): Promise<FilterVerdict> => {
    const provider = first.custom!;
    const check = providers[provider];
    let result: CustomCheckResult;
    try {
      if (check === undefined) throw new Error(`no provider "${provider}" supplied by the host`);
      result = await check({ provider, policy: first.customPolicy, request, stream });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const rec: RbacRecord = { ...record(first), custom: { provider, policy: first.customPolicy, result: "error", error } };
      if (cfg.failOpen) {
        stream.metadata.set(RBAC_KEY, rec);
        return finish(stream, first);
      }
      stream.metadata.set(RBAC_KEY, { ...rec, decision: "deny" });
      setResponseDetails(stream, "ext_authz_error");
      return { ...DENIED, body: "", flag: "UAEX", details: "ext_authz_error" };
    }
    if (!result.allow) {
      const d = authorizer.check(request, { customDecision: "deny" });
      stream.metadata.set(RBAC_KEY, { ...record(d), custom: { provider, policy: first.customPolicy, result: "deny" } });
      setResponseDetails(stream, "ext_authz_denied");
      return { status: result.status ?? 403, body: result.body ?? "", headers: result.headers ?? {}, flag: "UAEX", details: "ext_authz_denied" };
    }
    for (const [k, v] of Object.entries(result.headers ?? {})) stream.headers.set(k, v);
    stream.metadata.set(RBAC_KEY, { ...record(first), custom: { provider, policy: first.customPolicy, result: "allow" } });
    return first.decision === "deny" ? deny(stream, first) : undefined;
  };

  return {
    name: "rbac",
    onRequest(stream: FilterStream): FilterVerdict | Promise<FilterVerdict> {
      const request = toAuthzRequest(stream, cfg);
      const d = authorizer.check(request);
      if (d.custom !== null) return askCustom(stream, request, d);
      stream.metadata.set(RBAC_KEY, record(d));
      return finish(stream, d);
    },
  };
}
