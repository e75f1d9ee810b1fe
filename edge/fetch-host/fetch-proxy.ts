/**
 * @module edge/fetch-host/fetch-proxy
 * The weft proxy for runtimes whose server is a `fetch(request) → response` function (Deno.serve,
 * workerd, Hono-style hosts): it compiles config snapshots with the same engine as the Node host
 * (route tables, filter chain from the plugin registry, cluster manager and load balancers), serves
 * one HTTP listener of the config through `handleExchange`, and answers the admin paths (`/ready`,
 * `/config_dump`, `/clusters`, `/stats/prometheus`, with Istio's standard metrics when the config has a
 * `telemetry:` section) under a configurable prefix. Runtime specifics
 * (the upstream call, timers, where access-log records go) are injected.
 *
 * Mutability: `apply` swaps the snapshot atomically; a request reads it once when it starts.
 */
import type { ProxyConfig, ProxyTelemetryConfig } from "../../proxy/config/types.ts";
import type { FilterContext, HttpFilterFactory } from "../../proxy/filter.ts";
import { compileSnapshot, type ListenerRuntime, type Snapshot } from "../../proxy/snapshot.ts";
import { createStatsRegistry, type StatsRegistry } from "../../proxy/stats.ts";
import { handleExchange, type AccessLogRecord, type DownstreamInfo, type UpstreamFetch } from "./exchange.ts";
import { createProxyTelemetry, type ProxyTelemetry } from "../../proxy/mesh-telemetry.ts";

export type { AccessLogRecord, DownstreamInfo, UpstreamFetch } from "./exchange.ts";

export interface FetchProxyOptions {
  filters: ReadonlyMap<string, HttpFilterFactory<unknown>>;
  /** The upstream call (default: the global `fetch` with a `host` header). */
  upstream?: UpstreamFetch;
  /** Which HTTP listener of the config to serve (default: the first HTTP listener). */
  listener?: string;
  /** Path prefix of the admin routes on the proxy's own port (default `/__weft`); `null` = no admin routes. */
  adminPrefix?: string | null;
  /** Extra headers on every admin response (e.g. where the config came from). */
  adminHeaders?(): Record<string, string>;
  accessLog?(record: AccessLogRecord): void;
  log?(line: string): void;
  random?(): number;
  now?(): number;
  randomUUID?(): string;
  sleep?(ms: number): Promise<void>;
  /** Outbound fetch for filters (JWKS); default the global `fetch`. */
  filterFetch?: typeof fetch;
}

export interface FetchProxy {
  /** Compiles and activates a config; throws (changing nothing) when it does not compile. */
  apply(config: ProxyConfig): void;
  snapshot(): Snapshot | undefined;
  readonly stats: StatsRegistry;
  /** Handles a request (admin or proxied); never rejects. */
  handle(request: Request, info: DownstreamInfo): Promise<Response>;
  /** The admin routes alone (for a separate admin port), path without prefix. */
  admin(path: string): Response;
  draining: boolean;
}

/** The part of the telemetry config this host serves: Istio's metrics. */
function metricsOnly(t: ProxyTelemetryConfig): ProxyTelemetryConfig {
  return { settings: { metrics: t.settings.metrics, tracing: { samplingPercent: 0, propagation: [] }, accessLog: { enabled: false } }, extendedLabels: t.extendedLabels };
}

const defaultUpstream: UpstreamFetch = (_cluster, _host, request, authority) => {
  request.headers.set("host", authority);
  return fetch(request);
};

/**
 * @example
 * const proxy = createFetchProxy({ filters: httpFilters });
 * proxy.apply(config);
 * Deno.serve((req, info) => proxy.handle(req, { remoteAddress: info.remoteAddr.hostname }));
 */
export function createFetchProxy(options: FetchProxyOptions): FetchProxy {
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const log = options.log ?? (() => undefined);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const stats = createStatsRegistry();
  const noCluster = stats.cluster("");
  const prefix = options.adminPrefix === undefined ? "/__weft" : options.adminPrefix;
  const filterContext: FilterContext = {
    now: () => Date.now(),
    random,
    log,
    fetch: options.filterFetch ?? ((input, init) => fetch(input, init)),
    sleep,
  };
  let current: { snapshot: Snapshot; listener: Extract<ListenerRuntime, { kind: "http" }>; telemetry: ProxyTelemetry | undefined; telemetryKey: string } | undefined;

  const admin = (path: string): Response => {
    const extra = options.adminHeaders?.() ?? {};
    const send = (status: number, body: string, type = "text/plain; charset=utf-8") =>
      new Response(body, { status, headers: { ...extra, "content-type": type, "cache-control": "no-store" } });
    const snap = current?.snapshot;
    switch (path) {
      case "/ready":
        if (proxy.draining) return send(503, "DRAINING\n");
        return snap ? send(200, "LIVE\n") : send(503, "PRE_INITIALIZING\n");
      case "/config_dump":
        return send(200, JSON.stringify(snap?.config ?? null, null, 2) + "\n", "application/json");
      case "/clusters": {
        const lines: string[] = [];
        for (const c of snap?.clusters.all() ?? []) {
          for (const h of c.hosts) {
            const p = `${c.name}::${h.key}`;
            lines.push(`${p}::health_flags::${h.usable ? "healthy" : h.health}`, `${p}::weight::${h.weight}`, `${p}::rq_active::${h.activeRequests}`);
          }
        }
        return send(200, lines.join("\n") + "\n");
      }
      case "/stats/prometheus":
        return send(200, stats.renderPrometheus() + (current?.telemetry?.telemetry.renderPrometheus() ?? ""), "text/plain; version=0.0.4; charset=utf-8");
      case "/":
      case "":
        return send(200, "/ready\n/config_dump\n/clusters\n/stats/prometheus\n");
      default:
        return send(404, "not found\n");
    }
  };

  const proxy: FetchProxy = {
    stats,
    draining: false,
    apply(config) {
      const snapshot = compileSnapshot(config, { random, stats, filters: options.filters, filterContext, previous: current?.snapshot });
      const listeners = [...snapshot.listeners.values()].filter((l): l is Extract<ListenerRuntime, { kind: "http" }> => l.kind === "http");
      const listener = options.listener === undefined ? listeners[0] : listeners.find((l) => l.config.name === options.listener);
      if (listener === undefined) throw new Error(options.listener === undefined ? "the config has no HTTP listener" : `the config has no HTTP listener "${options.listener}"`);
      // Istio metrics only on this host (no access log, spans or audit yet); counters survive a reload.
      const telemetryKey = JSON.stringify([config.telemetry ?? null, config.workload ?? null]);
      const telemetry = current?.telemetryKey === telemetryKey ? current.telemetry
        : createProxyTelemetry(config.telemetry === undefined ? config : { ...config, telemetry: metricsOnly(config.telemetry) },
          { write: log, ...(current?.telemetry?.config.extendedLabels === config.telemetry?.extendedLabels && current?.telemetry?.telemetry.metrics ? { metrics: current.telemetry.telemetry.metrics } : {}) });
      current = { snapshot, listener, telemetry, telemetryKey };
      log(`config ${config.version} active: listener ${listener.config.name}, ${config.clusters.length} cluster(s)`);
    },
    snapshot: () => current?.snapshot,
    admin,
    async handle(request, info) {
      if (prefix !== null) {
        const path = new URL(request.url).pathname;
        if (path === prefix || path.startsWith(`${prefix}/`)) return admin(path.slice(prefix.length));
      }
      const active = current;
      if (active === undefined) {
        return new Response("no configuration yet\n", { status: 503, headers: { "content-type": "text/plain", ...(options.adminHeaders?.() ?? {}) } });
      }
      try {
        return await handleExchange({
          snapshot: active.snapshot,
          listener: active.listener,
          noCluster,
          upstream: options.upstream ?? defaultUpstream,
          now,
          randomUUID: options.randomUUID ?? (() => crypto.randomUUID()),
          sleep,
          ...(options.accessLog ? { accessLog: options.accessLog } : {}),
          ...(active.telemetry ? { telemetry: active.telemetry } : {}),
        }, request, info);
      } catch (err) {
        log(`request failed: ${(err as Error).stack ?? String(err)}`);
        return new Response("internal error\n", { status: 500, headers: { "content-type": "text/plain" } });
      }
    },
  };
  return proxy;
}
