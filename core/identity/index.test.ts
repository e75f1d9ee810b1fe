import { describe, expect, it } from "vitest";
import * as x509 from "./x509.ts";
import { classifyIdentity, createIdentityMapper, createTrustBundleSet, toAuthzPrincipal } from "./index.ts";

describe("core/identity module example", () => {
  it("works as documented", async () => {
    const c = classifyIdentity("spiffe://1234.consul/ap/bizdev/ns/default/dc/dc1/svc/web");
    expect(c).toMatchObject({ kind: "consul", consul: { trustDomain: "1234.consul", partition: "bizdev", namespace: "default", datacenter: "dc1", service: "web" } });
    expect(toAuthzPrincipal("spiffe://cluster.local/ns/default/sa/web")).toBe("cluster.local/ns/default/sa/web");

    const ids = createIdentityMapper({
      trustDomainAliases: ["old.example.com"],
      mappings: [{ identities: [{ consul: { service: "web", datacenter: "dc1" } }, "spiffe://cluster.local/ns/default/sa/web"] }],
    });
    expect(ids.canonical("spiffe://1234.consul/ns/default/dc/dc1/svc/web")).toBe("spiffe://cluster.local/ns/default/sa/web");
    expect(ids.expand("spiffe://old.example.com/ns/a/sa/b")).toEqual(["spiffe://old.example.com/ns/a/sa/b", "spiffe://cluster.local/ns/a/sa/b"]);

    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const pems: string[] = [];
    for (const name of ["CN=root 1", "CN=root 2"]) {
      const keys = (await crypto.subtle.generateKey(alg, false, ["sign", "verify"])) as CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: "01",
        name,
        notBefore: new Date("2024-01-01T00:00:00Z"),
        notAfter: new Date("2034-01-01T00:00:00Z"),
        keys,
        signingAlgorithm: alg,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
      });
      pems.push(cert.toString("pem"));
    }
    const bundles = createTrustBundleSet().add("cluster.local", pems[0] as string).add("cluster.local", pems[1] as string);
    expect(bundles.rootsFor("cluster.local").map((r) => r.subject)).toEqual(["CN=root 1", "CN=root 2"]);
    expect(bundles.pemFor("cluster.local").match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });
});
