/**
 * @module edge/tls/serving-cert
 * A serving certificate for mesh workloads that edge runtimes call over mTLS. workerd and Deno verify
 * a server by host name (a DNS or IP SAN), never by SPIFFE URI SAN, and reject weft's URI-only SVIDs
 * ("certificate is only valid for UniformResourceIdentifier(...)"). So the CA issues, from its current
 * intermediate, a certificate carrying both the workload's SPIFFE ID (weft peers still see the identity)
 * and the DNS names the edge connects with.
 */
import { createCertificateAuthority, type CaState } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";

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
  const ca = await createCertificateAuthority({ trustDomain: state.trustDomain }, state);
  const keys = await generateKeyPair();
  const svid = await ca.issue({ spiffeId, publicKey: keys.publicKey, dnsNames, ttlMs });
  return { certPem: svid.certPem, chainPem: svid.chainPem[0]! + svid.chainPem[1]!, keyPem: await privateKeyToPem(keys.privateKey) };
}
