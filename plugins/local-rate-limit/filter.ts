/**
 * @module plugins/local-rate-limit/filter
 * The local rate limit filter: one token per request from the route's own bucket or the listener's;
 * an empty bucket answers 429 `local_rate_limited` with flag `RL`. Optionally adds Envoy's
 * `x-ratelimit-*` headers (limit, remaining, seconds to reset) to rejections and to passing responses.
 */
import type { FilterContext, FilterStream, HttpFilter } from "../../proxy/filter.ts";
import { setResponseDetails } from "../common/metadata.ts";
import { forRoute } from "../common/request.ts";
import { fillIntervalMs, type Bucket, type LocalRateLimitConfig } from "./config.ts";
import { createTokenBucket, type TokenBucket } from "./token-bucket.ts";

const HEADERS_KEY = "weft.local_rate_limit.headers";

export function createLocalRateLimitFilter(cfg: LocalRateLimitConfig, context: FilterContext): HttpFilter {
  const start = context.now();
  const make = (b: Bucket) => createTokenBucket(b.maxTokens, b.tokensPerFill, fillIntervalMs(b), start);
  const listener = cfg.tokenBucket ? make(cfg.tokenBucket) : undefined;
  const routeBuckets: Record<string, TokenBucket | null> = {};
  for (const [name, b] of Object.entries(cfg.routes ?? {})) routeBuckets[name] = b === null ? null : make(b);

  const headersOf = (bucket: TokenBucket, now: number): Record<string, string> => ({
    "x-ratelimit-limit": String(bucket.max),
    "x-ratelimit-remaining": String(bucket.remaining(now)),
    "x-ratelimit-reset": String(Math.ceil(bucket.msToNextFill(now) / 1000)),
  });

  return {
    name: "local-rate-limit",
    onRequest(stream: FilterStream) {
      const bucket = forRoute(routeBuckets, stream.routeName, listener);
      if (bucket === undefined) return undefined;
      const now = context.now();
      if (bucket.consume(now)) {
        if (cfg.rateLimitHeaders) stream.metadata.set(HEADERS_KEY, headersOf(bucket, now));
        return undefined;
      }
      setResponseDetails(stream, "local_rate_limited");
      return {
        status: cfg.status,
        body: "local_rate_limited",
        headers: { "content-type": "text/plain", "x-envoy-ratelimited": "true", ...(cfg.rateLimitHeaders ? headersOf(bucket, now) : {}) },
        flag: "RL",
      };
    },
    ...(cfg.rateLimitHeaders
      ? {
        onResponse(stream, response) {
          const headers = stream.metadata.get(HEADERS_KEY) as Record<string, string> | undefined;
          for (const [k, v] of Object.entries(headers ?? {})) response.headers.set(k, v);
        },
      }
      : {}),
  };
}
