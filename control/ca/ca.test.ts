import * as x509 from "../../core/identity/x509.ts";
import { describe, expect, it } from "vitest";
import { CaError, createCertificateAuthority, renewalTime } from "./authority.ts";
import { createJoinTokenStore } from "./join-tokens.ts";
import { generateKeyPair } from "./keys.ts";

const ID = "spiffe://cluster.local/ns/default/sa/web";

async function verifyChain(chainPem: string[], bundle: string[]): Promise<boolean> {
  const certs = chainPem.map((p) => new x509.X509Certificate(p));
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!(await certs[i]!.verify({ publicKey: certs[i + 1]!, signatureOnly: true }))) return false;
  }
  const top = certs[certs.length - 1]!;
  return bundle.some((b) => new x509.X509Certificate(b).equal(top));
}

describe("certificate authority", () => {
  it("issues Istio-shaped SVIDs: P-256, URI SAN only (critical), empty subject, server+client auth, 24 h", async () => {
    let now = Date.UTC(2026, 10, 22);
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local", clock: { now: () => now } });
    const keys = await generateKeyPair();
    const svid = await ca.issue({ spiffeId: ID, publicKey: keys.publicKey });
    const cert = new x509.X509Certificate(svid.certPem);
    expect(cert.subject).toBe("");
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.items.map((n) => [n.type, n.value])).toEqual([["url", ID]]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.usages & x509.KeyUsageFlags.digitalSignature).toBeTruthy();
    expect(ku.usages & x509.KeyUsageFlags.keyCertSign).toBeFalsy();
    expect(cert.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(false);
    expect((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe("P-256");
    expect(svid.notAfter - now).toBe(24 * 3600_000);
    expect(svid.chainPem).toHaveLength(3);
    expect(await verifyChain(svid.chainPem, ca.trustBundle())).toBe(true);
    now += 1;
  });

  it("takes the key from a verified CSR and ignores the CSR's own SANs", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const keys = await generateKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: "CN=evil", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://cluster.local/ns/kube-system/sa/admin" }])],
    });
    const svid = await ca.issue({ spiffeId: ID, csrPem: csr.toString("pem") });
    const cert = new x509.X509Certificate(svid.certPem);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual([ID]);
    expect(cert.subject).toBe("");
  });

  it("adds DNS names beside the SPIFFE ID only when asked (serving certificates for edge runtimes)", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const keys = await generateKeyPair();
    const plain = new x509.X509Certificate((await ca.issue({ spiffeId: ID, publicKey: keys.publicKey })).certPem);
    expect(plain.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.type)).toEqual(["url"]);
    const serving = new x509.X509Certificate((await ca.issue({ spiffeId: ID, publicKey: keys.publicKey, dnsNames: ["web.mesh.internal"] })).certPem);
    expect(serving.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => [n.type, n.value])).toEqual([["url", ID], ["dns", "web.mesh.internal"]]);
  });

  it("refuses other trust domains, garbage CSRs and non-SPIFFE IDs", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const keys = await generateKeyPair();
    await expect(ca.issue({ spiffeId: "spiffe://other.td/ns/a/sa/b", publicKey: keys.publicKey })).rejects.toThrow(CaError);
    await expect(ca.issue({ spiffeId: "https://cluster.local/x", publicKey: keys.publicKey })).rejects.toThrow(/not in trust domain/);
    await expect(ca.issue({ spiffeId: ID, csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n" })).rejects.toThrow(/malformed CSR/);
    await expect(ca.issue({ spiffeId: ID })).rejects.toThrow(/public key or a CSR/);
  });

  it("rotates the root with an overlap window, then retires the old root", async () => {
    let now = Date.UTC(2026, 10, 22);
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local", clock: { now: () => now } });
    const keys = await generateKeyPair();
    const before = await ca.issue({ spiffeId: ID, publicKey: keys.publicKey });
    await ca.rotateRoot(3600_000);
    const after = await ca.issue({ spiffeId: ID, publicKey: keys.publicKey });
    expect(ca.trustBundle()).toHaveLength(2);
    expect(await verifyChain(before.chainPem, ca.trustBundle())).toBe(true);
    expect(await verifyChain(after.chainPem, ca.trustBundle())).toBe(true);
    expect(after.chainPem[2]).not.toBe(before.chainPem[2]);
    now += 3600_001;
    expect(ca.trustBundle()).toHaveLength(1);
    expect(await verifyChain(before.chainPem, ca.trustBundle())).toBe(false);
  });

  it("restores from exported state and keeps issuing under the same root", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const state = await ca.exportState();
    const again = await createCertificateAuthority({ trustDomain: "cluster.local" }, JSON.parse(JSON.stringify(state)));
    const keys = await generateKeyPair();
    const svid = await again.issue({ spiffeId: ID, publicKey: keys.publicKey });
    expect(await verifyChain(svid.chainPem, ca.trustBundle())).toBe(true);
    await expect(createCertificateAuthority({ trustDomain: "other" }, state)).rejects.toThrow(/trust domain/);
  });

  it("accepts a supplied root and rejects a non-CA one", async () => {
    const root = await createCertificateAuthority({ trustDomain: "example.org" });
    const st = await root.exportState();
    const supplied = await createCertificateAuthority({ trustDomain: "example.org", root: { certPem: st.roots[0]!.certPem, keyPem: st.roots[0]!.keyPem! } });
    expect(supplied.trustBundle()).toEqual([st.roots[0]!.certPem]);
    const keys = await generateKeyPair();
    const leaf = await supplied.issue({ spiffeId: "spiffe://example.org/ns/a/sa/b", publicKey: keys.publicKey });
    await expect(createCertificateAuthority({ trustDomain: "example.org", root: { certPem: leaf.certPem, keyPem: st.intermediate.keyPem } })).rejects.toThrow(/not a CA/);
  });

  it("renews at half-life within the jitter band", () => {
    const t0 = 0;
    const t1 = 24 * 3600_000;
    expect(renewalTime(t0, t1, () => 0.5)).toBe(12 * 3600_000);
    expect(renewalTime(t0, t1, () => 0)).toBe(12 * 3600_000 - 0.01 * t1);
    expect(renewalTime(t0, t1, () => 1)).toBe(12 * 3600_000 + 0.01 * t1);
  });
});

describe("join tokens", () => {
  it("are single-use, bound to one identity and expire", async () => {
    let now = 1000;
    const store = createJoinTokenStore({ now: () => now });
    const t = await store.mint(ID, 60_000);
    expect(t.token).toMatch(/^wjt_[A-Za-z0-9_-]{43}$/);
    expect(await store.attest(t.token)).toBe(ID);
    await expect(store.attest(t.token)).rejects.toThrow(/already used/);
    const t2 = await store.mint(ID, 60_000);
    now += 60_001;
    await expect(store.attest(t2.token)).rejects.toThrow(/expired/);
    await expect(store.mint(ID, 0)).rejects.toThrow(RangeError);
    expect(store.pending()).toBe(0);
  });

  it("stay unspent when the precheck refuses the identity they grant", async () => {
    const store = createJoinTokenStore();
    const t = await store.mint(ID, 60_000);
    await expect(store.attest(t.token, () => { throw new Error("node id taken"); })).rejects.toThrow("node id taken");
    expect(store.pending()).toBe(1);
    const seen: string[] = [];
    expect(await store.attest(t.token, (id) => void seen.push(id))).toBe(ID);
    expect(seen).toEqual([ID]);
    await expect(store.attest(t.token)).rejects.toThrow(/already used/);
  });
});
