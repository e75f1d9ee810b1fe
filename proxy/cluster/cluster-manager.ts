/**
 * @module proxy/cluster/cluster-manager
 * The clusters of one config snapshot (CDS + EDS): hosts, the usable subset, a load balancer over it,
 * circuit-breaker limits with their counters, and outlier detection. Built once per config; unchanged
 * hosts (and a cluster's counters and detector) are carried over from the previous snapshot so
 * connection pools, requests in flight and health survive a reload.
 */
import type { Cluster, Locality } from "../../core/ir/model.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../config/types.ts";
import type { ClusterStats, StatsRegistry } from "../stats.ts";
import { UpstreamHost } from "./host.ts";
import { createLoadBalancer, type LoadBalancer, type Random } from "./load-balancer.ts";
import { createOutlierDetector, type OutlierDetector } from "./outlier.ts";

/** Circuit-breaker counters of a cluster (Envoy counts per cluster); kept across reloads. */
export class ClusterResources {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;
}

export class ClusterRuntime {
  readonly name: string;
  readonly config: Cluster;
  readonly hosts: readonly UpstreamHost[];
  readonly stats: ClusterStats;
  readonly resources: ClusterResources;
  readonly outlier: OutlierDetector | undefined;
  /** `h1` or `h2` (h2c prior knowledge; gRPC clusters are h2). */
  readonly upstreamProtocol: "h1" | "h2";
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  readonly maxRequestsPerConnection: number;
  readonly usesHash: boolean;
  private lb: LoadBalancer;
  private readonly random: Random;

  private readonly locality: Locality | undefined;

  constructor(config: Cluster, hosts: UpstreamHost[], stats: ClusterStats, random: Random, previous?: ClusterRuntime, locality?: Locality) {
    this.locality = locality;
    this.name = config.name;
    this.config = config;
    this.hosts = hosts;
    this.stats = stats;
    this.random = random;
    this.resources = previous?.resources ?? new ClusterResources();
    const od = config.outlierDetection;
    // The detector keeps no state of its own (it lives on the hosts), so a new one per snapshot is fine.
    this.outlier = od === undefined ? undefined : createOutlierDetector(od, () => this.hosts);
    this.upstreamProtocol = config.protocol === "http2" || config.protocol === "grpc" ? "h2" : "h1";
    const cb = config.circuitBreakers ?? {};
    this.connectTimeoutMs = cb.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // Envoy's defaults.
    this.maxConnections = cb.maxConnections ?? 1024;
    this.maxPendingRequests = cb.maxPendingRequests ?? 1024;
    this.maxRequests = cb.maxRequests ?? 1024;
    this.maxRetries = cb.maxRetries ?? 3;
    this.maxRequestsPerConnection = cb.maxRequestsPerConnection ?? 0;
    this.usesHash = config.lb.kind === "ring-hash" || config.lb.kind === "maglev";
    this.lb = this.build();
  }

  /** A host for one request, or `undefined` when none is usable (503, flag UH). */
  pick(hash?: number): UpstreamHost | undefined {
    return this.lb.pick(hash);
  }

  /** A host other than those in `avoid` when one is usable (retries go elsewhere, Envoy's previous_hosts). */
  pickAvoiding(avoid: readonly UpstreamHost[], hash?: number): UpstreamHost | undefined {
    let h = this.lb.pick(hash);
    for (let i = 0; i < 3 && h !== undefined && avoid.includes(h); i++) h = this.lb.pick(hash === undefined ? undefined : (hash + i + 1) >>> 0);
    return h;
  }

  /** Rebuilds the balancer after a host's health changed. */
  refreshHealth(): void {
    this.lb = this.build();
  }

  /**
   * Usable hosts; when the proxy has a locality (config `node.locality`), only those in the same
   * region/zone/subzone if any is usable, then the same region/zone, then the same region, then all
   * (locality failover). Below `minHealthPercent` usable, all hosts (Envoy's panic mode; off unless
   * set, as Istio has it).
   */
  private build(): LoadBalancer {
    let usable = this.hosts.filter((h) => h.usable);
    const panic = this.config.outlierDetection?.minHealthPercent ?? 0;
    if (panic > 0 && this.hosts.length > 0 && (usable.length * 100) / this.hosts.length < panic) usable = [...this.hosts];
    const local = this.locality;
    if (local !== undefined && usable.length > 0) {
      for (const depth of [3, 2, 1]) {
        const same = usable.filter((h) => sameLocality(h.locality, local, depth));
        if (same.length > 0) {
          usable = same;
          break;
        }
      }
    }
    return createLoadBalancer(this.config.lb, usable, this.random);
  }
}

/** Same region (depth 1), and zone (2), and subzone (3). */
function sameLocality(h: Locality | undefined, l: Locality, depth: number): boolean {
  if (h === undefined || h.region !== l.region) return false;
  if (depth >= 2 && h.zone !== l.zone) return false;
  return depth < 3 || h.subzone === l.subzone;
}

export interface ClusterManager {
  get(name: string): ClusterRuntime | undefined;
  all(): readonly ClusterRuntime[];
}

/**
 * @example
 * const cm = createClusterManager(config.clusters, { random: Math.random, stats, previous: oldCm });
 * cm.get("api")?.pick();
 */
export function createClusterManager(clusters: readonly Cluster[], options: { random: Random; stats: StatsRegistry; previous?: ClusterManager; locality?: Locality }): ClusterManager {
  const byName = new Map<string, ClusterRuntime>();
  for (const c of clusters) {
    const prev = options.previous?.get(c.name);
    const sameTransport = prev !== undefined && prev.config.protocol === c.protocol && JSON.stringify(prev.config.tls) === JSON.stringify(c.tls);
    const reusable = sameTransport ? prev.hosts : [];
    const hosts = c.endpoints.map((e) => reusable.find((h) => h.sameAs(e)) ?? new UpstreamHost(e));
    byName.set(c.name, new ClusterRuntime(c, hosts, options.stats.cluster(c.name), options.random, prev, options.locality));
  }
  const list = [...byName.values()];
  return { get: (name) => byName.get(name), all: () => list };
}
