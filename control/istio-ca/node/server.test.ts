/**
 * Istio's CA API over a real TLS gRPC connection: a token caller gets a certificate, the same workload
 * renews with that certificate as its TLS client certificate (no token), and the server's certificate
 * verifies against the CA's roots under istiod's DNS name.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as x509 from "../../../core/identity/x509.ts";
import { IstioCertificateService } from "../../../gen/proto/istio/security/v1alpha1/ca_pb.ts";
import { createCertificateAuthority } from "../../ca/authority.ts";
import { generateKeyPair, privateKeyToPem, SIGN_ALG } from "../../ca/keys.ts";
import { createXdsRoutes } from "../../xds/ads-service.ts";
import { createSnapshotCache } from "../../xds/cache.ts";
import { createAdsClient, sotwRequest } from "../../xds/node/ads-client.ts";
import { TypeUrl } from "../../xds/resource-types.ts";
import { createSnapshot } from "../../xds/snapshot.ts";
import { createXdsStatus } from "../../xds/status.ts";
import { edsCluster, loadAssignment } from "../../xds/testing.ts";
import { startIstioCaServer, type IstioCaNodeServer } from "./server.ts";

x509.cryptoProvider.set(crypto);

const ISSUER = "https://kubernetes.default.svc.cluster.local";
let server: IstioCaNodeServer;
let jwt: string;

beforeAll(async () => {
  const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
  const k = await joseKeyPair("ES256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(k.publicKey)), kid: "k1", alg: "ES256" }] };
  const cache = createSnapshotCache();
  cache.setSnapshot("web-1", createSnapshot({ [TypeUrl.cluster]: [edsCluster("a")], [TypeUrl.endpoint]: [loadAssignment("a")] }));
  server = await startIstioCaServer({ ca, kubernetes: { issuer: ISSUER, jwks }, routes: createXdsRoutes({ watcher: cache, status: createXdsStatus() }) });
  const now = Math.floor(Date.now() / 1000);
  jwt = await new SignJWT({ iss: ISSUER, aud: "istio-ca", sub: "system:serviceaccount:shop:web", iat: now, exp: now + 600 })
    .setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(k.privateKey);
});

afterAll(() => server?.close());

function client(tls: { cert?: string; key?: string } = {}) {
  return createClient(IstioCertificateService, createGrpcTransport({
    baseUrl: `https://${server.address}`,
    nodeOptions: { ca: server.rootsPem, servername: "istiod.istio-system.svc", ...tls },
  }));
}

async function csrFor(keys: CryptoKeyPair): Promise<string> {
  return (await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: SIGN_ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://cluster.local/ns/shop/sa/web" }])] })).toString("pem");
}

describe("Istio CA API over TLS gRPC", () => {
  it("issues with a token, then renews with the issued SVID as client certificate", async () => {
    const keys = await generateKeyPair();
    const first = await client().createCertificate({ csr: await csrFor(keys), validityDuration: 3600n }, { headers: { authorization: `Bearer ${jwt}` } });
    expect(first.certChain).toHaveLength(3);
    const leaf = new x509.X509Certificate(first.certChain[0]!);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual(["spiffe://cluster.local/ns/shop/sa/web"]);

    const renewing = client({ cert: first.certChain.slice(0, 2).join(""), key: await privateKeyToPem(keys.privateKey) });
    const next = await generateKeyPair();
    const second = await renewing.createCertificate({ csr: await csrFor(next), validityDuration: 3600n });
    expect(new x509.X509Certificate(second.certChain[0]!).serialNumber).not.toBe(leaf.serialNumber);
  });

  it("refuses a call with neither token nor client certificate", async () => {
    const keys = await generateKeyPair();
    const err = await client().createCertificate({ csr: await csrFor(keys), validityDuration: 0n }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("serves xDS on the same TLS port, as istiod does on 15012", async () => {
    const ads = createAdsClient({ baseUrl: `https://${server.address}`, nodeOptions: { ca: server.rootsPem, servername: "istiod.istio-system.svc" } }).sotw();
    ads.send(sotwRequest({ node: { id: "web-1" }, typeUrl: TypeUrl.cluster }));
    const res = await ads.next();
    expect(res.resources).toHaveLength(1);
    ads.cancel();
  });
});
