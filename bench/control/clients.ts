/**
 * @module bench/control/clients
 * The benchmark's xDS clients, in their own process (so decoding responses does not run on the
 * control plane's event loop): N real gRPC ADS streams over HTTP/2 (connect-node, one connection per
 * client), the first `delta` of them incremental, the rest state of the world. Every client asks CDS
 * (wildcard) and EDS for every cluster, and ACKs every response at once. Reports to the parent over
 * IPC: `{ connected }` once every client holds all load assignments, then `{ stats }` on request.
 */
import { createAdsClient, deltaRequest, sotwRequest } from "../../control/xds/node/ads-client.ts";
import { TypeUrl } from "../../control/xds/resource-types.ts";
import { clusterNameOf } from "./model.ts";

const [address, countArg, deltaArg, servicesArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const DELTA = Number(deltaArg);
const SERVICES = Number(servicesArg);
const names = Array.from({ length: SERVICES }, (_, i) => clusterNameOf(i));
let responses = 0;
let bytes = 0;
let ready = 0;
const send = (m: unknown) => process.send!(m);

function sotwClient(i: number): void {
  const s = createAdsClient({ baseUrl: `http://${address}` }).sotw();
  const node = { id: `bench-sotw-${i}`, cluster: "bench" };
  s.send(sotwRequest({ node, typeUrl: TypeUrl.cluster }));
  s.send(sotwRequest({ node, typeUrl: TypeUrl.endpoint, resourceNames: names }));
  let haveEds = false;
  void (async () => {
    for (;;) {
      const res = await s.next(600_000);
      responses++;
      for (const r of res.resources) bytes += r.value.length;
      const eds = res.typeUrl === TypeUrl.endpoint;
      s.send(sotwRequest({ node, typeUrl: res.typeUrl, versionInfo: res.versionInfo, responseNonce: res.nonce, resourceNames: eds ? names : [] }));
      if (eds && !haveEds && res.resources.length === SERVICES) {
        haveEds = true;
        if (++ready === COUNT) send({ connected: true });
      }
    }
  })().catch((err) => send({ error: `sotw ${i}: ${String(err)}` }));
}

function deltaClient(i: number): void {
  const s = createAdsClient({ baseUrl: `http://${address}` }).delta();
  const node = { id: `bench-delta-${i}`, cluster: "bench" };
  s.send(deltaRequest({ node, typeUrl: TypeUrl.cluster }));
  s.send(deltaRequest({ node, typeUrl: TypeUrl.endpoint, resourceNamesSubscribe: names }));
  const held = new Set<string>();
  let haveEds = false;
  void (async () => {
    for (;;) {
      const res = await s.next(600_000);
      responses++;
      for (const r of res.resources) bytes += r.resource?.value.length ?? 0;
      if (res.typeUrl === TypeUrl.endpoint) for (const r of res.resources) held.add(r.name);
      s.send(deltaRequest({ node, typeUrl: res.typeUrl, responseNonce: res.nonce }));
      if (!haveEds && held.size === SERVICES) {
        haveEds = true;
        if (++ready === COUNT) send({ connected: true });
      }
    }
  })().catch((err) => send({ error: `delta ${i}: ${String(err)}` }));
}

for (let i = 0; i < COUNT; i++) (i < DELTA ? deltaClient : sotwClient)(i);
process.on("message", (m: { stats?: boolean }) => {
  if (m.stats) {
    const cpu = process.cpuUsage();
    send({ stats: { responses, bytes, cpuSec: (cpu.user + cpu.system) / 1e6 } });
  }
});
