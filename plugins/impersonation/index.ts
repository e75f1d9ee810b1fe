/**
 * @module plugins/impersonation
 * Grey Matter's non-person-entity impersonation rules (`USER_DN`, `EXTERNAL_SYS_DN`), as an HTTP filter.
 * @example
 * // filters: [{ name: "impersonation", config: { servers: ["CN=edge,OU=Servers,O=Acme,C=US"] } }, { name: "rbac", config: {...} }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { impersonationConfigSchema, type ImpersonationConfig } from "./config.ts";
import { createImpersonationFilter } from "./filter.ts";

export type { ImpersonationConfig } from "./config.ts";

export const impersonationFilter: HttpFilterFactory<ImpersonationConfig> = {
  name: "impersonation",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: impersonationConfigSchema,
  create: (config) => createImpersonationFilter(config),
};
