/**
 * @module adapters/consul/catalog/catalog-in
 * Consul → weft: watches `/v1/catalog/services` and, per service, `/v1/health/service/:name` (and
 * `/v1/health/connect/:name` once the service is mesh-capable), all as blocking queries, and publishes
 * one registry source built by `catalogToRegistry`. Publishing is coalesced (one registry update per
 * burst of answers). When Consul fails, every watch keeps its last good answer and backs off, so the
 * registry keeps the last good view; the failure is recorded on the registry source and in `status()`.
 */
import type { Registry } from "../../../control/registry/registry.ts";
import { startBlockingWatch, type BlockingWatch, type BlockingWatchOptions, type WatchState } from "./blocking-watch.ts";
import type { ConsulClient } from "./client.ts";
import { catalogToRegistry, meshCapable, type ConsulHealthEntry, type InboundOptions, type ObservedService } from "./conversion.ts";

export interface CatalogInOptions {
  client: ConsulClient;
  registry: Registry;
  /** Registry source name (default `consul`). */
  sourceName?: string;
  inbound: Omit<InboundOptions, "trustDomain">;
  /** Consul's trust domain, once known (from the CA roots watch). */
  trustDomain?: () => string | undefined;
  /** Which Consul service names to import (default: all). */
  include?: (name: string) => boolean;
  /** Blocking wait (default 5 min). */
  waitMs?: number;
  /** Passed to every watch (rate limit, backoff, clock, sleep). */
  watch?: Pick<BlockingWatchOptions<unknown>, "minIntervalMs" | "backoff" | "now" | "random" | "sleep">;
  /** Called after every publish with the registry revision it produced (benchmarks, tests). */
  onPublish?: (info: { services: number; endpoints: number }) => void;
  log?: (line: string) => void;
}

export interface CatalogInStatus {
  services: number;
  endpoints: number;
  lastPublishAt: number | null;
  /** The services-list watch, then the worst per-service watch state. */
  catalog: WatchState;
  watches: number;
  failingWatches: number;
  lastError?: string;
  lastErrorAt?: number;
}

export interface CatalogIn {
  /** Resolves when the service list and every listed service were read once. */
  ready(): Promise<void>;
  status(): CatalogInStatus;
  /** Re-publish now (e.g. after the trust domain became known). */
  republish(): void;
  stop(): void;
}

export function startCatalogIn(o: CatalogInOptions): CatalogIn {
  const source = o.sourceName ?? "consul";
  const waitMs = o.waitMs ?? 300_000;
  const include = o.include ?? (() => true);
  const observed = new Map<string, ObservedService>();
  const serviceWatches = new Map<string, BlockingWatch>();
  const connectWatches = new Map<string, BlockingWatch>();
  let stopped = false;
  let pending = false;
  let counts = { services: 0, endpoints: 0 };
  let lastPublishAt: number | null = null;
  const now = o.watch?.now ?? (() => Date.now());

  const publish = () => {
    pending = false;
    if (stopped) return;
    const snapshot = catalogToRegistry(observed.values(), { ...o.inbound, ...(o.trustDomain?.() ? { trustDomain: o.trustDomain()! } : {}) });
    counts = { services: snapshot.services.length, endpoints: snapshot.endpoints.reduce((n, e) => n + e.endpoints.length, 0) };
    o.registry.setSource(source, snapshot);
    lastPublishAt = now();
    o.onPublish?.(counts);
  };
  const schedule = () => {
    if (pending || stopped) return;
    pending = true;
    queueMicrotask(publish);
  };
  const reportError = () => {
    const failing = [catalog, ...serviceWatches.values(), ...connectWatches.values()].map((w) => w.state()).filter((s) => s.consecutiveFailures > 0);
    o.registry.setSourceError(source, failing.length ? `${failing.length} Consul watch(es) failing; keeping the last good view: ${failing[0]!.lastError}` : undefined);
  };

  const watch = <T>(name: string, path: string, onChange: (v: T) => void): BlockingWatch =>
    startBlockingWatch<T>({
      ...o.watch,
      name,
      fetch: async (index, signal) => {
        const r = await o.client.get<T>(path, { index, waitMs, signal });
        return { index: r.index, value: r.body };
      },
      onChange: (v) => {
        onChange(v);
        reportError();
      },
      onError: (err, n) => {
        if (n === 1) o.log?.(`consul: ${name}: ${(err as Error).message}; keeping the last good view and backing off`);
        reportError();
      },
    });

  const syncConnectWatches = () => {
    const mesh = meshCapable(observed.values());
    for (const name of mesh) {
      if (connectWatches.has(name) || !observed.has(name)) continue;
      connectWatches.set(name, watch<ConsulHealthEntry[]>(`health/connect/${name}`, `/v1/health/connect/${encodeURIComponent(name)}`, (entries) => {
        const s = observed.get(name);
        if (!s) return;
        s.connect = entries ?? [];
        schedule();
      }));
    }
    for (const [name, w] of connectWatches) {
      if (mesh.has(name) && observed.has(name)) continue;
      w.stop();
      connectWatches.delete(name);
      const s = observed.get(name);
      if (s) delete s.connect;
      schedule();
    }
  };

  const catalog = watch<Record<string, string[]>>("catalog/services", "/v1/catalog/services", (list) => {
    const names = new Set(Object.keys(list ?? {}).filter((n) => n !== "consul" && include(n)));
    for (const name of names) {
      if (serviceWatches.has(name)) continue;
      observed.set(name, { name, instances: [] });
      serviceWatches.set(name, watch<ConsulHealthEntry[]>(`health/service/${name}`, `/v1/health/service/${encodeURIComponent(name)}`, (entries) => {
        const s = observed.get(name);
        if (!s) return;
        s.instances = entries ?? [];
        syncConnectWatches();
        schedule();
      }));
    }
    for (const [name, w] of serviceWatches) {
      if (names.has(name)) continue;
      w.stop();
      serviceWatches.delete(name);
      observed.delete(name);
    }
    syncConnectWatches();
    schedule();
  });

  const allWatches = () => [catalog, ...serviceWatches.values(), ...connectWatches.values()];
  return {
    async ready() {
      await catalog.ready;
      // New watches may appear while we wait (mesh-capable services); settle until none is new.
      for (let seen = -1; seen !== allWatches().length;) {
        seen = allWatches().length;
        await Promise.all(allWatches().map((w) => w.ready));
      }
      publish();
    },
    status() {
      const states = allWatches().map((w) => w.state());
      const failing = states.filter((s) => s.consecutiveFailures > 0);
      const lastErr = states.filter((s) => s.lastErrorAt !== undefined).sort((a, b) => b.lastErrorAt! - a.lastErrorAt!)[0];
      return {
        ...counts,
        lastPublishAt,
        catalog: catalog.state(),
        watches: states.length,
        failingWatches: failing.length,
        ...(lastErr ? { lastError: `${lastErr.name}: ${lastErr.lastError}`, lastErrorAt: lastErr.lastErrorAt! } : {}),
      };
    },
    republish: schedule,
    stop() {
      stopped = true;
      for (const w of allWatches()) w.stop();
    },
  };
}
