import { createServer as createHttpServer } from "node:http";
import { connect as h2connect } from "node:http2";
import { connect, createServer as createNetServer, type Server } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, listen, startProxy, type TestProxy } from "./test-support.ts";

describe("WebSocket upgrades and TCP proxying", () => {
  let wsHttp: ReturnType<typeof createHttpServer>;
  let tcpEcho: Server;
  let proxy: TestProxy;
  const seenPaths: string[] = [];

  beforeAll(async () => {
    wsHttp = createHttpServer((_req, res) => res.end("plain"));
    const wss = new WebSocketServer({ server: wsHttp });
    wss.on("connection", (ws, req) => {
      seenPaths.push(`${req.url} xff=${String(req.headers["x-forwarded-for"])}`);
      ws.on("message", (data, isBinary) => ws.send(isBinary ? data : `echo:${String(data)}`, { binary: isBinary }));
    });
    const wsPort = await listen(wsHttp);
    tcpEcho = createNetServer((s) => {
      s.on("data", (d) => s.write(Buffer.concat([Buffer.from("tcp:"), d])));
      s.on("end", () => s.end());
    });
    const tcpPort = await listen(tcpEcho);
    const dead = await closedPort();
    proxy = await startProxy(`
listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      accessLog: true
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
            - match: { prefix: /ws/ }
              route: { cluster: ws, prefixRewrite: /socket/ }
  - name: tcp
    address: 127.0.0.1:0
    tcp: { cluster: tcp }
  - name: tcp-dead
    address: 127.0.0.1:0
    tcp: { cluster: dead }
clusters:
  - name: ws
    endpoints: [127.0.0.1:${wsPort}]
  - name: tcp
    endpoints: [127.0.0.1:${tcpPort}]
  - name: dead
    endpoints: [127.0.0.1:${dead}]
`);
  });

  afterAll(async () => {
    await proxy.close();
    wsHttp.closeAllConnections();
    await new Promise<void>((r) => wsHttp.close(() => r()));
    await new Promise<void>((r) => tcpEcho.close(() => r()));
  });

  it("tunnels a WebSocket both ways, text and binary", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port("web")}/ws/chat`);
    const got: (string | Buffer)[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => {
        ws.send("hello");
        ws.send(Buffer.from([1, 2, 3]));
      });
      ws.on("message", (data, isBinary) => {
        got.push(isBinary ? (data as Buffer) : String(data));
        if (got.length === 2) resolve();
      });
      ws.on("error", reject);
    });
    ws.close();
    expect(got[0]).toBe("echo:hello");
    expect(Buffer.from(got[1] as Buffer)).toEqual(Buffer.from([1, 2, 3]));
    expect(seenPaths).toContain("/socket/chat xff=127.0.0.1");
    await expect.poll(() => proxy.server.stats.renderPrometheus()).toContain('weft_requests_total{cluster="ws",response_code="101"} 1');
  });

  it("tunnels WebSocket over HTTP/2 (RFC 8441 extended CONNECT) to an HTTP/1.1 upstream", async () => {
    const session = h2connect(`http://127.0.0.1:${proxy.port("web")}`);
    await new Promise<void>((resolve) => session.once("remoteSettings", (s) => {
      expect(s.enableConnectProtocol).toBe(true);
      resolve();
    }));
    const stream = session.request({ ":method": "CONNECT", ":protocol": "websocket", ":path": "/ws/h2", ":scheme": "http", ":authority": "chat.test", "sec-websocket-version": "13" }, { endStream: false });
    const status = await new Promise<number>((resolve) => stream.once("response", (h) => resolve(Number(h[":status"]))));
    expect(status).toBe(200);
    // A masked client text frame "hi"; the echo comes back as an unmasked server frame.
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from("hi").map((b, i) => b ^ mask[i % 4]!);
    stream.write(Buffer.concat([Buffer.from([0x81, 0x80 | 2]), mask, payload]));
    const frame = await new Promise<Buffer>((resolve) => stream.once("data", (d: Buffer) => resolve(d)));
    expect(frame[0]).toBe(0x81);
    expect(frame.subarray(2, 2 + frame[1]!).toString()).toBe("echo:hi");
    stream.close();
    session.close();
    expect(seenPaths).toContain("/socket/h2 xff=127.0.0.1");
    await expect.poll(() => proxy.accessLog.find((l) => l.path === "/ws/h2")).toMatchObject({ method: "CONNECT", protocol: "HTTP/2", response_code: 200, upstream_cluster: "ws" });
  });

  it("refuses an upgrade with no route with a 404", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port("web")}/nope`);
    const status = await new Promise<number>((resolve) => ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
  });

  it("proxies raw TCP and closes cleanly", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(proxy.port("tcp"), "127.0.0.1");
      let got = "";
      s.on("connect", () => s.end("ping"));
      s.on("data", (d) => (got += d.toString()));
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });
    expect(text).toBe("tcp:ping");
  });

  it("closes a TCP connection whose upstream is down, and records UF", async () => {
    await new Promise<void>((resolve) => {
      const s = connect(proxy.port("tcp-dead"), "127.0.0.1");
      s.on("close", () => resolve());
      s.on("error", () => undefined);
    });
    await expect.poll(() => proxy.server.stats.renderPrometheus()).toContain('weft_response_flags_total{cluster="dead",response_flags="UF"} 1');
  });
});
