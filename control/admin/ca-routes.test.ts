import { describe, expect, it } from "vitest";
import * as x509 from "../../core/identity/x509.ts";
import { createTestControl } from "./test-fixtures.ts";

const WEB = "spiffe://cluster.local/ns/default/sa/web";
const json = { "content-type": "application/json" };

async function csr(names: { type: "url" | "dns"; value: string }[] = [], alg: "P-256" | "P-384" = "P-256"): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: alg }, true, ["sign", "verify"])) as CryptoKeyPair;
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    ...(names.length ? { extensions: [new x509.SubjectAlternativeNameExtension(names)] } : {}),
  });
  return req.toString("pem");
}

describe("admin API: CA", () => {
  it("serves the trust bundle publicly as JSON and PEM", async () => {
    const { app, ca } = await createTestControl();
    const res = await (await app.request("/v1/ca/bundle")).json();
    expect(res).toEqual({ trustDomain: "cluster.local", roots: ca.trustBundle() });
    const pem = await app.request("/v1/ca/bundle?format=pem");
    expect(pem.headers.get("content-type")).toBe("application/x-pem-file");
    expect(await pem.text()).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("mints a join token (admin only) and issues an SVID for the token's identity, once", async () => {
    const { app, auth, ca } = await createTestControl();
    const minted = await app.request("/v1/ca/join-tokens", { method: "POST", headers: { ...auth, ...json }, body: JSON.stringify({ spiffeId: WEB, ttlSeconds: 600 }) });
    expect(minted.status).toBe(201);
    const { token, spiffeId } = await minted.json();
    expect(spiffeId).toBe(WEB);
    const body = JSON.stringify({ csr: await csr([{ type: "url", value: WEB }]) });
    const issued = await app.request("/v1/ca/svid", { method: "POST", headers: { authorization: `Bearer ${token}`, ...json }, body });
    expect(issued.status).toBe(200);
    const svid = await issued.json();
    expect(svid.spiffeId).toBe(WEB);
    expect(svid.chain).toHaveLength(3);
    expect(svid.trustBundle).toEqual(ca.trustBundle());
    const cert = new x509.X509Certificate(svid.certificate);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual([WEB]);
    const again = await app.request("/v1/ca/svid", { method: "POST", headers: { authorization: `Bearer ${token}`, ...json }, body });
    expect(again.status).toBe(401);
    expect((await again.json()).error).toMatch(/unknown or already used join token/);
  });

  it("takes the identity from the token when the CSR names none", async () => {
    const { app, auth } = await createTestControl();
    const { token } = await (await app.request("/v1/ca/join-tokens", { method: "POST", headers: { ...auth, ...json }, body: JSON.stringify({ spiffeId: WEB }) })).json();
    const res = await app.request("/v1/ca/svid", { method: "POST", headers: { authorization: `Bearer ${token}`, ...json }, body: JSON.stringify({ csr: await csr(), ttlSeconds: 60 }) });
    const svid = await res.json();
    expect(svid.spiffeId).toBe(WEB);
    expect(svid.notAfter - svid.notBefore).toBe(60_000 + 60_000); // 60 s life plus the 60 s back-dating for skew
  });

  it("refuses a CSR asking for another identity with 403, and spends the token", async () => {
    const { app, auth, joinTokens } = await createTestControl();
    const { token } = await (await app.request("/v1/ca/join-tokens", { method: "POST", headers: { ...auth, ...json }, body: JSON.stringify({ spiffeId: WEB }) })).json();
    const admin = "spiffe://cluster.local/ns/kube-system/sa/admin";
    const res = await app.request("/v1/ca/svid", { method: "POST", headers: { authorization: `Bearer ${token}`, ...json }, body: JSON.stringify({ csr: await csr([{ type: "url", value: admin }]) }) });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toBe(`the CSR asks for ${admin}, but the join token grants only ${WEB}; the token is now spent`);
    expect(joinTokens.pending()).toBe(0);
  });

  it("refuses broken CSRs with 400 without spending the token", async () => {
    const { app, auth, joinTokens } = await createTestControl();
    const { token } = await (await app.request("/v1/ca/join-tokens", { method: "POST", headers: { ...auth, ...json }, body: JSON.stringify({ spiffeId: WEB }) })).json();
    const send = (body: unknown, headers: Record<string, string> = json) => app.request("/v1/ca/svid", { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
    const garbage = await send({ csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n" });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ error: expect.stringMatching(/malformed CSR/), diagnostics: [{ path: "csr" }] });
    const dns = await send({ csr: await csr([{ type: "dns", value: "web.example.com" }]) });
    expect(dns.status).toBe(400);
    expect((await dns.json()).error).toMatch(/dns web\.example\.com/);
    const p384 = await send({ csr: await csr([], "P-384") });
    expect((await p384.json()).error).toMatch(/ECDSA P-256/);
    expect((await send({})).status).toBe(400);
    expect((await send({ csr: "x", ttlSeconds: -5 })).status).toBe(400);
    expect((await send("{not json")).status).toBe(400);
    expect((await send("[]")).status).toBe(400);
    expect((await send("csr=x", { "content-type": "application/x-www-form-urlencoded" })).status).toBe(415);
    expect(joinTokens.pending()).toBe(1);
  });

  it("refuses SVID requests without a join token or with an unknown one", async () => {
    const { app } = await createTestControl();
    const body = JSON.stringify({ csr: await csr() });
    const none = await app.request("/v1/ca/svid", { method: "POST", headers: json, body });
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatch(/missing join token/);
    const bad = await app.request("/v1/ca/svid", { method: "POST", headers: { authorization: "Bearer wjt_nope", ...json }, body });
    expect(bad.status).toBe(401);
  });

  it("validates join-token requests", async () => {
    const { app, auth } = await createTestControl();
    const mint = (body: unknown) => app.request("/v1/ca/join-tokens", { method: "POST", headers: { ...auth, ...json }, body: JSON.stringify(body) });
    const other = await mint({ spiffeId: "spiffe://example.org/ns/a/sa/b" });
    expect(other.status).toBe(400);
    expect((await other.json()).error).toMatch(/not in this CA's trust domain cluster\.local/);
    const notSpiffe = await mint({ spiffeId: "https://cluster.local/x" });
    expect(await notSpiffe.json()).toMatchObject({ diagnostics: [{ path: "spiffeId" }] });
    expect((await mint({})).status).toBe(400);
    expect((await mint({ spiffeId: WEB, ttlSeconds: 1.5 })).status).toBe(400);
    expect((await mint({ spiffeId: WEB, ttlSeconds: 365 * 24 * 3600 })).status).toBe(400);
    const res = await mint({ spiffeId: WEB });
    expect((await res.json()).expiresAt - Date.now()).toBeGreaterThan(3_500_000);
  });
});
