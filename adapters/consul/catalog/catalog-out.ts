/**
 * @module adapters/consul/catalog/catalog-out
 * Weft → Consul: keeps the agent's catalog equal to the weft services in the registry. On every registry
 * change and on a periodic tick it reconciles: reads what weft registered before (agent services with
 * meta `external-source=weft`, so leftovers of an earlier run are found too), registers what is missing
 * or changed, deregisters what left, and refreshes every TTL check (passing or critical, from the
 * endpoint's health). An agent that restarted and forgot everything is repaired on the next tick. Never
 * writes back services that came from Consul. Failures are kept in `status()` and retried on the next
 * tick; one reconcile runs at a time.
 */
import type { MergedSnapshot, Registry } from "../../../control/registry/registry.ts";
import type { Service } from "../../../core/ir/model.ts";
import { backoffDelay } from "./blocking-watch.ts";
import type { ConsulClient } from "./client.ts";
import { EXTERNAL_SOURCE, registryToCatalog, sameRegistration, WEFT_MARK, type AgentRegistration, type OutboundOptions } from "./conversion.ts";

export interface CatalogOutOptions {
  client: ConsulClient;
  registry: Registry;
  outbound: OutboundOptions;
  select?: (s: Service) => boolean;
  /** Reconcile at least this often (default: a third of the TTL). */
  intervalMs?: number;
  now?: () => number;
  random?: () => number;
  log?: (line: string) => void;
}

export interface CatalogOutStatus {
  registered: number;
  lastSyncAt: number | null;
  registrations: number;
  deregistrations: number;
  consecutiveFailures: number;
  lastError?: string;
  lastErrorAt?: number;
}

export interface CatalogOut {
  /** Reconciles now; resolves when done (a reconcile already running is awaited, then one more runs). */
  sync(): Promise<void>;
  status(): CatalogOutStatus;
  stop(): Promise<void>;
}

interface AgentService {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Meta?: Record<string, string> | null;
  Connect?: { Native?: boolean } | null;
}

export function startCatalogOut(o: CatalogOutOptions): CatalogOut {
  const now = o.now ?? (() => Date.now());
  const random = o.random ?? Math.random;
  const interval = o.intervalMs ?? Math.max(1_000, (o.outbound.ttlMs ?? 30_000) / 3);
  const select = o.select ?? (() => true);
  const known = new Map<string, AgentRegistration>();
  const st: CatalogOutStatus = { registered: 0, lastSyncAt: null, registrations: 0, deregistrations: 0, consecutiveFailures: 0 };
  let latest: MergedSnapshot = o.registry.snapshot();
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const reconcile = async () => {
    const want = registryToCatalog(latest, o.outbound, select);
    const filter = `Meta["${EXTERNAL_SOURCE}"] == "${WEFT_MARK}"`;
    const have = (await o.client.get<Record<string, AgentService>>("/v1/agent/services", { query: { filter } })).body ?? {};
    for (const id of Object.keys(have)) {
      if (want.has(id)) continue;
      await o.client.put(`/v1/agent/service/deregister/${encodeURIComponent(id)}`);
      known.delete(id);
      st.deregistrations++;
    }
    for (const [id, reg] of want) {
      const prev = known.get(id);
      const inAgent = have[id];
      const fresh = !inAgent || !prev || !sameRegistration(prev, reg) || inAgent.Port !== reg.Port || inAgent.Address !== reg.Address;
      if (fresh) {
        await o.client.put("/v1/agent/service/register", reg, { query: { "replace-existing-checks": true } });
        known.set(id, reg);
        st.registrations++;
        continue;
      }
      const path = reg.Check.Status === "passing" ? "pass" : "fail";
      await o.client.put(`/v1/agent/check/${path}/${encodeURIComponent(reg.Check.CheckID)}`);
      known.set(id, reg);
    }
    st.registered = want.size;
  };

  const loop = async () => {
    do {
      again = false;
      try {
        await reconcile();
        st.consecutiveFailures = 0;
        st.lastSyncAt = now();
      } catch (err) {
        st.consecutiveFailures++;
        st.lastError = (err as Error).message;
        st.lastErrorAt = now();
        if (st.consecutiveFailures === 1) o.log?.(`consul: catalog registration failed (${st.lastError}); retrying with backoff`);
        known.clear(); // after a failure, re-register everything once the agent is back
      }
    } while (again && !stopped);
  };

  const sync = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => {
      running = null;
    });
    return running;
  };

  const tick = () => {
    if (stopped) return;
    const delay = st.consecutiveFailures > 0 ? Math.min(interval, backoffDelay(st.consecutiveFailures, 250, interval, random)) : interval;
    timer = setTimeout(() => void sync().then(tick), delay);
  };

  // Registry changes that do not change what weft exports (e.g. Consul's own services arriving) cost nothing.
  const wantKey = (snap: MergedSnapshot) => JSON.stringify([...registryToCatalog(snap, o.outbound, select).values()].map((r) => [r.ID, r.Port, r.Address, r.Check.Status, r.Meta]));
  let lastKey = wantKey(latest);
  const unsubscribe = o.registry.subscribe((snap) => {
    latest = snap;
    const key = wantKey(snap);
    if (key === lastKey) return;
    lastKey = key;
    void sync();
  });
  void sync().then(tick);

  return {
    sync,
    status: () => ({ ...st }),
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** Removes everything weft registered in this agent (for `stop({ deregister: true })`). */
export async function deregisterAll(client: ConsulClient): Promise<number> {
  const filter = `Meta["${EXTERNAL_SOURCE}"] == "${WEFT_MARK}"`;
  const have = (await client.get<Record<string, AgentService>>("/v1/agent/services", { query: { filter } })).body ?? {};
  for (const id of Object.keys(have)) await client.put(`/v1/agent/service/deregister/${encodeURIComponent(id)}`);
  return Object.keys(have).length;
}
