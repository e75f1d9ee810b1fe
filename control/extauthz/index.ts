/**
 * @module control/extauthz
 * Weft as an Envoy external authorization server (`envoy.service.auth.v3.Authorization/Check`) for
 * Istio's CUSTOM AuthorizationPolicies and Consul's `builtin/ext-authz` extension: CheckRequest →
 * AuthzRequest → the policy engine → CheckResponse. The Node host lives in `node/server.ts`.
 */
export * from "./check-request.ts";
export * from "./check-response.ts";
export * from "./policy-source.ts";
export * from "./service.ts";
export * from "./workload-resolver.ts";
