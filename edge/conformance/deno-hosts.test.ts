import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../control/ca/authority.ts";
import { generateKeyPair, privateKeyToPem } from "../../control/ca/keys.ts";
import { issueServingCert } from "../tls/serving-cert.ts";
import { accessLines, denoBinary, ROOT, startProcess } from "./processes.ts";
import { rawRequest } from "./upstreams.ts";

// The Deno control plane and the Deno proxy as real `deno` processes: the proxy pulls its config from
// the control plane's feed; the control plane keeps its store on disk; and the proxy's mTLS listener
// (node:https under Deno, since Deno.serve cannot ask for client certificates) sees the client's SPIFFE ID.

const env = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
const EDGE_YAML = `listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      accessLog: true
      virtualHosts:
        - name: all
          domains: ["*"]
          routes: [{ name: hello, directResponse: { status: 200, body: hello-from-deno } }]
`;

describe("Deno hosts", () => {
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-deno-hosts-"));
    await writeFile(join(dir, "edge.yaml"), EDGE_YAML);
  });
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    await rm(dir, { recursive: true, force: true });
  });

  it("the proxy on Deno pulls its config from the control plane on Deno", async () => {
    const cp = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/control.ts"), "--data", join(dir, "data"), "--listen", "127.0.0.1:0",
      "--admin-token", "admin-token-123", "--feed-token", "feed-token", "--edge", `edge=${join(dir, "edge.yaml")}`], { cwd: ROOT, env, ready: /control plane on http:\/\/[^:]+:(\d+)/ });
    stops.push(cp.stop);
    const cpPort = cp.match[1]!;
    const proxy = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/proxy.ts"), "--feed", `http://127.0.0.1:${cpPort}/v1/edge/config?node=edge`,
      "--feed-token", "feed-token", "--cache", join(dir, "cache.json"), "--listen", "127.0.0.1:0"], { cwd: ROOT, env, ready: /listening on http:\/\/[^:]+:(\d+)/ });
    stops.push(proxy.stop);
    const port = Number(proxy.match[1]);
    const res = await rawRequest(port, "GET", "/anything", {});
    expect(res.status).toBe(200);
    expect(res.body).toBe("hello-from-deno");
    const admin = await rawRequest(port, "GET", "/__weft/ready", {});
    expect(admin.headers["x-weft-config-source"]).toBe("control-plane");
    expect(JSON.parse(await readFile(join(dir, "cache.json"), "utf8"))).toMatchObject({ fetchedAt: expect.any(Number), document: { proxy: expect.stringContaining("hello-from-deno") } });
    expect((await readFile(join(dir, "data", "ca.json"), "utf8")).length).toBeGreaterThan(100);
  }, 90_000);

  it("with the control plane gone, the Deno proxy keeps serving its cached config and says so on the admin route", async () => {
    const cp = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/control.ts"), "--data", join(dir, "data-gone"), "--listen", "127.0.0.1:0",
      "--admin-token", "admin-token-123", "--feed-token", "feed-token", "--edge", `edge=${join(dir, "edge.yaml")}`], { cwd: ROOT, env, ready: /control plane on http:\/\/[^:]+:(\d+)/ });
    stops.push(cp.stop);
    const proxy = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/proxy.ts"), "--feed", `http://127.0.0.1:${cp.match[1]!}/v1/edge/config?node=edge`,
      "--feed-token", "feed-token", "--refresh-ms", "200", "--cache", join(dir, "gone-cache.json"), "--listen", "127.0.0.1:0"], { cwd: ROOT, env, ready: /listening on http:\/\/[^:]+:(\d+)/ });
    stops.push(proxy.stop);
    const port = Number(proxy.match[1]);
    const before = await rawRequest(port, "GET", "/__weft/ready", {});
    expect(before.headers["x-weft-config-source"]).toBe("control-plane");
    expect(before.headers["x-weft-config-stale"]).toBeUndefined();
    await cp.stop();
    let admin = before;
    for (let i = 0; i < 100 && admin.headers["x-weft-config-source"] !== "cache"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      admin = await rawRequest(port, "GET", "/__weft/ready", {});
      expect(admin.status).toBe(200);
    }
    expect(admin.headers["x-weft-config-source"]).toBe("cache");
    expect(String(admin.headers["x-weft-config-stale"])).toMatch(/^\d+s$/);
    expect(String(admin.headers["x-weft-config-error"])).toContain("control plane unreachable");
    const res = await rawRequest(port, "GET", "/still-here", {});
    expect(res.status).toBe(200);
    expect(res.body).toBe("hello-from-deno");

    // A restart with the control plane still gone serves the cached file.
    await proxy.stop();
    const again = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/proxy.ts"), "--feed", `http://127.0.0.1:${cp.match[1]!}/v1/edge/config?node=edge`,
      "--feed-token", "feed-token", "--cache", join(dir, "gone-cache.json"), "--listen", "127.0.0.1:0"], { cwd: ROOT, env, ready: /listening on http:\/\/[^:]+:(\d+)/ });
    stops.push(again.stop);
    const port2 = Number(again.match[1]);
    expect((await rawRequest(port2, "GET", "/after-restart", {})).body).toBe("hello-from-deno");
    const restarted = await rawRequest(port2, "GET", "/__weft/config_dump", {});
    expect(restarted.headers["x-weft-config-source"]).toBe("cache");
    expect(String(restarted.headers["x-weft-config-stale"])).toMatch(/^\d+s$/);
  }, 90_000);

  it("the proxy's mTLS listener on Deno verifies the client certificate and logs its SPIFFE ID", async () => {
    const ca = await createCertificateAuthority({ trustDomain: "cluster.local" });
    const serving = await issueServingCert(await ca.exportState(), "spiffe://cluster.local/ns/edge/sa/deno", ["deno.mesh.internal"]);
    const keys = await generateKeyPair();
    const client = await ca.issue({ spiffeId: "spiffe://cluster.local/ns/shop/sa/client", publicKey: keys.publicKey });
    const files = { "ca.pem": ca.trustBundle().join(""), "srv.pem": serving.chainPem, "srv.key": serving.keyPem };
    for (const [n, t] of Object.entries(files)) await writeFile(join(dir, n), t);
    const proxy = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/proxy.ts"), "--config", join(dir, "edge.yaml"), "--listen", "127.0.0.1:0",
      "--tls-cert", join(dir, "srv.pem"), "--tls-key", join(dir, "srv.key"), "--client-ca", join(dir, "ca.pem")], { cwd: ROOT, env, ready: /listening on https:\/\/[^:]+:(\d+)/ });
    stops.push(proxy.stop);
    const port = Number(proxy.match[1]);
    const withoutCert = () => new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port, path: "/x", servername: "deno.mesh.internal", ca: files["ca.pem"], checkServerIdentity: () => undefined, agent: false }, (r) => {
        r.resume();
        r.on("end", () => resolve(r.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    const keyPem = await privateKeyToPem(keys.privateKey);
    const withCert = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port, path: "/x", servername: "deno.mesh.internal", ca: files["ca.pem"], checkServerIdentity: () => undefined, agent: false,
        cert: client.chainPem.slice(0, 2).join(""), key: keyPem, headers: { "x-request-id": "deno-mtls" } }, (r) => {
        r.resume();
        r.on("end", () => resolve(r.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    expect(withCert).toBe(200);
    await expect(withoutCert()).rejects.toThrow();
    let record: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && record === undefined; i++) {
      record = accessLines(proxy.out.text).find((r) => r.path === "/x");
      if (record === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(record).toMatchObject({ response_code: 200, downstream_peer_uri_san: "spiffe://cluster.local/ns/shop/sa/client" });
  }, 90_000);
});
