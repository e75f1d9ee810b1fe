// weft as the CA for Istio agents, proven with Istio's own client code: ca-client/main.go (Istio's Citadel CA
// client, token plugin and SDS secret manager, built from the pinned istio.io/istio module) asks weft's
// `IstioCertificateService/CreateCertificate` for a workload certificate over TLS, authenticated by a real
// service-account token that a real kube-apiserver minted (TokenRequest, audience istio-ca); weft checks it
// against that API server's JWKS. The returned chain must verify against weft's root and carry the
// workload's SPIFFE ID; the wrong identity, the wrong audience and no credential are refused; and the issued
// certificate alone (mTLS, no token) renews, as pilot-agent does. Finally the real `pilot-agent`, in Istio's
// proxyless mode (DISABLE_ENVOY=true, no Envoy), gets its workload certificate from weft via CA_ADDR and
// writes it to OUTPUT_CERTS.

import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as x509 from "../../core/identity/x509.ts";
import { createCertificateAuthority, type CertificateAuthority } from "../../control/ca/authority.ts";
import { startIstioCaServer, type IstioCaNodeServer } from "../../control/istio-ca/node/server.ts";
import istio, { istioVersion } from "../peers/istio/peer.ts";
import kubernetes, { kubeGet, type KubernetesHandle } from "../peers/kubernetes/peer.ts";
import { freePort, spawnPeer, tmpDataDir, waitFor } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";
import { buildIstioCaClient, caClientIstioVersion } from "./ca-client.ts";

x509.cryptoProvider.set(crypto);

const { ready } = await requirePeers(import.meta.url, istio, kubernetes);
const execFileAsync = promisify(execFile);
const WEB = "spiffe://cluster.local/ns/shop/sa/web";

interface ClientResult { certificateChain?: string; privateKey?: string; rootCert?: string; expireTime?: string; error?: string }

describe.skipIf(!ready)("istio: weft's CA serves Istio's CA client (CreateCertificate)", () => {
  let cluster: KubernetesHandle;
  let ca: CertificateAuthority;
  let server: IstioCaNodeServer;
  let bin: string;
  let pilotAgent: string;
  const work = ready ? tmpDataDir("istio-ca") : "";
  const files: Record<string, string> = {};

  async function caClient(args: string[]): Promise<{ code: number; result: ClientResult }> {
    const all = ["-ca-addr", server.address, "-ca-san", "istiod.istio-system.svc", "-root-cert", files.roots!, "-trust-domain", "cluster.local", "-namespace", "shop", ...args];
    try {
      const { stdout } = await execFileAsync(bin, all, { timeout: 60_000 });
      return { code: 0, result: JSON.parse(stdout.trim().split("\n").pop()!) as ClientResult };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      const last = (e.stdout ?? "").trim().split("\n").pop() ?? "";
      return { code: e.code ?? -1, result: last.startsWith("{") ? (JSON.parse(last) as ClientResult) : { error: `${e.stdout ?? ""}${e.stderr ?? ""}` } };
    }
  }

  function certs(pem: string): x509.X509Certificate[] {
    return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((p) => new x509.X509Certificate(p));
  }

  async function verifiesToWeftRoot(chainPem: string): Promise<boolean> {
    const chain = certs(chainPem);
    const root = new x509.X509Certificate(ca.trustBundle()[0]!);
    const path = [...chain.filter((c) => !c.equal(root)), root];
    for (let i = 0; i + 1 < path.length; i++) if (!(await path[i]!.verify({ publicKey: path[i + 1]!, signatureOnly: true }))) return false;
    return path.length >= 2;
  }

  beforeAll(async () => {
    ({ caClient: bin, pilotAgent } = await buildIstioCaClient());
    cluster = await kubernetes.start();
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "shop" } } });
    await core.createNamespacedServiceAccount({ namespace: "shop", body: { metadata: { name: "web" } } });
    const mint = async (audiences: string[]) => (await core.createNamespacedServiceAccountToken({
      namespace: "shop", name: "web", body: { spec: { audiences, expirationSeconds: 600 } },
    })).status!.token!;
    files.token = join(work, "token");
    writeFileSync(files.token, await mint(["istio-ca"]));
    files.wrongAudience = join(work, "token-api");
    writeFileSync(files.wrongAudience, await mint(["https://kubernetes.default.svc.cluster.local"]));
    const jwks = await kubeGet(`${cluster.url}/openid/v1/jwks`, cluster.token, cluster.caPem);
    expect(jwks.status).toBe(200);
    ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    server = await startIstioCaServer({ ca, kubernetes: { issuer: "https://kubernetes.default.svc.cluster.local", jwks: JSON.parse(jwks.body) } });
    files.roots = join(work, "roots.pem");
    writeFileSync(files.roots, server.rootsPem);
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("ca-client requires the same istio.io/istio version as the istio peer", () => {
    expect(caClientIstioVersion()).toBe(istioVersion);
  });

  it("issues pilot-agent's default request (RSA 2048 key and CSR made by Istio) for the token's identity", async () => {
    const { code, result } = await caClient(["-token", files.token!, "-sa", "web"]);
    expect(result.error).toBeUndefined();
    expect(code).toBe(0);
    const [leaf] = certs(result.certificateChain!);
    expect(leaf!.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => [n.type, n.value])).toEqual([["url", WEB]]);
    expect(leaf!.publicKey.algorithm.name).toBe("RSASSA-PKCS1-v1_5");
    expect(await verifiesToWeftRoot(result.certificateChain!)).toBe(true);
    // The secret manager takes the last element of cert_chain as the root: it must be weft's.
    expect(certs(result.rootCert!)[0]!.equal(new x509.X509Certificate(ca.trustBundle()[0]!))).toBe(true);
    files.cert = join(work, "cert-chain.pem");
    files.key = join(work, "key.pem");
    writeFileSync(files.cert, result.certificateChain!);
    writeFileSync(files.key, result.privateKey!);
  });

  it("issues an ECDSA P-256 request (ECC_SIGNATURE_ALGORITHM=ECDSA) with the requested lifetime", async () => {
    const { code, result } = await caClient(["-token", files.token!, "-sa", "web", "-ecdsa", "-ttl", "2h"]);
    expect(code).toBe(0);
    const [leaf] = certs(result.certificateChain!);
    expect((leaf!.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe("P-256");
    expect(leaf!.notAfter.getTime() - leaf!.notBefore.getTime()).toBe(2 * 3600_000 + 60_000);
    expect(await verifiesToWeftRoot(result.certificateChain!)).toBe(true);
  });

  it("refuses a CSR for another identity than the token's (PermissionDenied)", async () => {
    const { code, result } = await caClient(["-token", files.token!, "-sa", "cart"]);
    expect(code).not.toBe(0);
    expect(result.error).toContain("PermissionDenied");
    expect(result.error).toContain("spiffe://cluster.local/ns/shop/sa/cart, but the caller is spiffe://cluster.local/ns/shop/sa/web");
  });

  it("refuses a token for another audience and a call without credentials (Unauthenticated)", async () => {
    const wrong = await caClient(["-token", files.wrongAudience!, "-sa", "web"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.result.error).toContain("Unauthenticated");
    expect(wrong.result.error).toContain('"aud"');
    const none = await caClient(["-sa", "web"]);
    expect(none.code).not.toBe(0);
    expect(none.result.error).toContain("Unauthenticated");
  });

  it("renews with the issued certificate as TLS client certificate and no token", async () => {
    expect(files.cert).toBeDefined();
    const { code, result } = await caClient(["-cert", files.cert!, "-key", files.key!, "-sa", "web"]);
    expect(result.error).toBeUndefined();
    expect(code).toBe(0);
    const [leaf] = certs(result.certificateChain!);
    expect(leaf!.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual([WEB]);
    expect(leaf!.serialNumber).not.toBe(certs(readFileSync(files.cert!, "utf8"))[0]!.serialNumber);
  });

  it("pilot-agent without Envoy (DISABLE_ENVOY=true) fetches its workload certificate from weft via CA_ADDR", async () => {
    // pilot-agent reads its token and the CA's roots from paths relative to its working directory; a
    // CA_ADDR host of `localhost` makes it verify the server as istiod.istio-system.svc (pilot/pkg/grpc/tls.go).
    const dir = join(work, "pilot-agent");
    mkdirSync(join(dir, "var/run/secrets/tokens"), { recursive: true });
    mkdirSync(join(dir, "var/run/secrets/istio"), { recursive: true });
    mkdirSync(join(dir, "out"), { recursive: true }); // pilot-agent writes into OUTPUT_CERTS but does not create it
    writeFileSync(join(dir, "var/run/secrets/tokens/istio-token"), readFileSync(files.token!));
    writeFileSync(join(dir, "var/run/secrets/istio/root-cert.pem"), server.rootsPem);
    const logPath = join(dir, "pilot-agent.log");
    const agent = spawnPeer(pilotAgent, ["proxy"], {
      cwd: dir, logPath,
      env: {
        CA_ADDR: `localhost:${server.port}`, DISABLE_ENVOY: "true", OUTPUT_CERTS: "./out",
        POD_NAMESPACE: "shop", POD_NAME: "web-1", SERVICE_ACCOUNT: "web",
        PROXY_CONFIG: JSON.stringify({ discoveryAddress: "127.0.0.1:1", statusPort: await freePort() }),
      },
    });
    try {
      await waitFor(async () => existsSync(join(dir, "out/cert-chain.pem")) && existsSync(join(dir, "out/root-cert.pem")),
        { what: "pilot-agent's out/cert-chain.pem", logPath, process: agent, timeoutMs: 60_000 });
    } finally {
      await agent.stop();
    }
    const chain = readFileSync(join(dir, "out/cert-chain.pem"), "utf8");
    const [leaf] = certs(chain);
    expect(leaf!.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual([WEB]);
    expect(await verifiesToWeftRoot(chain)).toBe(true);
    expect(certs(readFileSync(join(dir, "out/root-cert.pem"), "utf8"))[0]!.equal(new x509.X509Certificate(ca.trustBundle()[0]!))).toBe(true);
    expect(readFileSync(join(dir, "out/key.pem"), "utf8")).toContain("PRIVATE KEY");
  });
});
