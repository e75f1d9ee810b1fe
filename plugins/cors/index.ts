/**
 * @module plugins/cors
 * Cross-origin resource sharing with Istio `corsPolicy` semantics, as an HTTP filter.
 * @example
 * // filters: [{ name: "cors", config: { allowOrigins: [{ exact: "https://app.example" }], allowMethods: ["GET", "POST"], maxAge: "24h" } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { corsConfigSchema, type CorsConfig } from "./config.ts";
import { createCorsFilter } from "./filter.ts";

export type { CorsConfig } from "./config.ts";

export const corsFilter: HttpFilterFactory<CorsConfig> = {
  name: "cors",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: corsConfigSchema,
  create: (config) => createCorsFilter(config),
};
