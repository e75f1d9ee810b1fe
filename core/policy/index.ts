/**
 * @module core/policy
 * The authorization engine: Istio AuthorizationPolicy (security.istio.io v1 and v1beta1) compiled into a
 * decision function with Istio's semantics. Entry points:
 * - `authorizationPolicyFromIstio(obj)` → IR `AuthzPolicy` (+ diagnostics)
 * - `compileAuthorizer(policies, options)` → `Authorizer` with `check(request)`
 * - `authorizerFromYaml(text, options)` → both steps from multi-document YAML (tests, CLI).
 */
export * from "./types.ts";
