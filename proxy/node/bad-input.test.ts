import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpListenerYaml, rawExchange, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

// The first part of the bad-input suite: framing attacks and slow or oversized heads never reach the
// upstream, get the right status, and leave the proxy serving.
describe("bad input on HTTP/1.1", () => {
  let up: Upstream;
  let proxy: TestProxy;
  let seen = 0;
  beforeAll(async () => {
    up = await startUpstream((_req, res) => {
      seen++;
      res.end("ok");
    });
    proxy = await startProxy(httpListenerYaml(`
- route: { cluster: up }
`, `
- name: up
  endpoints: [127.0.0.1:${up.port}]
`, `
      requestHeadersTimeoutMs: 300
      maxRequestHeadersBytes: 4096`));
  });
  afterAll(async () => {
    await proxy.close();
    await up.close();
  });

  const firstStatus = (text: string) => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];

  it.each([
    ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n", "400"],
    ["duplicate, differing Content-Length", "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ncontent-length: 5\r\n\r\nabcde", "400"],
    ["invalid Content-Length", "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4x\r\n\r\nabcd", "400"],
    ["obs-fold", "GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\n\r\n", "400"],
    ["invalid header bytes", "GET / HTTP/1.1\r\nhost: x\r\nx-a: a\u0000b\r\n\r\n", "400"],
    ["oversized head", `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(8000)}\r\n\r\n`, "431"],
  ])("%s → %s, never forwarded", async (_name, bytes, status) => {
    const before = seen;
    const text = await rawExchange(proxy.port(), [{ write: Buffer.from(bytes, "latin1"), until: (t) => /\r\n\r\n/.test(t) }]);
    expect(firstStatus(text)).toBe(status);
    expect(seen).toBe(before);
  });

  it("closes a connection whose headers arrive too slowly (408)", async () => {
    const text = await rawExchange(proxy.port(), [{ write: "GET / HTTP/1.1\r\nhost: x\r\n", until: (t) => t.length > 0 }]);
    expect(firstStatus(text)).toBe("408");
  });

  it("still serves good requests", async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.port()}/`);
    expect(await res.text()).toBe("ok");
  });
});
