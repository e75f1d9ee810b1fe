/**
 * @module plugins/envoy-rbac
 * An evaluator for Envoy's RBAC filter configs (`envoy.extensions.filters.http.rbac.v3.RBAC` and the
 * network filter's), so weft can enforce, or predict, exactly what an Envoy configured by istiod (or by
 * weft's own xDS translator) enforces. `compileEnvoyRbac(config).decide(request)` for one filter,
 * `compileEnvoyAuthzChain(filters)` for a listener's CUSTOM/AUDIT/DENY/ALLOW filter sequence, and the
 * HTTP filter `envoy.filters.http.rbac` for the proxy.
 * @example
 * // filters: [{ name: "envoy.filters.http.rbac", config: { rules: { action: "DENY", policies: { ... } } } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { envoyRbacConfigSchema, type EnvoyRbacConfig } from "./config.ts";
import { HTTP_RBAC_FILTER } from "./compile.ts";
import { createEnvoyRbacFilter } from "./filter.ts";

export { compileEnvoyRbac, HTTP_RBAC_FILTER, NETWORK_RBAC_FILTER, type CompiledEnvoyRbac, type EnvoyRbacDecision } from "./compile.ts";
export { compileEnvoyAuthzChain, HTTP_EXT_AUTHZ_FILTER, type ChainDecision, type ChainFilter, type CompiledChain } from "./chain.ts";
export { parseEnvoyRbacConfig, envoyRbacRegistry, type EnvoyRbacConfig } from "./config.ts";
export { toRbacInput, type RbacInput } from "./request.ts";
export { ENVOY_DYNAMIC_METADATA_KEY } from "./filter.ts";

export const envoyRbacFilter: HttpFilterFactory<EnvoyRbacConfig> = {
  name: HTTP_RBAC_FILTER,
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: envoyRbacConfigSchema,
  create: createEnvoyRbacFilter,
};
