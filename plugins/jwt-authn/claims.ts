/**
 * @module plugins/jwt-authn/claims
 * Claim handling after a token is verified: space-delimited claims (`scope`, `permission`, ...) as
 * lists, the way Envoy normalizes the payload it hands to RBAC, and a claim rendered as a header
 * value the way Envoy's `claim_to_headers` does (nested names with `.`, lists and objects as base64 JSON).
 */
import type { JWTPayload } from "jose";

export function normalizeClaims(payload: JWTPayload, spaceDelimited: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  for (const name of spaceDelimited) {
    const v = out[name];
    if (typeof v === "string") out[name] = v.split(" ").filter((s) => s !== "");
  }
  return out;
}

function lookup(payload: JWTPayload, claim: string): unknown {
  if (claim in payload) return payload[claim];
  let v: unknown = payload;
  for (const part of claim.split(".")) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The header value for `claim`, or undefined when the claim is absent or has no header form. */
export function claimHeaderValue(payload: JWTPayload, claim: string): string | undefined {
  const v = lookup(payload, claim);
  let out: string | undefined;
  if (typeof v === "string") out = v;
  else if (typeof v === "number") out = Number.isInteger(v) && v >= 0 ? String(v) : v.toFixed(6);
  else if (typeof v === "boolean") out = v ? "true" : "false";
  else if (v !== null && typeof v === "object") out = base64(JSON.stringify(v));
  if (out === undefined || out === "" || /[\r\n\0]/.test(out)) return undefined;
  return out;
}
