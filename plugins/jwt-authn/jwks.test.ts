import { beforeAll, describe, expect, it } from "vitest";
import { createTestContext, createTestStream } from "../common/testing.ts";
import { JWT_AUTHN_KEY, type JwtAuthnResult } from "../common/metadata.ts";
import { jwtAuthnFilter } from "./index.ts";
import { createJwksServer, createTestKey, jwksText, sign, type TestKey } from "./test-keys.ts";

const ISS = "https://issuer.example";
const URI = "https://issuer.example/keys.json";
let k1: TestKey;
let k2: TestKey;

beforeAll(async () => {
  k1 = await createTestKey("k1", "RS256");
  k2 = await createTestKey("k2", "ES256");
});

function build(rule: Record<string, unknown> = { jwksUri: URI }, extra: Record<string, unknown> = {}) {
  const server = createJwksServer();
  const ctx = createTestContext({ fetch: server.fetch });
  const filter = jwtAuthnFilter.create(jwtAuthnFilter.schema.parse({ jwtRules: [{ issuer: ISS, ...rule }], ...extra }), ctx);
  const call = async (token: string) => {
    const stream = createTestStream({ headers: { authorization: `Bearer ${token}` } });
    const reply = await filter.onRequest!(stream);
    return { reply, auth: stream.metadata.get(JWT_AUTHN_KEY) as JwtAuthnResult | undefined };
  };
  return { server, ctx, call };
}

describe("jwt-authn: remote JWKS", () => {
  it("fetches the JWKS once and serves later requests from the cache", async () => {
    const { server, ctx, call } = build();
    server.documents.set(URI, jwksText(k1));
    const token = await sign(k1, { iss: ISS, sub: "a" }, ctx.time);
    expect((await call(token)).auth?.sub).toBe("a");
    expect((await call(token)).auth?.sub).toBe("a");
    expect(server.requests).toEqual([URI]);
  });

  it("shares one fetch among concurrent requests", async () => {
    const { server, ctx, call } = build();
    server.documents.set(URI, jwksText(k1));
    const token = await sign(k1, { iss: ISS, sub: "a" }, ctx.time);
    const results = await Promise.all([call(token), call(token), call(token)]);
    expect(results.map((r) => r.auth?.sub)).toEqual(["a", "a", "a"]);
    expect(server.requests).toHaveLength(1);
  });

  it("refetches after the cache duration", async () => {
    const { server, ctx, call } = build({ jwksUri: URI }, { jwksCacheSeconds: 60 });
    server.documents.set(URI, jwksText(k1));
    const token = await sign(k1, { iss: ISS, sub: "a" }, ctx.time, { expiresInSeconds: 86400 });
    await call(token);
    ctx.time += 59_000;
    await call(token);
    expect(server.requests).toHaveLength(1);
    ctx.time += 2_000;
    await call(token);
    expect(server.requests).toHaveLength(2);
  });

  it("follows a key rotation: an unknown kid refetches at once, at most once per cool-down", async () => {
    const { server, ctx, call } = build({ jwksUri: URI }, { jwksRefetchCooldownSeconds: 30 });
    server.documents.set(URI, jwksText(k1));
    const old = await sign(k1, { iss: ISS, sub: "a" }, ctx.time);
    expect((await call(old)).reply).toBeUndefined();
    ctx.time += 31_000;
    server.documents.set(URI, jwksText(k1, k2));
    const rotated = await sign(k2, { iss: ISS, sub: "b" }, ctx.time);
    expect((await call(rotated)).auth?.sub).toBe("b");
    expect(server.requests).toHaveLength(2);
    const unknownKid = await sign(k2, { iss: ISS, sub: "c" }, ctx.time, { kid: "k9" });
    expect((await call(unknownKid)).reply).toMatchObject({ status: 401, body: "Jwks doesn't have key to match kid or alg from Jwt" });
    expect((await call(unknownKid)).reply?.status).toBe(401);
    expect(server.requests).toHaveLength(2);
  });

  it("keeps the last good keys when a refetch fails", async () => {
    const { server, ctx, call } = build({ jwksUri: URI }, { jwksCacheSeconds: 60 });
    server.documents.set(URI, jwksText(k1));
    const token = await sign(k1, { iss: ISS, sub: "a" }, ctx.time, { expiresInSeconds: 86400 });
    await call(token);
    server.fail = true;
    ctx.time += 120_000;
    expect((await call(token)).auth?.sub).toBe("a");
    expect(server.requests).toHaveLength(2);
    expect(ctx.logs.join("\n")).toMatch(/HTTP 503; keeping the previous keys/);
  });

  it("rejects tokens while no JWKS could ever be fetched, and recovers", async () => {
    const { server, ctx, call } = build();
    const token = await sign(k1, { iss: ISS, sub: "a" }, ctx.time);
    server.fail = true;
    expect((await call(token)).reply).toMatchObject({ status: 401, body: "Jwks remote fetch is failed" });
    server.fail = false;
    server.documents.set(URI, jwksText(k1));
    ctx.time += 1_000;
    expect((await call(token)).auth?.sub).toBe("a");
  });

  it("finds the JWKS by OpenID discovery when the rule has neither jwks nor jwksUri", async () => {
    const { server, ctx, call } = build({});
    server.documents.set(`${ISS}/.well-known/openid-configuration`, JSON.stringify({ issuer: ISS, jwks_uri: URI }));
    server.documents.set(URI, jwksText(k2));
    const token = await sign(k2, { iss: ISS, sub: "d" }, ctx.time);
    expect((await call(token)).auth?.sub).toBe("d");
    expect(server.requests).toEqual([`${ISS}/.well-known/openid-configuration`, URI]);
  });

  it("verifies a token without kid against every key of the set", async () => {
    const { ctx, call } = build({ jwks: jwksText(k2, { ...k1, jwk: { ...k1.jwk, kid: "x" } }) });
    const token = await sign(k1, { iss: ISS, sub: "e" }, ctx.time, { kid: null });
    expect((await call(token)).auth?.sub).toBe("e");
  });
});
