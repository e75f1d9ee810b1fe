/**
 * Resilience end to end over real sockets: retries (conditions, body replay, exhaustion, breakers),
 * per-try and route timeouts (queue time and grpc-timeout included), circuit breakers, mirroring,
 * outlier detection, and active health checks (HTTP, TCP, gRPC health protocol).
 */
import { createServer as createH2Server, connect as h2connect, type Http2Server, type ServerHttp2Stream } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthCheckStatus } from "./health-checker.ts";
import { closedPort, httpListenerYaml, listen, rawExchange, startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

const get = (port: number, path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init).then(async (r) => ({ status: r.status, body: await r.text() }));

describe("retries and timeouts", () => {
  let flaky: Upstream;
  let hang: Upstream;
  let dead: number;
  let proxy: TestProxy;
  const tries = new Map<string, number>();
  const bodies: string[] = [];

  beforeAll(async () => {
    flaky = await startUpstream((req, res, body) => {
      const delay = /delay=(\d+)/.exec(req.url!);
      if (delay) return void setTimeout(() => res.end("slow ok"), Number(delay[1]));
      const key = req.url!.split("?")[0]!;
      const n = (tries.get(key) ?? 0) + 1;
      tries.set(key, n);
      if (req.method === "POST") bodies.push(body.toString());
      const failFor = Number(/fail=(\d+)/.exec(req.url!)?.[1] ?? 0);
      const code = Number(/code=(\d+)/.exec(req.url!)?.[1] ?? 503);
      if (n <= failFor) {
        res.writeHead(code);
        res.end(`fail ${n}`);
        return;
      }
      if (req.url!.includes("hang-first") && n === 1) return; // never answers
      res.end(`ok after ${n}`);
    });
    hang = await startUpstream(() => undefined);
    dead = await closedPort();
    proxy = await startProxy(httpListenerYaml(`
- name: five
  match: { prefix: /r/ }
  route: { cluster: flaky, retry: { attempts: 2, retryOn: "5xx", backoff: { baseMs: 1 } } }
- name: codes
  match: { prefix: /codes/ }
  route: { cluster: flaky, retry: { attempts: 2, retryOn: [retriable-status-codes], retriableStatusCodes: [418], backoff: { baseMs: 1 } } }
- name: per-try
  match: { prefix: /per-try/ }
  route: { cluster: flaky, timeoutMs: 5000, retry: { attempts: 2, retryOn: [reset], perTryTimeoutMs: 200, backoff: { baseMs: 1 } } }
- name: overall
  match: { prefix: /overall }
  route: { cluster: hang, timeoutMs: 300, retry: { attempts: 10, retryOn: [5xx], perTryTimeoutMs: 100, backoff: { baseMs: 1 } } }
- name: failover
  match: { prefix: /failover }
  route: { cluster: half-dead, retry: { attempts: 1, retryOn: [connect-failure], backoff: { baseMs: 1 } } }
- name: no-retry-budget
  match: { prefix: /nobudget/ }
  route: { cluster: stingy, retry: { attempts: 3, retryOn: [5xx], backoff: { baseMs: 1 } } }
- name: queued
  match: { prefix: /queued }
  route: { cluster: one-conn, timeoutMs: 300 }
- name: over
  match: { prefix: /over }
  route: { cluster: one-request }
- name: timed
  match: { prefix: /timed }
  route: { cluster: single, timeoutMs: 150 }
- name: untimed
  match: { prefix: /untimed }
  route: { cluster: single, timeoutMs: 0 }
`, `
- name: flaky
  endpoints: [127.0.0.1:${flaky.port}]
- name: hang
  endpoints: [127.0.0.1:${hang.port}]
- name: half-dead
  lb: round-robin
  endpoints: [127.0.0.1:${dead}, 127.0.0.1:${flaky.port}]
- name: stingy
  circuitBreakers: { maxRetries: 0 }
  endpoints: [127.0.0.1:${flaky.port}]
- name: one-conn
  circuitBreakers: { maxConnections: 1 }
  endpoints: [127.0.0.1:${hang.port}]
- name: one-request
  circuitBreakers: { maxRequests: 1 }
  endpoints: [127.0.0.1:${hang.port}]
- name: single
  circuitBreakers: { maxConnections: 1 }
  endpoints: [127.0.0.1:${flaky.port}]
`));
  });
  afterAll(async () => {
    await proxy.close();
    await flaky.close();
    await hang.close();
  });

  const log = (path: string) => proxy.accessLog.findLast((l) => l.path === path);

  it("retries 5xx until it succeeds", async () => {
    expect(await get(proxy.port(), "/r/a?fail=2")).toEqual({ status: 200, body: "ok after 3" });
    expect(log("/r/a?fail=2")).toMatchObject({ response_code: 200, response_flags: "-", upstream_request_attempt_count: 3 });
  });

  it("forwards the last failure with URX when the retries are used up", async () => {
    expect(await get(proxy.port(), "/r/b?fail=5")).toEqual({ status: 503, body: "fail 3" });
    expect(log("/r/b?fail=5")).toMatchObject({ response_code: 503, response_flags: "URX", upstream_request_attempt_count: 3 });
  });

  it("replays the request body on a retry", async () => {
    bodies.length = 0;
    const r = await get(proxy.port(), "/r/post?fail=1", { method: "POST", body: "payload-123" });
    expect(r.status).toBe(200);
    expect(bodies).toEqual(["payload-123", "payload-123"]);
  });

  it("retriable-status-codes retries only the listed codes", async () => {
    expect((await get(proxy.port(), "/codes/a?fail=1&code=418")).status).toBe(200);
    expect((await get(proxy.port(), "/codes/b?fail=1&code=500")).status).toBe(500);
    expect(log("/codes/b?fail=1&code=500")).toMatchObject({ upstream_request_attempt_count: 1 });
  });

  it("a per-try timeout retries; the route timeout bounds every try together", async () => {
    expect(await get(proxy.port(), "/per-try/hang-first")).toEqual({ status: 200, body: "ok after 2" });
    expect(log("/per-try/hang-first")).toMatchObject({ upstream_request_attempt_count: 2 });
    const r = await get(proxy.port(), "/overall");
    expect(r.status).toBe(504);
    const entry = log("/overall")!;
    expect(entry.response_flags).toContain("UT");
    expect(entry.upstream_request_attempt_count as number).toBeLessThan(10);
  });

  it("connect failures go to another host", async () => {
    for (let i = 0; i < 4; i++) expect((await get(proxy.port(), `/failover/${i}`)).status).toBe(200);
  });

  it("the maxRetries breaker stops retries with UO", async () => {
    expect((await get(proxy.port(), "/nobudget/x?fail=1")).status).toBe(503);
    expect(log("/nobudget/x?fail=1")).toMatchObject({ response_flags: "UO", upstream_request_attempt_count: 1 });
  });

  it("the route timeout counts time queued for a connection (maxConnections 1)", async () => {
    const first = get(proxy.port(), "/queued/1");
    await expect.poll(() => hang.connections).toBeGreaterThan(0);
    const second = await get(proxy.port(), "/queued/2");
    expect(second.status).toBe(504);
    expect(log("/queued/2")).toMatchObject({ response_flags: "UT" });
    expect((await first).status).toBe(504);
  });

  it("a pooled connection's timer from a timed route does not cut a request without a timeout", async () => {
    expect((await get(proxy.port(), "/timed/a")).status).toBe(200);
    expect(await get(proxy.port(), "/untimed/b?delay=400")).toEqual({ status: 200, body: "slow ok" });
    expect((await get(proxy.port(), "/timed/c?delay=400")).status).toBe(504);
  });

  it("maxRequests: past the limit → 503 UO at once", async () => {
    const first = get(proxy.port(), "/over/1").catch(() => undefined);
    await expect.poll(() => proxy.server.snapshot()!.clusters.get("one-request")!.resources.requests).toBe(1);
    expect((await get(proxy.port(), "/over/2")).status).toBe(503);
    expect(log("/over/2")).toMatchObject({ response_flags: "UO", response_code_details: "upstream_overflow" });
    void first;
  });
});

describe("gRPC deadlines and retries, and trailers to HTTP/1.1", () => {
  let grpc: Http2Server;
  let proxy: TestProxy;
  let calls = 0;

  beforeAll(async () => {
    grpc = createH2Server();
    grpc.on("stream", (stream: ServerHttp2Stream, headers) => {
      const path = String(headers[":path"]);
      stream.resume();
      stream.on("end", () => {
        calls++;
        if (path.endsWith("/Hang")) return;
        if (path.endsWith("/Flaky") && calls % 2 === 1) {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "14" }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "ok" }));
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
    });
    const port = await listen(grpc);
    proxy = await startProxy(httpListenerYaml(`
- route: { cluster: grpc, timeoutMs: 0, retry: { attempts: 1, retryOn: [unavailable], backoff: { baseMs: 1 } } }
`, `
- name: grpc
  protocol: grpc
  endpoints: [127.0.0.1:${port}]
`));
  });
  afterAll(async () => {
    await proxy.close();
    grpc.close();
  });

  function call(path: string, extra: Record<string, string> = {}): Promise<{ status: string | undefined }> {
    const s = h2connect(`http://127.0.0.1:${proxy.port()}`);
    return new Promise((resolve, reject) => {
      const st = s.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...extra });
      let status: string | undefined;
      st.on("response", (h) => (status = h["grpc-status"] as string | undefined ?? status));
      st.on("trailers", (t) => (status = t["grpc-status"] as string));
      st.on("end", () => {
        s.close();
        resolve({ status });
      });
      st.on("error", reject);
      st.resume();
      st.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  }

  it("honours grpc-timeout: UNAVAILABLE (from 504) with flag UT", async () => {
    expect((await call("/svc/Hang", { "grpc-timeout": "200m" })).status).toBe("14");
    expect(proxy.accessLog.findLast((l) => l.path === "/svc/Hang")).toMatchObject({ response_flags: "UT" });
  });

  it("retries a trailers-only UNAVAILABLE", async () => {
    calls = 0;
    expect((await call("/svc/Flaky")).status).toBe("0");
    expect(proxy.accessLog.findLast((l) => l.path === "/svc/Flaky")).toMatchObject({ upstream_request_attempt_count: 2 });
  });

  it("sends trailers to an HTTP/1.1 client that asked for them (chunked)", async () => {
    const text = await rawExchange(proxy.port(), [{
      write: "POST /svc/Ok HTTP/1.1\r\nhost: x\r\ncontent-type: application/grpc\r\nte: trailers\r\ncontent-length: 5\r\n\r\n\0\0\0\0\0",
      until: (t) => /0\r\n(?:[^\r]+\r\n)*\r\n$/.test(t) && t.includes("grpc-status"),
    }]);
    expect(text.toLowerCase()).toContain("transfer-encoding: chunked");
    expect(text).toMatch(/\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n$/);
  });
});

describe("mirroring", () => {
  it("shadows requests to the mirror cluster with -shadow in the authority, fire and forget", async () => {
    const main = await startUpstream((_req, res) => res.end("main"));
    const shadowSeen: { host: string; body: string; method: string }[] = [];
    const shadow = await startUpstream((req, res, body) => {
      shadowSeen.push({ host: req.headers.host!, body: body.toString(), method: req.method! });
      res.writeHead(500);
      res.end("shadow fails, nobody cares");
    });
    const proxy = await startProxy(httpListenerYaml(`
- route: { cluster: main, mirror: [{ cluster: shadow, percent: 100 }] }
`, `
- name: main
  endpoints: [127.0.0.1:${main.port}]
- name: shadow
  endpoints: [127.0.0.1:${shadow.port}]
`));
    const r = await fetch(`http://127.0.0.1:${proxy.port()}/m`, { method: "POST", body: "copy me" });
    expect(await r.text()).toBe("main");
    await expect.poll(() => shadowSeen).toEqual([{ host: `127.0.0.1-shadow:${proxy.port()}`, body: "copy me", method: "POST" }]);
    await expect.poll(() => proxy.server.stats.renderPrometheus()).toContain('weft_requests_total{cluster="shadow",response_code="500"} 1');
    await proxy.close();
    await main.close();
    await shadow.close();
  });
});

describe("outlier detection and active health checks", () => {
  it("ejects a host that keeps failing, and takes it back after the ejection time", async () => {
    let broken = true;
    const bad = await startUpstream((_req, res) => {
      res.writeHead(broken ? 500 : 200);
      res.end("bad");
    });
    const good = await startUpstream((_req, res) => res.end("good"));
    const proxy = await startProxy(httpListenerYaml(`
- route: { cluster: pool }
`, `
- name: pool
  outlierDetection: { consecutive5xx: 2, intervalMs: 50, baseEjectionMs: 400, maxEjectionPercent: 50 }
  endpoints: [127.0.0.1:${bad.port}, 127.0.0.1:${good.port}]
`));
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) bodies.push((await get(proxy.port(), `/o${i}`)).body);
    expect(bodies.filter((b) => b === "bad")).toHaveLength(2);
    expect(bodies.slice(-2)).toEqual(["good", "good"]);
    const host = proxy.server.snapshot()!.clusters.get("pool")!.hosts[0]!;
    expect(host.healthFlags).toBe("/failed_outlier_check");
    broken = false;
    await expect.poll(async () => (await get(proxy.port(), "/back")).body === "bad", { timeout: 5000 }).toBe(true);
    await proxy.close();
    await bad.close();
    await good.close();
  });

  it("HTTP and TCP health checks keep traffic off unhealthy hosts", async () => {
    let sick = true;
    const a = await startUpstream((req, res) => res.end(req.url === "/healthz" ? "ok" : "a"));
    const b = await startUpstream((req, res) => {
      if (req.url === "/healthz") res.writeHead(sick ? 503 : 200);
      res.end("b");
    });
    const dead = await closedPort();
    const proxy = await startProxy(httpListenerYaml(`
- { match: { prefix: /http }, route: { cluster: http-checked } }
- { match: { prefix: /tcp }, route: { cluster: tcp-checked } }
`, `
- name: http-checked
  healthChecks: [{ kind: http, path: /healthz, intervalMs: 50, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 1 }]
  endpoints: [127.0.0.1:${a.port}, 127.0.0.1:${b.port}]
- name: tcp-checked
  healthChecks: [{ kind: tcp, intervalMs: 50, timeoutMs: 500 }]
  endpoints: [127.0.0.1:${dead}, 127.0.0.1:${a.port}]
`));
    const cluster = (n: string) => proxy.server.snapshot()!.clusters.get(n)!;
    await expect.poll(() => cluster("http-checked").hosts[1]!.hcFailed).toBe(true);
    await expect.poll(() => cluster("tcp-checked").hosts[0]!.hcFailed).toBe(true);
    for (let i = 0; i < 4; i++) {
      expect((await get(proxy.port(), `/http/${i}`)).body).toBe("a");
      expect((await get(proxy.port(), `/tcp/${i}`)).status).toBe(200);
    }
    sick = false;
    await expect.poll(() => cluster("http-checked").hosts[1]!.hcFailed).toBe(false);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await get(proxy.port(), `/http/again${i}`)).body);
    expect(seen).toEqual(new Set(["a", "b"]));
    await proxy.close();
    await a.close();
    await b.close();
  });

  it("gRPC health checks use grpc.health.v1.Health/Check", async () => {
    const servers: Http2Server[] = [];
    const ports: number[] = [];
    for (const serving of [1, 2]) {
      const s = createH2Server();
      s.on("stream", (stream: ServerHttp2Stream, headers) => {
        stream.resume();
        stream.on("end", () => {
          if (headers[":path"] !== "/grpc.health.v1.Health/Check") {
            stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0", "x-server": String(serving) }, { endStream: true });
            return;
          }
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(Buffer.from([0, 0, 0, 0, 2, 0x08, serving])); // HealthCheckResponse{status}
        });
      });
      servers.push(s);
      ports.push(await listen(s));
    }
    expect(healthCheckStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1]))).toBe(1);
    const proxy = await startProxy(httpListenerYaml(`
- route: { cluster: g }
`, `
- name: g
  protocol: grpc
  healthChecks: [{ kind: grpc, intervalMs: 50, timeoutMs: 500 }]
  endpoints: [127.0.0.1:${ports[0]}, 127.0.0.1:${ports[1]}]
`));
    const hosts = proxy.server.snapshot()!.clusters.get("g")!.hosts;
    await expect.poll(() => [hosts[0]!.hcChecked && !hosts[0]!.hcFailed, hosts[1]!.hcFailed]).toEqual([true, true]);
    await proxy.close();
    for (const s of servers) s.close();
  });
});
