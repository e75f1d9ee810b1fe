import { Code, ConnectError } from "@connectrpc/connect";
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT, type JWTPayload } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import * as x509 from "../../core/identity/x509.ts";
import { createCertificateAuthority, type CertificateAuthority } from "../ca/authority.ts";
import { pemToDer } from "../ca/der.ts";
import { generateKeyPair, SIGN_ALG } from "../ca/keys.ts";
import type { CallCredentials } from "./caller.ts";
import { createKubernetesJwtAuthenticator } from "./kube-jwt.ts";
import { createPeerCertificateAuthenticator } from "./peer-certificate.ts";
import { createCertificate, type IstioCaOptions } from "./service.ts";

x509.cryptoProvider.set(crypto);

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const WEB = "spiffe://cluster.local/ns/shop/sa/web";
const NOW = Date.UTC(2026, 10, 22, 6);

let ca: CertificateAuthority;
let opts: IstioCaOptions;
let signKey: CryptoKey;
let otherKey: CryptoKey;

async function token(claims: JWTPayload, o: { key?: CryptoKey; expiresIn?: number } = {}): Promise<string> {
  const now = Math.floor(NOW / 1000);
  return new SignJWT({ iss: ISSUER, aud: ["istio-ca"], sub: "system:serviceaccount:shop:web", iat: now, exp: now + (o.expiresIn ?? 600), ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(o.key ?? signKey);
}

async function csr(sans: { type: "url" | "dns"; value: string }[] = [{ type: "url", value: WEB }], keys?: CryptoKeyPair, alg: Algorithm | EcdsaParams | RsaHashedImportParams = SIGN_ALG): Promise<string> {
  const k = keys ?? (await generateKeyPair());
  const c = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: k, signingAlgorithm: alg,
    ...(sans.length ? { extensions: [new x509.SubjectAlternativeNameExtension(sans)] } : {}),
  });
  return c.toString("pem");
}

const bearer = async (claims: JWTPayload = {}, o?: { key?: CryptoKey; expiresIn?: number }): Promise<CallCredentials> => ({ authorization: `Bearer ${await token(claims, o)}`, peerCertificates: [] });

async function refused(p: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectError);
  expect(ConnectError.from(err).code).toBe(code);
  expect(ConnectError.from(err).rawMessage).toMatch(message);
}

function sanOf(pem: string): string[] {
  return new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value);
}

beforeAll(async () => {
  ca = await createCertificateAuthority({ trustDomain: "cluster.local", clock: { now: () => NOW } });
  const k = await joseKeyPair("ES256", { extractable: true });
  signKey = k.privateKey as CryptoKey;
  otherKey = (await joseKeyPair("ES256")).privateKey as CryptoKey;
  const jwks = { keys: [{ ...(await exportJWK(k.publicKey)), kid: "k1", alg: "ES256" }] };
  opts = {
    ca,
    maxTtlMs: 48 * 3600_000,
    impersonators: ["spiffe://cluster.local/ns/istio-system/sa/ztunnel"],
    authenticators: [
      createPeerCertificateAuthenticator({ trustDomain: "cluster.local", trustBundle: () => ca.trustBundle(), now: () => NOW }),
      createKubernetesJwtAuthenticator({ trustDomain: "cluster.local", issuer: ISSUER, jwks, now: () => NOW }),
    ],
  };
});

describe("IstioCertificateService/CreateCertificate", () => {
  it("issues the token's identity: leaf, intermediate, root; the chain verifies to the trust bundle", async () => {
    const chain = await createCertificate(opts, { csr: await csr(), validityDuration: 0n }, await bearer());
    expect(chain).toHaveLength(3);
    expect(chain.every((p) => p.endsWith("-----END CERTIFICATE-----\n"))).toBe(true);
    expect(chain[2]).toBe(ca.trustBundle()[0]);
    const [leaf, mid, root] = chain.map((p) => new x509.X509Certificate(p));
    expect(await leaf!.verify({ publicKey: mid!, signatureOnly: true })).toBe(true);
    expect(await mid!.verify({ publicKey: root!, signatureOnly: true })).toBe(true);
    expect(sanOf(chain[0]!)).toEqual([WEB]);
    expect(leaf!.notAfter.getTime() - NOW).toBe(24 * 3600_000 - ((NOW / 1000) % 1) * 1000);
  });

  it("accepts a CSR without SANs (the identity comes from the caller) and Istio's default RSA 2048 key", async () => {
    const rsa = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await crypto.subtle.generateKey(rsa, true, ["sign", "verify"])) as CryptoKeyPair;
    const chain = await createCertificate(opts, { csr: await csr([], keys, rsa), validityDuration: 3600n }, await bearer());
    const leaf = new x509.X509Certificate(chain[0]!);
    expect(sanOf(chain[0]!)).toEqual([WEB]);
    expect(leaf.publicKey.algorithm.name).toBe("RSASSA-PKCS1-v1_5");
    expect(leaf.notAfter.getTime() - leaf.notBefore.getTime()).toBe(3600_000 + 60_000);
  });

  it("refuses a CSR that asks for another identity or for DNS names (PERMISSION_DENIED, says why)", async () => {
    await refused(createCertificate(opts, { csr: await csr([{ type: "url", value: "spiffe://cluster.local/ns/kube-system/sa/admin" }]), validityDuration: 0n }, await bearer()),
      Code.PermissionDenied, /asks for URI spiffe:\/\/cluster.local\/ns\/kube-system\/sa\/admin, but the caller is spiffe:\/\/cluster.local\/ns\/shop\/sa\/web/);
    await refused(createCertificate(opts, { csr: await csr([{ type: "url", value: WEB }, { type: "dns", value: "web.shop.svc" }]), validityDuration: 0n }, await bearer()),
      Code.PermissionDenied, /asks for dns web.shop.svc/);
  });

  it("refuses callers without a valid service-account token (UNAUTHENTICATED)", async () => {
    const body = { csr: await csr(), validityDuration: 0n };
    await refused(createCertificate(opts, body, { peerCertificates: [] }), Code.Unauthenticated, /no credential/);
    await refused(createCertificate(opts, body, { authorization: "Basic abc", peerCertificates: [] }), Code.Unauthenticated, /not `Bearer <token>`/);
    await refused(createCertificate(opts, body, await bearer({ aud: ["api"] })), Code.Unauthenticated, /"aud"/);
    await refused(createCertificate(opts, body, await bearer({ iss: "https://evil" })), Code.Unauthenticated, /"iss"/);
    await refused(createCertificate(opts, body, await bearer({}, { expiresIn: -120 })), Code.Unauthenticated, /expired/);
    await refused(createCertificate(opts, body, await bearer({}, { key: otherKey })), Code.Unauthenticated, /signature/);
    await refused(createCertificate(opts, body, await bearer({ sub: "alice" })), Code.Unauthenticated, /not system:serviceaccount/);
    await refused(createCertificate(opts, body, await bearer({ "kubernetes.io": { namespace: "other", serviceaccount: { name: "web" } } })), Code.Unauthenticated, /disagrees/);
  });

  it("honours ImpersonatedIdentity only for listed callers", async () => {
    const target = "spiffe://cluster.local/ns/shop/sa/cart";
    await refused(createCertificate(opts, { csr: await csr([{ type: "url", value: target }]), validityDuration: 0n, metadata: { ImpersonatedIdentity: target } }, await bearer()),
      Code.PermissionDenied, /may not request a certificate for spiffe:\/\/cluster.local\/ns\/shop\/sa\/cart/);
    const ztunnel = await bearer({ sub: "system:serviceaccount:istio-system:ztunnel" });
    const chain = await createCertificate(opts, { csr: await csr([{ type: "url", value: target }]), validityDuration: 0n, metadata: { ImpersonatedIdentity: target } }, ztunnel);
    expect(sanOf(chain[0]!)).toEqual([target]);
  });

  it("caps the validity at the CA's maximum and refuses a negative one", async () => {
    const chain = await createCertificate(opts, { csr: await csr(), validityDuration: 365n * 24n * 3600n }, await bearer());
    const leaf = new x509.X509Certificate(chain[0]!);
    expect(leaf.notAfter.getTime()).toBe(NOW + 48 * 3600_000);
    await refused(createCertificate(opts, { csr: await csr(), validityDuration: -5n }, await bearer()), Code.InvalidArgument, /validity_duration/);
  });

  it("refuses malformed CSRs, bad signatures and weak keys (INVALID_ARGUMENT)", async () => {
    await refused(createCertificate(opts, { csr: "not a csr", validityDuration: 0n }, await bearer()), Code.InvalidArgument, /malformed CSR/);
    const good = await csr();
    const der = pemToDer(good, "CERTIFICATE REQUEST");
    der[der.length - 3]! ^= 0xff;
    const tampered = x509.PemConverter.encode(der, "CERTIFICATE REQUEST");
    await refused(createCertificate(opts, { csr: tampered, validityDuration: 0n }, await bearer()), Code.InvalidArgument, /signature does not verify|malformed/);
    const rsa1024 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 1024 };
    const weak = (await crypto.subtle.generateKey(rsa1024, true, ["sign", "verify"])) as CryptoKeyPair;
    await refused(createCertificate(opts, { csr: await csr([], weak, rsa1024), validityDuration: 0n }, await bearer()), Code.InvalidArgument, /RSA 1024/);
  });

  it("renews with an SVID as the TLS client certificate; a foreign or expired one is refused", async () => {
    const keys = await generateKeyPair();
    const svid = await ca.issue({ spiffeId: WEB, publicKey: keys.publicKey });
    const peer = { peerCertificates: svid.chainPem.slice(0, 2).map((p) => pemToDer(p, "CERTIFICATE")) };
    const chain = await createCertificate(opts, { csr: await csr(), validityDuration: 0n }, peer);
    expect(sanOf(chain[0]!)).toEqual([WEB]);
    await refused(createCertificate(opts, { csr: await csr([{ type: "url", value: "spiffe://cluster.local/ns/shop/sa/cart" }]), validityDuration: 0n }, peer), Code.PermissionDenied, /caller is spiffe:\/\/cluster.local\/ns\/shop\/sa\/web/);
    const rogue = await createCertificateAuthority({ trustDomain: "cluster.local", clock: { now: () => NOW } });
    const forged = await rogue.issue({ spiffeId: WEB, publicKey: keys.publicKey });
    await refused(createCertificate(opts, { csr: await csr(), validityDuration: 0n }, { peerCertificates: forged.chainPem.slice(0, 2).map((p) => pemToDer(p, "CERTIFICATE")) }),
      Code.Unauthenticated, /does not chain to this CA's trust bundle/);
    const old = await ca.issue({ spiffeId: WEB, publicKey: keys.publicKey, ttlMs: 1000 });
    const later = { ...opts, authenticators: [createPeerCertificateAuthenticator({ trustDomain: "cluster.local", trustBundle: () => ca.trustBundle(), now: () => NOW + 3600_000 })] };
    await refused(createCertificate(later, { csr: await csr(), validityDuration: 0n }, { peerCertificates: old.chainPem.slice(0, 2).map((p) => pemToDer(p, "CERTIFICATE")) }),
      Code.Unauthenticated, /outside its validity/);
  });
});
