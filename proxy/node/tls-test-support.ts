/**
 * @module proxy/node/tls-test-support
 * Real SPIFFE certificates for the proxy's mTLS tests: a weft CA (control/ca) issues SVIDs, written to
 * a temporary directory as the files a proxy config's `secrets` name, plus TLS client and server
 * options for the same identities.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority, type CertificateAuthority } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyFromPem, privateKeyToPem } from "../../control/ca/keys.ts";
import * as x509 from "../../core/identity/x509.ts";

export interface Svid {
  id: string;
  /** Leaf + intermediate. */
  cert: string;
  key: string;
  serial: string;
}

export interface TestPki {
  ca: CertificateAuthority;
  dir: string;
  bundle: string;
  issue(id: string): Promise<Svid>;
  /** A certificate from the same intermediate with a subject DN (as enterprise PKIs issue) and a SPIFFE URI SAN. */
  issueWithSubject(subject: string, id: string): Promise<Svid>;
  /** Writes an SVID's files under `name` (`name.crt`, `name.key`) and the bundle (`bundle.pem`); returns the YAML of a secret. */
  writeSecret(name: string, svid: Svid): string;
}

export async function createTestPki(trustDomain = "cluster.local"): Promise<TestPki> {
  const ca = await createCertificateAuthority({ trustDomain });
  const dir = mkdtempSync(join(tmpdir(), "weft-tls-"));
  const bundle = ca.trustBundle().join("");
  writeFileSync(join(dir, "bundle.pem"), bundle);
  const pki: TestPki = {
    ca,
    dir,
    bundle,
    async issue(id) {
      const keys = await generateKeyPair();
      const s = await ca.issue({ spiffeId: id, publicKey: keys.publicKey });
      return { id, cert: s.chainPem.slice(0, 2).join(""), key: await privateKeyToPem(keys.privateKey), serial: s.serial };
    },
    async issueWithSubject(subject, id) {
      const state = await ca.exportState();
      const issuer = new x509.X509Certificate(state.intermediate.certPem);
      const keys = await generateKeyPair();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: "01" + Date.now().toString(16),
        subject,
        issuer: issuer.subject,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3600_000),
        signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
        publicKey: keys.publicKey,
        signingKey: await privateKeyFromPem(state.intermediate.keyPem),
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]),
          new x509.SubjectAlternativeNameExtension([{ type: "url", value: id }]),
        ],
      });
      return { id, cert: cert.toString("pem") + "\n" + state.intermediate.certPem, key: await privateKeyToPem(keys.privateKey), serial: cert.serialNumber };
    },
    writeSecret(name, svid) {
      writeFileSync(join(dir, `${name}.crt`), svid.cert);
      writeFileSync(join(dir, `${name}.key`), svid.key);
      return `- name: ${name}
  tlsCertificate: { certificateChainFile: ${join(dir, `${name}.crt`)}, privateKeyFile: ${join(dir, `${name}.key`)} }
  validationContext: { trustedCaFile: ${join(dir, "bundle.pem")} }`;
    },
  };
  return pki;
}

/** Client options presenting `svid` and trusting `bundle`; the server is not checked by host name. */
export function clientTls(svid: Svid, bundle: string): { cert: string; key: string; ca: string; checkServerIdentity: () => undefined } {
  return { cert: svid.cert, key: svid.key, ca: bundle, checkServerIdentity: () => undefined };
}
