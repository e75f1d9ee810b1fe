/**
 * @module bench/control/server
 * The control plane under test, in its own process: the mesh publisher (one cache entry per node, the
 * default node hash, or one for all nodes with `grouped`; either way the nodes share one snapshot
 * object) and weft's xDS server over connect-node on loopback. Driven by the parent over IPC: `{ measure: n }` makes n single-endpoint changes one
 * after another; for each it records how long `publisher.update` took and the time until every
 * connected stream has ACKed the new EDS version (seen by the server, so one clock). Replies with the
 * samples, the process's RSS and CPU (and its CPU over the changes alone).
 */
import { readFileSync } from "node:fs";
import { createMeshPublisher } from "../../control/xds/publisher.ts";
import { TypeUrl } from "../../control/xds/resource-types.ts";
import { createXdsStatus } from "../../control/xds/status.ts";
import { startXdsServer } from "../../control/xds/node/server.ts";
import type { StreamEvent } from "../../control/xds/stream-common.ts";
import { buildModel, changeOneEndpoint } from "./model.ts";

const [servicesArg, endpointsArg, mode] = process.argv.slice(2);
const SERVICES = Number(servicesArg);
const ENDPOINTS = Number(endpointsArg);
const grouped = mode === "grouped";

const memMb = (field: string): number => Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 102.4) / 10;

let model = buildModel(SERVICES, ENDPOINTS);
const pub = createMeshPublisher({
  profileFor: () => ({ kind: "grpc" }),
  ...(grouped ? { nodeHash: () => "grpc" } : {}),
  onError: (key, err) => process.send!({ error: `${key}: ${err.message}` }),
});
pub.update(model, "rev-0"); // snapshots are built as the nodes connect

const streams = new Set<number>();
const ackedEds = new Map<number, string>();
let waiting: { version: string; resolve: () => void } | null = null;
/** Streams whose EDS ACK equals `waiting.version` (counted as ACKs arrive, not recounted per ACK). */
let ackedCount = 0;
const allAcked = (version: string) => [...streams].every((id) => ackedEds.get(id) === version);
const onEvent = (e: StreamEvent) => {
  if (e.kind === "open") streams.add(e.streamId);
  else if (e.kind === "close") { streams.delete(e.streamId); ackedEds.delete(e.streamId); }
  else if (e.kind === "ack" && e.typeUrl === TypeUrl.endpoint) {
    const before = ackedEds.get(e.streamId);
    ackedEds.set(e.streamId, e.version);
    if (waiting && e.version === waiting.version && before !== e.version && ++ackedCount >= streams.size && allAcked(waiting.version)) waiting.resolve();
  } else if (e.kind === "nack") process.send!({ error: `NACK on stream ${e.streamId}: ${e.message}` });
};
const status = createXdsStatus();
const server = await startXdsServer({ watcher: pub.cache, status, onEvent });

async function measure(n: number, clusters: number): Promise<{ updateMs: number[]; convergeMs: number[] }> {
  const updateMs: number[] = [];
  const convergeMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = changeOneEndpoint(model, (i * 7919) % clusters, i + 1);
    const start = performance.now();
    const done = new Promise<void>((resolve) => { waiting = { version: "", resolve }; });
    pub.update(next, `rev-${i + 1}`);
    const afterUpdate = performance.now();
    model = next;
    const version = pub.cache.getSnapshot(pub.cache.keys()[0]!)!.version(TypeUrl.endpoint);
    waiting!.version = version;
    ackedCount = [...streams].filter((id) => ackedEds.get(id) === version).length;
    if (allAcked(version)) waiting!.resolve();
    await done;
    const end = performance.now();
    waiting = null;
    updateMs.push(afterUpdate - start);
    convergeMs.push(end - start);
    await new Promise((r) => setTimeout(r, 100)); // let GC and the clients settle between changes
  }
  return { updateMs, convergeMs };
}

/** With BENCH_PROFILE=dir, a CPU profile of the measured changes is written there (for "where the time goes"). */
async function profiled<T>(run: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return run();
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  const result = await run();
  const { profile } = await session.post("Profiler.stop");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(`${dir}/control-${mode ?? "per-node"}-${process.pid}.cpuprofile`, JSON.stringify(profile));
  session.disconnect();
  return result;
}

process.on("message", (m: { measure?: number; stop?: boolean }) => {
  if (m.measure) {
    const cpu0 = process.cpuUsage();
    void profiled(() => measure(m.measure!, SERVICES)).then((r) => {
      const cpu = process.cpuUsage();
      const measured = process.cpuUsage(cpu0);
      process.send!({ result: { ...r, measureCpuSec: (measured.user + measured.system) / 1e6, streams: streams.size, snapshots: new Set(pub.cache.keys().map((k) => pub.cache.getSnapshot(k))).size, rssMb: memMb("VmRSS"), peakRssMb: memMb("VmHWM"), heapMb: Math.round(process.memoryUsage().heapUsed / 1e5) / 10, cpuSec: (cpu.user + cpu.system) / 1e6 } });
    });
  }
  if (m.stop) void server.close().then(() => process.exit(0));
});
process.send!({ ready: server.address, rssMb: memMb("VmRSS") });
