import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createTestContext, createTestResponse, createTestStream } from "../common/testing.ts";
import { RESPONSE_CODE_DETAILS_KEY } from "../common/metadata.ts";
import { localRateLimitFilter } from "./index.ts";
import { createTokenBucket } from "./token-bucket.ts";

function build(config: unknown) {
  const ctx = createTestContext();
  const filter = localRateLimitFilter.create(localRateLimitFilter.schema.parse(config), ctx);
  const statuses = async (n: number, routeName?: string) => {
    const out: (number | undefined)[] = [];
    for (let i = 0; i < n; i++) out.push((await filter.onRequest!(createTestStream({ routeName })))?.status);
    return out;
  };
  return { ctx, filter, statuses };
}

describe("token bucket", () => {
  it("never hands out more than max + fills × tokensPerFill tokens", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 200 }),
      (max, perFill, steps) => {
        const bucket = createTokenBucket(max, perFill, 100, 0);
        let now = 0;
        let granted = 0;
        for (const step of steps) {
          now += step;
          if (bucket.consume(now)) granted++;
        }
        return granted <= max + Math.floor(now / 100) * perFill;
      },
    ));
  });
});

describe("local-rate-limit filter", () => {
  it("answers 429 local_rate_limited with flag RL once the bucket is empty, and refills per interval", async () => {
    const { ctx, filter, statuses } = build({ tokenBucket: { maxTokens: 2, tokensPerFill: 1, fillInterval: "1s" } });
    expect(await statuses(2)).toEqual([undefined, undefined]);
    const stream = createTestStream();
    expect(await filter.onRequest!(stream)).toMatchObject({ status: 429, body: "local_rate_limited", flag: "RL", headers: { "x-envoy-ratelimited": "true" } });
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("local_rate_limited");
    ctx.time += 999;
    expect(await statuses(1)).toEqual([429]);
    ctx.time += 1;
    expect(await statuses(2)).toEqual([undefined, 429]);
    ctx.time += 10_000;
    expect(await statuses(3)).toEqual([undefined, undefined, 429]);
  });

  it("gives routes buckets of their own, or none", async () => {
    const { statuses } = build({ tokenBucket: { maxTokens: 1, fillInterval: "1s" }, routes: { api: { maxTokens: 2, fillInterval: "1s" }, health: null } });
    expect(await statuses(3, "api")).toEqual([undefined, undefined, 429]);
    expect(await statuses(3, "health")).toEqual([undefined, undefined, undefined]);
    expect(await statuses(2, "web")).toEqual([undefined, 429]);
    expect(await statuses(2)).toEqual([429, 429]);
  });

  it("adds x-ratelimit-* headers when asked", async () => {
    const { ctx, filter } = build({ tokenBucket: { maxTokens: 2, tokensPerFill: 2, fillInterval: "10s" }, rateLimitHeaders: true });
    const stream = createTestStream();
    expect(await filter.onRequest!(stream)).toBeUndefined();
    const response = createTestResponse();
    filter.onResponse!(stream, response);
    expect(response.headers.toObject()).toEqual({ "x-ratelimit-limit": "2", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "10" });
    ctx.time += 2500;
    await filter.onRequest!(createTestStream());
    expect((await filter.onRequest!(createTestStream()))?.headers).toMatchObject({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "8" });
  });

  it("rejects a fill interval under 50ms", () => {
    const r = localRateLimitFilter.schema.safeParse({ tokenBucket: { maxTokens: 1, fillInterval: "10ms" } });
    expect(r.error?.issues[0]?.path).toEqual(["tokenBucket", "fillInterval"]);
  });
});
