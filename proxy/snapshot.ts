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
import type { HttpConnectionManagerConfig, ListenerConfig, ProxyConfig, TcpProxyConfig } from "./config/types.ts";
import { createRouteTable, type RouteTable } from "./router/route-table.ts";
import type { StatsRegistry } from "./stats.ts";

export type ListenerRuntime =
  | { kind: "http"; config: ListenerConfig; http: HttpConnectionManagerConfig; routes: RouteTable; filters: HttpFilter[] }
  | { kind: "tcp"; config: ListenerConfig; tcp: TcpProxyConfig };

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
  const clusters = createClusterManager(config.clusters, { random: options.random, stats: options.stats, previous: options.previous?.clusters });
  const listeners = new Map<string, ListenerRuntime>();
  for (const l of config.listeners) {
    const t = l.filterChains[0]?.terminal;
    if (!t) continue;
    if (t.kind === "tcp") {
      listeners.set(l.name, { kind: "tcp", config: l, tcp: t.tcp });
      continue;
    }
    const routes = tables.get(t.http.routeConfig);
    if (!routes) throw new Error(`listener ${l.name}: unknown route config ${t.http.routeConfig}`);
    const filters = buildFilterChain(t.http.httpFilters, options.filters, options.filterContext);
    listeners.set(l.name, { kind: "http", config: l, http: t.http, routes, filters });
  }
  return { config, clusters, listeners, random: options.random };
}
