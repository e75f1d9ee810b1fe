/**
 * @module bench/control/run
 * `npm run bench:control`: control-plane convergence and CA issuance. Three processes: the control
 * plane (bench/control/server.ts: model with 1,000 services and 10,000 endpoints, publisher, xDS
 * server) pinned to core 1; the xDS clients (bench/control/clients.ts: 100 real gRPC ADS streams, 10
 * of them delta) pinned to core 0; this driver. For each of ≥ 20 single-endpoint changes the server
 * times publish → every stream ACKed the new EDS version. Two cache set-ups are measured: one entry per
 * node (the default node hash) and one entry for all nodes (`nodeHash`); `BENCH_MODES=per-node|grouped`
 * picks one, `BENCH_ONLY=xds` stops after convergence (printed, not recorded) and `BENCH_PROFILE=dir`
 * writes CPU profiles of the control plane and the clients over the changes. Then SVID issuance
 * (bench/control/ca-bench.ts on core 1) beside `openssl speed ecdsap256` on the same core. Writes
 * bench/results/control-<date>.json and the "## Control plane" section of docs/performance.md.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describeMachine, loads } from "../policy/report.ts";
import { writeReport, type ControlResult } from "./report.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS_PER_SERVICE ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 100);
const DELTA = Number(process.env.BENCH_DELTA_CLIENTS ?? 10);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 25);
const WARMUP = 3;
const CA_SECONDS = Number(process.env.BENCH_CA_SECONDS ?? 5);
const SERVER_CORE = "1";
const CLIENT_CORE = "0";

type Msg = Record<string, any>;

function spawnTs(core: string, file: string, args: string[]): ChildProcess {
  return fork(join(root, file), args, { execPath: "taskset", execArgv: ["-c", core, process.execPath, "--import", "tsx"], cwd: root, stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function nextMessage(p: ChildProcess, key: string, timeoutMs = 900_000): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no "${key}" from ${p.pid} within ${timeoutMs} ms`)); }, timeoutMs);
    const onMsg = (m: Msg) => {
      if (m.error) console.error(`  ! ${m.error}`);
      if (key in m) { cleanup(); resolve(m); }
    };
    const onExit = (code: number) => { cleanup(); reject(new Error(`process ${p.pid} exited (${code}) before "${key}"`)); };
    const cleanup = () => { clearTimeout(timer); p.off("message", onMsg); p.off("exit", onExit); };
    p.on("message", onMsg);
    p.on("exit", onExit);
  });
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

async function convergence(mode: "per-node" | "grouped"): Promise<ControlResult["convergence"][number]> {
  const server = spawnTs(SERVER_CORE, "bench/control/server.ts", [String(SERVICES), String(ENDPOINTS), mode]);
  const clients: ChildProcess[] = [];
  try {
    const ready = await nextMessage(server, "ready");
    console.log(`[${mode}] control plane on ${ready.ready}`);
    const c = spawnTs(CLIENT_CORE, "bench/control/clients.ts", [ready.ready, String(CLIENTS), String(DELTA), String(SERVICES)]);
    clients.push(c);
    const t = performance.now();
    await nextMessage(c, "connected");
    const connectMs = performance.now() - t;
    console.log(`[${mode}] ${CLIENTS} clients hold all ${SERVICES} load assignments after ${r1(connectMs)} ms; ${CHANGES} changes...`);
    c.send({ profile: true });
    server.send({ measure: WARMUP + CHANGES });
    const { result } = await nextMessage(server, "result");
    c.send({ stats: true });
    const { stats } = await nextMessage(c, "stats");
    const conv: number[] = result.convergeMs.slice(WARMUP);
    const upd: number[] = result.updateMs.slice(WARMUP);
    return {
      mode, clients: CLIENTS, deltaClients: DELTA, streamsAtServer: result.streams, snapshots: result.snapshots, changes: conv.length,
      connectAllMs: r1(connectMs),
      convergeP50Ms: r1(pct(conv, 50)), convergeP99Ms: r1(pct(conv, 99)), convergeMaxMs: r1(Math.max(...conv)),
      updateP50Ms: r1(pct(upd, 50)), updateP99Ms: r1(pct(upd, 99)),
      serverRssMb: result.rssMb, serverPeakRssMb: result.peakRssMb, serverHeapMb: result.heapMb, serverCpuSec: r1(result.cpuSec),
      clientResponses: stats.responses, clientMb: r1(stats.bytes / 1e6), clientCpuSec: r1(stats.cpuSec),
      serverCpuMsPerChange: r1((1000 * result.measureCpuSec) / result.convergeMs.length),
      clientCpuMsPerChange: r1((1000 * stats.measureCpuSec) / result.convergeMs.length),
      samplesMs: conv.map(r1), updateSamplesMs: upd.map(r1),
    };
  } finally {
    for (const p of [...clients, server]) if (p.exitCode === null) p.kill("SIGTERM");
  }
}

function opensslSign(): { signsPerSec: number; verifiesPerSec: number } {
  const out = execFileSync("taskset", ["-c", SERVER_CORE, "openssl", "speed", "-seconds", "3", "ecdsap256"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const m = /256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(out);
  return { signsPerSec: Number(m?.[1] ?? 0), verifiesPerSec: Number(m?.[2] ?? 0) };
}

async function caRate(): Promise<ControlResult["ca"]> {
  const out = execFileSync("taskset", ["-c", SERVER_CORE, process.execPath, "--import", "tsx", join(root, "bench/control/ca-bench.ts"), String(CA_SECONDS)], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").pop()!) as ControlResult["ca"];
}

async function main(): Promise<void> {
  const started = new Date();
  const loadBefore = loads();
  const convergenceRows = [];
  const modes = (process.env.BENCH_MODES ?? "per-node,grouped").split(",") as ("per-node" | "grouped")[];
  for (const mode of modes) convergenceRows.push(await convergence(mode));
  if (process.env.BENCH_ONLY === "xds") {
    // Convergence only, printed and not recorded (for comparing builds side by side).
    for (const { samplesMs: _s, updateSamplesMs: _u, ...row } of convergenceRows) console.log(JSON.stringify(row));
    return;
  }
  console.log("SVID issuance and openssl on core 1...");
  const ca = await caRate();
  const openssl = opensslSign();
  const result: ControlResult = {
    date: started.toISOString().slice(0, 10), machine: describeMachine(true), node: process.version, load: { before: loadBefore, after: loads() },
    load_: { services: SERVICES, endpoints: SERVICES * ENDPOINTS, clients: CLIENTS, deltaClients: DELTA, warmup: WARMUP },
    convergence: convergenceRows, ca, openssl,
  };
  writeReport(root, result);
}

await main();
