/**
 * @module core/policy
 * The authorization engine: Istio AuthorizationPolicy (security.istio.io v1 and v1beta1) compiled into a
 * decision function with Istio's semantics. Entry points:
 * - `authorizationPolicyFromIstio(obj)` → IR `AuthzPolicy` (+ diagnostics)
 * - `compileAuthorizer(policies, options)` → `Authorizer` with `check(request)`
 * - `authorizerFromYaml(text, options)` → both steps from multi-document YAML (tests, tools).
 */
import type { AuthzPolicy } from "../ir/model.ts";
import { ValidationError, type Diagnostic } from "../schema/index.ts";
import { loadYaml } from "../yaml/loader.ts";
import { compileAuthorizer } from "./engine.ts";
import { authorizationPolicyFromIstio } from "./istio.ts";
import type { Authorizer, EngineOptions } from "./types.ts";

export * from "./types.ts";
export { compileAuthorizer, createPrincipalExpander } from "./engine.ts";
export { authorizationPolicyFromIstio, conditionKeyProblem, pathTemplateProblem } from "./istio.ts";
export { normalizePath } from "./path.ts";
export { parseCidr, parseIp, cidrContains } from "./cidr.ts";

/** Parses AuthorizationPolicies from YAML text; other kinds are ignored. Errors are collected, not thrown. */
export function authorizationPoliciesFromYaml(text: string, file?: string): { policies: AuthzPolicy[]; diagnostics: Diagnostic[] } {
  const { documents, diagnostics } = loadYaml(text, { file });
  const policies: AuthzPolicy[] = [];
  for (const doc of documents) {
    const v = doc.value as { kind?: unknown } | null;
    if (!v || typeof v !== "object" || v.kind !== "AuthorizationPolicy") continue;
    const r = authorizationPolicyFromIstio(v, { file, locate: doc.locate });
    diagnostics.push(...r.diagnostics);
    if (r.value) policies.push(r.value);
  }
  return { policies, diagnostics };
}

/**
 * Parses and compiles in one step; throws `ValidationError` when any policy has an error.
 * @example
 * const authz = authorizerFromYaml(yamlText, { rootNamespace: "istio-system" });
 * authz.check(request).decision; // "allow" | "deny"
 */
export function authorizerFromYaml(text: string, options: EngineOptions & { file?: string } = {}): Authorizer {
  const { policies, diagnostics } = authorizationPoliciesFromYaml(text, options.file);
  if (diagnostics.some((d) => d.severity === "error")) throw new ValidationError(diagnostics);
  return compileAuthorizer(policies, options);
}
