/**
 * The bad-input suite: hostile or broken requests and upstreams, over real sockets. Each case checks
 * the status, the response flag in the JSON access log, that nothing reached the upstream when it must
 * not, and that the proxy keeps serving the next request.
 */
import { connect } from "node:net";
import { connect as h2connect } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathBypassCases } from "../../test-support/path-bypass-cases.ts";
import { rawExchange, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

const firstStatus = (text: string) => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
const countOk = (text: string) => text.split("HTTP/1.1 200").length - 1;
const untilHead = (t: string) => /\r\n\r\n/.test(t);

/** Sends raw bytes; resolves with everything received until the proxy closes the connection (or 5 s). */
function untilClosed(port: number, bytes: string | Buffer): Promise<string> {
  return rawExchange(port, [{ write: typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes }]);
}

describe("bad input", () => {
  let up: Upstream;
  let midBody: Upstream;
  let proxy: TestProxy;
  const seen: string[] = [];

  beforeAll(async () => {
    up = await startUpstream((req, res) => {
      seen.push(req.url ?? "");
      res.end(`ok ${req.url}`);
    });
    midBody = await startUpstream((_req, res) => {
      // Promises 100 bytes, sends 10, then resets the connection.
      res.writeHead(200, { "content-length": "100" });
      res.write("0123456789");
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const rbac = `
        - name: rbac
          config:
            namespace: default
            policies:
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: deny-admin, namespace: default }
                spec:
                  action: DENY
                  rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*", "/admin;*"] } }] }]
        - name: router`;
    const routes = `
      virtualHosts:
        - name: all
          domains: ["*"]
          routes:
            - { match: { prefix: /mid-body }, route: { cluster: midbody } }
            - { route: { cluster: up } }`;
    proxy = await startProxy(`
listeners:
  - name: base
    address: 127.0.0.1:0
    http:
      accessLog: true
      requestHeadersTimeoutMs: 300
      idleTimeoutMs: 400
      maxRequestHeadersBytes: 4096
      filters:${rbac}${routes}
  - name: limited
    address: 127.0.0.1:0
    http:
      accessLog: true
      maxRequestBodyBytes: 16
      filters: [{ name: router }]${routes}
  - name: strict-paths
    address: 127.0.0.1:0
    http:
      accessLog: true
      pathNormalization: DECODE_AND_MERGE_SLASHES
      filters:${rbac}${routes}
clusters:
  - name: up
    endpoints: [127.0.0.1:${up.port}]
  - name: midbody
    endpoints: [127.0.0.1:${midBody.port}]
`);
  });
  afterAll(async () => {
    await proxy.close();
    await up.close();
    await midBody.close();
  });

  async function stillServing(listener = "base"): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${proxy.port(listener)}/still-serving`);
    expect(await res.text()).toBe("ok /still-serving");
  }

  describe("request smuggling and framing (HTTP/1.1)", () => {
    it.each([
      ["Content-Length with Transfer-Encoding", "POST /s1 HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"],
      ["duplicate, differing Content-Length", "POST /s2 HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ncontent-length: 5\r\n\r\nabcde"],
      ["invalid Content-Length", "POST /s3 HTTP/1.1\r\nhost: x\r\ncontent-length: 4x\r\n\r\nabcd"],
      ["negative Content-Length", "POST /s4 HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n"],
      ["Transfer-Encoding other than chunked", "POST /s5 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\nabcd"],
      ["chunked not last", "POST /s6 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked, gzip\r\n\r\n0\r\n\r\n"],
      ["space before the colon", "POST /s7 HTTP/1.1\r\nhost: x\r\ncontent-length : 4\r\n\r\nabcd"],
      ["obs-fold", "GET /s8 HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\n\r\n"],
      ["NUL in a header value", "GET /s9 HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\n\r\n"],
      ["bare CR in a header value", "GET /s10 HTTP/1.1\r\nhost: x\r\nx-a: a\rb\r\n\r\n"],
      ["invalid header name", "GET /s11 HTTP/1.1\r\nhost: x\r\nx(a): 1\r\n\r\n"],
      ["invalid chunk size", "POST /s12 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"],
    ])("%s → 400 DPE, never forwarded", async (_name, bytes) => {
      const before = seen.length;
      const logged = proxy.accessLog.length;
      const text = await untilClosed(proxy.port(), bytes);
      expect(firstStatus(text)).toBe("400");
      expect(seen.slice(before).filter((u) => /^\/s\d+/.test(u))).toEqual([]);
      expect(proxy.accessLog.slice(logged).find((l) => l.response_code === 400)).toMatchObject({ response_flags: "DPE" });
      await stillServing();
    });

    it("an oversized head → 431 DPE", async () => {
      const logged = proxy.accessLog.length;
      const text = await untilClosed(proxy.port(), `GET /big HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(8000)}\r\n\r\n`);
      expect(firstStatus(text)).toBe("431");
      expect(proxy.accessLog.slice(logged)).toContainEqual(expect.objectContaining({ response_code: 431, response_flags: "DPE" }));
      await stillServing();
    });
  });

  describe("maxRequestBodyBytes (16 on the limited listener)", () => {
    const logOf = (path: string) => proxy.accessLog.find((l) => l.path === path && l.listener === "limited");

    it("a declared Content-Length over the limit → 413, never forwarded", async () => {
      const before = seen.length;
      const text = await untilClosed(proxy.port("limited"), `POST /big-declared HTTP/1.1\r\nhost: x\r\ncontent-length: 17\r\n\r\n${"a".repeat(17)}`);
      expect(firstStatus(text)).toBe("413");
      expect(seen.slice(before)).not.toContain("/big-declared");
      await expect.poll(() => logOf("/big-declared")).toMatchObject({ response_code: 413, response_flags: "-", response_code_details: "request_payload_too_large" });
      await stillServing("limited");
    });

    it("a body at the limit is forwarded", async () => {
      const text = await untilClosed(proxy.port("limited"), `POST /at-limit HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 16\r\n\r\n${"a".repeat(16)}`);
      expect(firstStatus(text)).toBe("200");
      expect(text).toContain("ok /at-limit");
    });

    it("a chunked body that crosses the limit → 413, connection closed", async () => {
      const chunk = (n: number) => `${n.toString(16)}\r\n${"b".repeat(n)}\r\n`;
      const text = await untilClosed(proxy.port("limited"), `POST /big-chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${chunk(10)}${chunk(10)}0\r\n\r\n`);
      expect(firstStatus(text)).toBe("413");
      expect(countOk(text)).toBe(0);
      await expect.poll(() => logOf("/big-chunked")).toMatchObject({ response_code: 413, response_flags: "-", response_code_details: "request_payload_too_large" });
      await stillServing("limited");
    });

    it.each([
      ["declared", { "content-length": "40" }],
      ["streamed", {}],
    ])("HTTP/2, %s body over the limit → 413", async (name, extra) => {
      const path = `/h2-${name}`;
      const before = seen.length;
      const session = h2connect(`http://127.0.0.1:${proxy.port("limited")}`);
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const stream = session.request({ ":method": "POST", ":path": path, ...extra });
          stream.on("response", (h) => resolve(Number(h[":status"])));
          stream.on("error", reject);
          stream.write("c".repeat(20));
          stream.end("c".repeat(20));
        });
        expect(status).toBe(413);
      } finally {
        session.close();
      }
      await expect.poll(() => logOf(path)).toMatchObject({ response_code: 413, response_code_details: "request_payload_too_large" });
      if (name === "declared") expect(seen.slice(before)).not.toContain(path);
    });
  });

  describe("slow and idle clients", () => {
    it("a head that arrives too slowly → 408, connection closed", async () => {
      const logged = proxy.accessLog.length;
      const text = await rawExchange(proxy.port(), [{ write: "GET /slow HTTP/1.1\r\nhost: x\r\n", until: (t) => t.length > 0 }]);
      expect(firstStatus(text)).toBe("408");
      expect(proxy.accessLog.slice(logged)).toContainEqual(expect.objectContaining({ response_code: 408, response_code_details: "request_header_timeout" }));
      await stillServing();
    });

    it("an idle keep-alive connection is closed after the idle timeout", async () => {
      const closed = await new Promise<string>((resolve) => {
        const s = connect(proxy.port(), "127.0.0.1");
        let got = "";
        s.on("data", (c: Buffer) => (got += c.toString("latin1")));
        s.on("close", () => resolve(got));
        s.write("GET /idle HTTP/1.1\r\nhost: x\r\n\r\n");
      });
      expect(firstStatus(closed)).toBe("200");
      await stillServing();
    });

    it("a client that leaves mid-body → DC, and the upstream request is abandoned", async () => {
      await new Promise<void>((resolve) => {
        const s = connect(proxy.port(), "127.0.0.1", () => {
          s.write("POST /partial HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly-part");
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 50);
        });
      });
      await expect.poll(() => proxy.accessLog.find((l) => l.path === "/partial")).toMatchObject({ response_flags: "DC" });
      await stillServing();
    });
  });

  describe("broken upstreams", () => {
    it("an upstream reset mid-body → the client's response is cut short, flag UC", async () => {
      const text = await untilClosed(proxy.port(), "GET /mid-body HTTP/1.1\r\nhost: x\r\n\r\n");
      expect(firstStatus(text)).toBe("200");
      expect(text.endsWith("0123456789")).toBe(true);
      await expect.poll(() => proxy.accessLog.find((l) => l.path === "/mid-body")).toMatchObject({ response_code: 200, response_flags: "UC" });
      await stillServing();
    });
  });

  describe("path normalization before routing and RBAC (a DENY on /admin)", () => {
    // listener, raw path, status, flag, what the upstream receives (the table is shared with the fetch hosts' suite)
    const cases = pathBypassCases.map((c): [string, string, string, string, string | undefined] => [c.listener, c.path, String(c.status), c.flag, c.upstream]);
    it.each(cases)("%s %s → %s (flag %s)", async (listener, path, status, flag, upstreamPath) => {
      const before = seen.length;
      const logged = proxy.accessLog.length;
      const text = await rawExchange(proxy.port(listener), [{ write: `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, until: untilHead }]);
      expect(firstStatus(text)).toBe(status);
      await expect.poll(() => proxy.accessLog.slice(logged).find((l) => l.listener === listener)).toBeDefined();
      const log = proxy.accessLog.slice(logged).find((l) => l.listener === listener)!;
      expect(log).toMatchObject({ response_code: Number(status), response_flags: flag });
      if (status === "403") expect(log.response_code_details).toMatch(/^rbac_access_denied_matched_policy\[ns\[default\]-policy\[deny-admin\]/);
      if (upstreamPath === undefined) expect(seen.length).toBe(before);
      else await expect.poll(() => seen.slice(before)).toEqual([upstreamPath]);
      await stillServing(listener);
    });
  });
});
