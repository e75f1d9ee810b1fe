// Every interop peer, in install order (quick installs first so a slow build does not hold them up).
// Adding a peer: write `peers/<name>/peer.ts` exporting a default `Peer`, then add one import and one
// entry here.

import type { Peer } from "./types.ts";
import deno from "./deno/peer.ts";
import workerd from "./workerd/peer.ts";
import prometheus from "./prometheus/peer.ts";
import kafka from "./kafka/peer.ts";
import otelCollector from "./otel-collector/peer.ts";
import consul from "./consul/peer.ts";
import istio from "./istio/peer.ts";
import kubernetes from "./kubernetes/peer.ts";

// `any`: peers differ in their handle and start-option types.
export const peers: Peer<any, any>[] = [
  deno,
  workerd,
  prometheus,
  kafka,
  otelCollector,
  consul,
  istio,
  kubernetes,
];

/** The peer called `name`, or an error listing the known names. */
export function findPeer(name: string): Peer {
  const peer = peers.find((p) => p.name === name);
  if (!peer) throw new Error(`unknown peer "${name}" (known: ${peers.map((p) => p.name).join(", ")})`);
  return peer;
}

/** The named peers plus every peer they need (transitively), in install order. */
export function withNeeds(names: Iterable<string>): Peer[] {
  const named = new Set(names);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of peers) {
      if (!named.has(p.name)) continue;
      for (const n of p.needs ?? []) if (!named.has(n)) { named.add(n); grew = true; }
    }
  }
  return peers.filter((p) => named.has(p.name));
}
