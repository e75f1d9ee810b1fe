/**
 * @module plugins/jwt-authn/verify
 * Verifies one token against one rule, in Envoy's order and with its status names: the token must
 * parse, name the rule's issuer, be inside `nbf`/`exp` (with clock skew), carry an allowed audience,
 * and be signed by a key of the rule's JWKS (an unknown `kid` triggers one JWKS refresh).
 */
import { compactVerify, decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey, type KeyObject, type CryptoKey } from "jose";
import { JwksError, type KeySource } from "./jwks.ts";

export type JwtStatus =
  | "Ok"
  | "JwtMissed"
  | "JwtBadFormat"
  | "JwtUnknownIssuer"
  | "JwtNotYetValid"
  | "JwtExpired"
  | "JwtAudienceNotAllowed"
  | "JwtVerificationFail"
  | "JwksKidAlgMismatch"
  | "JwksFetchFail"
  | "JwksNoValidKeys";

/** Envoy's (jwt_verify_lib's) wording, used as the 401 body. */
export const STATUS_TEXT: Record<JwtStatus, string> = {
  Ok: "OK",
  JwtMissed: "Jwt is missing",
  JwtBadFormat: "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
  JwtUnknownIssuer: "Jwt issuer is not configured",
  JwtNotYetValid: "Jwt not yet valid",
  JwtExpired: "Jwt is expired",
  JwtAudienceNotAllowed: "Audiences in Jwt are not allowed",
  JwtVerificationFail: "Jwt verification fails",
  JwksKidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  JwksFetchFail: "Jwks remote fetch is failed",
  JwksNoValidKeys: "Jwks doesn't have any valid public key",
};

export interface VerifyRule {
  issuer: string;
  /** Sanitized audiences (see `sanitizeAudience`); empty = any. */
  audiences: string[];
  keys: KeySource;
}

export type VerifyResult = { status: "Ok"; payload: JWTPayload; payloadSegment: string } | { status: Exclude<JwtStatus, "Ok"> };

/** Envoy compares audiences without an `http://` or `https://` scheme and without a trailing slash. */
export function sanitizeAudience(aud: string): string {
  return aud.replace(/^https?:\/\//, "").replace(/\/$/, "");
}

async function verifySignature(token: string, keys: JWTVerifyGetKey): Promise<void> {
  try {
    await compactVerify(token, keys);
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
    // jose leaves trying each of several candidate keys (no `kid`) to the caller.
    const candidates = e as unknown as AsyncIterable<CryptoKey | KeyObject>;
    for await (const key of candidates) {
      try {
        await compactVerify(token, key);
        return;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function statusOf(e: unknown): Exclude<JwtStatus, "Ok"> {
  if (e instanceof JwksError) return e.status;
  if (e instanceof errors.JWKSNoMatchingKey) return "JwksKidAlgMismatch";
  if (e instanceof errors.JWSInvalid) return "JwtBadFormat";
  return "JwtVerificationFail";
}

export async function verifyToken(token: string, rule: VerifyRule, nowMs: number, skewSeconds: number): Promise<VerifyResult> {
  let payload: JWTPayload;
  try {
    decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    return { status: "JwtBadFormat" };
  }
  if (token.split(".").length !== 3) return { status: "JwtBadFormat" };
  if (payload.iss !== rule.issuer) return { status: "JwtUnknownIssuer" };
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.nbf === "number" && payload.nbf > now + skewSeconds) return { status: "JwtNotYetValid" };
  if (typeof payload.exp === "number" && payload.exp > 0 && payload.exp < now - skewSeconds) return { status: "JwtExpired" };
  if ((payload.nbf !== undefined && typeof payload.nbf !== "number") || (payload.exp !== undefined && typeof payload.exp !== "number")) return { status: "JwtBadFormat" };
  if (rule.audiences.length > 0) {
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => typeof a === "string" && rule.audiences.includes(sanitizeAudience(a)))) return { status: "JwtAudienceNotAllowed" };
  }
  try {
    try {
      await verifySignature(token, await rule.keys.get());
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      const fresher = await rule.keys.refresh();
      if (fresher === undefined) throw e;
      await verifySignature(token, fresher);
    }
  } catch (e) {
    return { status: statusOf(e) };
  }
  return { status: "Ok", payload, payloadSegment: token.split(".")[1]! };
}
