import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as x509 from "../../core/identity/x509.ts";
import { createCertificateAuthority, leafTemplateFor } from "./authority.ts";
import { parseCsr, verifyCsr } from "./csr.ts";
import { children, pem, readTlv } from "./der.ts";
import { generateKeyPair, SIGN_ALG } from "./keys.ts";

x509.cryptoProvider.set(crypto);

const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** The leaf exactly as authority.ts built it with @peculiar/x509 before the template existed. */
async function libraryLeaf(issuer: x509.X509Certificate, signingKey: CryptoKey, serialHex: string, notBefore: number, notAfter: number, publicKey: CryptoKey, uris: string[], dns: string[]) {
  return x509.X509CertificateGenerator.create({
    serialNumber: serialHex, subject: "", issuer: issuer.subject,
    notBefore: new Date(notBefore), notAfter: new Date(notAfter),
    signingAlgorithm: SIGN_ALG, publicKey, signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([OID_SERVER_AUTH, OID_CLIENT_AUTH]),
      new x509.SubjectAlternativeNameExtension([...uris.map((value) => ({ type: "url" as const, value })), ...dns.map((value) => ({ type: "dns" as const, value }))], true),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
    ],
  });
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("leaf template", () => {
  it("builds the same TBSCertificate bytes as @peculiar/x509 for the same inputs", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const state = await ca.exportState();
    const issuer = new x509.X509Certificate(state.intermediate.certPem);
    const { privateKeyFromPem } = await import("./keys.ts");
    const signingKey = await privateKeyFromPem(state.intermediate.keyPem);
    const template = await leafTemplateFor(issuer, signingKey);
    const keys = await Promise.all([generateKeyPair(), generateKeyPair()]);
    const spkis = await Promise.all(keys.map(async (k) => new Uint8Array(await crypto.subtle.exportKey("spki", k.publicKey))));
    await fc.assert(fc.asyncProperty(
      // (an all-zero serial makes @peculiar/x509 pick a random one)
      fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => b.some((x) => x !== 0)).map((b) => { b[0]! &= 0x7f; return b; }),
      fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2080, 0, 1) }),
      fc.integer({ min: 1000, max: 400 * 24 * 3600_000 }),
      fc.constantFrom(0, 1),
      fc.stringMatching(/^[a-z0-9-]{1,40}$/),
      fc.array(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), { maxLength: 2 }),
      async (serial, notBefore, life, k, sa, dns) => {
        const uris = [`spiffe://cluster.local/ns/default/sa/${sa}`];
        const lib = await libraryLeaf(issuer, signingKey, hex(serial), notBefore, notBefore + life, keys[k]!.publicKey, uris, dns);
        const ours = template.tbs({ serial, notBefore, notAfter: notBefore + life, spki: spkis[k]!, uris, dnsNames: dns });
        const der = new Uint8Array(lib.rawData);
        const tbs = children(der, readTlv(der, 0))[0]!;
        const libTbs = der.subarray(tbs.start, tbs.end);
        expect(hex(ours)).toBe(hex(libTbs));
      }), { numRuns: 60 });
  });

  it("signed leaves parse identically with every extension and verify against the issuer", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const keys = await generateKeyPair();
    const svid = await ca.issue({ spiffeId: "spiffe://cluster.local/ns/a/sa/b", publicKey: keys.publicKey, dnsNames: ["b.a.svc"] });
    const cert = new x509.X509Certificate(svid.certPem);
    const issuer = new x509.X509Certificate(svid.chainPem[1]!);
    expect(await cert.verify({ publicKey: issuer, signatureOnly: true })).toBe(true);
    expect(cert.toString("pem") + "\n").toBe(svid.certPem);
    expect(cert.issuer).toBe(issuer.subject);
    expect(cert.extensions.map((e) => [e.type, e.critical])).toEqual([
      ["2.5.29.19", true], ["2.5.29.15", true], ["2.5.29.37", false], ["2.5.29.17", true], ["2.5.29.35", false],
    ]);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)!;
    expect(aki.keyId).toBe(issuer.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    expect(cert.serialNumber.replace(/^0+/, "")).toBe(svid.serial.replace(/^0+/, ""));
  });

  it("pem() writes the same text as @peculiar/x509", async () => {
    await fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (der) => {
      expect(pem(der, "CERTIFICATE")).toBe(x509.PemConverter.encode(der, "CERTIFICATE") + "\n");
    }));
  });
});

describe("CSR reader", () => {
  it("reads key, SANs and verifies the signature of @peculiar/x509 CSRs; a tampered one fails", async () => {
    const keys = await generateKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: "CN=w", keys, signingAlgorithm: SIGN_ALG,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://td/ns/a/sa/b" }, { type: "dns", value: "x.y" }, { type: "ip", value: "10.0.0.1" }])],
    });
    const parsed = parseCsr(csr.toString("pem"));
    expect(parsed.key).toMatchObject({ kind: "ec", curve: "P-256" });
    expect(parsed.names).toEqual([{ type: "url", value: "spiffe://td/ns/a/sa/b" }, { type: "dns", value: "x.y" }, { type: "ip", value: "10.0.0.1" }]);
    expect(hex(parsed.spki)).toBe(hex(new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey))));
    expect(await verifyCsr(parsed)).toBe(true);
    const bad = { ...parsed, signed: parsed.signed.slice() };
    bad.signed[bad.signed.length - 1]! ^= 1;
    expect(await verifyCsr(bad)).toBe(false);
  });

  it("reads and verifies RSA CSRs (pilot-agent's default key) and reports their size", async () => {
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=w", keys, signingAlgorithm: alg });
    const parsed = parseCsr(csr.toString("pem"));
    expect(parsed.key).toEqual({ kind: "rsa", bits: 2048 });
    expect(await verifyCsr(parsed)).toBe(true);
  });

  it("refuses what is not a CSR", () => {
    expect(() => parseCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")).toThrow(/DER|structure/);
    expect(() => parseCsr("hello")).toThrow(/no CERTIFICATE REQUEST/);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      try {
        parseCsr(junk);
      } catch (err) {
        expect((err as Error).name === "Error" || (err as Error).constructor.name === "CsrError").toBe(true);
      }
    }));
  });
});
