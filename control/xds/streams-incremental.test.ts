// SotW and delta streams over derived snapshots (the incremental path: only changed names are looked
// at, and SotW EDS responses carry only changed load assignments) send exactly what they send over
// snapshots built from scratch, and a client applying the responses ends up holding the snapshot.
import { create, fromBinary, type Message } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClusterLoadAssignmentSchema } from "../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import {
  DeltaDiscoveryRequestSchema, DiscoveryRequestSchema, type DeltaDiscoveryRequest, type DiscoveryRequest,
} from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { createAsyncQueue } from "./async-queue.ts";
import { createSnapshotCache } from "./cache.ts";
import { deltaStream } from "./delta-stream.ts";
import { TypeUrl } from "./resource-types.ts";
import { createSnapshot, hashBytes, type Snapshot } from "./snapshot.ts";
import { sotwStream } from "./sotw-stream.ts";
import { createXdsStatus } from "./status.ts";
import type { StreamEvent } from "./stream-common.ts";
import { edsCluster, loadAssignment } from "./testing.ts";

const NAMES = ["a", "b", "c", "d"];
type Step = { kind: "port"; name: number; port: number } | { kind: "toggle"; name: number } | { kind: "subscribe"; names: number[] };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("port" as const), name: fc.nat(3), port: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("toggle" as const), name: fc.nat(3) }),
  fc.record({ kind: fc.constant("subscribe" as const), names: fc.uniqueArray(fc.nat(3), { maxLength: 4 }) }),
);

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

type Sent = Extract<StreamEvent, { kind: "send" }>;

/** Runs `steps` against one stream; returns what was sent and what the client holds for EDS at the end. */
async function run(protocol: "sotw" | "delta", steps: Step[], derive: boolean) {
  const cache = createSnapshotCache();
  const sends: Sent[] = [];
  const onEvent = (e: StreamEvent) => void (e.kind === "send" && sends.push(e));
  const ports = new Map<string, number>(NAMES.map((n) => [n, 1]));
  const messages = new Map<string, Message>();
  let last: Snapshot | undefined;
  /** What the client holds for EDS: name → content version. */
  const held = new Map<string, string>();
  const publish = () => {
    const names = [...ports.keys()];
    const clas = names.map((n) => {
      const key = `${n}:${ports.get(n)}`;
      if (!messages.has(key)) messages.set(key, loadAssignment(n, [ports.get(n)!]));
      return messages.get(key)!;
    });
    last = createSnapshot({ [TypeUrl.cluster]: names.map(edsCluster), [TypeUrl.endpoint]: clas }, "", derive ? last : undefined);
    cache.setSnapshot("n", last);
  };
  publish();
  let subscribed = [...NAMES];
  if (protocol === "sotw") {
    const reqs = createAsyncQueue<DiscoveryRequest>();
    const out = sotwStream(reqs, { watcher: cache, status: createXdsStatus(), onEvent });
    const pending: { typeUrl: string; version: string; nonce: string }[] = [];
    void (async () => {
      for await (const res of out) {
        pending.push({ typeUrl: res.typeUrl, version: res.versionInfo, nonce: res.nonce });
        if (res.typeUrl !== TypeUrl.endpoint) continue;
        for (const any of res.resources) held.set(fromBinary(ClusterLoadAssignmentSchema, any.value).clusterName, hashBytes(any.value));
      }
    })();
    const ask = (typeUrl: string, ack?: { version: string; nonce: string }) =>
      reqs.push(create(DiscoveryRequestSchema, { node: { id: "n" }, typeUrl, resourceNames: typeUrl === TypeUrl.endpoint ? subscribed : [], versionInfo: ack?.version ?? "", responseNonce: ack?.nonce ?? "" }));
    const lastAck = new Map<string, { version: string; nonce: string }>();
    const ackAll = async () => {
      await flush();
      while (pending.length) {
        const p = pending.shift()!;
        lastAck.set(p.typeUrl, p);
        ask(p.typeUrl, p);
        await flush();
      }
    };
    ask(TypeUrl.cluster);
    ask(TypeUrl.endpoint);
    await ackAll();
    for (const s of steps) {
      if (s.kind === "port") ports.has(NAMES[s.name]!) && ports.set(NAMES[s.name]!, s.port);
      if (s.kind === "toggle") (ports.has(NAMES[s.name]!) ? ports.delete(NAMES[s.name]!) : ports.set(NAMES[s.name]!, 1));
      if (s.kind === "subscribe") {
        subscribed = s.names.map((i) => NAMES[i]!);
        for (const n of [...held.keys()]) if (!subscribed.includes(n)) held.delete(n);
        ask(TypeUrl.endpoint, lastAck.get(TypeUrl.endpoint));
      } else publish();
      await ackAll();
    }
    reqs.close();
    // The client's EDS view: each response updates the names it carries (SotW EDS never implies
    // removal); the client drops what it unsubscribed from.
    const resources = last!.resources(TypeUrl.endpoint);
    const expected = subscribed.filter((n) => resources.has(n)).map((n) => `${n}=${resources.get(n)!.version}`).sort();
    const received = [...held].filter(([n]) => subscribed.includes(n) && resources.has(n)).map(([n, v]) => `${n}=${v}`).sort();
    return { sends, expected, received };
  }
  const reqs = createAsyncQueue<DeltaDiscoveryRequest>();
  const out = deltaStream(reqs, { watcher: cache, status: createXdsStatus(), onEvent });
  void (async () => {
    for await (const res of out) {
      if (res.typeUrl === TypeUrl.endpoint) {
        for (const r of res.resources) held.set(r.name, r.version);
        for (const n of res.removedResources) held.delete(n);
      }
      reqs.push(create(DeltaDiscoveryRequestSchema, { typeUrl: res.typeUrl, responseNonce: res.nonce }));
    }
  })();
  reqs.push(create(DeltaDiscoveryRequestSchema, { node: { id: "n" }, typeUrl: TypeUrl.cluster }));
  reqs.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.endpoint, resourceNamesSubscribe: subscribed }));
  await flush();
  for (const s of steps) {
    if (s.kind === "port") ports.has(NAMES[s.name]!) && ports.set(NAMES[s.name]!, s.port);
    if (s.kind === "toggle") (ports.has(NAMES[s.name]!) ? ports.delete(NAMES[s.name]!) : ports.set(NAMES[s.name]!, 1));
    if (s.kind === "subscribe") {
      const next = s.names.map((i) => NAMES[i]!);
      const drop = subscribed.filter((n) => !next.includes(n));
      for (const n of drop) held.delete(n);
      reqs.push(create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.endpoint, resourceNamesSubscribe: next.filter((n) => !subscribed.includes(n)), resourceNamesUnsubscribe: drop }));
      subscribed = next;
    } else publish();
    await flush();
  }
  reqs.close();
  const resources = last!.resources(TypeUrl.endpoint);
  const expected = subscribed.filter((n) => resources.has(n)).map((n) => `${n}=${resources.get(n)!.version}`).sort();
  return { sends, expected, received: [...held].map(([n, v]) => `${n}=${v}`).sort() };
}

describe("streams over derived snapshots", () => {
  for (const protocol of ["sotw", "delta"] as const) {
    it(`${protocol}: send what they send over full snapshots, and the client converges`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
        const incremental = await run(protocol, steps, true);
        const full = await run(protocol, steps, false);
        const strip = (xs: Sent[]) => xs.map(({ streamId: _id, ...rest }) => ({ ...rest, names: [...rest.names].sort(), removed: [...(rest.removed ?? [])].sort() }));
        expect(strip(incremental.sends)).toEqual(strip(full.sends));
        expect(incremental.received).toEqual(incremental.expected);
      }), { numRuns: 25 });
    });
  }
});
