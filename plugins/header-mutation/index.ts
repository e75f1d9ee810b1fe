/**
 * @module plugins/header-mutation
 * Request and response header mutation (remove, set, add), listener-wide and per route.
 * @example
 * // filters: [{ name: "header-mutation", config: { request: { set: { "x-env": "prod" } }, response: { remove: ["server"] } } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { headerMutationConfigSchema, type HeaderMutationConfig } from "./config.ts";
import { createHeaderMutationFilter } from "./filter.ts";

export type { HeaderMutationConfig } from "./config.ts";

export const headerMutationFilter: HttpFilterFactory<HeaderMutationConfig> = {
  name: "header-mutation",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: headerMutationConfigSchema,
  create: (config) => createHeaderMutationFilter(config),
};
