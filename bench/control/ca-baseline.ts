/**
 * @module bench/control/ca-baseline
 * The SVID issue path as control/ca/authority.ts had it before leaf certificates came from a DER
 * template (until 2026-11-22): the CSR parsed and verified by @peculiar/x509, its key exported, and the
 * leaf built and encoded by `X509CertificateGenerator`. Kept only so `npm run bench:control` measures
 * before and after in the same run on the same core; the CA does not use it.
 */
import * as x509 from "../../core/identity/x509.ts";
import type { CaState, IssueRequest } from "../../control/ca/authority.ts";
import { privateKeyFromPem, SIGN_ALG } from "../../control/ca/keys.ts";

x509.cryptoProvider.set(crypto);

export async function createLibraryIssuer(state: CaState): Promise<(req: IssueRequest) => Promise<string>> {
  const intermediate = new x509.X509Certificate(state.intermediate.certPem);
  const signingKey = await privateKeyFromPem(state.intermediate.keyPem);
  return async (req) => {
    let publicKey = req.publicKey;
    if (req.csrPem) {
      const csr = new x509.Pkcs10CertificateRequest(req.csrPem);
      if (!(await csr.verify())) throw new Error("CSR signature does not verify");
      publicKey = await csr.publicKey.export();
    }
    const now = Date.now();
    const serial = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b, i) => (i === 0 ? b & 0x7f : b).toString(16).padStart(2, "0")).join("");
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial, subject: "", issuer: intermediate.subject,
      notBefore: new Date(now - 60_000), notAfter: new Date(now + 24 * 3600_000),
      signingAlgorithm: SIGN_ALG, publicKey: publicKey!, signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: req.spiffeId }], true),
        await x509.AuthorityKeyIdentifierExtension.create(intermediate),
      ],
    });
    return cert.toString("pem") + "\n";
  };
}
