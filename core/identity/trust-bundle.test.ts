import { beforeAll, describe, expect, it } from "vitest";
import * as x509 from "./x509.ts";
import { TrustBundleError, createTrustBundleSet, decodeCertificatePem, normalizeFingerprint } from "./trust-bundle.ts";
import { sha256, toHex } from "./sha256.ts";
import { SpiffeIdError } from "./spiffe.ts";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

/** A fresh self-signed CA; the key never leaves the test. */
async function makeCa(name: string, notBefore: string, notAfter: string, alg: object = EC, ca = true): Promise<string> {
  const keys = (await crypto.subtle.generateKey(alg as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: toHex(crypto.getRandomValues(new Uint8Array(8))).replace(/^[89a-f]/, "1"),
    name,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    keys,
    signingAlgorithm: alg as Algorithm,
    extensions: [new x509.BasicConstraintsExtension(ca, undefined, true)],
  });
  return cert.toString("pem");
}

async function digestHex(der: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", der)));
}

let oldRoot: string;
let newRoot: string;
let expiredRoot: string;
let rsaRoot: string;
let leaf: string;

beforeAll(async () => {
  oldRoot = await makeCa("O=cluster.local, CN=old root", "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z");
  newRoot = await makeCa("O=cluster.local, CN=new root", "2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z");
  expiredRoot = await makeCa("CN=expired", "2000-01-01T00:00:00Z", "2001-01-01T00:00:00Z");
  rsaRoot = await makeCa("CN=rsa root", "2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z", RSA);
  leaf = await makeCa("CN=not a ca", "2020-01-01T00:00:00Z", "2040-01-01T00:00:00Z", EC, false);
});

describe("sha256", () => {
  it("matches WebCrypto on edge-length inputs", async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(toHex(sha256(data))).toBe(await digestHex(data));
    }
    expect(toHex(sha256(new TextEncoder().encode("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("PEM input", () => {
  it("reads one or many certificates per string, ignoring text around them", async () => {
    expect(decodeCertificatePem(oldRoot)).toHaveLength(1);
    const both = `subject=old\n${oldRoot}\n# comment\n${newRoot}`;
    const set = createTrustBundleSet().add("cluster.local", both);
    const roots = set.rootsFor("cluster.local");
    expect(roots.map((r) => r.subject)).toEqual(["O=cluster.local, CN=old root", "O=cluster.local, CN=new root"]);
    expect(roots[0]?.fingerprint).toBe(await digestHex(decodeCertificatePem(oldRoot)[0] as Uint8Array<ArrayBuffer>));
    expect(roots[0]?.notBefore.toISOString()).toBe("2020-01-01T00:00:00.000Z");
    expect(roots[0]?.notAfter.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(roots[0]?.isCa).toBe(true);
    expect(roots[0]?.pem.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
  });

  it("rejects bad PEM with a message naming the block", () => {
    const set = createTrustBundleSet();
    expect(() => set.add("cluster.local", "")).toThrow(/no PEM certificate found/);
    expect(() => set.add("cluster.local", "hello")).toThrow(TrustBundleError);
    expect(() => set.add("cluster.local", oldRoot.replace("-----END CERTIFICATE-----", ""))).toThrow(/PEM block 1 has no matching "-----END"/);
    expect(() => set.add("cluster.local", `${oldRoot}-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n`)).toThrow(/PEM block 2 is not valid base64/);
    expect(() => set.add("cluster.local", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")).toThrow(/PEM block 1 is not a valid X.509 certificate/);
    expect(() => set.add("cluster.local", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")).toThrow(/"PRIVATE KEY", expected a "CERTIFICATE"; private keys never belong/);
    expect(() => set.add("cluster.local", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----")).toThrow(/begins as "CERTIFICATE" but ends as "X509 CRL"/);
    expect(() => set.add("Cluster.local", oldRoot)).toThrow(SpiffeIdError);
  });
});

describe("TrustBundleSet", () => {
  it("is immutable: adding returns a new set and leaves the old one unchanged", () => {
    const empty = createTrustBundleSet();
    const one = empty.add("cluster.local", oldRoot);
    const two = one.add("cluster.local", newRoot);
    expect(empty.trustDomains).toEqual([]);
    expect(one.rootsFor("cluster.local")).toHaveLength(1);
    expect(two.rootsFor("cluster.local")).toHaveLength(2);
    expect(Object.isFrozen(two)).toBe(true);
    expect(Object.isFrozen(two.rootsFor("cluster.local"))).toBe(true);
    expect(Object.isFrozen(two.rootsFor("cluster.local")[0])).toBe(true);
    expect(() => (two.rootsFor("cluster.local") as unknown as unknown[]).push(1)).toThrow(TypeError);
  });

  it("keeps several roots per trust domain and keeps trust domains apart", () => {
    const set = createTrustBundleSet().add("cluster.local", oldRoot).add("cluster.local", newRoot).add("1234.consul", rsaRoot);
    expect(set.trustDomains).toEqual(["1234.consul", "cluster.local"]);
    const inPem = decodeCertificatePem(set.pemFor("cluster.local")).map((der) => toHex(sha256(der)));
    expect(inPem).toEqual(set.rootsFor("cluster.local").map((r) => r.fingerprint));
    expect(inPem).toHaveLength(2);
    expect(set.pemFor("1234.consul")).toContain("BEGIN CERTIFICATE");
    expect(set.pemFor("unknown.td")).toBe("");
    expect(set.rootsFor("unknown.td")).toEqual([]);
    expect(set.list().map((b) => [b.trustDomain, b.roots.length])).toEqual([["1234.consul", 1], ["cluster.local", 2]]);
  });

  it("adds an already-trusted root once, returning the same set", () => {
    const one = createTrustBundleSet().add("cluster.local", oldRoot);
    expect(one.add("cluster.local", oldRoot)).toBe(one);
    expect(one.add("cluster.local", `${oldRoot}${oldRoot}`).rootsFor("cluster.local")).toHaveLength(1);
  });

  it("removes by fingerprint in any spelling", () => {
    const set = createTrustBundleSet().add("cluster.local", oldRoot + newRoot).add("other.td", oldRoot);
    const fp = set.rootsFor("cluster.local")[0]?.fingerprint as string;
    const colons = fp.toUpperCase().match(/../g)?.join(":") as string;
    const removed = set.remove(colons);
    expect(removed.rootsFor("cluster.local").map((r) => r.subject)).toEqual(["O=cluster.local, CN=new root"]);
    expect(removed.rootsFor("other.td")).toEqual([]);
    expect(removed.find(fp)).toBeUndefined();
    expect(set.find(fp)?.subject).toBe("O=cluster.local, CN=old root");
    expect(removed.remove(fp)).toBe(removed);
    expect(() => set.remove("abc")).toThrow(/not a SHA-256 fingerprint/);
    expect(normalizeFingerprint(colons)).toBe(fp);
  });

  it("drops expired roots using the injected clock or a given date", () => {
    const set = createTrustBundleSet({ now: () => new Date("2031-06-01T00:00:00Z") }).add("cluster.local", expiredRoot + oldRoot + newRoot);
    expect(set.dropExpired().rootsFor("cluster.local").map((r) => r.subject)).toEqual(["O=cluster.local, CN=new root"]);
    expect(set.dropExpired(new Date("2029-01-01T00:00:00Z")).rootsFor("cluster.local")).toHaveLength(2);
    expect(set.dropExpired(new Date("2030-01-01T00:00:00Z")).rootsFor("cluster.local")).toHaveLength(2);
    expect(set.dropExpired(new Date("2000-06-01T00:00:00Z"))).toBe(set);
  });

  it("records whether a root is a CA", () => {
    const set = createTrustBundleSet().add("cluster.local", leaf);
    expect(set.rootsFor("cluster.local")[0]?.isCa).toBe(false);
  });

  it("raises the sequence on every change and removes trust domains", () => {
    const a = createTrustBundleSet().add("cluster.local", oldRoot);
    const b = a.add("cluster.local", newRoot);
    expect(a.bundleFor("cluster.local")?.sequence).toBe(1);
    expect(b.bundleFor("cluster.local")?.sequence).toBe(2);
    expect(b.remove(b.rootsFor("cluster.local")[0]?.fingerprint as string).bundleFor("cluster.local")?.sequence).toBe(3);
    expect(b.withoutTrustDomain("cluster.local").trustDomains).toEqual([]);
    expect(b.withoutTrustDomain("nope")).toBe(b);
  });
});

describe("SPIFFE bundle format", () => {
  it("exports a JWK set with x509-svid entries, one certificate each", async () => {
    const set = createTrustBundleSet().add("example.org", oldRoot + rsaRoot).withRefreshHint("example.org", 300);
    const doc = await set.toSpiffeBundle("example.org");
    expect(doc.spiffe_sequence).toBe(1);
    expect(doc.spiffe_refresh_hint).toBe(300);
    expect(doc.keys).toHaveLength(2);
    const [ec, rsa] = doc.keys as Record<string, unknown>[];
    expect(ec).toMatchObject({ use: "x509-svid", kty: "EC", crv: "P-256" });
    expect(typeof ec?.x).toBe("string");
    expect(typeof ec?.y).toBe("string");
    expect(ec?.kid).toBeUndefined();
    expect(ec?.d).toBeUndefined();
    expect(rsa).toMatchObject({ use: "x509-svid", kty: "RSA", e: "AQAB" });
    expect(ec?.x5c).toHaveLength(1);
    const der = Uint8Array.from(atob((ec?.x5c as string[])[0] as string), (c) => c.charCodeAt(0));
    expect(await digestHex(der)).toBe(set.rootsFor("example.org")[0]?.fingerprint);
    await expect(set.toSpiffeBundle("nope.td")).rejects.toThrow(/no bundle for trust domain "nope.td"/);
  });

  it("round-trips through JSON text", async () => {
    const set = createTrustBundleSet().add("example.org", oldRoot + newRoot);
    const json = JSON.stringify(await set.toSpiffeBundle("example.org"));
    const imported = createTrustBundleSet().withSpiffeBundle("example.org", json);
    expect(imported.rootsFor("example.org").map((r) => r.fingerprint)).toEqual(set.rootsFor("example.org").map((r) => r.fingerprint));
    expect(imported.bundleFor("example.org")?.sequence).toBe(1);
  });

  it("imports per the spec: replaces the roots, ignores other uses and entries without x5c", async () => {
    const exported = await createTrustBundleSet().add("example.org", newRoot + expiredRoot).toSpiffeBundle("example.org");
    const entry = exported.keys[0] as Record<string, unknown>;
    const other = exported.keys[1] as Record<string, unknown>;
    const doc = {
      spiffe_sequence: 42,
      spiffe_refresh_hint: 2419200,
      keys: [
        { kty: "EC", use: "jwt-svid", kid: "k1", crv: "P-256", x: "a", y: "b" },
        { kty: "EC", use: "x509-svid" },
        { kty: "EC", use: "x509-svid", x5c: [] },
        { use: "x509-svid", x5c: other.x5c },
        { ...other, use: "X509-SVID" },
        { ...entry, x5c: [...(entry.x5c as string[]), "ignored-extra"] },
        entry,
      ],
      extra_member: true,
    };
    const before = createTrustBundleSet().add("example.org", oldRoot);
    const after = before.withSpiffeBundle("example.org", doc);
    expect(after.rootsFor("example.org").map((r) => r.subject)).toEqual(["O=cluster.local, CN=new root"]);
    expect(after.bundleFor("example.org")).toMatchObject({ sequence: 42, refreshHintSeconds: 2419200 });
    const empty = after.withSpiffeBundle("example.org", { keys: [] });
    expect(empty.trustDomains).toEqual(["example.org"]);
    expect(empty.rootsFor("example.org")).toEqual([]);
    expect(empty.bundleFor("example.org")?.sequence).toBe(43);
  });

  it("rejects malformed documents naming the field", () => {
    const set = createTrustBundleSet();
    expect(() => set.withSpiffeBundle("example.org", "{not json")).toThrow(/not valid JSON/);
    expect(() => set.withSpiffeBundle("example.org", {})).toThrow(/^keys: invalid SPIFFE bundle/);
    expect(() => set.withSpiffeBundle("example.org", { keys: [], spiffe_sequence: -1 })).toThrow(/spiffe_sequence/);
    expect(() => set.withSpiffeBundle("example.org", { keys: [1] })).toThrow(/keys\[0\]: a JWK must be an object/);
    expect(() => set.withSpiffeBundle("example.org", { keys: [{ kty: "EC", use: "x509-svid", x5c: ["%%%"] }] })).toThrow(/keys\[0\]\.x5c\[0\]: the certificate is not valid base64/);
    expect(() => set.withSpiffeBundle("example.org", { keys: [{ kty: "EC", use: "x509-svid", x5c: ["AAAA"] }] })).toThrow(/keys\[0\]\.x5c\[0\]: the certificate is not a valid X.509/);
    expect(() => set.withSpiffeBundle("example.org", { keys: [{ kty: "EC", use: "x509-svid", x5c: [7] }] })).toThrow(TrustBundleError);
    expect(() => set.withRefreshHint("example.org", 1.5)).toThrow(/whole number of seconds/);
  });
});
