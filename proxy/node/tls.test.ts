/**
 * mTLS with SPIFFE, end to end over real sockets with SVIDs from weft's CA: inbound STRICT and
 * PERMISSIVE listeners, ALPN h2, SNI filter chains, the peer principal in filters and the access log,
 * outbound mTLS with SPIFFE ID verification and pooled connections, and certificate rotation.
 */
import { writeFileSync } from "node:fs";
import { request as httpsRequest, createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { connect as h2connect } from "node:http2";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spiffeIdOf } from "./tls-identity.ts";
import { clientTls, createTestPki, type Svid, type TestPki } from "./tls-test-support.ts";
import { listen, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

const TD = "spiffe://cluster.local";
const FRONTEND = `${TD}/ns/default/sa/frontend`;
const PROXY = `${TD}/ns/default/sa/proxy`;
const BACKEND = `${TD}/ns/default/sa/backend`;

interface Reply { status: number; body: string; peer: string | undefined; socketReused: boolean }

/** One HTTPS request; `agent: false` = a fresh connection. */
function get(port: number, path: string, tlsOpts: object, extra: { servername?: string; agent?: import("node:https").Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", port, path, ...tlsOpts, agent: extra.agent ?? false, ...(extra.servername ? { servername: extra.servername } : {}) }, (res) => {
      let body = "";
      const peer = spiffeIdOf((res.socket as TLSSocket).getPeerCertificate());
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, peer, socketReused: req.reusedSocket }));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.end();
  });
}

function plainGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => ({ status: r.status, body: await r.text() }));
}

describe("inbound mTLS", () => {
  let pki: TestPki;
  let frontend: Svid;
  let up: Upstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    pki = await createTestPki();
    frontend = await pki.issue(FRONTEND);
    const secret = pki.writeSecret("proxy", await pki.issue(PROXY));
    const admin = pki.writeSecret("admin", await pki.issue(`${TD}/ns/default/sa/admin-gw`));
    up = await startUpstream();
    proxy = await startProxy(`
listeners:
  - name: strict
    address: 127.0.0.1:0
    tls: { secret: proxy }
    http:
      accessLog: true
      filters:
        - name: rbac
          config:
            namespace: default
            policies:
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: frontend-only, namespace: default }
                spec:
                  action: ALLOW
                  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/frontend"] } }] }]
        - name: router
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }]
    filterChains:
      - name: admin
        match: { serverNames: ["admin.weft.test"] }
        tls: { secret: admin }
        http:
          accessLog: true
          virtualHosts: [{ name: admin, domains: ["*"], routes: [{ directResponse: { status: 200, body: admin-chain } }] }]
  - name: permissive
    address: 127.0.0.1:0
    tls: { secret: proxy, mode: PERMISSIVE }
    http:
      accessLog: true
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }]
clusters:
  - name: up
    endpoints: [127.0.0.1:${up.port}]
secrets:
${secret}
${admin}
`);
  });
  afterAll(async () => {
    await proxy.close();
    await up.close();
  });

  it("takes the client's SPIFFE ID as the source principal (rbac allows it, the access log shows it)", async () => {
    const r = await get(proxy.port("strict"), "/hello", clientTls(frontend, pki.bundle));
    expect(r.status).toBe(200);
    expect(r.peer).toBe(PROXY);
    const echo = JSON.parse(r.body) as { headers: Record<string, string> };
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(proxy.accessLog.findLast((l) => l.path === "/hello")).toMatchObject({ response_code: 200, downstream_peer_uri_san: FRONTEND, listener: "strict" });
  });

  it("denies another workload through rbac with 403 and the policy in the response code details", async () => {
    const other = await pki.issue(`${TD}/ns/default/sa/other`);
    const r = await get(proxy.port("strict"), "/hello-other", clientTls(other, pki.bundle));
    expect(r.status).toBe(403);
    expect(proxy.accessLog.findLast((l) => l.path === "/hello-other")).toMatchObject({ response_code: 403, response_code_details: "rbac_access_denied_matched_policy[none]", downstream_peer_uri_san: `${TD}/ns/default/sa/other` });
  });

  it("rejects a client certificate from a rogue CA, and no certificate at all", async () => {
    const rogue = await createTestPki();
    const intruder = await rogue.issue(FRONTEND);
    const seen = up.connections;
    await expect(get(proxy.port("strict"), "/rogue", clientTls(intruder, pki.bundle))).rejects.toThrow();
    await expect(get(proxy.port("strict"), "/nocert", { ca: pki.bundle, checkServerIdentity: () => undefined })).rejects.toThrow();
    expect(proxy.accessLog.some((l) => l.path === "/rogue" || l.path === "/nocert")).toBe(false);
    expect(up.connections).toBe(seen);
    expect((await get(proxy.port("strict"), "/after-rogue", clientTls(frontend, pki.bundle))).status).toBe(200);
  });

  it("STRICT refuses plaintext; PERMISSIVE serves plaintext and mTLS on one port", async () => {
    await expect(plainGet(proxy.port("strict"), "/plain")).rejects.toThrow();
    const plain = await plainGet(proxy.port("permissive"), "/plain");
    expect(plain.status).toBe(200);
    const tls = await get(proxy.port("permissive"), "/tls", clientTls(frontend, pki.bundle));
    expect(tls.status).toBe(200);
    const logs = proxy.accessLog.filter((l) => l.listener === "permissive");
    expect(logs.find((l) => l.path === "/plain")?.downstream_peer_uri_san).toBeUndefined();
    expect(logs.find((l) => l.path === "/tls")?.downstream_peer_uri_san).toBe(FRONTEND);
  });

  it("negotiates HTTP/2 by ALPN", async () => {
    const session = h2connect(`https://127.0.0.1:${proxy.port("strict")}`, clientTls(frontend, pki.bundle));
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ":path": "/over-h2" });
      req.on("response", (h) => resolve(Number(h[":status"])));
      req.on("error", reject);
      req.resume();
      req.end();
    });
    session.close();
    expect(status).toBe(200);
    expect(proxy.accessLog.findLast((l) => l.path === "/over-h2")).toMatchObject({ protocol: "HTTP/2", downstream_peer_uri_san: FRONTEND });
  });

  it("picks the filter chain (and its certificate) by SNI", async () => {
    const a = await get(proxy.port("strict"), "/x", clientTls(frontend, pki.bundle), { servername: "admin.weft.test" });
    expect(a).toMatchObject({ status: 200, body: "admin-chain", peer: `${TD}/ns/default/sa/admin-gw` });
    expect(proxy.accessLog.findLast((l) => l.path === "/x")).toMatchObject({ requested_server_name: "admin.weft.test" });
    const d = await get(proxy.port("strict"), "/y", clientTls(frontend, pki.bundle), { servername: "other.weft.test" });
    expect(d.peer).toBe(PROXY);
    expect(d.body).not.toBe("admin-chain");
  });
});

describe("outbound mTLS", () => {
  let pki: TestPki;
  let backend: HttpsServer;
  let handshakes = 0;
  let proxy: TestProxy;

  beforeAll(async () => {
    pki = await createTestPki();
    const server = await pki.issue(BACKEND);
    const secret = pki.writeSecret("proxy", await pki.issue(PROXY));
    backend = createHttpsServer({ cert: server.cert, key: server.key, ca: pki.bundle, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.end(JSON.stringify({ client: spiffeIdOf((req.socket as TLSSocket).getPeerCertificate()), sni: (req.socket as TLSSocket & { servername?: string }).servername }));
    });
    backend.on("secureConnection", () => handshakes++);
    const port = await listen(backend);
    proxy = await startProxy(`
listeners:
  - name: out
    address: 127.0.0.1:0
    http:
      accessLog: true
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
            - { match: { prefix: /good }, route: { cluster: backend } }
            - { match: { prefix: /wrong-id }, route: { cluster: impostor } }
clusters:
  - name: backend
    tls: { secret: proxy, expectedIdentities: ["${BACKEND}"], sni: backend.default.svc }
    endpoints: [127.0.0.1:${port}]
  - name: impostor
    tls: { secret: proxy, expectedIdentities: ["${TD}/ns/default/sa/reviews"] }
    endpoints: [127.0.0.1:${port}]
secrets:
${secret}
`);
  });
  afterAll(async () => {
    await proxy.close();
    backend.closeAllConnections();
    backend.close();
  });

  it("originates mTLS with the proxy's SVID and SNI, and pools the connection", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await plainGet(proxy.port(), `/good/${i}`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ client: PROXY, sni: "backend.default.svc" });
    }
    expect(handshakes).toBe(1);
  });

  it("refuses a server whose SPIFFE ID is not expected: 503 UF with the reason", async () => {
    const r = await plainGet(proxy.port(), "/wrong-id");
    expect(r.status).toBe(503);
    const entry = proxy.accessLog.findLast((l) => l.path === "/wrong-id")!;
    expect(entry).toMatchObject({ response_code: 503, response_flags: "UF", upstream_cluster: "impostor" });
    expect(String(entry.upstream_transport_failure_reason)).toContain(`server identity ${BACKEND} is not one of the expected identities`);
  });
});

describe("certificate rotation", () => {
  it("new connections get the new SVID, open ones finish, no request fails", async () => {
    const pki = await createTestPki();
    const frontend = await pki.issue(FRONTEND);
    const first = await pki.issue(PROXY);
    const secret = pki.writeSecret("proxy", first);
    const up = await startUpstream((_req, res) => res.end("ok"));
    const proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
listeners:
  - name: in
    address: 127.0.0.1:0
    tls: { secret: proxy }
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }] }
clusters:
  - name: up
    endpoints: [127.0.0.1:${up.port}]
secrets:
${secret}
`);
    const port = proxy.port();
    const opts = clientTls(frontend, pki.bundle);
    const { Agent } = await import("node:https");
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(port, "/k", opts, { agent: keepAlive });
    expect(before.status).toBe(200);
    const serialOf = (s: TLSSocket) => s.getPeerCertificate().serialNumber.toLowerCase().replace(/^0+/, "");

    // Traffic keeps flowing (fresh connections and a kept-alive one) while the files change.
    let failures = 0;
    let served = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        await Promise.all([get(port, "/fresh", opts), get(port, "/kept", opts, { agent: keepAlive })]).then((rs) => {
          served += rs.length;
          failures += rs.filter((r) => r.status !== 200).length;
        }, () => failures++);
      }
    })();
    await expect.poll(() => served).toBeGreaterThan(10);
    const second = await pki.issue(PROXY);
    // A half-written rotation (new key, old certificate) is ignored; the complete one is taken.
    writeFileSync(join(pki.dir, "proxy.key"), second.key);
    expect(await proxy.server.secrets.reload()).toEqual([]);
    writeFileSync(join(pki.dir, "proxy.crt"), second.cert);
    await proxy.server.secrets.reload(); // or the file watcher got there first
    const mark = served;
    await expect.poll(() => served).toBeGreaterThan(mark + 10);
    running = false;
    await load;
    expect(failures).toBe(0);

    const fresh = tlsConnect({ host: "127.0.0.1", port, ...opts });
    await new Promise((r) => fresh.once("secureConnect", r));
    expect(serialOf(fresh)).toBe(second.serial.replace(/^0+/, ""));
    fresh.destroy();
    const kept = await get(port, "/k2", opts, { agent: keepAlive });
    expect(kept).toMatchObject({ status: 200, socketReused: true });
    // The admin's /certs shows the certificate now in use.
    const certs = await (await fetch(`http://127.0.0.1:${proxy.server.adminAddress()!.port}/certs`)).json() as { certificates: { name: string; certificate: { subjectAltName: string; serialNumber: string }; trustedCas: number }[] };
    expect(certs.certificates).toEqual([expect.objectContaining({ name: "proxy", trustedCas: 1, certificate: expect.objectContaining({ subjectAltName: `URI:${PROXY}` }) })]);
    expect(certs.certificates[0]!.certificate.serialNumber.toLowerCase().replace(/^0+/, "")).toBe(second.serial.replace(/^0+/, ""));
    keepAlive.destroy();
    await proxy.close();
    await up.close();
  });
});

describe("peer subject DN for impersonation", () => {
  it("a whitelisted server DN may act for a user; the DN comes from the verified certificate", async () => {
    const pki = await createTestPki();
    const secret = pki.writeSecret("proxy", await pki.issue(PROXY));
    const gateway = await pki.issueWithSubject("CN=gateway,O=Acme,C=US", `${TD}/ns/edge/sa/gateway`);
    const stranger = await pki.issueWithSubject("CN=stranger,O=Acme,C=US", `${TD}/ns/edge/sa/stranger`);
    const up = await startUpstream();
    const proxy = await startProxy(`
listeners:
  - name: in
    address: 127.0.0.1:0
    tls: { secret: proxy }
    http:
      accessLog: true
      filters:
        - { name: impersonation, config: { servers: ["CN=gateway,O=Acme,C=US"] } }
        - { name: router }
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }]
clusters:
  - name: up
    endpoints: [127.0.0.1:${up.port}]
secrets:
${secret}
`);
    const asUser = (svid: Svid, path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port: proxy.port(), path, agent: false, headers: { USER_DN: "CN=alice,O=Acme,C=US" }, ...clientTls(svid, pki.bundle) }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
    const ok = await asUser(gateway, "/as-alice");
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as { headers: Record<string, string> }).headers.user_dn).toBe("CN=alice,O=Acme,C=US");
    // @peculiar/x509 encodes the RDNs in the order written, so RFC 4514 (last RDN first) reverses them.
    expect(proxy.accessLog.findLast((l) => l.path === "/as-alice")).toMatchObject({ downstream_peer_subject: "C=US,O=Acme,CN=gateway" });
    expect((await asUser(stranger, "/as-alice-2")).status).toBe(403);
    expect(proxy.accessLog.findLast((l) => l.path === "/as-alice-2")).toMatchObject({ response_code_details: "impersonation_denied{peer_not_whitelisted}" });
    await proxy.close();
    await up.close();
  });
});

describe("outbound mTLS over HTTP/2 (gRPC)", () => {
  it("negotiates h2 by ALPN to the upstream and passes trailers through", async () => {
    const { createSecureServer } = await import("node:http2");
    const pki = await createTestPki();
    const server = await pki.issue(BACKEND);
    const secret = pki.writeSecret("proxy", await pki.issue(PROXY));
    const up = createSecureServer({ cert: server.cert, key: server.key, ca: pki.bundle, requestCert: true, rejectUnauthorized: true });
    up.on("stream", (stream, _headers) => {
      const client = spiffeIdOf((stream.session!.socket as TLSSocket).getPeerCertificate());
      stream.resume();
      stream.on("end", () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "x-client": String(client) }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    const port = await listen(up);
    const proxy = await startProxy(`
listeners:
  - name: out
    address: 127.0.0.1:0
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: g } }] }] }
clusters:
  - name: g
    protocol: grpc
    tls: { secret: proxy, expectedIdentities: ["${BACKEND}"] }
    endpoints: [127.0.0.1:${port}]
secrets:
${secret}
`);
    const s = h2connect(`http://127.0.0.1:${proxy.port()}`);
    const got = await new Promise<{ client: string; status: string }>((resolve, reject) => {
      const st = s.request({ ":method": "POST", ":path": "/svc/M", "content-type": "application/grpc", te: "trailers" });
      let client = "";
      st.on("response", (h) => (client = String(h["x-client"])));
      st.on("trailers", (t) => resolve({ client, status: String(t["grpc-status"]) }));
      st.on("error", reject);
      st.resume();
      st.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    s.close();
    expect(got).toEqual({ client: PROXY, status: "0" });
    await proxy.close();
    up.close();
  });
});

describe("mTLS on TCP listeners and clusters", () => {
  it("terminates mTLS on a TCP port and originates it to a TCP upstream with the SPIFFE ID checked", async () => {
    const { createServer: createTlsServer, connect: tlsConnectFn } = await import("node:tls");
    const pki = await createTestPki();
    const client = await pki.issue(FRONTEND);
    const server = await pki.issue(BACKEND);
    const secret = pki.writeSecret("proxy", await pki.issue(PROXY));
    // The upstream: a TLS server that requires a client certificate and answers with the peer's SPIFFE ID.
    const db = createTlsServer({ cert: server.cert, key: server.key, ca: pki.bundle, requestCert: true, rejectUnauthorized: true }, (s) => {
      s.once("data", (d: Buffer) => s.end(`${d.toString()} from ${spiffeIdOf(s.getPeerCertificate())}`));
    });
    const dbPort = await listen(db as unknown as import("node:net").Server);
    const proxy = await startProxy(`
listeners:
  - name: db
    address: 127.0.0.1:0
    tls: { secret: proxy }
    tcp: { cluster: db }
clusters:
  - name: db
    tls: { secret: proxy, expectedIdentities: ["${BACKEND}"] }
    endpoints: [127.0.0.1:${dbPort}]
secrets:
${secret}
`);
    const talk = (opts: object) => new Promise<string>((resolve, reject) => {
      const s = tlsConnectFn({ host: "127.0.0.1", port: proxy.port(), ...opts });
      let got = "";
      s.on("secureConnect", () => s.write("ping"));
      s.on("data", (d: Buffer) => (got += d.toString()));
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });
    expect(await talk(clientTls(client, pki.bundle))).toBe(`ping from ${PROXY}`);
    const rogue = await (await createTestPki()).issue(FRONTEND);
    // TLS 1.3: the client may finish its side of the handshake before the server rejects its certificate.
    expect(await talk(clientTls(rogue, pki.bundle)).catch(() => "rejected")).toMatch(/^(rejected)?$/);
    await proxy.close();
    db.close();
  });
});
