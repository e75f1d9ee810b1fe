/**
 * @module control/admin/auth
 * Bearer-token checks for the admin API. Tokens are compared in constant time: both sides are hashed
 * with SHA-256 (so the comparison does not depend on the secret's length) and the digests are compared
 * with an XOR fold that looks at every byte. Web-standard APIs only (`crypto.subtle`).
 */
import type { MiddlewareHandler } from "hono";
import { jsonError } from "./http.ts";

const encoder = new TextEncoder();

async function digest(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
}

/** True when `a` equals `b`; the time taken does not depend on where they differ. */
export async function timingSafeEqualString(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** The credential of `Authorization: Bearer <credential>`, or undefined. */
export function bearerCredential(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * Middleware: requires `Authorization: Bearer <adminToken>`. 401 when the header is missing, is not a
 * bearer token, or carries the wrong token (RFC 6750 `invalid_token`).
 * @example
 * app.use("/v1/*", requireAdminToken("s3cret"));
 */
export function requireAdminToken(adminToken: string): MiddlewareHandler {
  if (adminToken.length < 8) throw new RangeError("the admin token must be at least 8 characters");
  return async function adminTokenAuth(c, next) {
    const presented = bearerCredential(c.req.header("authorization"));
    if (presented === undefined) {
      c.header("WWW-Authenticate", 'Bearer realm="weft-admin"');
      return jsonError(c, 401, "missing admin credentials: send Authorization: Bearer <admin token>");
    }
    if (!(await timingSafeEqualString(presented, adminToken))) {
      c.header("WWW-Authenticate", 'Bearer realm="weft-admin", error="invalid_token"');
      return jsonError(c, 401, "the admin token is not valid");
    }
    await next();
  };
}
