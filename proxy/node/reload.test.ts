import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFilters } from "../../plugins/registry.ts";
import { runProxy, type RunningProxy } from "./run.ts";
import { startUpstream, type Upstream } from "./test-support.ts";

function get(port: number, path: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: agent ?? false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const config = (cluster: string, a: number, b: number, extra = "") => `admin:
  address: 127.0.0.1:0
listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      routeConfig: main
routeConfigs:
  - name: main
    virtualHosts:
      - name: all
        domains: ["*"]
        routes:
          - route: { cluster: ${cluster} }
clusters:
  - name: a
    endpoints: [127.0.0.1:${a}]
  - name: b
    endpoints: [127.0.0.1:${b}]${extra}
`;

describe("hot reload, admin and drain", () => {
  let a: Upstream;
  let b: Upstream;
  let proxy: RunningProxy;
  let file: string;
  const logs: string[] = [];
  const port = () => proxy.server.address("web")!.port;
  const admin = () => proxy.server.adminAddress()!.port;

  beforeAll(async () => {
    a = await startUpstream((req, res) => {
      const delay = req.url === "/slow" ? 600 : 0;
      setTimeout(() => res.end("A"), delay);
    });
    b = await startUpstream((req, res) => {
      const delay = req.url === "/slow" ? 600 : 0;
      setTimeout(() => res.end("B"), delay);
    });
    file = join(mkdtempSync(join(tmpdir(), "weft-proxy-")), "proxy.yaml");
    writeFileSync(file, config("a", a.port, b.port));
    proxy = await runProxy({ filters: httpFilters, configFile: file, log: (l) => logs.push(l), watch: { debounceMs: 20, pollMs: 100 } });
  });

  afterAll(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
  });

  it("applies a good change without dropping connections; in-flight requests finish on the old config", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(port(), "/", agent)).body).toBe("A");
    const before = proxy.server.snapshot()!.config.version;
    const slow = get(port(), "/slow");
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(file, config("b", a.port, b.port));
    await expect.poll(() => proxy.server.snapshot()!.config.version, { timeout: 5000 }).not.toBe(before);
    expect(await slow).toEqual({ status: 200, body: "A" });
    // The same keep-alive connection now reaches the new route.
    expect((await get(port(), "/", agent)).body).toBe("B");
    agent.destroy();
    expect(proxy.reloads.ok).toBeGreaterThanOrEqual(1);
  });

  it("keeps the last good config when a reload is bad, and says why", async () => {
    const good = proxy.server.snapshot()!.config.version;
    const bad = config("c", a.port, b.port);
    writeFileSync(file, bad);
    await expect.poll(() => proxy.reloads.failed, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    const line = bad.split("\n").findIndex((l) => l.includes("cluster: c")) + 1;
    const msg = logs.find((l) => l.startsWith("config reload rejected"));
    expect(msg).toContain(`version ${good} keeps serving`);
    expect(msg).toMatch(new RegExp(`proxy\\.yaml:${line}:\\d+: error: RouteConfig/main: virtualHosts\\[0\\]\\.routes\\[0\\]\\.route\\.cluster: unknown cluster "c"`));
    expect(proxy.server.snapshot()!.config.version).toBe(good);
    expect((await get(port(), "/")).body).toBe("B");
  });

  it("serves /ready, /config_dump, /clusters and /stats/prometheus", async () => {
    expect(await get(admin(), "/ready")).toEqual({ status: 200, body: "LIVE\n" });
    const dump = JSON.parse((await get(admin(), "/config_dump")).body) as { version: string; clusters: { name: string }[] };
    expect(dump.version).toBe(proxy.server.snapshot()!.config.version);
    expect(dump.clusters.map((c) => c.name)).toEqual(["a", "b"]);
    const clusters = (await get(admin(), "/clusters")).body;
    expect(clusters).toContain(`b::127.0.0.1:${b.port}::health_flags::healthy`);
    const prom = (await get(admin(), "/stats/prometheus")).body;
    expect(prom).toMatch(/weft_requests_total\{cluster="b",response_code="200"\} \d+/);
    expect(prom).toMatch(/weft_request_duration_milliseconds_count\{cluster="a",response_code="200"\} 2/);
  });

  it("drains on stop: in-flight requests finish, new connections are refused", async () => {
    const slow = get(port(), "/slow");
    await new Promise((r) => setTimeout(r, 100));
    const p = port();
    const stopping = proxy.stop(5000);
    await new Promise((r) => setTimeout(r, 50));
    await expect(get(p, "/")).rejects.toThrow(/ECONNREFUSED/);
    expect(await slow).toEqual({ status: 200, body: "B" });
    await stopping;
  });
});
