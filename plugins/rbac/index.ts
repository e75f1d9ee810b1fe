/**
 * @module plugins/rbac
 * Authorization with Istio AuthorizationPolicy semantics, as an HTTP filter.
 * @example
 * // filters: [{ name: "jwt-authn", config: {...} }, { name: "rbac", config: { namespace: "foo", labels: { app: "httpbin" }, policies: yamlText } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { rbacConfigSchema, type RbacConfig } from "./config.ts";
import { createRbacFilter } from "./filter.ts";

export type { CustomCheckRequest, CustomCheckResult, CustomProvider, RbacConfig } from "./config.ts";

export const rbacFilter: HttpFilterFactory<RbacConfig> = {
  name: "rbac",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: rbacConfigSchema,
  create: createRbacFilter,
};
