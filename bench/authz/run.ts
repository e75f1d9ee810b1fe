/**
 * @module bench/authz/run
 * `npm run bench:authz`: weft's ext_authz server (its own process, pinned to core 1) answers Check calls
 * sent open-loop at a fixed rate (default 2,000/s for 10 s after a 2 s warm-up) over a few HTTP/2
 * connections by ghz (bench/authz/ghz.ts, a Go gRPC load generator) on core 0. `BENCH_LOADGEN=connect`
 * uses connect-node clients in this process instead, measuring latency from each call's scheduled send
 * time (it cannot reach 2,000/s on one core; kept to show why ghz is used). CPU is the server process's
 * user+system time from /proc. The requests are Envoy-shaped CheckRequests built from the
 * policy benchmark's seeded 100-rule workload. Writes bench/results/authz-<date>.json and the
 * "## ext_authz" section of docs/performance.md.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Authorization, type CheckRequest } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import { envoyCheckRequest } from "../../control/extauthz/testing.ts";
import { generateWorkload } from "../policy/workload.ts";
import { describeMachine, loads, writeJson } from "../policy/report.ts";
import { GHZ_VERSION, runGhz } from "./ghz.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const RULES = Number(process.env.BENCH_RULES ?? 100);
const pin = existsSync("/usr/bin/taskset") && (process.env.BENCH_PIN ?? "1") !== "0";
const LOADGEN = process.env.BENCH_LOADGEN === "connect" ? "connect" : "ghz";

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function toCheckRequests(): CheckRequest[] {
  const w = generateWorkload(RULES, 4096, 1);
  return w.requests.map(({ weft: r }, i) => envoyCheckRequest({
    source: { ip: "10.244.1.7", port: 40_000 + (i % 20_000), ...(r.source?.principal ? { principal: r.source.principal } : {}) },
    destination: { ip: "10.244.2.9", port: 8080 },
    method: r.http!.method, path: r.http!.path,
    headers: Object.fromEntries(Object.entries(r.http!.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v])),
    contextExtensions: { namespace: r.destination.namespace, labels: Object.entries(r.destination.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") },
    requestId: `req-${i}`,
  }));
}

const pct = (sorted: number[], p: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

let cpuCalls = 0, cpuWall = 1, achieved = 0;

/** The in-process connect-node load generator (BENCH_LOADGEN=connect). */
async function connectLoad(port: number, requests: CheckRequest[], serverPid: number): Promise<{ latencies: number[]; errors: number; allowed: number; denied: number; wall: number; cpu: number }> {
  if (pin) spawn("taskset", ["-p", "-c", "0", String(process.pid)], { stdio: "ignore" });
  const clients = Array.from({ length: CONNECTIONS }, () =>
    createClient(Authorization, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })));

  const total = Math.round(RATE * (WARMUP_S + SECONDS));
  const warm = Math.round(RATE * WARMUP_S);
  const latencies: number[] = [];
  let errors = 0, allowed = 0, denied = 0, done = 0, cpuStart = 0, wallStart = 0;
  let resolveAll!: () => void;
  const finished = new Promise<void>((r) => (resolveAll = r));
  const t0 = performance.now() + 50;
  let next = 0;
  const send = (i: number) => {
    const scheduled = t0 + (i * 1000) / RATE;
    if (i === warm) {
      cpuStart = cpuSeconds(serverPid);
      wallStart = performance.now();
    }
    clients[i % CONNECTIONS]!.check(requests[i % requests.length]!).then((res) => {
      if (i >= warm) {
        latencies.push(performance.now() - scheduled);
        if (res.status?.code === 0) allowed++;
        else denied++;
      }
    }, () => void (i >= warm && errors++)).finally(() => {
      if (++done === total) resolveAll();
    });
  };
  const tick = () => {
    const now = performance.now();
    while (next < total && t0 + (next * 1000) / RATE <= now) send(next++);
    if (next < total) setTimeout(tick, 0);
  };
  await new Promise((r) => setTimeout(r, 60));
  tick();
  await finished;
  const wall = (performance.now() - wallStart) / 1000;
  const cpu = cpuSeconds(serverPid) - cpuStart;

  return { latencies, errors, allowed, denied, wall, cpu };
}

async function main(): Promise<void> {
  // `node --import tsx` (not the tsx CLI, which forks): the pid we read CPU from is the server itself.
  const args = ["--import", "tsx", join(root, "bench/authz/server-entry.ts"), String(RULES)];
  const child = pin ? spawn("taskset", ["-c", "1", process.execPath, ...args]) : spawn(process.execPath, args);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on("data", (d: Buffer) => process.stderr.write(d));
    child.once("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
  const requests = toCheckRequests();
  const loadBefore = loads();
  let latencies: number[];
  let errors = 0, allowed: number | null = null, denied: number | null = null, wall: number, cpu: number;
  if (LOADGEN === "ghz") {
    const workDir = mkdtempSync(join(tmpdir(), "weft-bench-authz-"));
    try {
      const cpu0 = cpuSeconds(child.pid!);
      const t = performance.now();
      const r = await runGhz({ port, requests: requests.slice(0, 512), rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP_S, connections: CONNECTIONS, workDir, ...(pin ? { cpu: 0 } : {}) });
      // ghz reports per-call latency but not when its warm-up ended: CPU is averaged over every call.
      wall = (performance.now() - t) / 1000;
      cpu = cpuSeconds(child.pid!) - cpu0;
      latencies = r.latenciesMs;
      errors = r.errors;
      cpuCalls = Math.round(RATE * (SECONDS + WARMUP_S));
      cpuWall = wall;
      // ghz's own rps counts its start-up and tail; the measured calls over the measured seconds is the rate.
      achieved = Math.min(r.rps * 2, latencies.length / SECONDS);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  } else {
    const c = await connectLoad(port, requests, child.pid!);
    ({ latencies, errors, wall, cpu } = c);
    allowed = c.allowed;
    denied = c.denied;
    cpuCalls = latencies.length;
    cpuWall = wall;
    achieved = latencies.length / wall;
  }
  child.kill("SIGTERM");

  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  const result = {
    date: new Date().toISOString(),
    machine: describeMachine(pin),
    node: process.version,
    load: { before: loadBefore, after: loads() },
    setup: { rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP_S, connections: CONNECTIONS, rules: RULES, protocol: "gRPC over HTTP/2 (h2c), connect-node server", loadGenerator: LOADGEN === "ghz" ? `ghz ${GHZ_VERSION} (--rps --async, open loop)` : "connect-node clients in-process (open loop, latency from scheduled send time)", pinned: pin ? { server: 1, loadGenerator: 0 } : null },
    weft: {
      calls: n, errors, allowed, denied,
      achievedRate: Math.round(achieved),
      latencyMs: { p50: pct(latencies, 0.5), p90: pct(latencies, 0.9), p99: pct(latencies, 0.99), p999: pct(latencies, 0.999), max: latencies[n - 1] },
      serverCpu: { seconds: cpu, percentOfCore: (cpu / cpuWall) * 100, usPerCheck: (cpu / Math.max(1, cpuCalls)) * 1e6 },
    },
    peer: { name: "OPA-Envoy (published, not run here)", p99Ms: [2.8, 6.1], source: "PERFORMANCE.md / OPA docs 'Envoy plugin performance'" },
    target: { p99Ms: 1 },
  };
  const day = result.date.slice(0, 10);
  writeJson(join(root, `bench/results/authz-${day}.json`), result);
  const l = result.weft.latencyMs;
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "—" : x.toFixed(3));
  console.log(`ext_authz @ ${RATE}/s, ${CONNECTIONS} conns, ${RULES} rules: ${n} calls, ${errors} errors; p50 ${f(l.p50)} ms p99 ${f(l.p99)} ms p999 ${f(l.p999)} ms max ${f(l.max!)} ms; server CPU ${result.weft.serverCpu.percentOfCore.toFixed(1)}% of a core, ${result.weft.serverCpu.usPerCheck.toFixed(1)} µs/check`);
  writeSection(join(root, "docs/performance.md"), `Measured ${day} by \`npm run bench:authz\` (raw numbers: \`bench/results/authz-${day}.json\`). ${result.machine.cpuModel}, ${result.machine.nproc} CPUs, Node ${process.version}; ${pin ? "server pinned to CPU 1, load generator to CPU 0 (taskset)" : "not pinned"}; load average ${loadBefore.join("/")} before, ${result.load.after.join("/")} after (shared machine).

Weft's ext_authz server (its own process) answers \`envoy.service.auth.v3.Authorization/Check\` over gRPC/HTTP/2 (plaintext, loopback). The load generator sends Envoy-shaped CheckRequests open-loop at a fixed ${RATE.toLocaleString("en-US")} req/s over ${CONNECTIONS} HTTP/2 connections for ${SECONDS} s after a ${WARMUP_S} s warm-up, ${LOADGEN === "ghz" ? `with ghz ${GHZ_VERSION} (Go; \`--rps --async\`, so calls are sent on schedule whether or not earlier ones have returned; each call's latency as ghz measures it)` : "with connect-node clients in the benchmark process (latency from each call's scheduled send time, so queueing is not hidden)"}. Requests: the policy benchmark's seeded 4,096 requests against its ${RULES}-rule policy set (workload from \`context_extensions\`). CPU is the server process's user+system time${LOADGEN === "ghz" ? ", averaged over every call including the warm-up" : ""}.

| server | rate | calls | errors | p50 ms | p99 ms | p99.9 ms | max ms | server CPU (% of a core) | CPU µs/check |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| weft | ${result.weft.achievedRate.toLocaleString("en-US")}/s | ${n.toLocaleString("en-US")} | ${errors} | ${f(l.p50)} | ${f(l.p99)} | ${f(l.p999)} | ${f(l.max!)} | ${result.weft.serverCpu.percentOfCore.toFixed(1)} | ${result.weft.serverCpu.usPerCheck.toFixed(1)} |
| OPA-Envoy (published figures, not run here) | — | — | — | — | 2.8–6.1 | — | — | — | — |

Target (PERFORMANCE.md): p99 ≤ 1 ms at 2,000 req/s — weft ${f(l.p99)} ms: ${l.p99 <= 1 ? "met" : "missed"}. The OPA figures come from a different machine and setup, so they are a reference, not a same-run ratio. The server answers Check on its lean unary HTTP/2 path (control/node/grpc-unary.ts); \`BENCH_FASTPATH=0\` runs the same benchmark with Check on connect-node for comparison.${result.weft.achievedRate < 0.9 * RATE ? ` **This run is not valid at ${RATE.toLocaleString("en-US")} req/s:** only ${result.weft.achievedRate.toLocaleString("en-US")} calls/s completed, so the latencies are mostly backlog.` : ""}`);
}

const SECTION = "## ext_authz";

/** Replaces (or appends) the "## ext_authz" section of docs/performance.md, up to the next `## ` heading. */
function writeSection(path: string, body: string): void {
  const section = `${SECTION}\n\n${body.trim()}\n`;
  let text = readFileSync(path, "utf8");
  const start = text.indexOf(`\n${SECTION}\n`);
  if (start >= 0) {
    const next = text.indexOf("\n## ", start + SECTION.length + 1);
    text = text.slice(0, start + 1) + section + (next >= 0 ? "\n" + text.slice(next + 1) : "");
  } else text = text.replace(/\n*$/, "\n\n") + section;
  writeFileSync(path, text);
}

await main();
