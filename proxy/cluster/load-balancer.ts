/**
 * @module proxy/cluster/load-balancer
 * Load balancers over a cluster's usable hosts, built once per host set: weighted round robin (smooth,
 * as nginx does it), least request with power-of-N choices sampled by weight, weighted random, ring
 * hash and Maglev for consistent hashing. Randomness is injected so tests are deterministic.
 */
import type { LoadBalancer as LbConfig } from "../../core/ir/model.ts";
import { hash32 } from "./hash.ts";
import type { UpstreamHost } from "./host.ts";

export interface LoadBalancer {
  /** A host for one request; `hash` (32-bit) is used by ring hash and Maglev, which pick at random without it. */
  pick(hash?: number): UpstreamHost | undefined;
}

export type Random = () => number;

/**
 * @example
 * const lb = createLoadBalancer({ kind: "maglev" }, hosts, Math.random);
 * lb.pick(hash32(userId));
 */
export function createLoadBalancer(config: LbConfig, hosts: readonly UpstreamHost[], random: Random): LoadBalancer {
  if (hosts.length === 0) return { pick: () => undefined };
  switch (config.kind) {
    case "round-robin": return roundRobin(hosts, random);
    case "least-request": return leastRequest(hosts, config.choiceCount ?? 2, random);
    case "random": { const w = weightedRandom(hosts, random); return { pick: w }; }
    case "ring-hash": return ringHash(hosts, config.minRingSize ?? 1024, random);
    case "maglev": return maglev(hosts, config.tableSize ?? 65537, random);
  }
}

function equalWeights(hosts: readonly UpstreamHost[]): boolean {
  return hosts.every((h) => h.weight === hosts[0]!.weight);
}

function roundRobin(hosts: readonly UpstreamHost[], random: Random): LoadBalancer {
  const n = hosts.length;
  if (n === 1) { const only = hosts[0]; return { pick: () => only }; }
  if (equalWeights(hosts)) {
    // Start at a random host so a fleet of proxies does not hit the first endpoint together.
    let next = Math.floor(random() * n);
    return { pick: () => { const h = hosts[next]!; next = next + 1 === n ? 0 : next + 1; return h; } };
  }
  const current = new Float64Array(n);
  const total = hosts.reduce((s, h) => s + h.weight, 0);
  return {
    pick() {
      let best = 0;
      for (let i = 0; i < n; i++) {
        current[i]! += hosts[i]!.weight;
        if (current[i]! > current[best]!) best = i;
      }
      current[best]! -= total;
      return hosts[best];
    },
  };
}

function weightedRandom(hosts: readonly UpstreamHost[], random: Random): () => UpstreamHost {
  const n = hosts.length;
  if (equalWeights(hosts)) return () => hosts[Math.floor(random() * n)]!;
  const cumulative = new Float64Array(n);
  let sum = 0;
  hosts.forEach((h, i) => (cumulative[i] = sum += h.weight));
  return () => {
    const r = random() * sum;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > r) hi = mid; else lo = mid + 1;
    }
    return hosts[lo]!;
  };
}

function leastRequest(hosts: readonly UpstreamHost[], choices: number, random: Random): LoadBalancer {
  if (hosts.length === 1) { const only = hosts[0]; return { pick: () => only }; }
  const sample = weightedRandom(hosts, random);
  return {
    pick() {
      let best = sample();
      for (let i = 1; i < choices; i++) {
        const c = sample();
        if (c.activeRequests * best.weight < best.activeRequests * c.weight) best = c;
      }
      return best;
    },
  };
}

function ringHash(hosts: readonly UpstreamHost[], minRingSize: number, random: Random): LoadBalancer {
  const total = hosts.reduce((s, h) => s + h.weight, 0);
  const points: { hash: number; host: UpstreamHost }[] = [];
  for (const h of hosts) {
    const count = Math.max(1, Math.ceil((minRingSize * h.weight) / total));
    for (let i = 0; i < count; i++) points.push({ hash: hash32(`${h.key}_${i}`), host: h });
  }
  points.sort((a, b) => a.hash - b.hash);
  const hashes = Uint32Array.from(points, (p) => p.hash);
  const fallback = weightedRandom(hosts, random);
  return {
    pick(hash) {
      if (hash === undefined) return fallback();
      let lo = 0, hi = hashes.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (hashes[mid]! < hash) lo = mid + 1; else hi = mid;
      }
      return points[lo === hashes.length ? 0 : lo]!.host;
    },
  };
}

function maglev(hosts: readonly UpstreamHost[], tableSize: number, random: Random): LoadBalancer {
  const m = nextPrime(tableSize);
  const n = hosts.length;
  const table = new Int32Array(m).fill(-1);
  const offset = hosts.map((h) => hash32(h.key, 0x9e3779b9) % m);
  const skip = hosts.map((h) => (m > 1 ? (hash32(h.key, 0x7f4a7c15) % (m - 1)) + 1 : 1));
  const next = new Array<number>(n).fill(0);
  const maxWeight = Math.max(...hosts.map((h) => h.weight));
  const credit = new Float64Array(n);
  let filled = 0;
  // Weighted Maglev: each round a host earns weight/maxWeight of a slot and claims a slot per whole credit.
  while (filled < m) {
    for (let i = 0; i < n && filled < m; i++) {
      credit[i]! += hosts[i]!.weight / maxWeight;
      while (credit[i]! >= 1 && filled < m) {
        credit[i]! -= 1;
        let c = (offset[i]! + skip[i]! * next[i]!) % m;
        while (table[c] !== -1) {
          next[i]!++;
          c = (offset[i]! + skip[i]! * next[i]!) % m;
        }
        table[c] = i;
        next[i]!++;
        filled++;
      }
    }
  }
  const fallback = weightedRandom(hosts, random);
  return { pick: (hash) => (hash === undefined ? fallback() : hosts[table[hash % m]!]!) };
}

/** Maglev needs a prime table size so every host's probe sequence visits every slot. */
function nextPrime(x: number): number {
  for (let p = Math.max(2, x); ; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) if (p % d === 0) { prime = false; break; }
    if (prime) return p;
  }
}
