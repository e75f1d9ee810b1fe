/**
 * @module edge/tls/serving-cert
 * A serving certificate for mesh workloads that edge runtimes call over mTLS. workerd and Deno verify
 * a server by host name (a DNS or IP SAN), never by SPIFFE URI SAN, and reject weft's URI-only SVIDs
 * ("certificate is only valid for UniformResourceIdentifier(...)"). This issues, from the CA's current
 * intermediate, a certificate carrying both the workload's SPIFFE ID (so weft peers still see the
 * identity) and the DNS names the edge connects with. WebCrypto and @peculiar/x509 only.
 */
import * as x509 from "../../core/identity/x509.ts";
import type { CaState } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyFromPem, privateKeyToPem, SIGN_ALG } from "../../control/ca/keys.ts";

x509.cryptoProvider.set(crypto);

export interface ServingCert {
  certPem: string;
  /** Leaf, intermediate (what a TLS server sends). */
  chainPem: string;
  keyPem: string;
}

/**
 * @example
 * const cert = await issueServingCert(await ca.exportState(), "spiffe://cluster.local/ns/shop/sa/orders", ["orders.mesh.internal"]);
 */
export async function issueServingCert(state: CaState, spiffeId: string, dnsNames: string[], ttlMs = 24 * 3600_000): Promise<ServingCert> {
  const intermediate = new x509.X509Certificate(state.intermediate.certPem);
  const signingKey = await privateKeyFromPem(state.intermediate.keyPem);
  const keys = await generateKeyPair();
  const now = Date.now();
  const serial = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b, i) => (i === 0 ? b & 0x7f : b).toString(16).padStart(2, "0")).join("");
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: "",
    issuer: intermediate.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(Math.min(now + ttlMs, intermediate.notAfter.getTime())),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }, ...dnsNames.map((d) => ({ type: "dns" as const, value: d }))], true),
      await x509.AuthorityKeyIdentifierExtension.create(intermediate),
    ],
  });
  const certPem = cert.toString("pem") + "\n";
  return { certPem, chainPem: certPem + state.intermediate.certPem, keyPem: await privateKeyToPem(keys.privateKey) };
}
