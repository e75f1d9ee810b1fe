// The xDS server over mutual TLS with SVIDs from weft's CA: a client with an SVID gets its snapshot;
// one without a client certificate is refused during the handshake.
import type { PeerCertificate } from "node:tls";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../../ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../ca/keys.ts";
import { createSnapshotCache } from "../cache.ts";
import { TypeUrl } from "../resource-types.ts";
import { createSnapshot } from "../snapshot.ts";
import { createXdsStatus } from "../status.ts";
import { edsCluster, loadAssignment } from "../testing.ts";
import { createAdsClient, sotwRequest } from "./ads-client.ts";
import { startXdsServer } from "./server.ts";

type Ca = Awaited<ReturnType<typeof createCertificateAuthority>>;
async function svid(ca: Ca, id: string) {
  const keys = await generateKeyPair();
  const s = await ca.issue({ spiffeId: id, publicKey: keys.publicKey });
  return { certPem: s.chainPem.slice(0, 2).join(""), keyPem: await privateKeyToPem(keys.privateKey) };
}

const CONTROL_ID = "spiffe://cluster.local/ns/weft-system/sa/control-plane";

describe("xDS over mTLS", () => {
  it("serves a client presenting an SVID and refuses one without", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const bundle = ca.trustBundle().join("");
    const serverId = await svid(ca, CONTROL_ID);
    const clientId = await svid(ca, "spiffe://cluster.local/ns/default/sa/web");
    const cache = createSnapshotCache();
    const status = createXdsStatus();
    cache.setSnapshot("web-1", createSnapshot({ [TypeUrl.cluster]: [edsCluster("a")], [TypeUrl.endpoint]: [loadAssignment("a")] }));
    const server = await startXdsServer({ watcher: cache, status, tls: { ...serverId, caPem: bundle, requireClientCert: true } });
    try {
      // SVIDs carry no DNS name: the client checks the control plane's SPIFFE ID instead of a host name.
      const checkServerIdentity = (_host: string, cert: PeerCertificate) =>
        cert.subjectaltname === `URI:${CONTROL_ID}` ? undefined : new Error(`unexpected server identity ${cert.subjectaltname}`);
      const ok = createAdsClient({
        baseUrl: `https://${server.address}`,
        nodeOptions: { ca: bundle, cert: clientId.certPem, key: clientId.keyPem, checkServerIdentity },
      }).sotw();
      ok.send(sotwRequest({ node: { id: "web-1" }, typeUrl: TypeUrl.cluster }));
      const res = await ok.next();
      expect(res.resources).toHaveLength(1);
      ok.cancel();

      const anonymous = createAdsClient({ baseUrl: `https://${server.address}`, nodeOptions: { ca: bundle, checkServerIdentity } }).sotw();
      anonymous.send(sotwRequest({ node: { id: "web-2" }, typeUrl: TypeUrl.cluster }));
      await expect(anonymous.next()).rejects.toThrow();
      expect(status.node("web-2")).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
