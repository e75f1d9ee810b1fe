import { Agent, request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, countResponses, httpListenerYaml, rawExchange, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  rawHeaders: string[];
  body: string;
}

function send(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer[]; agent?: Agent } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no response for ${path}`)));
    if (Array.isArray(opts.body)) for (const b of opts.body) req.write(b);
    else if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

describe("HTTP/1.1 proxying", () => {
  let echo: Upstream;
  let streamer: Upstream;
  let hang: Upstream;
  let reset: Upstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    echo = await startUpstream();
    streamer = await startUpstream((req, res) => {
      // No content-length: the upstream chunks; 3 MB in 64 KiB pieces exercises backpressure.
      res.writeHead(200, { "content-type": "application/octet-stream", connection: "keep-alive, x-upstream-secret", "x-upstream-secret": "1", "keep-alive": "timeout=5" });
      const piece = Buffer.alloc(64 * 1024, 120);
      let left = 48;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!res.write(piece)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
    hang = await startUpstream(() => undefined);
    reset = await startUpstream((req) => req.socket.destroy());
    const dead = await closedPort();
    proxy = await startProxy(httpListenerYaml(`
- name: direct
  match: { path: /direct }
  directResponse: { status: 418, body: "short and stout", headers: { x-teapot: "yes" } }
- name: redirect
  match: { prefix: /old/ }
  redirect: { prefix: /new/, status: 302 }
- name: stream
  match: { prefix: /stream }
  route: { cluster: streamer }
- name: hang
  match: { prefix: /hang }
  route: { cluster: hang, timeoutMs: 300 }
- name: reset
  match: { prefix: /reset }
  route: { cluster: reset }
- name: dead
  match: { prefix: /dead }
  route: { cluster: dead }
- name: unhealthy
  match: { prefix: /unhealthy }
  route: { cluster: unhealthy }
- name: rewrite
  match: { prefix: /api/v1/ }
  route: { cluster: echo, prefixRewrite: /internal/ }
- name: echo
  match: { prefix: /echo }
  route: { cluster: echo }
`, `
- name: echo
  endpoints: [127.0.0.1:${echo.port}]
- name: streamer
  endpoints: [127.0.0.1:${streamer.port}]
- name: hang
  endpoints: [127.0.0.1:${hang.port}]
- name: reset
  endpoints: [127.0.0.1:${reset.port}]
- name: dead
  endpoints: [127.0.0.1:${dead}]
- name: unhealthy
  endpoints: [{ address: 127.0.0.1, port: ${echo.port}, health: unhealthy }]
`));
  });

  afterAll(async () => {
    await proxy.close();
    await Promise.all([echo, streamer, hang, reset].map((u) => u.close()));
  });

  it("forwards requests and reuses upstream connections (keep-alive)", async () => {
    const before = echo.connections;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) {
      const r = await send(proxy.port(), `/echo/${i}?q=${i}`, { agent });
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body.toString()) as Echo).url).toBe(`/echo/${i}?q=${i}`);
    }
    agent.destroy();
    expect(echo.connections - before).toBe(1);
  });

  it("adds x-forwarded-for, x-forwarded-proto and x-request-id; drops hop-by-hop headers", async () => {
    const r = await send(proxy.port(), "/echo", { headers: { "x-forwarded-for": "203.0.113.7", connection: "keep-alive, x-private", "x-private": "secret", "keep-alive": "timeout=9", "proxy-connection": "close", "x-kept": "yes" } });
    const e = JSON.parse(r.body.toString()) as Echo;
    expect(e.headers["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(e.headers["x-forwarded-proto"]).toBe("http");
    expect(e.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.headers["x-kept"]).toBe("yes");
    expect(e.headers.host).toBe(`127.0.0.1:${proxy.port()}`);
    for (const h of ["x-private", "keep-alive", "proxy-connection"]) expect(e.headers[h]).toBeUndefined();
    const kept = await send(proxy.port(), "/echo", { headers: { "x-request-id": "abc-123" } });
    expect((JSON.parse(kept.body.toString()) as Echo).headers["x-request-id"]).toBe("abc-123");
  });

  it("streams a chunked request body upstream and a large chunked response back", async () => {
    const r = await send(proxy.port(), "/echo/upload", { method: "POST", headers: { "transfer-encoding": "chunked" }, body: [Buffer.from("hello "), Buffer.from("chunked "), Buffer.from("world")] });
    const e = JSON.parse(r.body.toString()) as Echo;
    expect(e.body).toBe("hello chunked world");
    expect(e.headers["transfer-encoding"]).toBe("chunked");
    const big = await send(proxy.port(), "/stream");
    expect(big.status).toBe(200);
    expect(big.body.length).toBe(48 * 64 * 1024);
    expect(big.headers["transfer-encoding"]).toBe("chunked");
    expect(big.headers["x-upstream-secret"]).toBeUndefined();
  });

  it("passes a Content-Length body and answers HEAD without a body", async () => {
    const r = await send(proxy.port(), "/echo/len", { method: "PUT", headers: { "content-length": "5" }, body: "12345" });
    const e = JSON.parse(r.body.toString()) as Echo;
    expect(e.body).toBe("12345");
    expect(e.headers["content-length"]).toBe("5");
    const head = await send(proxy.port(), "/echo/head", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
  });

  it("answers Expect: 100-continue before the body is sent", async () => {
    const text = await rawExchange(proxy.port(), [
      { write: "POST /echo/continue HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n", until: (t) => t.includes("100 Continue") },
      { write: "ping", until: (t) => t.includes("\"body\":\"ping\"") },
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    expect(text).toContain("HTTP/1.1 200 OK");
    expect(text).not.toContain("100-continue"); // not forwarded: the proxy answered it
  });

  it("answers pipelined requests in order", async () => {
    const reqs = [1, 2, 3].map((i) => `GET /echo/p${i} HTTP/1.1\r\nhost: x\r\n\r\n`).join("");
    const text = await rawExchange(proxy.port(), [{ write: reqs, until: (t) => countResponses(t) === 3 && t.includes("/echo/p3\"") }]);
    const order = [...text.matchAll(/"url":"(\/echo\/p\d)"/g)].map((m) => m[1]);
    expect(order).toEqual(["/echo/p1", "/echo/p2", "/echo/p3"]);
  });

  it("serves direct responses and redirects", async () => {
    const d = await send(proxy.port(), "/direct");
    expect(d.status).toBe(418);
    expect(d.body.toString()).toBe("short and stout");
    expect(d.headers["x-teapot"]).toBe("yes");
    const r = await send(proxy.port(), "/old/page?x=1", { headers: { host: "site.test" } });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe("http://site.test/new/page?x=1");
  });

  it("rewrites the path prefix", async () => {
    const r = await send(proxy.port(), "/api/v1/users?id=3");
    expect((JSON.parse(r.body.toString()) as Echo).url).toBe("/internal/users?id=3");
  });

  it("gives the right status and response flag when things fail", async () => {
    const cases: [string, number, string][] = [
      ["/nothing-here", 404, "NR"],
      ["/unhealthy", 503, "UH"],
      ["/dead", 503, "UF"],
      ["/reset", 502, "UC"],
      ["/hang", 504, "UT"],
    ];
    for (const [path, status, flag] of cases) {
      const r = await send(proxy.port(), path);
      expect([path, r.status]).toEqual([path, status]);
      const entry = proxy.accessLog.findLast((e) => e.path === path);
      expect(entry).toMatchObject({ response_code: status, response_flags: flag });
    }
    const prom = proxy.server.stats.renderPrometheus();
    expect(prom).toContain('weft_requests_total{cluster="hang",response_code="504"} 1');
    expect(prom).toContain('weft_response_flags_total{cluster="dead",response_flags="UF"} 1');
    // The proxy is still up and serving.
    expect((await send(proxy.port(), "/echo")).status).toBe(200);
  });

  it("records DC when the client goes away before the response", async () => {
    const before = hang.connections;
    const s = connect(proxy.port(), "127.0.0.1");
    s.write("GET /hang/dc HTTP/1.1\r\nhost: x\r\n\r\n");
    await expect.poll(() => hang.connections).toBeGreaterThan(before);
    s.destroy();
    await expect.poll(() => proxy.accessLog.find((e) => e.path === "/hang/dc")).toMatchObject({ response_flags: "DC" });
  });
});
