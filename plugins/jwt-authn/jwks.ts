/**
 * @module plugins/jwt-authn/jwks
 * Where a rule's verification keys come from: an inline JWKS (parsed once), or a JWKS fetched with the
 * host's `fetch` — by `jwksUri` or through OpenID discovery — cached for a TTL, refetched early when a
 * token names a `kid` the cached set lacks (key rotation), at most once per cool-down. When a refetch
 * fails, the last good set stays in use; concurrent requests share one fetch. Time is the injected clock.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

export class JwksError extends Error {
  constructor(readonly status: "JwksFetchFail" | "JwksNoValidKeys", message: string) {
    super(message);
  }
}

export interface KeySource {
  /** The current key set; throws `JwksError` when there is none. */
  get(): Promise<JWTVerifyGetKey>;
  /** Called when the set lacks the token's key: a fresher set, or undefined when none can be had now. */
  refresh(): Promise<JWTVerifyGetKey | undefined>;
}

/** Parses JWKS JSON text (a set, or one JWK) into jose's key lookup. */
export function parseJwks(text: string): JWTVerifyGetKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new JwksError("JwksNoValidKeys", `JWKS is not JSON: ${(e as Error).message}`);
  }
  const o = parsed as { keys?: unknown; kty?: unknown } | null;
  const set = o !== null && typeof o === "object" && typeof o.kty === "string" ? { keys: [o] } : o;
  if (set === null || typeof set !== "object" || !Array.isArray((set as { keys?: unknown }).keys) || (set as { keys: unknown[] }).keys.length === 0) {
    throw new JwksError("JwksNoValidKeys", "JWKS has no keys");
  }
  try {
    return createLocalJWKSet(set as JSONWebKeySet);
  } catch (e) {
    throw new JwksError("JwksNoValidKeys", `JWKS is invalid: ${(e as Error).message}`);
  }
}

export function createInlineKeySource(text: string): KeySource {
  let keys: JWTVerifyGetKey | undefined;
  let error: JwksError | undefined;
  try {
    keys = parseJwks(text);
  } catch (e) {
    error = e as JwksError;
  }
  return {
    get: () => (keys ? Promise.resolve(keys) : Promise.reject(error!)),
    refresh: () => Promise.resolve(undefined),
  };
}

export interface RemoteOptions {
  /** The JWKS URL, or undefined to discover it from `issuer`. */
  uri: string | undefined;
  issuer: string;
  fetch: typeof fetch | undefined;
  now: () => number;
  log: (message: string) => void;
  ttlMs: number;
  cooldownMs: number;
  timeoutMs: number;
}

async function fetchJson(o: RemoteOptions, url: string): Promise<unknown> {
  if (o.fetch === undefined) throw new Error("the host gave this filter no fetch function");
  const response = await o.fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(o.timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return await response.json() as unknown;
}

export function createRemoteKeySource(o: RemoteOptions): KeySource {
  let keys: JWTVerifyGetKey | undefined;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let inflight: Promise<JWTVerifyGetKey | undefined> | undefined;
  let jwksUri = o.uri;

  const load = async (): Promise<JWTVerifyGetKey> => {
    if (jwksUri === undefined) {
      const discovery = `${o.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
      const doc = await fetchJson(o, discovery) as { jwks_uri?: unknown } | null;
      if (typeof doc?.jwks_uri !== "string") throw new Error(`${discovery} has no jwks_uri`);
      jwksUri = doc.jwks_uri;
    }
    const body = await fetchJson(o, jwksUri);
    return parseJwks(JSON.stringify(body));
  };

  /** Fetches once for all waiting requests; keeps the old set on failure. */
  const refetch = (): Promise<JWTVerifyGetKey | undefined> => {
    inflight ??= (async () => {
      attemptedAt = o.now();
      try {
        keys = await load();
        fetchedAt = o.now();
        return keys;
      } catch (e) {
        o.log(`jwt-authn: fetching the JWKS of ${o.issuer} failed: ${(e as Error).message}${keys ? "; keeping the previous keys" : ""}`);
        return undefined;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  return {
    async get() {
      const now = o.now();
      if (inflight !== undefined) await inflight;
      else if (keys === undefined || now - fetchedAt >= o.ttlMs) {
        // Without any keys a failed fetch is retried after at most a second; with keys, after the cool-down.
        if (now - attemptedAt >= (keys === undefined ? Math.min(o.cooldownMs, 1000) : o.cooldownMs)) await refetch();
      }
      if (keys === undefined) throw new JwksError("JwksFetchFail", `no JWKS for ${o.issuer}`);
      return keys;
    },
    async refresh() {
      if (o.now() - attemptedAt < o.cooldownMs) return undefined;
      return await refetch();
    },
  };
}
