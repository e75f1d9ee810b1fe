/**
 * @module proxy/node/proxy-server
 * The weft proxy on Node: applies config snapshots to running listeners. A new config is compiled
 * first (a config that does not compile changes nothing); new listeners are bound before anything is
 * swapped, kept listeners get the new snapshot atomically (requests in flight finish on the old one),
 * removed listeners stop accepting and drain, and pools of upstream hosts that left every cluster close.
 * Secrets (certificates and trust bundles) are read before anything is swapped and then watched;
 * health checks and outlier sweeps run per snapshot. `drain()` is the SIGTERM path: stop accepting, let
 * in-flight requests finish, then close.
 */
import type { AddressInfo } from "node:net";
import type { HttpFilterFactory } from "../filter.ts";
import type { ProxyConfig } from "../config/types.ts";
import { compileSnapshot, type Snapshot } from "../snapshot.ts";
import { createStatsRegistry, type StatsRegistry } from "../stats.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import { startAdmin, type AdminServer } from "./admin.ts";
import type { HostContext } from "./exchange.ts";
import type { H1Pool } from "./h1-upstream.ts";
import type { H2Pool } from "./h2-upstream.ts";
import { startHttpListener, type HttpListener } from "./http-listener.ts";
import { startTcpListener, type TcpListener } from "./tcp-listener.ts";
import { startClusterTasks, type ClusterTasks } from "./health-checker.ts";
import { createSecretStore, type SecretStore } from "./tls-secrets.ts";
import { hasTls } from "./tls-listener.ts";
import { createNodeTelemetry, type NodeTelemetry } from "./telemetry.ts";

export interface ProxyServerOptions {
  filters: ReadonlyMap<string, HttpFilterFactory<unknown>>;
  /** Operational log (one line per event). */
  log?(line: string): void;
  /** Access log sink (one JSON line per request). */
  accessLog?(line: string): void;
  random?: () => number;
  /** Overrides the config's admin address. */
  admin?: { address: string; port: number };
  /** More admin JSON pages by path (the xDS client's `/xds_status`). */
  adminPages?: Readonly<Record<string, () => unknown>>;
  /** How often secret files are polled besides file-change events (default 2 s). */
  secretPollMs?: number;
}

export interface ProxyServer {
  /** Applies a config (the first one starts the listeners). Rejects, changing nothing, when it cannot. */
  apply(config: ProxyConfig): Promise<void>;
  /** The active snapshot. */
  snapshot(): Snapshot | undefined;
  /** Bound address of each listener by name (useful with port 0). */
  address(listener: string): AddressInfo | undefined;
  adminAddress(): AddressInfo | undefined;
  readonly stats: StatsRegistry;
  readonly secrets: SecretStore;
  /** Istio metrics, access log, tracing and audit of the active config (undefined without `telemetry:`). */
  telemetry(): NodeTelemetry | undefined;
  /** Stops accepting, waits for in-flight requests up to `timeoutMs`, then closes everything. */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

type Running = { kind: "http"; l: HttpListener } | { kind: "tcp"; l: TcpListener };

/**
 * @example
 * const proxy = createProxyServer({ filters: httpFilters });
 * await proxy.apply(config);
 */
export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const log = options.log ?? (() => undefined);
  const random = options.random ?? Math.random;
  const stats = createStatsRegistry();
  const secrets = createSecretStore({ log, pollMs: options.secretPollMs });
  let tasks: ClusterTasks | undefined;
  const ctx: HostContext = {
    stats,
    noCluster: stats.cluster(""),
    secrets,
    telemetry: undefined,
    log,
    accessLog: options.accessLog ?? (() => undefined),
    draining: false,
    inflight: 0,
    onIdle: undefined,
  };
  const running = new Map<string, Running>();
  let current: Snapshot | undefined;
  let admin: AdminServer | undefined;
  let applying = Promise.resolve();

  const filterContext = {
    now: () => Date.now(),
    random,
    log,
    fetch: globalThis.fetch,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };

  async function applyNow(config: ProxyConfig): Promise<void> {
    if (ctx.draining) throw new Error("the proxy is draining");
    await secrets.apply(config.secrets);
    const snap = compileSnapshot(config, { random, stats, filters: options.filters, filterContext, previous: current });
    const oldTelemetry = ctx.telemetry;
    const telemetry = await createNodeTelemetry(config, oldTelemetry, log);
    const started = new Map<string, Running>();
    const replaced: Running[] = [];
    try {
      for (const [name, rt] of snap.listeners) {
        const old = running.get(name);
        const same = old && old.kind === rt.kind && sameAddress(old, rt.config) && (old.kind !== "http" || rt.kind !== "http" || (old.l.codec === rt.http.codec && hasTls(old.l.state.listener) === hasTls(rt)))
          && (old.kind !== "tcp" || rt.kind !== "tcp" || (old.l.state.listener.tls === undefined) === (rt.tls === undefined));
        if (same) continue;
        if (old) replaced.push(old);
        if (rt.kind === "http") started.set(name, { kind: "http", l: await startHttpListener({ snapshot: snap, listener: rt, ctx }) });
        else started.set(name, { kind: "tcp", l: await startTcpListener({ snapshot: snap, listener: rt, ctx }) });
      }
    } catch (err) {
      for (const r of started.values()) void r.l.stopAccepting();
      if (telemetry !== oldTelemetry) void telemetry?.close();
      throw err;
    }
    // Requests read the telemetry when they start; those in flight finish with the one they began with.
    ctx.telemetry = telemetry;
    if (oldTelemetry !== undefined && oldTelemetry !== telemetry) setTimeout(() => void oldTelemetry.close(), 30_000).unref();
    // Commit: swap state on kept listeners, add new ones, retire the rest.
    for (const [name, rt] of snap.listeners) {
      const fresh = started.get(name);
      if (fresh) {
        running.set(name, fresh);
        const a = fresh.l.address();
        log(`listener ${name}: ${rt.kind} on ${a.address}:${a.port}`);
        continue;
      }
      const r = running.get(name)!;
      if (r.kind === "http" && rt.kind === "http") r.l.update({ snapshot: snap, listener: rt, ctx });
      else if (r.kind === "tcp" && rt.kind === "tcp") r.l.update({ snapshot: snap, listener: rt, ctx });
    }
    for (const [name, r] of [...running]) {
      if (!snap.listeners.has(name)) {
        running.delete(name);
        replaced.push(r);
        log(`listener ${name}: removed`);
      }
    }
    for (const r of replaced) void retire(r);
    const previous = current;
    current = snap;
    if (previous) closeOrphanPools(previous, snap);
    tasks?.stop();
    tasks = startClusterTasks(snap, { secrets, log });
    const adminAddr = options.admin ?? config.admin;
    if (!admin && adminAddr) {
      admin = await startAdmin(adminAddr.address, adminAddr.port, { snapshot: () => current, stats, secrets, draining: () => ctx.draining, telemetry: () => ctx.telemetry, ...(options.adminPages ? { pages: options.adminPages } : {}) });
      const a = admin.address();
      log(`admin on ${a.address}:${a.port}`);
    }
    log(`config ${config.version} active: ${config.listeners.length} listener(s), ${config.clusters.length} cluster(s)`);
  }

  async function retire(r: Running): Promise<void> {
    await r.l.stopAccepting();
    // Connections still open after a grace period are closed; in-flight requests have had their time.
    setTimeout(() => r.l.destroy(), 30_000).unref();
  }

  const server: ProxyServer = {
    stats,
    secrets,
    telemetry: () => ctx.telemetry,
    apply(config) {
      const next = applying.then(() => applyNow(config));
      applying = next.catch(() => undefined);
      return next;
    },
    snapshot: () => current,
    address(name) {
      return running.get(name)?.l.address();
    },
    adminAddress: () => admin?.address(),
    async drain(timeoutMs) {
      ctx.draining = true;
      log(`draining: ${ctx.inflight} request(s) in flight`);
      const idle = new Promise<void>((resolve) => {
        if (ctx.inflight === 0) resolve();
        else ctx.onIdle = resolve;
      });
      await Promise.all([...running.values()].map((r) => r.l.stopAccepting().catch(() => undefined)).concat([
        Promise.race([idle, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]),
      ]));
      await server.close();
    },
    async close() {
      ctx.draining = true;
      tasks?.stop();
      secrets.close();
      for (const r of running.values()) {
        void r.l.stopAccepting().catch(() => undefined);
        r.l.destroy();
      }
      running.clear();
      if (current) for (const c of current.clusters.all()) for (const h of c.hosts) closePool(h);
      await admin?.close();
      admin = undefined;
      const tel = ctx.telemetry;
      ctx.telemetry = undefined;
      await tel?.close();
    },
  };
  return server;
}

function sameAddress(r: Running, cfg: { address: string; port: number }): boolean {
  const st = r.l.state.listener.config;
  return st.address === cfg.address && st.port === cfg.port;
}

function closePool(h: UpstreamHost): void {
  (h.pool as H1Pool | H2Pool | undefined)?.close();
  h.pool = undefined;
}

function closeOrphanPools(prev: Snapshot, next: Snapshot): void {
  const kept = new Set<UpstreamHost>();
  for (const c of next.clusters.all()) for (const h of c.hosts) kept.add(h);
  for (const c of prev.clusters.all()) for (const h of c.hosts) if (!kept.has(h)) closePool(h);
}
