/**
 * The raw-socket HTTP/1.1 server (`h1-server.ts`) on the cases the shared suites touch least: HTTP/1.0
 * clients, pipelined requests with bodies, a request line without Host, other expectations than
 * 100-continue, a local reply to a request whose body is still unread, and CONNECT. Real sockets on port 0.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countResponses, httpListenerYaml, rawExchange, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

/** Writes `bytes` and collects everything until the proxy closes. */
function untilClosed(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write(bytes));
    let got = "";
    s.on("data", (c: Buffer) => (got += c.toString("latin1")));
    s.on("error", reject);
    s.on("close", () => resolve(got));
  });
}

describe("raw HTTP/1.1 server", () => {
  let echo: Upstream;
  let chunky: Upstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    echo = await startUpstream((req, res, body) => {
      const out = `${req.method} ${req.url} ${body.toString("latin1")}`;
      res.writeHead(200, { "content-length": Buffer.byteLength(out) });
      res.end(out);
    });
    // No Content-Length: the upstream chunks its answer.
    chunky = await startUpstream((_req, res) => {
      res.write("part one, ");
      setTimeout(() => res.end("part two"), 10);
    });
    proxy = await startProxy(httpListenerYaml(`
- name: chunky
  match: { prefix: /chunky }
  route: { cluster: chunky }
- name: echo
  match: { prefix: /echo }
  route: { cluster: echo }
`, `
- name: echo
  endpoints: [127.0.0.1:${echo.port}]
- name: chunky
  endpoints: [127.0.0.1:${chunky.port}]
`));
  });
  afterAll(async () => {
    await proxy.close();
    await echo.close();
    await chunky.close();
  });

  it("answers HTTP/1.0 and closes; a body of unknown length is close-delimited, not chunked", async () => {
    const text = await untilClosed(proxy.port(), "GET /chunky HTTP/1.0\r\nhost: x\r\n\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text.toLowerCase()).not.toContain("transfer-encoding");
    expect(text.toLowerCase()).toContain("connection: close");
    expect(text.endsWith("\r\n\r\npart one, part two")).toBe(true);
  });

  it("keeps an HTTP/1.0 keep-alive connection open and says so", async () => {
    const text = await rawExchange(proxy.port(), [
      { write: "GET /echo/a HTTP/1.0\r\nhost: x\r\nconnection: keep-alive\r\n\r\n", until: (t) => t.includes("GET /echo/a ") },
      { write: "GET /echo/b HTTP/1.0\r\nhost: x\r\nconnection: keep-alive\r\n\r\n", until: (t) => t.includes("GET /echo/b ") },
    ]);
    expect(countResponses(text)).toBe(2);
    expect(text.toLowerCase()).toContain("connection: keep-alive");
  });

  it("answers pipelined requests with bodies in order, each with its own body", async () => {
    const reqs = [1, 2, 3].map((i) => `POST /echo/p${i} HTTP/1.1\r\nhost: x\r\ncontent-length: 6\r\n\r\nbody-${i}`).join("")
      + "POST /echo/p4 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nbod\r\n3\r\ny-4\r\n0\r\n\r\n";
    const text = await rawExchange(proxy.port(), [{ write: reqs, until: (t) => countResponses(t) === 4 && t.includes("body-4") }]);
    expect([...text.matchAll(/POST (\/echo\/p\d) (body-\d)/g)].map((m) => `${m[1]} ${m[2]}`))
      .toEqual(["/echo/p1 body-1", "/echo/p2 body-2", "/echo/p3 body-3", "/echo/p4 body-4"]);
  });

  it("refuses an HTTP/1.1 request without Host (400 DPE) and closes", async () => {
    const logged = proxy.accessLog.length;
    const text = await rawExchange(proxy.port(), [{ write: "GET /echo/nohost HTTP/1.1\r\n\r\n" }]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(proxy.accessLog.slice(logged)).toContainEqual(expect.objectContaining({ response_code: 400, response_flags: "DPE" }));
  });

  it("answers an expectation other than 100-continue with 417, without forwarding", async () => {
    const text = await rawExchange(proxy.port(), [{ write: "POST /echo/expect HTTP/1.1\r\nhost: x\r\nexpect: teapot\r\ncontent-length: 2\r\n\r\nhi" }]);
    expect(text).toMatch(/^HTTP\/1\.1 417 /);
    expect(text).not.toContain("/echo/expect");
  });

  it("keeps the connection after a local reply to a request whose body was not read", async () => {
    const body = "z".repeat(100_000);
    const text = await rawExchange(proxy.port(), [
      { write: `POST /nowhere HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`, until: (t) => t.includes("404") },
      { write: "GET /echo/after HTTP/1.1\r\nhost: x\r\n\r\n", until: (t) => t.includes("GET /echo/after ") },
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 404 /);
    expect(countResponses(text)).toBe(2);
  });

  it("closes a CONNECT request's connection without forwarding anything", async () => {
    const before = echo.connections;
    const text = await untilClosed(proxy.port(), "CONNECT 127.0.0.1:1 HTTP/1.1\r\nhost: 127.0.0.1:1\r\n\r\n");
    expect(text).toBe("");
    expect(echo.connections).toBe(before);
  });
});
