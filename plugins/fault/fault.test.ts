import { describe, expect, it } from "vitest";
import { createTestContext, createTestStream, type TestStreamInit } from "../common/testing.ts";
import { faultFilter, FAULT_KEY } from "./index.ts";

function build(config: unknown, randoms: number[] = []) {
  const ctx = createTestContext({ randoms });
  const filter = faultFilter.create(faultFilter.schema.parse(config), ctx);
  const run = async (init: TestStreamInit = {}) => {
    const stream = createTestStream(init);
    return { reply: await filter.onRequest!(stream), stream };
  };
  return { ctx, run };
}

describe("fault filter", () => {
  it("aborts with the HTTP status and flag FI", async () => {
    const { run } = build({ abort: { httpStatus: 503 } });
    const { reply, stream } = await run();
    expect(reply).toMatchObject({ status: 503, body: "fault filter abort", flag: "FI" });
    expect(stream.metadata.get(FAULT_KEY)).toEqual({ abortedWith: { httpStatus: 503 } });
  });

  it("aborts gRPC with a trailers-only response", async () => {
    const { run } = build({ abort: { grpcStatus: 14 } });
    expect((await run()).reply).toMatchObject({ status: 200, headers: { "content-type": "application/grpc", "grpc-status": "14" }, flag: "FI" });
  });

  it("aborts only the configured share, by the injected random source", async () => {
    const { run } = build({ abort: { httpStatus: 500, percentage: 25 } }, [0.2, 0.3, 0.249, 0.9]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await run()).reply?.status);
    expect(statuses).toEqual([500, undefined, 500, undefined]);
  });

  it("delays through the host's sleep, then continues or aborts with DI,FI", async () => {
    const { ctx, run } = build({ delay: { fixedDelay: "1.5s" } });
    const delayed = await run();
    expect(delayed.reply).toBeUndefined();
    expect(ctx.sleeps).toEqual([1500]);
    expect(delayed.stream.metadata.get(FAULT_KEY)).toEqual({ delayedMs: 1500 });
    const both = build({ delay: { fixedDelay: "10ms" }, abort: { httpStatus: 429 } });
    expect((await both.run()).reply).toMatchObject({ status: 429, flag: "DI,FI" });
  });

  it("uses the route's faults instead of the listener's; null turns them off", async () => {
    const { run } = build({ abort: { httpStatus: 500 }, routes: { api: { abort: { httpStatus: 418 } }, health: null } });
    expect((await run({ routeName: "api" })).reply?.status).toBe(418);
    expect((await run({ routeName: "health" })).reply).toBeUndefined();
    expect((await run({ routeName: "web" })).reply?.status).toBe(500);
  });

  it("ignores x-envoy-fault-* headers unless headerControl is on", async () => {
    const headers = { "x-envoy-fault-abort-request": "502", "x-envoy-fault-delay-request": "200" };
    expect((await build({}).run({ headers })).reply).toBeUndefined();
    const on = build({ headerControl: true });
    expect((await on.run({ headers })).reply).toMatchObject({ status: 502, flag: "DI,FI" });
    expect(on.ctx.sleeps).toEqual([200]);
    expect((await on.run({ headers: { "x-envoy-fault-abort-grpc-request": "4" } })).reply?.headers?.["grpc-status"]).toBe("4");
  });

  it("caps a header-given percentage by the configured one", async () => {
    const { run } = build({ headerControl: true, abort: { httpStatus: 503, percentage: 10 } }, [0.5]);
    expect((await run({ headers: { "x-envoy-fault-abort-request": "500", "x-envoy-fault-abort-request-percentage": "100" } })).reply).toBeUndefined();
  });

  it("stops faulting while maxActiveFaults delays are in progress", async () => {
    const ctx = createTestContext();
    let release: () => void = () => undefined;
    const sleeping = new Promise<void>((r) => { release = r; });
    const filter = faultFilter.create(faultFilter.schema.parse({ delay: { fixedDelay: "1s" }, maxActiveFaults: 1 }), { ...ctx, sleep: () => sleeping });
    const firstStream = createTestStream();
    const first = filter.onRequest!(firstStream);
    const second = createTestStream();
    expect(await filter.onRequest!(second)).toBeUndefined();
    expect(second.metadata.get(FAULT_KEY)).toBeUndefined();
    release();
    expect(await first).toBeUndefined();
    // A delayed request that continues is marked DI, and still counts until it ends.
    expect(firstStream.flags).toEqual(["DI"]);
    const third = createTestStream();
    await filter.onRequest!(third);
    expect(third.metadata.get(FAULT_KEY)).toBeUndefined();
    filter.onComplete!(firstStream, { status: 200, flags: "DI", details: "via_upstream", durationMs: 1000, upstreamCluster: "c" });
    const fourth = createTestStream();
    const pending = filter.onRequest!(fourth);
    expect(fourth.metadata.get(FAULT_KEY)).toEqual({ delayedMs: 1000 });
    expect(await pending).toBeUndefined();
  });

  it("needs exactly one of httpStatus and grpcStatus", () => {
    expect(faultFilter.schema.safeParse({ abort: { httpStatus: 500, grpcStatus: 2 } }).success).toBe(false);
    expect(faultFilter.schema.safeParse({ abort: { percentage: 5 } }).success).toBe(false);
    expect(faultFilter.schema.safeParse({ delay: { fixedDelay: "soon" } }).success).toBe(false);
  });
});
