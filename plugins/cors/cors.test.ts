import { describe, expect, it } from "vitest";
import { createTestContext, createTestResponse, createTestStream, type TestStreamInit } from "../common/testing.ts";
import { corsFilter } from "./index.ts";

const policy = {
  allowOrigins: [{ exact: "https://app.example" }, { prefix: "https://dev-" }, { regex: "https://[a-z]+\\.partner\\.example" }],
  allowMethods: ["GET", "POST"],
  allowHeaders: ["authorization", "content-type"],
  exposeHeaders: ["x-request-id"],
  maxAge: "24h",
  allowCredentials: true,
};

function build(config: unknown) {
  const filter = corsFilter.create(corsFilter.schema.parse(config), createTestContext());
  const exchange = async (init: TestStreamInit, upstream: Record<string, string> = {}) => {
    const stream = createTestStream(init);
    const reply = await filter.onRequest!(stream);
    if (reply) return { reply, headers: undefined };
    const response = createTestResponse(200, upstream);
    filter.onResponse!(stream, response);
    return { reply, headers: response.headers.toObject() };
  };
  return exchange;
}

const preflight = (origin: string, extra: Record<string, string> = {}): TestStreamInit => ({
  method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", ...extra },
});

describe("cors filter", () => {
  it("answers a preflight from an allowed origin locally", async () => {
    const { reply } = await build(policy)(preflight("https://app.example"));
    expect(reply).toEqual({
      status: 200,
      body: "",
      headers: {
        "access-control-allow-origin": "https://app.example",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET,POST",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "86400",
        vary: "Origin",
      },
    });
  });

  it("matches origins by exact, prefix and whole-string regex", async () => {
    const exchange = build(policy);
    expect((await exchange(preflight("https://dev-42.example"))).reply?.status).toBe(200);
    expect((await exchange(preflight("https://shop.partner.example"))).reply?.status).toBe(200);
    expect((await exchange(preflight("https://shop.partner.example.evil"))).reply).toBeUndefined();
    expect((await exchange(preflight("https://app.example.evil"))).reply).toBeUndefined();
  });

  it("forwards a preflight from another origin, or answers it bare with IGNORE", async () => {
    const forwarded = await build(policy)(preflight("https://evil.example"));
    expect(forwarded.reply).toBeUndefined();
    expect(forwarded.headers).toEqual({ vary: "Origin" });
    const ignored = await build({ ...policy, unmatchedPreflights: "IGNORE" })(preflight("https://evil.example"));
    expect(ignored.reply).toEqual({ status: 200, body: "", headers: { vary: "Origin" } });
  });

  it("adds allow-origin, credentials, expose-headers and Vary to actual requests", async () => {
    const { headers } = await build(policy)({ headers: { origin: "https://app.example" } }, { vary: "Accept-Encoding" });
    expect(headers).toEqual({
      vary: "Accept-Encoding, Origin",
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": "x-request-id",
    });
  });

  it("leaves requests without Origin, and disallowed origins, without CORS headers", async () => {
    const exchange = build(policy);
    expect((await exchange({})).headers).toEqual({});
    expect((await exchange({ headers: { origin: "https://evil.example" } })).headers).toEqual({ vary: "Origin" });
  });

  it("treats a matcher that matches * as any origin, still echoing the origin", async () => {
    const { headers } = await build({ allowOrigins: [{ exact: "*" }] })({ headers: { origin: "https://x.example" } });
    expect(headers?.["access-control-allow-origin"]).toBe("https://x.example");
  });

  it("uses the route's policy instead of the listener's; null turns CORS off", async () => {
    const exchange = build({ ...policy, routes: { public: { allowOrigins: [{ prefix: "https://" }] }, internal: null } });
    expect((await exchange({ ...preflight("https://any.example"), routeName: "public" })).reply?.headers).toEqual({ "access-control-allow-origin": "https://any.example", vary: "Origin" });
    expect((await exchange({ ...preflight("https://app.example"), routeName: "internal" })).reply).toBeUndefined();
  });

  it("rejects a bad regex and a fractional max age", () => {
    expect(corsFilter.schema.safeParse({ allowOrigins: [{ regex: "(" }] }).success).toBe(false);
    expect(corsFilter.schema.safeParse({ allowOrigins: [], maxAge: "1.5s" }).success).toBe(false);
  });
});
