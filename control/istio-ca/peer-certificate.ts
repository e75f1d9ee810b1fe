/**
 * @module control/istio-ca/peer-certificate
 * Authenticates a caller by the SVID it presented as its TLS client certificate — how Istio agents
 * renew: the chain must lead to a root of the CA's current trust bundle (so a root rotation takes
 * effect at once), every certificate must be within its validity, the leaf must not be a CA, and its
 * one URI SAN must be a SPIFFE ID in this trust domain.
 */
import * as x509 from "../../core/identity/x509.ts";
import { AuthenticationError, type CallerAuthenticator } from "./caller.ts";

export interface PeerCertificateOptions {
  trustDomain: string;
  /** PEMs of the roots to accept (the CA's `trustBundle`). */
  trustBundle: () => string[];
  now?: () => number;
}

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (cert.issuer !== issuer.subject) return false;
  try {
    return await cert.verify({ publicKey: issuer, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * @example
 * const auth = createPeerCertificateAuthenticator({ trustDomain: ca.trustDomain, trustBundle: () => ca.trustBundle() });
 */
export function createPeerCertificateAuthenticator(options: PeerCertificateOptions): CallerAuthenticator {
  const now = options.now ?? (() => Date.now());
  return {
    name: "certificate",
    async authenticate(call) {
      if (call.peerCertificates.length === 0) return undefined;
      let chain: x509.X509Certificate[];
      try {
        chain = call.peerCertificates.map((der) => new x509.X509Certificate(der));
      } catch {
        throw new AuthenticationError("client certificate does not parse");
      }
      const t = now();
      for (const c of chain) {
        if (c.notBefore.getTime() > t || c.notAfter.getTime() < t) throw new AuthenticationError(`client certificate chain: ${c.subject || "the leaf"} is outside its validity`);
      }
      const leaf = chain[0]!;
      if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) throw new AuthenticationError("client certificate is a CA certificate");
      const roots = options.trustBundle().map((p) => new x509.X509Certificate(p));
      let ok = false;
      for (let i = 0; i < chain.length && !ok; i++) {
        if (i > 0 && !(await signedBy(chain[i - 1]!, chain[i]!))) break;
        for (const root of roots) {
          if (chain[i]!.equal(root) || (await signedBy(chain[i]!, root))) {
            ok = true;
            break;
          }
        }
      }
      if (!ok) throw new AuthenticationError("client certificate does not chain to this CA's trust bundle");
      const uris = (leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []).filter((n) => n.type === "url").map((n) => n.value);
      const prefix = `spiffe://${options.trustDomain}/`;
      if (uris.length !== 1 || !uris[0]!.startsWith(prefix)) throw new AuthenticationError(`client certificate must carry one SPIFFE ID in ${options.trustDomain}, has ${uris.join(", ") || "none"}`);
      return { spiffeId: uris[0]!, method: "certificate" };
    },
  };
}
