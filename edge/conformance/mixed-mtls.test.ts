import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { createCertificateAuthority, type CertificateAuthority } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";
import { createConfigStore } from "../../control/store/store.ts";
import type { ConfigStore, DurableLog, LogRecord } from "../../control/store/types.ts";
import { createTestKey, jwksText, sign } from "../../plugins/jwt-authn/test-keys.ts";
import { startProxy, type TestProxy } from "../../proxy/node/test-support.ts";
import type { NodeListener } from "../node-listener/serve-node.ts";
import { issueServingCert } from "../tls/serving-cert.ts";
import { startFeed, startWorkerdHost, type WorkerdHost } from "./hosts.ts";
import { rawRequest, startUpstreams, type Upstreams } from "./upstreams.ts";

// "Proven for real": a workerd edge worker and a Node sidecar (proxy/node with downstream mTLS) under
// one policy set from one control-plane feed. workerd presents the edge's SVID as its TLS client
// keypair (external-server `tlsOptions.keypair`); the sidecar verifies it against the CA bundle, takes
// the SPIFFE ID from the URI SAN and authorizes it with the store's AuthorizationPolicies — the same
// policies the edge enforces on its side (JWT). The sidecar's serving certificate carries a DNS SAN
// besides its SPIFFE ID, because workerd verifies servers by host name only.

const ISSUER = "https://issuer.mesh.test";
const EDGE_ID = "spiffe://cluster.local/ns/edge/sa/gateway";
const SIDECAR_ID = "spiffe://cluster.local/ns/shop/sa/orders";
const SIDECAR_NAME = "orders.mesh.internal";
const TOKEN = "mixed-feed-token";

function memoryLog(): DurableLog {
  let records: LogRecord[] = [];
  return {
    readAll: () => Promise.resolve(records),
    append: (r) => { records.push(r); return Promise.resolve(); },
    compact: (s) => { records = [s]; return Promise.resolve(); },
    close: () => Promise.resolve(),
  };
}

const policy = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: ns }, spec });

async function svid(ca: CertificateAuthority, id: string): Promise<{ chain: string; key: string }> {
  const keys = await generateKeyPair();
  const s = await ca.issue({ spiffeId: id, publicKey: keys.publicKey });
  return { chain: s.chainPem.slice(0, 2).join(""), key: await privateKeyToPem(keys.privateKey) };
}

describe("mixed-runtime mTLS: workerd edge → Node sidecar under one policy set", () => {
  let dir: string;
  let ca: CertificateAuthority;
  let store: ConfigStore;
  let ups: Upstreams;
  let sidecar: TestProxy;
  let feed: NodeListener | undefined;
  let edge: WorkerdHost;
  let tokens: Record<string, string>;
  let rogue: { chain: string; key: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-mixed-mtls-"));
    ups = await startUpstreams();
    ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const bundle = ca.trustBundle().join("");
    const edgeSvid = await svid(ca, EDGE_ID);
    rogue = await svid(ca, "spiffe://cluster.local/ns/other/sa/intruder");
    const serving = await issueServingCert(await ca.exportState(), SIDECAR_ID, [SIDECAR_NAME]);
    const files: Record<string, string> = { "ca.pem": bundle, "edge.pem": edgeSvid.chain, "edge.key": edgeSvid.key, "sidecar.pem": serving.chainPem, "sidecar.key": serving.keyPem };
    const workerdDir = await mkdtemp(join(tmpdir(), "weft-mixed-workerd-"));
    await mkdir(join(dir, "cache"));
    // capnp `embed` paths are relative to the config file, so the edge's files sit beside it.
    for (const [n, t] of Object.entries(files)) {
      await writeFile(join(dir, n), t);
      await writeFile(join(workerdDir, n), t);
    }

    const key = await createTestKey("k1");
    const now = Date.now();
    tokens = { alice: await sign(key, { iss: ISSUER, sub: "alice", aud: "shop" }, now) };

    // One policy set in the control plane's store: the edge's (JWT required), the sidecar's (only the
    // edge's SPIFFE ID), and a mesh-wide one both enforce.
    store = await createConfigStore({ log: memoryLog(), validate: (o) => validateResource(o, allKinds) });
    await store.apply([
      policy("edge", "jwt-required", { action: "DENY", rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }] }),
      policy("shop", "orders-from-edge", { action: "ALLOW", rules: [{ from: [{ source: { principals: ["cluster.local/ns/edge/sa/gateway"] } }] }] }),
      policy("istio-system", "no-debug", { action: "DENY", rules: [{ to: [{ operation: { paths: ["/debug*"] } }] }] }),
    ]);

    // The Node sidecar: mTLS listener, rbac with the store's policies, echo app behind it.
    const sidecarTemplate = (port: number) => `admin: { address: 127.0.0.1:0 }
secrets:
  - name: sidecar
    tlsCertificate: { certificateChainFile: ${join(dir, "sidecar.pem")}, privateKeyFile: ${join(dir, "sidecar.key")} }
    validationContext: { trustedCaFile: ${join(dir, "ca.pem")} }
listeners:
  - name: inbound
    address: 127.0.0.1:${port}
    tls: { secret: sidecar, mode: STRICT, requireClientCertificate: true }
    http:
      accessLog: true
      filters:
        - name: rbac
          config: { namespace: shop, policies: [] }
        - name: router
      virtualHosts:
        - name: app
          domains: ["*"]
          routes: [{ name: app, route: { cluster: app } }]
clusters:
  - { name: app, endpoints: ["127.0.0.1:${ups.echo}"] }
`;
    const edgeTemplate = (sidecarPort: number) => `listeners:
  - name: edge
    address: 127.0.0.1:0
    http:
      accessLog: true
      filters:
        - name: jwt-authn
          config: { jwtRules: [{ issuer: ${JSON.stringify(ISSUER)}, audiences: [shop], jwks: ${JSON.stringify(jwksText(key))} }] }
        - name: rbac
          config: { namespace: edge, policies: [] }
        - name: router
      virtualHosts:
        - name: edge
          domains: ["*"]
          routes: [{ name: orders, route: { cluster: orders } }]
clusters:
  - { name: orders, endpoints: ["127.0.0.1:${sidecarPort}"] }
`;
    const { edgeDocument } = await import("../config/feed-routes.ts");
    // The sidecar takes the same feed document the edge does (policies added by the control plane).
    const port0 = await freePort();
    sidecar = await startProxy(edgeDocument({ proxy: sidecarTemplate(port0) }, store).proxy);
    const sidecarPort = sidecar.port("inbound");
    feed = await startFeed(new Map([["edge", { proxy: edgeTemplate(sidecarPort) }], ["sidecar", { proxy: sidecarTemplate(sidecarPort) }]]), TOKEN, store);
    edge = await startWorkerdHost({
      feedUrl: `http://127.0.0.1:${feed.port}/v1/edge/config?node=edge`, feedToken: TOKEN, accessLog: true, feedRefreshMs: 200,
      cacheDir: join(dir, "cache"),
      upstreamTls: { certFile: "edge.pem", keyFile: "edge.key", caFile: "ca.pem", endpoints: [{ endpoint: `127.0.0.1:${sidecarPort}`, certificateHost: SIDECAR_NAME }] },
    }, workerdDir);
  }, 120_000);

  afterAll(async () => {
    await edge?.close();
    await feed?.close();
    await sidecar?.close();
    await ups?.close();
    if (edge) await rm(edge.dir, { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a request with a valid JWT crosses the edge and the sidecar authorizes the edge's SPIFFE ID", async () => {
    const res = await rawRequest(edge.port, "GET", "/orders/7", { authorization: `Bearer ${tokens.alice}`, "x-request-id": "mixed-ok" });
    expect(res.status, res.body).toBe(200);
    expect((JSON.parse(res.body) as { url: string }).url).toBe("/orders/7");
    const record = sidecar.accessLog.find((r) => r.request_id === "mixed-ok");
    expect(record).toMatchObject({ response_code: 200, downstream_peer_uri_san: EDGE_ID });
  });

  it("the edge enforces its part of the policy set: no JWT → 403 before any upstream call", async () => {
    const before = sidecar.accessLog.length;
    const res = await rawRequest(edge.port, "GET", "/orders/7", {});
    expect(res.status).toBe(403);
    expect(sidecar.accessLog.length).toBe(before);
  });

  it("the mesh-wide policy applies on both sides", async () => {
    const res = await rawRequest(edge.port, "GET", "/debug/vars", { authorization: `Bearer ${tokens.alice}` });
    expect(res.status).toBe(403);
  });

  it("the sidecar refuses another workload's certificate (RBAC) and a client without one (TLS)", async () => {
    const port = sidecar.port("inbound");
    const ca = (await import("node:fs/promises")).readFile(join(dir, "ca.pem"), "utf8");
    const call = (cert?: { chain: string; key: string }) => new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port, path: "/orders/1", servername: SIDECAR_NAME, agent: false, ca: undefined, rejectUnauthorized: false, ...(cert ? { cert: cert.chain, key: cert.key } : {}) }, (r) => {
        r.resume();
        r.on("end", () => resolve(r.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    await ca;
    expect(await call(rogue)).toBe(403);
    await expect(call()).rejects.toThrow();
  });

  it("with the control plane gone, the edge keeps serving its cached config and says so on the admin route", async () => {
    await feed!.close();
    feed = undefined;
    let source = "";
    for (let i = 0; i < 50 && source !== "cache"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const admin = await rawRequest(edge.port, "GET", "/__weft/ready", {});
      source = String(admin.headers["x-weft-config-source"] ?? "");
      expect(admin.status).toBe(200);
    }
    expect(source).toBe("cache");
    const admin = await rawRequest(edge.port, "GET", "/__weft/ready", {});
    expect(String(admin.headers["x-weft-config-stale"])).toMatch(/^\d+s$/);
    expect(String(admin.headers["x-weft-config-error"])).toContain("control plane unreachable");
    const res = await rawRequest(edge.port, "GET", "/orders/8", { authorization: `Bearer ${tokens.alice}` });
    expect(res.status).toBe(200);
  });

  it("a restarted worker with no control plane serves the config cached on disk", async () => {
    const work = edge.dir;
    await edge.close();
    edge = await startWorkerdHost({
      feedUrl: "http://127.0.0.1:9/v1/edge/config?node=edge", feedToken: TOKEN, accessLog: true, feedRefreshMs: 200, cacheDir: join(dir, "cache"),
      upstreamTls: { certFile: "edge.pem", keyFile: "edge.key", caFile: "ca.pem", endpoints: [{ endpoint: `127.0.0.1:${sidecar.port("inbound")}`, certificateHost: SIDECAR_NAME }] },
    }, work);
    const res = await rawRequest(edge.port, "GET", "/orders/9", { authorization: `Bearer ${tokens.alice}` });
    expect(res.status, res.body).toBe(200);
    const admin = await rawRequest(edge.port, "GET", "/__weft/config_dump", {});
    expect(admin.headers["x-weft-config-source"]).toBe("cache");
    expect(String(admin.headers["x-weft-config-stale"])).toMatch(/^\d+s$/);
    expect(String(admin.headers["x-weft-config-error"])).toContain("control plane unreachable");
  }, 60_000);
});

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
