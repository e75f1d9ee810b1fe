/**
 * @module bench/runtimes/run
 * `npm run bench:runtimes`: the same weft proxy config — one route to a local upstream behind the rbac
 * filter with a small policy (a DENY and an ALLOW), 1 KiB responses — on the Node proxy (bin/weft.js,
 * bundled), the Deno host (edge/deno/proxy.ts in the npm `deno`) and the workerd host (the esbuild
 * bundle of edge/workerd/worker.ts in the npm `workerd`, config pulled once from a feed), beside nginx
 * (Debian, 1 worker, keep-alive upstream) in one run. Upstream nginx and wrk on core 0, each candidate
 * alone on core 1 (taskset); rounds interleaved so machine noise hits every candidate alike. Reports
 * req/s, p50/p99, CPU ms per 1,000 requests and peak RSS of each candidate process, with the load
 * average sampled through the run; writes bench/results/runtimes-<date>.json and the "Runtimes"
 * section of docs/performance.md.
 */
import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { buildBundle } from "../../scripts/build-cli.mjs";
import { createFeedRoutes } from "../../edge/config/feed-routes.ts";
import { serveOnNode } from "../../edge/node-listener/serve-node.ts";
import { denoBinary } from "../../edge/conformance/processes.ts";
import { workerdConfig } from "../../edge/workerd/capnp.ts";
import { bundleEdgeWorker, workerdBinary, workerdCompatibilityDate } from "../../edge/workerd/build.ts";
import { CLK_TCK, cpuTicks, ensureTools, median, nginxConf, peakRssMb, start, waitPort, which, wrk, type Sample } from "../proxy/harness.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const LOAD_CORE = "0";
const PROXY_CORE = "1";
/** Filled in by `main` with free loopback ports (other benchmarks may be holding fixed ones). */
const PORTS = { upstream: 0, nginx: 0, node: 0, deno: 0, workerd: 0 };
const BODY = "x".repeat(1023) + "\n";
const FEED_TOKEN = "bench-feed-token";

/** The proxy config every weft host runs (the listener address only matters to the Node host). */
function weftConfig(port: number): string {
  return `listeners:
  - name: bench
    address: 127.0.0.1:${port}
    http:
      filters:
        - name: rbac
          config:
            namespace: bench
            policies:
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: deny-admin, namespace: bench }
                spec: { action: DENY, rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*"] } }] }] }
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: allow-reads, namespace: bench }
                spec: { action: ALLOW, rules: [{ to: [{ operation: { methods: [GET, HEAD], paths: ["/*"] } }] }] }
        - name: router
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ name: up, route: { cluster: up } }] }]
clusters:
  - { name: up, endpoints: ["127.0.0.1:${PORTS.upstream}"] }
`;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function loadavg(): number[] {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
}

/** A GET on a fresh connection (no pooled socket the candidate may have closed while idle). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** One request through a candidate: the 1 KiB body for `/`, 403 for `/admin` (the rbac filter is on). */
async function check(name: string, port: number, rbac: boolean): Promise<void> {
  const ok = await get(port, "/");
  if (ok.status !== 200 || ok.body.length !== BODY.length) throw new Error(`${name}: GET / answered ${ok.status} with ${ok.body.length} bytes`);
  if (!rbac) return;
  const denied = await get(port, "/admin");
  if (denied.status !== 403) throw new Error(`${name}: GET /admin answered ${denied.status}, not 403: the rbac filter is not active`);
}

interface Candidate { name: string; port: number; pid?: number; rbac: boolean }

async function main(): Promise<void> {
  ensureTools();
  for (const k of Object.keys(PORTS) as (keyof typeof PORTS)[]) PORTS[k] = await freePort();
  if ((await buildBundle()) === undefined) throw new Error("could not bundle the CLI (scripts/build-cli.mjs)");
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-runtimes-"));
  const procs: ChildProcess[] = [];
  const cleanup = () => { for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM"); };
  process.on("exit", cleanup);
  process.on("SIGINT", () => { cleanup(); process.exit(130); });
  const feed = await serveOnNode({
    host: "127.0.0.1", port: 0,
    handler: (r) => Promise.resolve(new Hono().route("/v1/edge", createFeedRoutes({ templates: new Map([["bench", { proxy: weftConfig(PORTS.workerd) }]]), token: FEED_TOKEN })).fetch(r)),
  });
  try {
    const nginx = which("nginx")!;
    const up = start(LOAD_CORE, nginx, ["-c", nginxConf(dir, "upstream", `server { listen 127.0.0.1:${PORTS.upstream}; keepalive_requests 100000000;
    location / { default_type text/plain; return 200 "${BODY.slice(0, -1)}\\n"; } }`, false), "-p", dir]);
    procs.push(up);
    await waitPort(PORTS.upstream);

    const candidates: Candidate[] = [{ name: "direct", port: PORTS.upstream, rbac: false }];
    const nginxProxy = start(PROXY_CORE, nginx, ["-c", nginxConf(dir, "proxy", `upstream up { server 127.0.0.1:${PORTS.upstream}; keepalive 64; }
  server { listen 127.0.0.1:${PORTS.nginx}; keepalive_requests 100000000;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }`, false), "-p", dir]);
    procs.push(nginxProxy);
    candidates.push({ name: "nginx", port: PORTS.nginx, pid: nginxProxy.pid, rbac: false });

    writeFileSync(join(dir, "node.yaml"), weftConfig(PORTS.node));
    const node = start(PROXY_CORE, process.execPath, [join(root, "bin/weft.js"), "proxy", "--config", join(dir, "node.yaml")]);
    procs.push(node);
    candidates.push({ name: "weft on Node", port: PORTS.node, pid: node.pid, rbac: true });

    writeFileSync(join(dir, "deno.yaml"), weftConfig(PORTS.deno));
    const deno = start(PROXY_CORE, denoBinary(), ["run", "-A", "--no-lock", join(root, "edge/deno/proxy.ts"), "--config", join(dir, "deno.yaml"), "--listen", `127.0.0.1:${PORTS.deno}`]);
    procs.push(deno);
    candidates.push({ name: "weft on Deno", port: PORTS.deno, pid: deno.pid, rbac: true });

    await bundleEdgeWorker(join(dir, "worker.js"));
    writeFileSync(join(dir, "edge.capnp"), workerdConfig({
      workerFile: "worker.js", compatibilityDate: workerdCompatibilityDate(), listen: `127.0.0.1:${PORTS.workerd}`,
      feedUrl: `http://127.0.0.1:${feed.port}/v1/edge/config?node=bench`, feedToken: FEED_TOKEN, feedRefreshMs: 3_600_000,
    }));
    const workerd = start(PROXY_CORE, workerdBinary(), ["serve", join(dir, "edge.capnp")]);
    procs.push(workerd);
    candidates.push({ name: "weft on workerd", port: PORTS.workerd, pid: workerd.pid, rbac: true });

    for (const c of candidates) {
      await waitPort(c.port);
      await check(c.name, c.port, c.rbac);
    }

    const loads: number[][] = [loadavg()];
    for (const c of candidates) wrk(c.port, 2, { connections: CONNECTIONS, core: LOAD_CORE }); // warm-up: JIT, pools
    const samples = new Map<string, Sample[]>(candidates.map((c) => [c.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of candidates) {
        const before = c.pid ? cpuTicks(c.pid) : 0;
        const s = wrk(c.port, DURATION_S, { connections: CONNECTIONS, core: LOAD_CORE });
        if (c.pid) s.cpuSecPer1k = ((cpuTicks(c.pid) - before) / CLK_TCK) / (s.requests / 1000);
        samples.get(c.name)!.push(s);
        loads.push(loadavg());
        console.log(`round ${r + 1} ${c.name.padEnd(16)} ${s.rps.toFixed(0).padStart(7)} req/s  p50 ${s.p50Ms.toFixed(2)} ms  p99 ${s.p99Ms.toFixed(2)} ms${s.cpuSecPer1k !== undefined ? `  cpu ${(s.cpuSecPer1k * 1000).toFixed(1)} ms/1k` : ""}${s.errors ? `  errors ${s.errors}` : ""}`);
      }
    }
    for (const c of candidates) await check(c.name, c.port, c.rbac); // still answering after the load
    const nginxRps = samples.get("nginx")!.map((s) => s.rps);
    const results = candidates.map((c) => {
      const ss = samples.get(c.name)!;
      return {
        name: c.name,
        rps: Math.round(median(ss.map((s) => s.rps))),
        vsNginx: Math.round(median(ss.map((s, i) => s.rps / nginxRps[i]!)) * 100) / 100,
        p50Ms: Math.round(median(ss.map((s) => s.p50Ms)) * 100) / 100,
        p99Ms: Math.round(median(ss.map((s) => s.p99Ms)) * 100) / 100,
        cpuMsPer1kRequests: c.pid ? Math.round(median(ss.map((s) => s.cpuSecPer1k!)) * 100000) / 100 : undefined,
        peakRssMb: c.pid ? peakRssMb(c.pid) : undefined,
        errors: ss.reduce((n, s) => n + s.errors, 0),
        rounds: ss,
      };
    });
    const date = new Date().toISOString().slice(0, 10);
    const machine = {
      nproc: Number(execFileSync("nproc").toString().trim()),
      cpu: /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown",
      node: process.version,
      deno: /deno (\S+)/.exec(execFileSync(denoBinary(), ["--version"], { encoding: "utf8" }))?.[1] ?? "?",
      workerd: execFileSync(workerdBinary(), ["--version"], { encoding: "utf8" }).trim(),
      nginx: spawnSync(nginx, ["-v"], { encoding: "utf8" }).stderr.trim().replace(/^nginx version: /, ""),
    };
    const oneMinute = loads.map((l) => l[0]!);
    const load = { before: loads[0]!, after: loads.at(-1)!, oneMinuteMin: Math.min(...oneMinute), oneMinuteMax: Math.max(...oneMinute) };
    const report = {
      benchmark: "runtimes-http1-rbac-1k",
      date: new Date().toISOString(),
      machine,
      load: { tool: "wrk", connections: CONNECTIONS, threads: 1, seconds: DURATION_S, rounds: ROUNDS, body: "1024 bytes", pinning: { loadAndUpstream: LOAD_CORE, proxy: PROXY_CORE }, loadavg: load },
      peer: "nginx (1 worker, keep-alive upstream, no authorization)",
      results,
    };
    mkdirSync(join(root, "bench/results"), { recursive: true });
    const out = join(root, `bench/results/runtimes-${date}.json`);
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
    console.log(`\nwrote ${out}`);
    writeDocs(date, machine, load, results);
  } finally {
    cleanup();
    await feed.close();
  }
}

type Row = { name: string; rps: number; vsNginx: number; p50Ms: number; p99Ms: number; cpuMsPer1kRequests?: number | undefined; peakRssMb?: number | undefined; errors: number };

function writeDocs(date: string, m: { nproc: number; cpu: string; node: string; deno: string; workerd: string; nginx: string }, load: { before: number[]; after: number[]; oneMinuteMin: number; oneMinuteMax: number }, results: Row[]): void {
  const file = join(root, "docs/performance.md");
  const rows = results.map((r) => `| ${r.name} | ${r.rps} | ${r.name === "direct" ? "—" : r.vsNginx.toFixed(2)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.cpuMsPer1kRequests?.toFixed(1) ?? "—"} | ${r.peakRssMb ?? "—"} |${r.errors ? ` ${r.errors} errors` : ""}`);
  const section = `## Runtimes

The same weft proxy config — one route to a local upstream, the rbac filter with a small policy (a
DENY on \`/admin\`, an ALLOW for GET/HEAD; each weft candidate is checked to answer 403 on \`/admin\`
before the run), 1 KiB responses — on the Node proxy (\`bin/weft.js proxy --config\`, bundled), the
Deno host (\`edge/deno/proxy.ts\`) and the workerd host (\`edge/workerd/worker.ts\` bundled by esbuild,
global \`fetch\` upstream), beside nginx as a keep-alive reverse proxy (1 worker, no authorization).
HTTP/1.1 plaintext, \`wrk -t1 -c${CONNECTIONS}\`, ${ROUNDS} interleaved rounds of ${DURATION_S} s (medians; "× nginx" is the
median of per-round ratios). Upstream nginx and wrk on core ${LOAD_CORE}, each candidate alone on core ${PROXY_CORE}
(\`taskset\`); CPU is the candidate process's user+system time (all threads) per 1,000 requests, RSS
its peak (VmHWM). Run \`npm run bench:runtimes\`; raw numbers in \`bench/results/runtimes-${date}.json\`.

Measured ${date} on ${m.nproc} × ${m.cpu}; Node ${m.node}, Deno ${m.deno}, ${m.workerd}, ${m.nginx}. Load average
before ${load.before.join(" ")}, after ${load.after.join(" ")}; 1-minute load ${load.oneMinuteMin}–${load.oneMinuteMax} during
the run (a shared machine: compare the ratios, not the absolute numbers).${load.oneMinuteMax > m.nproc ? `
The machine was overloaded during this run (1-minute load above its ${m.nproc} cores, from other work):
req/s and latencies mostly measure contention; CPU per request is the column to compare.` : ""}

| candidate | req/s | × nginx | p50 ms | p99 ms | CPU ms / 1k req | peak RSS MB |
|---|---|---|---|---|---|---|
${rows.join("\n")}
`;
  let doc = existsSync(file) ? readFileSync(file, "utf8") : "# Performance\n";
  const at = doc.indexOf("\n## Runtimes\n");
  if (at !== -1) {
    const next = doc.indexOf("\n## ", at + 1);
    doc = doc.slice(0, at + 1) + section + (next === -1 ? "" : doc.slice(next));
  } else doc = doc.trimEnd() + "\n\n" + section;
  writeFileSync(file, doc);
  console.log(`updated ${file}`);
}

await main();
