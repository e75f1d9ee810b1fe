/**
 * @module plugins/local-rate-limit/config
 * Configuration of the local rate limit filter, as Envoy's: a token bucket (max tokens, tokens added per
 * fill, fill interval) for the whole listener, and optionally buckets of their own for named routes.
 */
import { duration, parseGoDuration } from "../../core/resources/istio/duration.ts";
import { z } from "../../core/schema/index.ts";

export const bucketSchema = z.strictObject({
  maxTokens: z.number().int().min(1),
  tokensPerFill: z.number().int().min(1).default(1),
  /** How often `tokensPerFill` tokens are added (Envoy requires at least 50ms). */
  fillInterval: duration().refine((d) => (parseGoDuration(d) ?? 0) >= 50e6, { message: "fill interval must be at least 50ms" }),
});

export const localRateLimitConfigSchema = z.strictObject({
  /** The listener-wide bucket; without it only routes with their own bucket are limited. */
  tokenBucket: bucketSchema.optional(),
  /** Per route name: a bucket of the route's own instead of the listener's (null = not limited). */
  routes: z.record(z.string(), bucketSchema.nullable()).optional(),
  /** Status of the rejection (default 429). */
  status: z.number().int().min(400).max(599).default(429),
  /** Add `x-ratelimit-limit`, `-remaining` and `-reset` (Envoy's DRAFT_VERSION_03) to responses. */
  rateLimitHeaders: z.boolean().default(false),
});

export type Bucket = z.infer<typeof bucketSchema>;
export type LocalRateLimitConfig = z.infer<typeof localRateLimitConfigSchema>;

export function fillIntervalMs(b: Bucket): number {
  return (parseGoDuration(b.fillInterval) ?? 1e9) / 1e6;
}
