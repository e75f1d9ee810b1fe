/**
 * @module proxy/snapshot
 * A config compiled for serving: route tables by name, the cluster manager, and per listener its
 * terminal (HTTP with its built filters and route table, or TCP). A snapshot is immutable; a reload
 * compiles a new one (reusing unchanged upstream hosts) and the host swaps it in, so requests that
 * already started finish on the snapshot they began with.
 */
import type { HttpFilterFactory, FilterContext, HttpFilter } from "./filter.ts";
import { buildFilterChain } from "./filter.ts";
import { createClusterManager, type ClusterManager } from "./cluster/cluster-manager.ts";
import type { Random } from "./cluster/load-balancer.ts";
import type { DownstreamTlsConfig, HttpConnectionManagerConfig, ListenerConfig, ProxyConfig, TcpProxyConfig } from "./config/types.ts";
import { createRouteTable, type RouteTable } from "./router/route-table.ts";
import type { StatsRegistry } from "./stats.ts";

/**
 * An HTTP listener as one filter chain sees it. The listener's own runtime is its default chain;
 * `chains` holds every chain (SNI chains first, the default last), each as such a view.
 */
export interface HttpListenerRuntime {
  kind: "http";
  config: ListenerConfig;
  /** The chain's name (`default` for the listener's own). */
  chain: string;
  serverNames: readonly string[] | undefined;
  tls: DownstreamTlsConfig | undefined;
  http: HttpConnectionManagerConfig;
  routes: RouteTable;
  filters: HttpFilter[];
  chains: readonly HttpListenerRuntime[];
}

export type ListenerRuntime =
  | HttpListenerRuntime
  | { kind: "tcp"; config: ListenerConfig; tcp: TcpProxyConfig; tls: DownstreamTlsConfig | undefined };

export interface Snapshot {
  readonly config: ProxyConfig;
  readonly clusters: ClusterManager;
  readonly listeners: ReadonlyMap<string, ListenerRuntime>;
  readonly random: Random;
}

export interface SnapshotOptions {
  random: Random;
  stats: StatsRegistry;
  filters: ReadonlyMap<string, HttpFilterFactory<unknown>>;
  filterContext: FilterContext;
  previous?: Snapshot;
}

/**
 * @example
 * const snap = compileSnapshot(config, { random: Math.random, stats, filters: httpFilters, filterContext });
 */
export function compileSnapshot(config: ProxyConfig, options: SnapshotOptions): Snapshot {
  const tables = new Map<string, RouteTable>();
  for (const rc of config.routeConfigs) tables.set(rc.name, createRouteTable(rc));
  const clusters = createClusterManager(config.clusters, { random: options.random, stats: options.stats, previous: options.previous?.clusters, locality: config.node?.locality });
  const listeners = new Map<string, ListenerRuntime>();
  for (const l of config.listeners) {
    const last = l.filterChains[l.filterChains.length - 1];
    if (!last) continue;
    if (last.terminal.kind === "tcp") {
      listeners.set(l.name, { kind: "tcp", config: l, tcp: last.terminal.tcp, tls: last.tls });
      continue;
    }
    const chains: HttpListenerRuntime[] = [];
    for (const c of l.filterChains) {
      const t = c.terminal;
      if (t.kind !== "http") throw new Error(`listener ${l.name}: chain ${c.name} is not HTTP`);
      const routes = tables.get(t.http.routeConfig);
      if (!routes) throw new Error(`listener ${l.name}: unknown route config ${t.http.routeConfig}`);
      const filters = buildFilterChain(t.http.httpFilters, options.filters, options.filterContext);
      chains.push({ kind: "http", config: l, chain: c.name, serverNames: c.match?.serverNames, tls: c.tls, http: t.http, routes, filters, chains });
    }
    listeners.set(l.name, chains[chains.length - 1]!);
  }
  return { config, clusters, listeners, random: options.random };
}
