/**
 * @module proxy/cluster/cluster-manager
 * The clusters of one config snapshot (CDS + EDS): hosts, the usable subset, a load balancer over it
 * and limits. Built once per config; unchanged hosts are carried over from the previous snapshot so
 * their connection pools and in-flight counters survive a reload.
 */
import type { Cluster } from "../../core/ir/model.ts";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../config/types.ts";
import type { ClusterStats, StatsRegistry } from "../stats.ts";
import { UpstreamHost } from "./host.ts";
import { createLoadBalancer, type LoadBalancer, type Random } from "./load-balancer.ts";

export class ClusterRuntime {
  readonly name: string;
  readonly config: Cluster;
  readonly hosts: readonly UpstreamHost[];
  readonly stats: ClusterStats;
  /** `h1` or `h2` (h2c prior knowledge; gRPC clusters are h2). */
  readonly upstreamProtocol: "h1" | "h2";
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRequestsPerConnection: number;
  readonly usesHash: boolean;
  private lb: LoadBalancer;
  private readonly random: Random;

  constructor(config: Cluster, hosts: UpstreamHost[], stats: ClusterStats, random: Random) {
    this.name = config.name;
    this.config = config;
    this.hosts = hosts;
    this.stats = stats;
    this.random = random;
    this.upstreamProtocol = config.protocol === "http2" || config.protocol === "grpc" ? "h2" : "h1";
    const cb = config.circuitBreakers ?? {};
    this.connectTimeoutMs = cb.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // Envoy's defaults.
    this.maxConnections = cb.maxConnections ?? 1024;
    this.maxPendingRequests = cb.maxPendingRequests ?? 1024;
    this.maxRequests = cb.maxRequests ?? 1024;
    this.maxRequestsPerConnection = cb.maxRequestsPerConnection ?? 0;
    this.usesHash = config.lb.kind === "ring-hash" || config.lb.kind === "maglev";
    this.lb = createLoadBalancer(config.lb, hosts.filter((h) => h.usable), random);
  }

  /** A host for one request, or `undefined` when none is usable (503, flag UH). */
  pick(hash?: number): UpstreamHost | undefined {
    return this.lb.pick(hash);
  }

  /** Rebuilds the balancer after a host's health changed. */
  refreshHealth(): void {
    this.lb = createLoadBalancer(this.config.lb, this.hosts.filter((h) => h.usable), this.random);
  }
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
export function createClusterManager(clusters: readonly Cluster[], options: { random: Random; stats: StatsRegistry; previous?: ClusterManager }): ClusterManager {
  const byName = new Map<string, ClusterRuntime>();
  for (const c of clusters) {
    const prev = options.previous?.get(c.name);
    const reusable = prev && prev.config.protocol === c.protocol ? prev.hosts : [];
    const hosts = c.endpoints.map((e) => reusable.find((h) => h.sameAs(e)) ?? new UpstreamHost(e));
    byName.set(c.name, new ClusterRuntime(c, hosts, options.stats.cluster(c.name), options.random));
  }
  const list = [...byName.values()];
  return { get: (name) => byName.get(name), all: () => list };
}
