/**
 * @module control/admin/ca-routes
 * `/v1/ca/*`: the trust bundle (public), join tokens (admin only: the app's admin guard covers every
 * route here except the bundle and `/svid`) and SVID issuance for a CSR, where
 * the caller's credential is a one-time join token (`Authorization: Bearer <join token>`). The SPIFFE ID
 * always comes from the token, never from the CSR: a CSR whose URI SAN names another identity is
 * refused with 403 (the token is spent by then, so a caller cannot probe with it), and a CSR that asks
 * for DNS names, IPs or e-mail addresses is refused with 400 before the token is touched, because a
 * weft SVID carries only the SPIFFE ID.
 */
import { Hono } from "hono";
import { SpiffeIdError, parseSpiffeId } from "../../core/identity/spiffe.ts";
import * as x509 from "../../core/identity/x509.ts";
import { CaError, type CertificateAuthority } from "../ca/authority.ts";
import { AttestationError, type JoinTokenStore } from "../ca/join-tokens.ts";
import { bearerCredential } from "./auth.ts";
import { HttpError, jsonError, readJsonObject } from "./http.ts";

export interface CaRoutesOptions {
  ca: CertificateAuthority;
  joinTokens: JoinTokenStore;
  /** Longest join-token life an admin may ask for (default 7 days). */
  maxJoinTokenTtlMs?: number;
}

const SAN_OID = "2.5.29.17";
const DEFAULT_TOKEN_TTL_S = 3600;

function ttlSeconds(body: Record<string, unknown>, field: string, fallback: number | undefined, maxMs: number): number | undefined {
  const v = body[field];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new HttpError(400, `${field} must be a positive whole number of seconds`, [{ severity: "error", path: field, message: "must be a positive integer" }]);
  if (v * 1000 > maxMs) throw new HttpError(400, `${field} is longer than the allowed ${maxMs / 1000} s`, [{ severity: "error", path: field, message: `at most ${maxMs / 1000}` }]);
  return v;
}

/**
 * The SAN entries a CSR asks for. Throws 400 when it is not a parseable, self-consistent PKCS#10
 * request with a P-256 key, so a broken CSR never spends a join token.
 */
async function inspectCsr(pem: string): Promise<{ type: string; value: string }[]> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new HttpError(400, `malformed CSR: ${(err as Error).message}`, [{ severity: "error", path: "csr", message: "not a PEM PKCS#10 certificate request" }]);
  }
  const bad = (message: string) => new HttpError(400, `CSR refused: ${message}`, [{ severity: "error", path: "csr", message }]);
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw bad("its signature does not verify");
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== "ECDSA" || alg.namedCurve !== "P-256") throw bad(`the key must be ECDSA P-256, got ${alg.name} ${alg.namedCurve ?? ""}`.trim());
  const names: { type: string; value: string }[] = [];
  for (const ext of csr.extensions) {
    if (ext.type !== SAN_OID) continue;
    for (const n of new x509.SubjectAlternativeNameExtension(ext.rawData).names.items) names.push({ type: n.type, value: n.value });
  }
  return names;
}

export function createCaRoutes(opts: CaRoutesOptions): Hono {
  const { ca, joinTokens } = opts;
  const maxTokenMs = opts.maxJoinTokenTtlMs ?? 7 * 24 * 3600_000;
  const app = new Hono();

  app.get("/bundle", (c) => {
    const roots = ca.trustBundle();
    if (c.req.query("format") === "pem") return c.body(roots.join(""), 200, { "content-type": "application/x-pem-file" });
    return c.json({ trustDomain: ca.trustDomain, roots });
  });

  app.post("/join-tokens", async (c) => {
    const body = await readJsonObject(c);
    if (typeof body.spiffeId !== "string") throw new HttpError(400, "spiffeId is required", [{ severity: "error", path: "spiffeId", message: "required (a SPIFFE ID string)" }]);
    let td: string;
    try {
      td = parseSpiffeId(body.spiffeId).trustDomain;
    } catch (err) {
      if (!(err instanceof SpiffeIdError)) throw err;
      throw new HttpError(400, `spiffeId: ${err.message}`, [{ severity: "error", path: "spiffeId", message: err.message }]);
    }
    if (td !== ca.trustDomain) throw new HttpError(400, `spiffeId ${body.spiffeId} is not in this CA's trust domain ${ca.trustDomain}`, [{ severity: "error", path: "spiffeId", message: `trust domain must be ${ca.trustDomain}` }]);
    const ttl = ttlSeconds(body, "ttlSeconds", DEFAULT_TOKEN_TTL_S, maxTokenMs)!;
    const minted = await joinTokens.mint(body.spiffeId, ttl * 1000);
    return c.json(minted, 201);
  });

  app.post("/svid", async (c) => {
    const token = bearerCredential(c.req.header("authorization"));
    if (token === undefined) {
      c.header("WWW-Authenticate", 'Bearer realm="weft-join-token"');
      return jsonError(c, 401, "missing join token: send Authorization: Bearer <join token>");
    }
    const body = await readJsonObject(c);
    if (typeof body.csr !== "string") throw new HttpError(400, "csr is required (a PEM PKCS#10 request)", [{ severity: "error", path: "csr", message: "required" }]);
    const requestedTtl = ttlSeconds(body, "ttlSeconds", undefined, Number.MAX_SAFE_INTEGER);
    const names = await inspectCsr(body.csr);
    const other = names.filter((n) => n.type !== "url");
    if (other.length > 0) {
      throw new HttpError(400, `the CSR asks for ${other.map((n) => `${n.type} ${n.value}`).join(", ")}; weft SVIDs carry only the SPIFFE ID of the join token`, [{ severity: "error", path: "csr", message: "only a URI SAN (the SPIFFE ID) is allowed" }]);
    }
    let spiffeId: string;
    try {
      spiffeId = await joinTokens.attest(token);
    } catch (err) {
      if (!(err instanceof AttestationError)) throw err;
      c.header("WWW-Authenticate", 'Bearer realm="weft-join-token", error="invalid_token"');
      return jsonError(c, 401, `join token refused: ${err.message}`);
    }
    const wrong = names.filter((n) => n.value !== spiffeId);
    if (wrong.length > 0) {
      return jsonError(c, 403, `the CSR asks for ${wrong.map((n) => n.value).join(", ")}, but the join token grants only ${spiffeId}; the token is now spent`);
    }
    try {
      const svid = await ca.issue({ spiffeId, csrPem: body.csr, ...(requestedTtl !== undefined ? { ttlMs: requestedTtl * 1000 } : {}) });
      return c.json({ spiffeId, certificate: svid.certPem, chain: svid.chainPem, trustBundle: ca.trustBundle(), notBefore: svid.notBefore, notAfter: svid.notAfter, serial: svid.serial });
    } catch (err) {
      if (err instanceof CaError) throw new HttpError(400, `cannot issue: ${err.message}`, [{ severity: "error", path: "csr", message: err.message }]);
      throw err;
    }
  });
  return app;
}
