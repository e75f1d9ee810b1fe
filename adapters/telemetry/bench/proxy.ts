/**
 * @module adapters/telemetry/bench/proxy
 * What telemetry costs a running `weft proxy`, measured in one run: the same proxy (bin/weft.js, one
 * process pinned to core 1) without a `telemetry:` section, with Istio metrics only, with metrics and
 * trace propagation (W3C + B3, 1% sampling, no exporter), and with metrics, propagation and a JSON
 * access-log file. Upstream: nginx returning 12 bytes (core 0); load: wrk on core 0, keep-alive,
 * loopback only, bounded runs; rounds interleaved so machine noise hits every candidate alike. Prints
 * per candidate the median req/s and CPU time of the proxy process per 1,000 requests (from
 * /proc/<pid>/stat; steadier than req/s on a shared machine), each with its ratio to the proxy
 * without telemetry (median of per-round ratios).
 *   node --import tsx adapters/telemetry/bench/proxy.ts      (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS)
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const UPSTREAM = 18281;

function which(cmd: string): string {
  for (const d of ["/usr/sbin", "/usr/bin", "/usr/local/bin"]) if (existsSync(join(d, cmd))) return join(d, cmd);
  throw new Error(`${cmd} not found (apt-get install ${cmd})`);
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** User + system CPU seconds of a process and its threads. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function wrk(port: number, seconds: number): { rps: number; requests: number } {
  const out = execFileSync("taskset", ["-c", "0", which("wrk"), "-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`]).toString();
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const n = /(\d+) requests in/.exec(out);
  if (m === null || n === null) throw new Error(`wrk output without Requests/sec:\n${out}`);
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  return { rps: Number(m[1]), requests: Number(n[1]) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "weft-bench-telemetry-"));
  const procs: ChildProcess[] = [];
  process.on("exit", () => { for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM"); });
  writeFileSync(join(dir, "nginx.conf"), `worker_processes 1; master_process off; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server { listen 127.0.0.1:${UPSTREAM}; keepalive_requests 100000000; location / { return 200 "hello world\\n"; } } }
`);
  procs.push(spawn("taskset", ["-c", "0", which("nginx"), "-c", join(dir, "nginx.conf"), "-p", dir], { stdio: "ignore" }));
  await waitPort(UPSTREAM);

  const workload = "workload: { name: reviews-v1, namespace: default, app: reviews, version: v1 }";
  const variants: { name: string; yaml: string }[] = [
    { name: "no telemetry", yaml: "" },
    { name: "Istio metrics", yaml: `${workload}\ntelemetry: {}` },
    { name: "metrics + trace propagation", yaml: `${workload}\ntelemetry: { tracing: { samplingPercent: 1 } }` },
    { name: "metrics + propagation + access log", yaml: `${workload}\ntelemetry: { tracing: { samplingPercent: 1 }, accessLog: { path: ${dir}/access.log } }` },
  ];
  const candidates = variants.map((v, i) => ({ ...v, port: UPSTREAM + 1 + i, pid: 0, rps: [] as number[], cpuMsPer1k: [] as number[] }));
  for (const c of candidates) {
    const file = join(dir, `weft-${c.port}.yaml`);
    writeFileSync(file, `${c.yaml}
listeners:
  - name: web
    address: 127.0.0.1:${c.port}
    http: { virtualHosts: [{ name: all, domains: ["*"], routes: [{ route: { cluster: up } }] }] }
clusters: [{ name: up, service: up.default.svc.cluster.local, endpoints: ["127.0.0.1:${UPSTREAM}"] }]
`);
    const p = spawn("taskset", ["-c", "1", process.execPath, join(root, "bin", "weft.js"), "proxy", "--config", file], { stdio: "ignore", cwd: root });
    procs.push(p);
    c.pid = p.pid!;
  }
  for (const c of candidates) await waitPort(c.port);
  for (const c of candidates) wrk(c.port, 2); // warm-up: JIT and pools
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of candidates) {
      const before = cpuSeconds(c.pid);
      const { rps, requests } = wrk(c.port, SECONDS);
      const cpu = ((cpuSeconds(c.pid) - before) / requests) * 1e6;
      c.rps.push(rps);
      c.cpuMsPer1k.push(cpu);
      console.log(`round ${r + 1} ${c.name.padEnd(36)} ${rps.toFixed(0).padStart(7)} req/s  ${cpu.toFixed(1)} ms CPU/1k`);
    }
  }
  const base = candidates[0]!;
  console.log(`\n${"candidate".padEnd(36)} ${"req/s".padStart(7)}  ratio  ms CPU/1k  ratio   (ratios: to no telemetry, median of per-round ratios)`);
  for (const c of candidates) {
    const rpsRatio = median(c.rps.map((x, i) => x / base.rps[i]!));
    const cpuRatio = median(c.cpuMsPer1k.map((x, i) => x / base.cpuMsPer1k[i]!));
    console.log(`${c.name.padEnd(36)} ${median(c.rps).toFixed(0).padStart(7)}  ${rpsRatio.toFixed(3)}  ${median(c.cpuMsPer1k).toFixed(1).padStart(8)}  ${cpuRatio.toFixed(3)}`);
  }
}

await main();
process.exit(0);
