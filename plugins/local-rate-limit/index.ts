/**
 * @module plugins/local-rate-limit
 * Local (per proxy) rate limiting with a token bucket, per listener or per route, as an HTTP filter.
 * @example
 * // filters: [{ name: "local-rate-limit", config: { tokenBucket: { maxTokens: 100, tokensPerFill: 10, fillInterval: "1s" } } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { localRateLimitConfigSchema, type LocalRateLimitConfig } from "./config.ts";
import { createLocalRateLimitFilter } from "./filter.ts";

export type { LocalRateLimitConfig } from "./config.ts";

export const localRateLimitFilter: HttpFilterFactory<LocalRateLimitConfig> = {
  name: "local-rate-limit",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: localRateLimitConfigSchema,
  create: createLocalRateLimitFilter,
};
