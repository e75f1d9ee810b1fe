/**
 * @module bench/consul/run
 * `npm run bench:consul`: how fast the Consul bridge follows Consul, against a real `consul agent -dev`
 * holding 1,000 registered services (plus the mesh fixture of interop-tests/consul: Consul's built-in
 * proxy in front of `web`, a weft proxy in front of `weft-api`). Measured, each with Consul's own answer
 * in the same run as the peer:
 * - catalog change → weft registry: an instance added to, or a TTL check flipped on, one of the 1,000
 *   services, until the registry holds it; peer: a plain blocking query on that service (Consul's own
 *   notification latency, no weft logic);
 * - instance added → a weft proxy routes to it (registry → proxy config applied → a request lands on the
 *   new instance);
 * - intention written (deny) or deleted in Consul → enforced by weft's proxy (web → weft-api answered 403 /
 *   200); peer: Consul's built-in proxy enforcing the reverse intention (weft-api → web refused / allowed).
 * Writes bench/results/consul-<date>.json and the "## Consul bridge" section of docs/performance.md.
 */
import { createServer, request, type Server } from "node:http";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startMeshFixture } from "../../interop-tests/consul/mesh-fixture.ts";
import { freePort } from "../../interop-tests/peers/lib.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { createFilterCatalog } from "../../proxy/filter.ts";
import { loadProxyConfig } from "../../proxy/config/load.ts";
import { createProxyServer } from "../../proxy/node/proxy-server.ts";
import { describeMachine, loads } from "../policy/report.ts";
import { writeConsulReport, type Stat } from "./report.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60);
const PROXY_SAMPLES = Number(process.env.BENCH_PROXY_SAMPLES ?? 20);
const INTENTION_SAMPLES = Number(process.env.BENCH_INTENTION_SAMPLES ?? 6);

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stat(name: string, xs: number[], peer?: number[]): Stat {
  const q = (arr: number[], p: number) => {
    const s = [...arr].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
  };
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name, samples: xs.length, p50: r3(q(xs, 50)), p99: r3(q(xs, 99)), max: r3(Math.max(...xs)),
    ...(peer && peer.length > 0 ? { peerP50: r3(q(peer, 50)), peerP99: r3(q(peer, 99)) } : {}),
  };
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { connection: "close" }, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end();
  });
}

async function main(): Promise<void> {
  const machine = describeMachine(false);
  const loadBefore = loads();
  console.log(`bench:consul — ${SERVICES} services, ${SAMPLES} samples per catalog change, on ${machine.cpuModel} (load ${loadBefore.join(" ")})`);
  // One blocking query per service: Consul's default limit of 200 HTTP connections per client address
  // would refuse most of them (429), so the agent is given room, as a bridged datacenter's agent must be.
  const f = await startMeshFixture(() => undefined, [`limits { http_max_conns_per_client = ${SERVICES + 500} }`]);
  const consulUrl = f.agent.url;
  const put = async (path: string, body?: unknown) => {
    const r = await fetch(`${consulUrl}${path}`, { method: "PUT", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  const del = (path: string) => fetch(`${consulUrl}${path}`, { method: "DELETE" }).then((r) => r.text());
  try {
    // ---------------------------------------------------------------- load: 1,000 services
    let t = now();
    const names = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((n, j) => put("/v1/agent/service/register", {
        ID: `${n}-0`, Name: n, Address: "127.0.0.1", Port: 20000 + i + j, Check: { CheckID: `${n}-0-ttl`, Name: "ttl", TTL: "30m", Status: "passing" },
      })));
    }
    const registered = now() - t;
    t = now();
    const inRegistry = () => f.registry.snapshot().services.filter((s) => s.id.startsWith("consul/svc-")).length;
    while (inRegistry() < SERVICES) await sleep(20);
    const initialSync = now() - t;
    console.log(`  registered ${SERVICES} services in ${(registered / 1000).toFixed(1)} s; registry had all of them ${(initialSync / 1000).toFixed(2)} s later (${f.bridge.status().toWeft?.watches} blocking queries)`);

    const endpointsOf = (name: string) => f.registry.snapshot().endpoints.find((e) => e.service === `consul/${name}`)?.endpoints ?? [];
    const untilRegistry = (pred: () => boolean): Promise<number> => new Promise((resolve) => {
      if (pred()) return resolve(now());
      const off = f.registry.subscribe(() => {
        if (pred()) {
          off();
          resolve(now());
        }
      });
    });
    /**
     * Plain blocking queries on the service, from its current index, until an answer shows the change:
     * when any Consul client could first have known (Consul's own notification, no weft logic).
     */
    type Entry = { Service: { ID: string; Port: number }; Checks: { Status: string; ServiceID: string }[] };
    const rawWatch = async (name: string, seen: (entries: Entry[]) => boolean): Promise<{ done: Promise<number> }> => {
      const first = await fetch(`${consulUrl}/v1/health/service/${name}`);
      await first.text();
      let index = first.headers.get("x-consul-index");
      const done = (async () => {
        for (;;) {
          const r = await fetch(`${consulUrl}/v1/health/service/${name}?index=${index}&wait=30s`);
          const body = (await r.json()) as Entry[];
          const at = now();
          if (seen(body)) return at;
          index = r.headers.get("x-consul-index");
        }
      })();
      return { done };
    };

    // ---------------------------------------------------------------- catalog → registry
    const added: number[] = [];
    const addedPeer: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const name = names[(i * 37) % SERVICES]!;
      const port = 40000 + i;
      const raw = await rawWatch(name, (es) => es.some((e) => e.Service.Port === port));
      const seen = untilRegistry(() => endpointsOf(name).some((e) => e.port === port));
      const t0 = now();
      await put("/v1/agent/service/register", { ID: `${name}-extra-${i}`, Name: name, Address: "127.0.0.1", Port: port, Check: { CheckID: `${name}-extra-${i}-ttl`, Name: "ttl", TTL: "30m", Status: "passing" } });
      added.push((await seen) - t0);
      addedPeer.push((await raw.done) - t0);
      await sleep(20);
    }
    const flipped: number[] = [];
    const flippedPeer: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Each service goes unhealthy, then healthy again.
      const svc = names[(Math.floor(i / 2) * 53 + 11) % SERVICES]!;
      const to = i % 2 === 0 ? "unhealthy" : "healthy";
      const raw = await rawWatch(svc, (es) => es.find((e) => e.Service.ID === `${svc}-0`)?.Checks.some((c) => c.ServiceID === `${svc}-0` && c.Status === (to === "unhealthy" ? "critical" : "passing")) === true);
      const seen = untilRegistry(() => endpointsOf(svc).find((e) => e.labels?.["consul.io/service-id"] === `${svc}-0`)?.health === to);
      const t0 = now();
      await put(`/v1/agent/check/${to === "unhealthy" ? "fail" : "pass"}/${svc}-0-ttl`);
      flipped.push((await seen) - t0);
      flippedPeer.push((await raw.done) - t0);
      await sleep(20);
    }
    console.log("  catalog → registry done");

    // ---------------------------------------------------------------- instance added → weft proxy routes to it
    const catalog = createFilterCatalog(httpFilters);
    const proxy = createProxyServer({ filters: httpFilters, log: () => undefined });
    const listenPort = await freePort();
    const targetEndpoints = () => endpointsOf("bench-target").filter((e) => e.health !== "unhealthy").map((e) => `${e.address}:${e.port}`).sort();
    const configFor = (eps: string[]) => {
      const r = loadProxyConfig(JSON.stringify({
        listeners: [{ name: "out", address: `127.0.0.1:${listenPort}`, http: { virtualHosts: [{ name: "t", domains: ["*"], routes: [{ name: "t", route: { cluster: "bench-target" } }] }] } }],
        clusters: [{ name: "bench-target", protocol: "http", endpoints: eps }],
      }), "bench", catalog);
      if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
      return r.config;
    };
    const backends: Server[] = [];
    const backend = async (id: number): Promise<number> => {
      const port = await freePort();
      const s = createServer((_req, res) => res.end(`backend-${id}`));
      await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
      backends.push(s);
      return port;
    };
    const basePort = await backend(0);
    await put("/v1/agent/service/register", { ID: "bench-target-0", Name: "bench-target", Address: "127.0.0.1", Port: basePort });
    await untilRegistry(() => targetEndpoints().length === 1);
    let applied = targetEndpoints().join(",");
    await proxy.apply(configFor(targetEndpoints()));
    const offApply = f.registry.subscribe(() => {
      const eps = targetEndpoints();
      if (eps.join(",") === applied || eps.length === 0) return;
      applied = eps.join(",");
      void proxy.apply(configFor(eps));
    });
    const routed: number[] = [];
    for (let i = 1; i <= PROXY_SAMPLES; i++) {
      const port = await backend(i);
      const t0 = now();
      await put("/v1/agent/service/register", { ID: `bench-target-${i}`, Name: "bench-target", Address: "127.0.0.1", Port: port });
      for (const deadline = now() + 60_000; ;) {
        const r = await get(`http://127.0.0.1:${listenPort}/`);
        if (r.body === `backend-${i}`) break;
        if (now() > deadline) throw new Error(`the proxy never routed to backend-${i}: ${r.status} ${r.body}`);
      }
      routed.push(now() - t0);
      await put(`/v1/agent/service/deregister/bench-target-${i}`);
      await untilRegistry(() => !targetEndpoints().includes(`127.0.0.1:${port}`));
    }
    offApply();
    await proxy.close();
    for (const s of backends) s.close();
    console.log("  instance added → proxy routes done");

    // ---------------------------------------------------------------- intention → enforced
    const enforceWeft: number[] = [];
    const enforcePeer: number[] = [];
    const liftWeft: number[] = [];
    const liftPeer: number[] = [];
    /** Time when `url` first answers with an accepted status, or null after `limitMs`. */
    const until = async (url: string, ok: (s: number) => boolean, limitMs = 30_000): Promise<number | null> => {
      const deadline = now() + limitMs;
      for (;;) {
        const r = await get(url);
        if (ok(r.status)) return now();
        if (now() > deadline) return null;
        await sleep(1);
      }
    };
    let peerMisses = 0;
    let consulStuck = false;
    const refused = (s: number) => s === 502 || s === 503;
    for (let i = 0; i < INTENTION_SAMPLES; i++) {
      const tDeny = now();
      let t0 = tDeny;
      await put("/v1/config", { Kind: "service-intentions", Name: "weft-api", Sources: [{ Name: "web", Action: "deny" }] });
      await put("/v1/config", { Kind: "service-intentions", Name: "web", Sources: [{ Name: "weft-api", Action: "deny" }] });
      const [w, p] = await Promise.all([until(f.webToWeft, (s) => s === 403), consulStuck ? Promise.resolve(null) : until(f.weftToWeb, refused)]);
      if (w === null) throw new Error("weft's proxy did not enforce the deny intention within 30 s");
      enforceWeft.push(w - t0);
      if (p === null) peerMisses++;
      else enforcePeer.push(p - t0);
      t0 = now();
      await del("/v1/config/service-intentions/weft-api");
      await del("/v1/config/service-intentions/web");
      const [w2, p2] = await Promise.all([until(f.webToWeft, (s) => s === 200), consulStuck ? Promise.resolve(null) : until(f.weftToWeb, (s) => s === 200)]);
      if (w2 === null) throw new Error("weft's proxy did not lift the deny within 30 s");
      liftWeft.push(w2 - t0);
      if (p2 === null) {
        // Consul's built-in proxy kept refusing after the intention was gone (its agent's authorization
        // cache, observed under load); count it and let it settle before the next sample.
        peerMisses++;
        // Still refusing after two more minutes: stop measuring Consul's side (its numbers would be bogus).
        if (!consulStuck && (await until(f.weftToWeb, (s) => s === 200, 120_000)) === null) consulStuck = true;
      } else liftPeer.push(p2 - t0);
      if (process.env.BENCH_DEBUG) console.log(`  intention sample ${i}: weft ${(w - tDeny).toFixed(0)}/${(w2 - t0).toFixed(0)} ms, Consul ${p === null ? "miss" : (p - tDeny).toFixed(0)}/${p2 === null ? "miss" : (p2 - t0).toFixed(0)} ms`);
    }
    console.log("  intentions done");

    const loadAfter = loads();
    const rows = [
      stat("instance added → weft registry", added, addedPeer),
      stat("health flipped → weft registry", flipped, flippedPeer),
      stat("instance added → weft proxy routes to it", routed),
      stat("deny intention → enforced (weft proxy 403 / Consul proxy refuses)", enforceWeft, enforcePeer),
      stat("intention deleted → allowed again (weft / Consul proxy)", liftWeft, liftPeer),
    ];
    writeConsulReport(root, {
      date: new Date().toISOString().slice(0, 10), machine, loadBefore, loadAfter, node: process.version,
      services: SERVICES, watches: f.bridge.status().toWeft?.watches ?? 0,
      registerSeconds: registered / 1000, initialSyncSeconds: initialSync / 1000, rows, consulProxyMisses: peerMisses,
    });
  } finally {
    await f.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
