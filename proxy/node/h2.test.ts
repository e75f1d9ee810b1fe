import { connect, createServer, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, httpListenerYaml, listen, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

/** A gRPC-shaped HTTP/2 server: echoes the request body in one message, then trailers. */
function grpcServer(): Http2Server {
  const server = createServer();
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const path = String(headers[":path"]);
      if (path.endsWith("/Fail")) {
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "5", "grpc-message": "not found" }));
        stream.end();
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc", "x-echo-te": String(headers.te), "x-echo-path": path }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "ok" }));
      stream.end(Buffer.concat(chunks));
    });
  });
  return server;
}

function grpcFrame(text: string): Buffer {
  const msg = Buffer.from(text);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

interface H2Result { headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders | undefined; body: Buffer }

function h2request(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on("response", (h) => (head = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve({ headers: head, trailers, body: Buffer.concat(chunks) }));
    req.on("error", reject);
    if (body !== undefined) req.end(body);
  });
}

describe("HTTP/2 and gRPC", () => {
  let echo: Upstream;
  let grpc: Http2Server;
  let proxy: TestProxy;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    echo = await startUpstream();
    grpc = grpcServer();
    const grpcPort = await listen(grpc);
    const dead = await closedPort();
    proxy = await startProxy(httpListenerYaml(`
- match: { prefix: /weft.Echo/ }
  route: { cluster: grpc }
- match: { prefix: /weft.Dead/ }
  route: { cluster: dead }
- match: { prefix: /h1 }
  route: { cluster: echo }
`, `
- name: echo
  endpoints: [127.0.0.1:${echo.port}]
- name: grpc
  protocol: grpc
  endpoints: [127.0.0.1:${grpcPort}]
- name: dead
  protocol: grpc
  endpoints: [127.0.0.1:${dead}]
`));
    session = connect(`http://127.0.0.1:${proxy.port()}`);
  });

  afterAll(async () => {
    session.close();
    await proxy.close();
    await echo.close();
    await new Promise<void>((r) => grpc.close(() => r()));
  });

  it("serves h2c (prior knowledge) and forwards to an HTTP/1.1 upstream", async () => {
    const r = await h2request(session, { ":method": "GET", ":path": "/h1/x?y=1", "x-custom": "v" });
    expect(r.headers[":status"]).toBe(200);
    const e = JSON.parse(r.body.toString()) as { url: string; headers: Record<string, string> };
    expect(e.url).toBe("/h1/x?y=1");
    expect(e.headers["x-custom"]).toBe("v");
    expect(e.headers.host).toBe(`127.0.0.1:${proxy.port()}`);
    expect(proxy.accessLog.findLast((l) => l.path === "/h1/x?y=1")).toMatchObject({ protocol: "HTTP/2", response_code: 200 });
  });

  it("passes gRPC end to end over HTTP/2 with trailers", async () => {
    const r = await h2request(session, { ":method": "POST", ":path": "/weft.Echo/Say", "content-type": "application/grpc", te: "trailers" }, grpcFrame("hi"));
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["content-type"]).toBe("application/grpc");
    expect(r.headers["x-echo-te"]).toBe("trailers");
    expect(r.body.equals(grpcFrame("hi"))).toBe(true);
    expect(r.trailers).toMatchObject({ "grpc-status": "0", "grpc-message": "ok" });
  });

  it("passes gRPC error statuses in trailers", async () => {
    const r = await h2request(session, { ":method": "POST", ":path": "/weft.Echo/Fail", "content-type": "application/grpc", te: "trailers" }, grpcFrame("x"));
    expect(r.trailers).toMatchObject({ "grpc-status": "5", "grpc-message": "not found" });
  });

  it("answers gRPC requests it cannot forward with grpc-status UNAVAILABLE (trailers-only)", async () => {
    const r = await h2request(session, { ":method": "POST", ":path": "/weft.Dead/Call", "content-type": "application/grpc", te: "trailers" }, grpcFrame("x"));
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["grpc-status"]).toBe("14");
    expect(proxy.accessLog.findLast((l) => l.path === "/weft.Dead/Call")).toMatchObject({ response_flags: "UF" });
  });

  it("forwards HTTP/1.1 clients to an HTTP/2 upstream", async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.port()}/weft.Echo/Say`, { method: "POST", headers: { "content-type": "application/grpc" }, body: new Uint8Array(grpcFrame("from h1")) });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(grpcFrame("from h1"))).toBe(true);
  });

  it("multiplexes concurrent streams on one downstream connection", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      h2request(session, { ":method": "POST", ":path": `/weft.Echo/N${i}`, "content-type": "application/grpc", te: "trailers" }, grpcFrame(`m${i}`))));
    results.forEach((r, i) => {
      expect(r.headers["x-echo-path"]).toBe(`/weft.Echo/N${i}`);
      expect(r.trailers?.["grpc-status"]).toBe("0");
    });
  });
});
