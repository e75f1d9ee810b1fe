/**
 * @module bench/control/clients
 * The benchmark's xDS clients, in their own process (so decoding responses does not run on the
 * control plane's event loop): N real gRPC ADS streams over HTTP/2 (one connection per client), the
 * first `delta` of them incremental, the rest state of the world. Every client asks CDS (wildcard) and
 * EDS for every cluster, and ACKs every response at once. They speak gRPC through
 * bench/control/grpc-frames.ts: responses are decoded with the generated types, and a SotW ACK — which
 * repeats all 1,000 subscribed names, as Envoy's does — is a small header plus the name list encoded
 * once, so the clients cost about what native clients would. Reports to the parent over IPC:
 * `{ connected }` once every client holds all load assignments, then `{ stats }` on request.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DeltaDiscoveryRequestSchema, DeltaDiscoveryResponseSchema, DiscoveryRequestSchema, DiscoveryResponseSchema,
} from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { TypeUrl } from "../../control/xds/resource-types.ts";
import { openRawGrpcStream } from "./grpc-frames.ts";
import { clusterNameOf } from "./model.ts";

const [address, countArg, deltaArg, servicesArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const DELTA = Number(deltaArg);
const SERVICES = Number(servicesArg);
const ADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService";
const names = Array.from({ length: SERVICES }, (_, i) => clusterNameOf(i));
/** `resource_names` of every cluster, encoded once and appended to each EDS request. */
const namesBlob = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { resourceNames: names }));
let responses = 0;
let bytes = 0;
let ready = 0;
const send = (m: unknown) => process.send!(m);
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

function sotwClient(i: number): void {
  const node = { id: `bench-sotw-${i}`, cluster: "bench" };
  let haveEds = false;
  const request = (init: { typeUrl: string; versionInfo?: string; responseNonce?: string; node?: typeof node }) => {
    const head = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init));
    return init.typeUrl === TypeUrl.endpoint ? concat(head, namesBlob) : head;
  };
  const s = openRawGrpcStream(address!, `${ADS}/StreamAggregatedResources`, (raw) => {
    const res = fromBinary(DiscoveryResponseSchema, raw);
    responses++;
    for (const r of res.resources) bytes += r.value.length;
    s.send(request({ typeUrl: res.typeUrl, versionInfo: res.versionInfo, responseNonce: res.nonce }));
    if (res.typeUrl === TypeUrl.endpoint && !haveEds && res.resources.length === SERVICES) {
      haveEds = true;
      if (++ready === COUNT) send({ connected: true });
    }
  });
  s.send(request({ node, typeUrl: TypeUrl.cluster }));
  s.send(request({ node, typeUrl: TypeUrl.endpoint }));
  void s.done.then((err) => send({ error: `sotw ${i}: ${String(err)}` }));
}

function deltaClient(i: number): void {
  const node = { id: `bench-delta-${i}`, cluster: "bench" };
  const held = new Set<string>();
  let haveEds = false;
  const request = (init: Parameters<typeof create<typeof DeltaDiscoveryRequestSchema>>[1]) => toBinary(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, init));
  const s = openRawGrpcStream(address!, `${ADS}/DeltaAggregatedResources`, (raw) => {
    const res = fromBinary(DeltaDiscoveryResponseSchema, raw);
    responses++;
    for (const r of res.resources) bytes += r.resource?.value.length ?? 0;
    if (res.typeUrl === TypeUrl.endpoint) for (const r of res.resources) held.add(r.name);
    s.send(request({ typeUrl: res.typeUrl, responseNonce: res.nonce }));
    if (!haveEds && held.size === SERVICES) {
      haveEds = true;
      if (++ready === COUNT) send({ connected: true });
    }
  });
  s.send(request({ node, typeUrl: TypeUrl.cluster }));
  s.send(request({ node, typeUrl: TypeUrl.endpoint, resourceNamesSubscribe: names }));
  void s.done.then((err) => send({ error: `delta ${i}: ${String(err)}` }));
}

/** With BENCH_PROFILE=dir, a CPU profile of the clients from `{ profile }` to `{ stats }` is written there. */
let stopProfile: (() => Promise<void>) | null = null;
async function startProfile(): Promise<void> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return;
  const { Session } = await import("node:inspector/promises");
  const { writeFileSync } = await import("node:fs");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  stopProfile = async () => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(`${dir}/clients-${process.pid}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  };
}

for (let i = 0; i < COUNT; i++) (i < DELTA ? deltaClient : sotwClient)(i);
let cpuAtStart = process.cpuUsage();
process.on("message", async (m: { stats?: boolean; profile?: boolean }) => {
  if (m.profile) {
    cpuAtStart = process.cpuUsage();
    await startProfile();
  }
  if (m.stats) {
    await stopProfile?.();
    const cpu = process.cpuUsage();
    const measured = process.cpuUsage(cpuAtStart);
    send({ stats: { responses, bytes, cpuSec: (cpu.user + cpu.system) / 1e6, measureCpuSec: (measured.user + measured.system) / 1e6 } });
  }
});
