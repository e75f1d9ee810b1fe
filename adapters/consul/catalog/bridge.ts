/**
 * @module adapters/consul/catalog/bridge
 * The running Consul bridge: catalog sync in the configured directions, Consul's CA roots followed into a
 * trust bundle, optionally Consul's CA pointed at weft's root, and Consul's intentions compiled into one
 * ordered authorization policy. `status()` is what the admin API shows (last index, last error, last
 * success, counts, per part). Runtime-neutral: it needs only `fetch`; the control plane starts it.
 */
import type { Registry } from "../../../control/registry/registry.ts";
import type { Service } from "../../../core/ir/model.ts";
import type { BlockingWatchOptions, WatchState } from "./blocking-watch.ts";
import { startCatalogIn, type CatalogIn, type CatalogInStatus } from "./catalog-in.ts";
import { deregisterAll, startCatalogOut, type CatalogOut, type CatalogOutStatus } from "./catalog-out.ts";
import { createConsulClient, type ConsulClient } from "./client.ts";
import type { ConsulBridgeConfig } from "./config.ts";
import { watchIntentions, type IntentionsView, type IntentionsWatch } from "./intentions-watch.ts";
import { configureConsulCa, watchConsulRoots, type RootsView, type RootsWatch } from "./trust.ts";

export interface ConsulBridgeOptions {
  config: ConsulBridgeConfig;
  registry: Registry;
  /** Weft's root (PEM cert and key), for `trust.configureCa`. */
  weftRoot?: () => Promise<{ certPem: string; keyPem: string }>;
  onRoots?: (view: RootsView) => void;
  onIntentions?: (view: IntentionsView) => void;
  client?: ConsulClient;
  fetch?: typeof fetch;
  watch?: Pick<BlockingWatchOptions<unknown>, "backoff" | "now" | "random" | "sleep">;
  onPublish?: (info: { services: number; endpoints: number }) => void;
  log?: (line: string) => void;
}

function watchSummary(s: WatchState | undefined) {
  if (!s) return null;
  return { index: s.index, lastSuccessAt: s.lastSuccessAt, consecutiveFailures: s.consecutiveFailures, resets: s.resets, ...(s.lastError ? { lastError: s.lastError, lastErrorAt: s.lastErrorAt } : {}) };
}

export interface ConsulBridgeStatus {
  address: string;
  datacenter?: string;
  state: "ok" | "degraded";
  toWeft: (Omit<CatalogInStatus, "catalog"> & { catalog: unknown }) | null;
  toConsul: CatalogOutStatus | null;
  roots: { trustDomain?: string; activeRootId?: string; roots: number; watch: unknown } | null;
  intentions: { entries: number; rejected: IntentionsView["rejected"]; losses: number; watch: unknown } | null;
  caConfigured?: { at: number; changed: boolean } | { error: string };
}

export interface ConsulBridge {
  client: ConsulClient;
  /** Resolves when every enabled part has read Consul once. */
  ready(): Promise<void>;
  roots(): RootsView | undefined;
  intentions(): IntentionsView | undefined;
  status(): ConsulBridgeStatus;
  /** Stops every watch; with `deregister`, removes what weft registered in Consul. */
  stop(opts?: { deregister?: boolean }): Promise<void>;
}

/**
 * @example
 * const bridge = startConsulBridge({ config: parseConsulBridgeConfig(yaml.consul).config!, registry });
 * await bridge.ready();
 */
export function startConsulBridge(o: ConsulBridgeOptions): ConsulBridge {
  const c = o.config;
  const client = o.client ?? createConsulClient({ address: c.address, ...(c.token ? { token: c.token } : {}), ...(c.datacenter ? { datacenter: c.datacenter } : {}), ...(o.fetch ? { fetch: o.fetch } : {}) });
  const watch = { ...o.watch, minIntervalMs: c.minInterval };
  const log = o.log;
  let rootsWatch: RootsWatch | undefined;
  let intentionsWatch: IntentionsWatch | undefined;
  let catalogIn: CatalogIn | undefined;
  let catalogOut: CatalogOut | undefined;
  let caConfigured: ConsulBridgeStatus["caConfigured"];
  const trustDomain = () => rootsWatch?.current()?.trustDomain;

  if (c.trust.followRoots || c.sync.toWeft || c.intentions.follow) {
    rootsWatch = watchConsulRoots(client, (view) => {
      log?.(`consul: trust domain ${view.trustDomain}, ${view.roots.length} root(s), active ${view.activeRootId}`);
      catalogIn?.republish();
      o.onRoots?.(view);
    }, { waitMs: c.wait, watch, ...(log ? { log } : {}) });
  }
  const caDone = (async () => {
    if (!c.trust.configureCa) return;
    if (!o.weftRoot) {
      caConfigured = { error: "trust.configureCa needs weft's root, which this host did not supply" };
      return;
    }
    try {
      const root = await o.weftRoot();
      const r = await configureConsulCa(client, { rootCertPem: root.certPem, rootKeyPem: root.keyPem });
      caConfigured = { at: Date.now(), changed: r.changed };
      log?.(`consul: Connect CA ${r.changed ? "now issues from" : "already issues from"} weft's root`);
    } catch (err) {
      caConfigured = { error: (err as Error).message };
      log?.(`consul: configuring the Connect CA failed: ${(err as Error).message}`);
    }
  })();
  if (c.sync.toWeft) {
    const { prefixes, exclude } = c.import;
    catalogIn = startCatalogIn({
      client, registry: o.registry, inbound: { namespace: c.import.namespace, servicePort: c.import.servicePort, ...(c.datacenter ? { datacenter: c.datacenter } : {}) },
      trustDomain, waitMs: c.wait, watch,
      include: (n) => !exclude.includes(n) && (prefixes.length === 0 || prefixes.some((p) => n.startsWith(p))),
      ...(o.onPublish ? { onPublish: o.onPublish } : {}),
      ...(log ? { log } : {}),
    });
  }
  if (c.sync.toConsul) {
    const { namespaces } = c.export;
    catalogOut = startCatalogOut({
      client, registry: o.registry,
      outbound: { prefix: c.export.prefix, connect: c.export.connect, ttlMs: c.export.ttl, deregisterAfterMs: c.export.deregisterCriticalAfter },
      select: (s: Service) => namespaces.length === 0 || namespaces.includes(s.namespace),
      ...(log ? { log } : {}),
    });
  }
  if (c.intentions.follow) {
    intentionsWatch = watchIntentions(client, (view) => {
      log?.(`consul: ${view.entries} service-intentions entr${view.entries === 1 ? "y" : "ies"} compiled${view.rejected.length ? `, ${view.rejected.length} rejected` : ""}`);
      o.onIntentions?.(view);
    }, {
      options: () => ({ defaultAction: c.intentions.defaultPolicy, ...(trustDomain() ? { trustDomain: trustDomain()! } : {}) }),
      waitMs: c.wait, watch, ...(log ? { log } : {}),
    });
  }

  return {
    client,
    async ready() {
      await caDone;
      await Promise.all([rootsWatch?.ready, intentionsWatch?.ready, catalogIn?.ready(), catalogOut?.sync()]);
    },
    roots: () => rootsWatch?.current(),
    intentions: () => intentionsWatch?.current(),
    status() {
      const toWeft = catalogIn ? { ...catalogIn.status(), catalog: watchSummary(catalogIn.status().catalog) } : null;
      const toConsul = catalogOut?.status() ?? null;
      const rv = rootsWatch?.current();
      const iv = intentionsWatch?.current();
      const degraded = (toWeft?.failingWatches ?? 0) > 0 || (toConsul?.consecutiveFailures ?? 0) > 0 ||
        (rootsWatch?.state().consecutiveFailures ?? 0) > 0 || (intentionsWatch?.state().consecutiveFailures ?? 0) > 0 ||
        (caConfigured !== undefined && "error" in caConfigured);
      return {
        address: client.address,
        ...(c.datacenter ? { datacenter: c.datacenter } : {}),
        state: degraded ? "degraded" : "ok",
        toWeft,
        toConsul,
        roots: rootsWatch ? { ...(rv ? { trustDomain: rv.trustDomain, activeRootId: rv.activeRootId } : {}), roots: rv?.roots.length ?? 0, watch: watchSummary(rootsWatch.state()) } : null,
        intentions: intentionsWatch ? { entries: iv?.entries ?? 0, rejected: iv?.rejected ?? [], losses: iv?.losses.length ?? 0, watch: watchSummary(intentionsWatch.state()) } : null,
        ...(caConfigured ? { caConfigured } : {}),
      };
    },
    async stop(opts = {}) {
      rootsWatch?.stop();
      intentionsWatch?.stop();
      catalogIn?.stop();
      await catalogOut?.stop();
      if (opts.deregister && catalogOut) await deregisterAll(client).catch(() => 0);
    },
  };
}
