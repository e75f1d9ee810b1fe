/**
 * @module plugins/jwt-authn/test-keys
 * Signing keys and a scripted JWKS server for the jwt-authn tests: real ES256/RS256 keys made with
 * jose, tokens signed with them, and a `fetch` that serves JWKS and discovery documents from memory
 * (no network) and counts requests.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from "jose";

export interface TestKey {
  kid: string;
  alg: "ES256" | "RS256";
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function createTestKey(kid: string, alg: "ES256" | "RS256" = "ES256"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, jwk };
}

export function jwksText(...keys: TestKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

/** Signs `claims` (seconds-based `iat`/`exp` relative to `nowMs`). */
export async function sign(key: TestKey, claims: JWTPayload, nowMs: number, opts: { expiresInSeconds?: number; kid?: string | null } = {}): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const header = opts.kid === null ? { alg: key.alg } : { alg: key.alg, kid: opts.kid ?? key.kid };
  return await new SignJWT({ iat: now, exp: now + (opts.expiresInSeconds ?? 3600), ...claims }).setProtectedHeader(header).sign(key.privateKey);
}

export interface FakeJwksServer {
  fetch: typeof fetch;
  /** URLs requested, in order. */
  requests: string[];
  /** Documents by URL; change them to rotate keys. A missing URL answers 404; `fail` answers 503. */
  documents: Map<string, string>;
  fail: boolean;
}

export function createJwksServer(): FakeJwksServer {
  const server: FakeJwksServer = {
    requests: [],
    documents: new Map(),
    fail: false,
    fetch: ((input: RequestInfo | URL) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      server.requests.push(url);
      const body = server.documents.get(url);
      if (server.fail) return Promise.resolve(new Response("unavailable", { status: 503 }));
      if (body === undefined) return Promise.resolve(new Response("not found", { status: 404 }));
      return Promise.resolve(new Response(body, { status: 200, headers: { "content-type": "application/json" } }));
    }) as typeof fetch,
  };
  return server;
}
