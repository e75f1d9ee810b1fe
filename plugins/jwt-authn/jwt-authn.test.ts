import { beforeAll, describe, expect, it } from "vitest";
import { createTestContext, createTestStream } from "../common/testing.ts";
import { JWT_AUTHN_KEY, RESPONSE_CODE_DETAILS_KEY, type JwtAuthnResult } from "../common/metadata.ts";
import { jwtAuthnFilter } from "./index.ts";
import { createTestKey, jwksText, sign, type TestKey } from "./test-keys.ts";
import type { TestStreamInit } from "../common/testing.ts";

const ISS = "https://issuer.example";
const OTHER = "https://other.example";
let key: TestKey;
let other: TestKey;
let rogue: TestKey;

beforeAll(async () => {
  key = await createTestKey("k1", "ES256");
  other = await createTestKey("o1", "RS256");
  rogue = await createTestKey("k1", "ES256");
});

function build(config: Record<string, unknown>) {
  const ctx = createTestContext();
  const filter = jwtAuthnFilter.create(jwtAuthnFilter.schema.parse(config), ctx);
  const run = async (init: TestStreamInit) => {
    const stream = createTestStream(init);
    const reply = await filter.onRequest!(stream);
    return { reply, stream, auth: stream.metadata.get(JWT_AUTHN_KEY) as JwtAuthnResult | undefined };
  };
  return { ctx, run };
}

const oneRule = (extra: Record<string, unknown> = {}) => ({ jwtRules: [{ issuer: ISS, jwks: jwksText(key), ...extra }] });

describe("jwt-authn: one rule", () => {
  it("accepts a valid token, records iss/sub for rbac and strips the token", async () => {
    const { ctx, run } = build(oneRule());
    const token = await sign(key, { iss: ISS, sub: "alice", aud: "svc", azp: "web", scope: "read  write", group: "admins" }, ctx.time);
    const { reply, stream, auth } = await run({ headers: { authorization: `Bearer ${token}` } });
    expect(reply).toBeUndefined();
    expect(auth).toMatchObject({ iss: ISS, sub: "alice", aud: ["svc"], azp: "web", principal: `${ISS}/alice`, rule: 0 });
    expect(auth?.claims.scope).toEqual(["read", "write"]);
    expect(auth?.claims.group).toBe("admins");
    expect(stream.headers.get("authorization")).toBeUndefined();
  });

  it("lets a request without a token through unauthenticated", async () => {
    const { run } = build(oneRule());
    const { reply, auth } = await run({ headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(reply).toBeUndefined();
    expect(auth).toBeUndefined();
  });

  it("rejects a token signed by another key with 401, www-authenticate and response details", async () => {
    const { ctx, run } = build(oneRule());
    const forged = await sign(rogue, { iss: ISS, sub: "mallory" }, ctx.time);
    const { reply, stream, auth } = await run({ path: "/api?x=1", authority: "svc.example", headers: { authorization: `Bearer ${forged}` } });
    expect(reply).toMatchObject({ status: 401, body: "Jwt verification fails" });
    expect(reply?.headers?.["www-authenticate"]).toBe('Bearer realm="http://svc.example/api", error="invalid_token"');
    expect(stream.metadata.get(RESPONSE_CODE_DETAILS_KEY)).toBe("jwt_authn_access_denied{Jwt_verification_fails}");
    expect(auth).toBeUndefined();
  });

  it("rejects garbage, an unknown issuer, and a token without a signature", async () => {
    const { ctx, run } = build(oneRule());
    expect((await run({ headers: { authorization: "Bearer not-a-jwt" } })).reply?.body).toMatch(/^Jwt is not in the form/);
    const foreign = await sign(key, { iss: OTHER, sub: "x" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${foreign}` } })).reply).toMatchObject({ status: 401, body: "Jwt issuer is not configured" });
    const [h, p] = (await sign(key, { iss: ISS, sub: "x" }, ctx.time)).split(".");
    const none = `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${p}.`;
    expect((await run({ headers: { authorization: `Bearer ${none}` } })).reply?.status).toBe(401);
    expect((await run({ headers: { authorization: `Bearer ${h}.${p}.` } })).reply?.status).toBe(401);
  });

  it("checks exp and nbf with the clock skew", async () => {
    const { ctx, run } = build(oneRule({}));
    const token = await sign(key, { iss: ISS, sub: "a" }, ctx.time, { expiresInSeconds: 10 });
    ctx.time += 60_000;
    expect((await run({ headers: { authorization: `Bearer ${token}` } })).reply).toBeUndefined();
    ctx.time += 20_000;
    expect((await run({ headers: { authorization: `Bearer ${token}` } })).reply).toMatchObject({ status: 401, body: "Jwt is expired" });
    const future = await sign(key, { iss: ISS, sub: "a", nbf: Math.floor(ctx.time / 1000) + 120 }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${future}` } })).reply).toMatchObject({ status: 401, body: "Jwt not yet valid" });
  });

  it("checks audiences (ignoring scheme and trailing slash) and answers 403 for a wrong one", async () => {
    const { ctx, run } = build(oneRule({ audiences: ["https://svc.example/"] }));
    const good = await sign(key, { iss: ISS, sub: "a", aud: ["x", "svc.example"] }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${good}` } })).reply).toBeUndefined();
    const bad = await sign(key, { iss: ISS, sub: "a", aud: "elsewhere" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${bad}` } })).reply).toMatchObject({ status: 403, body: "Audiences in Jwt are not allowed" });
  });

  it("reads ?access_token= by default and removes it from the path", async () => {
    const { ctx, run } = build(oneRule());
    const token = await sign(key, { iss: ISS, sub: "a" }, ctx.time);
    const { reply, stream, auth } = await run({ path: `/p?a=1&access_token=${token}&b=2` });
    expect(reply).toBeUndefined();
    expect(auth?.sub).toBe("a");
    expect(stream.path).toBe("/p?a=1&b=2");
  });

  it("keeps the token with forwardOriginalToken", async () => {
    const { ctx, run } = build(oneRule({ forwardOriginalToken: true }));
    const token = await sign(key, { iss: ISS, sub: "a" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${token}` } })).stream.headers.get("authorization")).toBe(`Bearer ${token}`);
  });

  it("reads configured locations only: header with prefix, parameter, cookie", async () => {
    const { ctx, run } = build(oneRule({ fromHeaders: [{ name: "x-jwt", prefix: "Token " }], fromParams: ["jwt"], fromCookies: ["session"] }));
    const token = await sign(key, { iss: ISS, sub: "a" }, ctx.time);
    expect((await run({ headers: { "x-jwt": `Token ${token}` } })).auth?.sub).toBe("a");
    expect((await run({ path: `/?jwt=${token}` })).auth?.sub).toBe("a");
    const viaCookie = await run({ headers: { cookie: `theme=dark; session=${token}` } });
    expect(viaCookie.auth?.sub).toBe("a");
    expect(viaCookie.stream.headers.get("cookie")).toBe("theme=dark");
    const ignored = await run({ headers: { authorization: `Bearer ${token}` } });
    expect(ignored.auth).toBeUndefined();
    expect(ignored.reply).toBeUndefined();
  });

  it("requires every token the rule finds to be valid", async () => {
    const { ctx, run } = build(oneRule());
    const good = await sign(key, { iss: ISS, sub: "a" }, ctx.time);
    const bad = await sign(rogue, { iss: ISS, sub: "b" }, ctx.time);
    expect((await run({ path: `/?access_token=${bad}`, headers: { authorization: `Bearer ${good}` } })).reply?.status).toBe(401);
  });

  it("writes the payload and claims to headers, and drops forged copies of them", async () => {
    const { ctx, run } = build(oneRule({
      outputPayloadToHeader: "x-jwt-payload",
      outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }, { header: "x-level", claim: "level" }, { header: "x-org", claim: "org.name" }, { header: "x-groups", claim: "groups" }, { header: "x-none", claim: "missing" }],
    }));
    const token = await sign(key, { iss: ISS, sub: "alice", level: 3, org: { name: "acme" }, groups: ["a", "b"] }, ctx.time);
    const { stream } = await run({ headers: { authorization: `Bearer ${token}`, "x-sub": "forged", "x-none": "forged", "x-jwt-payload": "forged" } });
    expect(stream.headers.get("x-jwt-payload")).toBe(token.split(".")[1]);
    expect(stream.headers.get("x-sub")).toBe("alice");
    expect(stream.headers.get("x-level")).toBe("3");
    expect(stream.headers.get("x-org")).toBe("acme");
    expect(atob(stream.headers.get("x-groups")!)).toBe('["a","b"]');
    expect(stream.headers.get("x-none")).toBeUndefined();
    const anonymous = await run({ headers: { "x-sub": "forged" } });
    expect(anonymous.stream.headers.get("x-sub")).toBeUndefined();
  });

  it("lets a CORS preflight through without checking tokens", async () => {
    const { run } = build(oneRule());
    const { reply } = await run({ method: "OPTIONS", headers: { origin: "https://a.example", "access-control-request-method": "GET", authorization: "Bearer junk" } });
    expect(reply).toBeUndefined();
  });

  it("rejects a config with both jwks and jwksUri, or a bad inline JWKS", () => {
    expect(jwtAuthnFilter.schema.safeParse({ jwtRules: [{ issuer: ISS, jwks: "{\"keys\":[]}", jwksUri: "https://x.example/jwks" }] }).success).toBe(false);
    const bad = jwtAuthnFilter.schema.safeParse({ jwtRules: [{ issuer: ISS, jwks: "{not json" }] });
    expect(bad.error?.issues[0]?.path).toEqual(["jwtRules", 0, "jwks"]);
  });
});

describe("jwt-authn: several rules (Istio's requirement)", () => {
  const twoRules = () => ({ jwtRules: [{ issuer: ISS, jwks: jwksText(key) }, { issuer: OTHER, jwks: jwksText(other), fromHeaders: [{ name: "x-other-jwt" }] }] });

  it("accepts a token of either issuer at its rule's location", async () => {
    const { ctx, run } = build(twoRules());
    const a = await sign(key, { iss: ISS, sub: "a" }, ctx.time);
    const b = await sign(other, { iss: OTHER, sub: "b" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${a}` } })).auth).toMatchObject({ principal: `${ISS}/a`, rule: 0 });
    expect((await run({ headers: { "x-other-jwt": b } })).auth).toMatchObject({ principal: `${OTHER}/b`, rule: 1 });
    expect((await run({})).reply).toBeUndefined();
  });

  it("accepts tokens of different issuers at a shared location", async () => {
    const { ctx, run } = build({ jwtRules: [{ issuer: ISS, jwks: jwksText(key) }, { issuer: OTHER, jwks: jwksText(other) }] });
    const b = await sign(other, { iss: OTHER, sub: "b" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${b}` } })).auth?.rule).toBe(1);
    const c = await sign(key, { iss: "https://unknown.example", sub: "c" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${c}` } })).reply).toMatchObject({ status: 401, body: "Jwt issuer is not configured" });
  });

  it("rejects an invalid token at one rule's location when no rule's token is valid", async () => {
    const { ctx, run } = build(twoRules());
    const forged = await sign(rogue, { iss: ISS, sub: "a" }, ctx.time);
    expect((await run({ headers: { authorization: `Bearer ${forged}` } })).reply).toMatchObject({ status: 401, body: "Jwt verification fails" });
  });

  it("like Envoy, stops at the first rule whose tokens are valid (other rules' locations are not checked)", async () => {
    const { ctx, run } = build(twoRules());
    const a = await sign(key, { iss: ISS, sub: "a" }, ctx.time);
    const { reply, auth, stream } = await run({ headers: { authorization: `Bearer ${a}`, "x-other-jwt": "junk" } });
    expect(reply).toBeUndefined();
    expect(auth?.rule).toBe(0);
    expect(stream.headers.get("x-other-jwt")).toBe("junk");
  });
});
