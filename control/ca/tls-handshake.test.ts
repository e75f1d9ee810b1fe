/**
 * SVIDs from weft's CA in a real mutual-TLS handshake (Node's OpenSSL): both sides verify the chain
 * against the trust bundle and read the peer's SPIFFE ID from the URI SAN.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "./authority.ts";
import { generateKeyPair, privateKeyToPem } from "./keys.ts";

async function svid(ca: Awaited<ReturnType<typeof createCertificateAuthority>>, id: string) {
  const keys = await generateKeyPair();
  const s = await ca.issue({ spiffeId: id, publicKey: keys.publicKey });
  return { cert: s.chainPem.slice(0, 2).join(""), key: await privateKeyToPem(keys.privateKey) };
}

const uriOf = (c: tls.PeerCertificate) => c.subjectaltname?.replace(/^URI:/, "");

describe("SVIDs in a real mTLS handshake", () => {
  it("both sides verify the chain and see each other's SPIFFE ID", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const server = await svid(ca, "spiffe://cluster.local/ns/default/sa/backend");
    const client = await svid(ca, "spiffe://cluster.local/ns/default/sa/frontend");
    const bundle = ca.trustBundle().join("");
    const srv = tls.createServer({ ...server, ca: bundle, requestCert: true, rejectUnauthorized: true }, (sock) => {
      sock.end(uriOf(sock.getPeerCertificate()) ?? "none");
    });
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const port = (srv.address() as AddressInfo).port;
    const sock = tls.connect({ host: "127.0.0.1", port, ...client, ca: bundle, checkServerIdentity: () => undefined });
    await once(sock, "secureConnect");
    expect(sock.authorized).toBe(true);
    expect(uriOf(sock.getPeerCertificate())).toBe("spiffe://cluster.local/ns/default/sa/backend");
    let got = "";
    sock.on("data", (d) => (got += d));
    await once(sock, "end");
    expect(got).toBe("spiffe://cluster.local/ns/default/sa/frontend");
    srv.close();
  });

  it("a certificate from another CA is rejected", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const rogue = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const server = await svid(ca, "spiffe://cluster.local/ns/default/sa/backend");
    const intruder = await svid(rogue, "spiffe://cluster.local/ns/default/sa/frontend");
    const srv = tls.createServer({ ...server, ca: ca.trustBundle().join(""), requestCert: true, rejectUnauthorized: true }, (s) => s.end("hi"));
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const port = (srv.address() as AddressInfo).port;
    const sock = tls.connect({ host: "127.0.0.1", port, ...intruder, ca: ca.trustBundle().join(""), checkServerIdentity: () => undefined });
    const outcome = await new Promise<string>((resolve) => {
      sock.on("data", () => resolve("data"));
      sock.on("error", (e) => resolve(`error: ${e.message}`));
      sock.on("close", () => resolve("closed"));
    });
    expect(outcome).not.toBe("data");
    srv.close();
  });
});
