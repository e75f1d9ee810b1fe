/**
 * weft's telemetry wired into the Node proxy, over real sockets: Istio's metrics on the admin
 * `/stats/prometheus` with the right labels (reporter, the peer's SPIFFE ID as source_principal,
 * connection_security_policy, response code and flags, gRPC status, bytes) for HTTP/1.1 and h2/gRPC
 * over plaintext and mTLS and for TCP over mTLS; the JSON access log file with Envoy's response flags
 * (NR, UF); and no Istio telemetry without a `telemetry:` section.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as h2connect, createServer as createH2Server, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, createServer as createNetServer, type Server as NetServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logLines, samples, scrape } from "./telemetry-test-support.ts";
import { closedPort, listen, rawExchange, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";
import { clientTls, createTestPki, type Svid, type TestPki } from "./tls-test-support.ts";

const TD = "spiffe://cluster.local";
const CLIENT = `${TD}/ns/shop/sa/frontend`;
const PROXY = `${TD}/ns/default/sa/reviews`;

function h2Get(port: number, tlsOpts: object, headers: Record<string, string>, body?: Buffer): Promise<{ headers: IncomingHttpHeaders; trailers?: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { ...tlsOpts, ALPNProtocols: ["h2"] });
    session.on("error", reject);
    const req = session.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    let data = "";
    req.on("response", (h) => (head = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => (data += c.toString("latin1")));
    req.on("end", () => {
      session.close();
      resolve({ headers: head, ...(trailers ? { trailers } : {}), body: data });
    });
    req.on("error", reject);
    if (body !== undefined) req.end(body);
  });
}

function grpcUpstream(): Http2Server {
  const server = createH2Server();
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("data", () => undefined);
    stream.on("end", () => {
      const fail = String(headers[":path"]).endsWith("/Fail");
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": fail ? "5" : "0" }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 104, 105]));
    });
  });
  return server;
}

describe("Istio telemetry on an inbound proxy (plaintext and mTLS, HTTP/1.1, gRPC, TCP)", () => {
  let pki: TestPki;
  let client: Svid;
  let echo: Upstream;
  let grpc: Http2Server;
  let tcpEcho: NetServer;
  let proxy: TestProxy;
  let logPath: string;

  beforeAll(async () => {
    pki = await createTestPki();
    client = await pki.issue(CLIENT);
    const secret = pki.writeSecret("proxy", await pki.issue(PROXY));
    echo = await startUpstream();
    grpc = grpcUpstream();
    const grpcPort = await listen(grpc);
    tcpEcho = createNetServer((s) => s.pipe(s));
    const tcpPort = await listen(tcpEcho);
    const dead = await closedPort();
    logPath = join(mkdtempSync(join(tmpdir(), "weft-tel-")), "access.log");
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
workload: { name: reviews-v1, namespace: default, app: reviews, version: v1, principal: "${PROXY}" }
telemetry:
  accessLog: { path: ${logPath} }
  tracing: { samplingPercent: 0 }
listeners:
  - name: plain
    address: 127.0.0.1:0
    http:
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
            - { match: { prefix: /dead }, route: { cluster: dead } }
            - { match: { prefix: /api }, route: { cluster: echo } }
            - { match: { prefix: /pkg. }, route: { cluster: grpc } }
  - name: tcp-plain
    address: 127.0.0.1:0
    tcp: { cluster: tcp-echo }
  - name: mtls
    address: 127.0.0.1:0
    tls: { secret: proxy }
    http:
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
            - { match: { prefix: /pkg. }, route: { cluster: grpc } }
            - { route: { cluster: echo } }
  - name: tcp
    address: 127.0.0.1:0
    tls: { secret: proxy }
    tcp: { cluster: tcp-echo }
clusters:
  - { name: echo, service: reviews.default.svc.cluster.local, endpoints: ["127.0.0.1:${echo.port}"] }
  - { name: grpc, protocol: grpc, service: reviews.default.svc.cluster.local, endpoints: ["127.0.0.1:${grpcPort}"] }
  - { name: dead, endpoints: ["127.0.0.1:${dead}"] }
  - { name: tcp-echo, endpoints: ["127.0.0.1:${tcpPort}"] }
secrets:
${secret}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await echo?.close();
    grpc?.close();
    tcpEcho?.close();
  });

  it("counts plaintext HTTP/1.1 requests with Istio's labels, bytes and durations", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${proxy.port("plain")}/api/x`, { method: "POST", body: "hello" });
      expect(r.status).toBe(200);
      await r.text();
    }
    const text = await scrape(proxy);
    expect(text).toContain("weft_requests_total{"); // weft's own stats are still served
    const ok = samples(text, "istio_requests_total").filter((s) => s.labels.response_code === "200" && s.labels.connection_security_policy === "none");
    expect(ok).toHaveLength(1);
    expect(ok[0]!.value).toBe(3);
    expect(ok[0]!.labels).toMatchObject({
      reporter: "destination", source_principal: "unknown", destination_workload: "reviews-v1", destination_workload_namespace: "default",
      destination_app: "reviews", destination_version: "v1", destination_principal: PROXY, destination_service: "reviews.default.svc.cluster.local",
      destination_service_name: "reviews", destination_service_namespace: "default", request_protocol: "http", response_flags: "-",
    });
    const reqBytes = samples(text, "istio_request_bytes_sum").find((s) => s.labels.response_code === "200" && s.labels.connection_security_policy === "none");
    expect(reqBytes?.value).toBe(15);
    const respBytes = samples(text, "istio_response_bytes_sum").find((s) => s.labels.response_code === "200" && s.labels.connection_security_policy === "none");
    expect(respBytes!.value).toBeGreaterThan(3 * 100);
    const count = samples(text, "istio_request_duration_milliseconds_count").find((s) => s.labels.response_code === "200" && s.labels.connection_security_policy === "none");
    expect(count?.value).toBe(3);
  });

  it("logs one JSON line per request with NR and UF flags, and counts them by flag", async () => {
    const before = existsSync(logPath) ? readFileSync(logPath, "utf8").split("\n").filter(Boolean).length : 0;
    const nr = await fetch(`http://127.0.0.1:${proxy.port("plain")}/nowhere?q=1`);
    expect(nr.status).toBe(404);
    await nr.text();
    const uf = await fetch(`http://127.0.0.1:${proxy.port("plain")}/dead`);
    expect(uf.status).toBe(503);
    await uf.text();
    const lines = (await logLines(logPath, before + 2)).slice(before);
    expect(lines.map((l) => [l.path, l.response_code, l.response_flags])).toEqual([["/nowhere?q=1", 404, "NR"], ["/dead", 503, "UF"]]);
    expect(lines[1]).toMatchObject({ method: "GET", protocol: "HTTP/1.1", upstream_cluster: "dead", connection_security_policy: "none", response_code_details: "upstream_reset_before_response_started" });
    expect(typeof lines[1]!.upstream_transport_failure_reason).toBe("string");
    const text = await scrape(proxy);
    const flagged = samples(text, "istio_requests_total").filter((s) => s.labels.response_flags !== "-").map((s) => `${s.labels.response_code} ${s.labels.response_flags} ${s.value}`);
    expect(flagged.sort()).toEqual(["404 NR 1", "503 UF 1"]);
  });

  it("counts a request the HTTP/1.1 codec rejects as 400 DPE", async () => {
    const reply = await rawExchange(proxy.port("plain"), [{ write: "GET /api HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", until: (r) => r.includes("\r\n\r\n") }]);
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    let dpe: ReturnType<typeof samples> = [];
    for (let i = 0; i < 100 && dpe.length === 0; i++) {
      dpe = samples(await scrape(proxy), "istio_requests_total").filter((x) => x.labels.response_flags === "DPE");
      if (dpe.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(dpe.map((x) => [x.labels.response_code, x.labels.reporter, x.value])).toEqual([["400", "destination", 1]]);
  });

  it("takes source_principal from the peer SVID and reports mutual_tls for HTTP/1.1 and gRPC over h2", async () => {
    const tlsOpts = clientTls(client, pki.bundle);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port: proxy.port("mtls"), path: "/hello", ...tlsOpts, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(200);
    const headers = { ":method": "POST", ":path": "/pkg.Svc/Get", "content-type": "application/grpc", te: "trailers" };
    const ok = await h2Get(proxy.port("mtls"), tlsOpts, headers, Buffer.from([0, 0, 0, 0, 0]));
    expect(ok.trailers?.["grpc-status"]).toBe("0");
    const fail = await h2Get(proxy.port("mtls"), tlsOpts, { ...headers, ":path": "/pkg.Svc/Fail" }, Buffer.from([0, 0, 0, 0, 0]));
    expect(fail.trailers?.["grpc-status"]).toBe("5");

    const text = await scrape(proxy);
    const mtls = samples(text, "istio_requests_total").filter((s) => s.labels.connection_security_policy === "mutual_tls");
    const rows = mtls.map((s) => `${s.labels.request_protocol} ${s.labels.response_code} ${s.labels.grpc_response_status} ${s.value}`).sort();
    expect(rows).toEqual(["grpc 200 0 1", "grpc 200 5 1", "http 200  1"]);
    for (const s of mtls) expect(s.labels).toMatchObject({ reporter: "destination", source_principal: CLIENT, source_workload_namespace: "shop", destination_principal: PROXY });
  });

  it("reports TCP connections over mTLS: opened, closed and bytes both ways", async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port: proxy.port("tcp"), ...clientTls(client, pki.bundle) }, () => s.write("ping-pong"));
      let got = "";
      s.on("data", (c: Buffer) => {
        got += c.toString();
        if (got.length >= 9) s.end();
      });
      s.on("close", () => resolve(got));
      s.on("error", reject);
    });
    expect(echoed).toBe("ping-pong");
    let text = "";
    for (let i = 0; i < 100; i++) {
      text = await scrape(proxy);
      if (samples(text, "istio_tcp_connections_closed_total").length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const opened = samples(text, "istio_tcp_connections_opened_total");
    const closed = samples(text, "istio_tcp_connections_closed_total");
    expect(opened.map((s) => [s.labels.source_principal, s.labels.connection_security_policy, s.labels.request_protocol, s.value])).toEqual([[CLIENT, "mutual_tls", "tcp", 1]]);
    expect(closed.map((s) => s.value)).toEqual([1]);
    expect(samples(text, "istio_tcp_received_bytes_total")[0]?.value).toBe(9);
    expect(samples(text, "istio_tcp_sent_bytes_total")[0]?.value).toBe(9);
  });

  it("reports plaintext gRPC (h2c) and plaintext TCP with connection_security_policy none", async () => {
    const session = h2connect(`http://127.0.0.1:${proxy.port("plain")}`);
    const trailers = await new Promise<IncomingHttpHeaders | undefined>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": "/pkg.Svc/Fail", "content-type": "application/grpc", te: "trailers" });
      let t: IncomingHttpHeaders | undefined;
      req.on("trailers", (x) => (t = x));
      req.on("data", () => undefined);
      req.on("end", () => resolve(t));
      req.on("error", reject);
      req.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    session.close();
    expect(trailers?.["grpc-status"]).toBe("5");
    await new Promise<void>((resolve, reject) => {
      const s = netConnect(proxy.port("tcp-plain"), "127.0.0.1", () => s.end("abc"));
      s.on("data", () => undefined);
      s.on("close", () => resolve());
      s.on("error", reject);
    });
    let text = "";
    for (let i = 0; i < 100; i++) {
      text = await scrape(proxy);
      if (samples(text, "istio_tcp_connections_closed_total").some((x) => x.labels.connection_security_policy === "none")) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const grpc = samples(text, "istio_requests_total").filter((x) => x.labels.request_protocol === "grpc" && x.labels.connection_security_policy === "none");
    expect(grpc.map((x) => [x.labels.grpc_response_status, x.labels.source_principal, x.value])).toEqual([["5", "unknown", 1]]);
    const tcp = samples(text, "istio_tcp_received_bytes_total").filter((x) => x.labels.connection_security_policy === "none");
    expect(tcp.map((x) => x.value)).toEqual([3]);
  });
});

describe("a proxy without a telemetry section", () => {
  it("serves only weft's own stats and adds no trace headers", async () => {
    const echo = await startUpstream();
    const proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }] }
clusters: [{ name: up, endpoints: ["127.0.0.1:${echo.port}"] }]
`);
    try {
      const r = await fetch(`http://127.0.0.1:${proxy.port()}/`);
      const body = (await r.json()) as { headers: Record<string, string> };
      expect(body.headers.traceparent).toBeUndefined();
      const text = await scrape(proxy);
      expect(text).toContain("weft_requests_total{");
      expect(text).not.toContain("istio_requests_total");
      expect(proxy.server.telemetry()).toBeUndefined();
    } finally {
      await proxy.close();
      await echo.close();
    }
  });
});
