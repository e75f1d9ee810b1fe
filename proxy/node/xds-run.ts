/**
 * @module proxy/node/xds-run
 * Runs the proxy with its config from a control plane over xDS (`weft proxy --xds URL`): the proxy
 * server (the same snapshot and hot-reload path as a config file), the xDS client feeding it, and the
 * admin's `/xds_status` page (connection, per-type versions, last NACK, what is awaited, what weft left
 * out). Until the first config arrives nothing listens but the client.
 */
import type { HttpFilterFactory } from "../filter.ts";
import { createFilterCatalog } from "../filter.ts";
import { createProxyServer, type ProxyServer } from "./proxy-server.ts";
import { startXdsClient, type XdsClient, type XdsNodeIdentity } from "./xds-client.ts";

export interface XdsRunOptions {
  url: string;
  node: XdsNodeIdentity;
  joinToken?: string;
  bootstrapCaPem?: string;
  filters: ReadonlyMap<string, HttpFilterFactory<unknown>>;
  admin?: { address: string; port: number };
  log(line: string): void;
  accessLog?(line: string): void;
  backoff?: { baseMs?: number; maxMs?: number };
}

export interface RunningXdsProxy {
  server: ProxyServer;
  client: XdsClient;
  stop(drainTimeoutMs?: number): Promise<void>;
}

/**
 * @example
 * const p = runXdsProxy({ url: "https://127.0.0.1:15010", node: { id: "web-1", cluster: "web" }, joinToken, bootstrapCaPem, filters: httpFilters, log });
 * await p.client.firstApplied;
 */
export function runXdsProxy(o: XdsRunOptions): RunningXdsProxy {
  let client: XdsClient | undefined;
  const server = createProxyServer({
    filters: o.filters,
    log: o.log,
    ...(o.accessLog ? { accessLog: o.accessLog } : {}),
    ...(o.admin ? { admin: o.admin } : {}),
    adminPages: { "/xds_status": () => client?.status() },
  });
  client = startXdsClient({
    url: o.url,
    node: o.node,
    ...(o.joinToken ? { joinToken: o.joinToken } : {}),
    ...(o.bootstrapCaPem ? { bootstrapCaPem: o.bootstrapCaPem } : {}),
    catalog: createFilterCatalog(o.filters),
    available: new Set(o.filters.keys()),
    ...(o.admin ? { admin: o.admin } : {}),
    proxyNode: { id: o.node.id, ...(o.node.locality ? { locality: o.node.locality } : {}) },
    apply: (config) => server.apply(config),
    log: o.log,
    ...(o.backoff ? { backoff: o.backoff } : {}),
  });
  const c = client;
  return {
    server,
    client: c,
    async stop(drainTimeoutMs = 0) {
      await c.stop();
      if (drainTimeoutMs > 0) await server.drain(drainTimeoutMs);
      else await server.close();
    },
  };
}
