/**
 * @module control/registry/registry
 * The service registry: one merged view of services, workloads and endpoints from every discovery
 * source (files, the config store, Kubernetes, Consul, cloud registries), with endpoint health fed by
 * the proxies' active health checks. Sources push whole snapshots; the registry merges them in the
 * order the sources were added (the first source to define a service owns its definition; endpoints
 * are the union) and reports conflicts instead of hiding them. Subscribers get the merged snapshot,
 * tagged with a revision, after every change.
 */
import type { Endpoint, HealthStatus, Service, Workload } from "../../core/ir/model.ts";

/** Endpoints of one service port. */
export interface ServiceEndpoints {
  /** Service id, `namespace/name`. */
  service: string;
  /** The service port these endpoints serve. */
  port: number;
  endpoints: Endpoint[];
}

export interface RegistrySnapshot {
  services: Service[];
  workloads: Workload[];
  endpoints: ServiceEndpoints[];
}

export interface MergedSnapshot extends RegistrySnapshot {
  revision: number;
}

export interface HealthReport {
  /** Who observed it (a proxy's node id). */
  reporter: string;
  address: string;
  port: number;
  status: "healthy" | "unhealthy";
}

export interface SourceStatus {
  name: string;
  services: number;
  endpoints: number;
  updatedAt: number | null;
  /** The source's last problem (it keeps serving its last good snapshot). */
  error?: string;
}

export interface Conflict {
  service: string;
  kept: string;
  ignored: string;
}

export interface Registry {
  /** Replaces a source's snapshot (adds the source on first call). */
  setSource(name: string, snapshot: RegistrySnapshot): void;
  /** Records a source problem without dropping its last good snapshot. */
  setSourceError(name: string, error: string | undefined): void;
  removeSource(name: string): void;
  reportHealth(report: HealthReport): void;
  snapshot(): MergedSnapshot;
  subscribe(onChange: (snapshot: MergedSnapshot) => void): () => void;
  status(): { revision: number; sources: SourceStatus[]; conflicts: Conflict[] };
}

export interface RegistryOptions {
  now?: () => number;
  /** A health report counts for this long (default 30 s). */
  healthTtlMs?: number;
}

const epKey = (address: string, port: number) => `${address}:${port}`;

/**
 * @example
 * const registry = createRegistry();
 * registry.setSource("file:/etc/weft/services.yaml", fileSnapshot);
 * registry.subscribe((s) => publishXds(s));
 */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const now = options.now ?? (() => Date.now());
  const ttl = options.healthTtlMs ?? 30_000;
  const sources = new Map<string, { snapshot: RegistrySnapshot; updatedAt: number | null; error?: string }>();
  const health = new Map<string, Map<string, { status: HealthReport["status"]; at: number }>>();
  const subscribers = new Set<(s: MergedSnapshot) => void>();
  let revision = 0;
  let conflicts: Conflict[] = [];
  let cached: MergedSnapshot | null = null;

  /** Majority of fresh reports; unknown when nobody reported recently. */
  const healthOf = (address: string, port: number, base: HealthStatus): HealthStatus => {
    const reports = health.get(epKey(address, port));
    if (!reports) return base;
    let up = 0;
    let down = 0;
    const t = now();
    for (const r of reports.values()) {
      if (t - r.at > ttl) continue;
      if (r.status === "healthy") up++;
      else down++;
    }
    if (up + down === 0) return base;
    return down > up ? "unhealthy" : base === "draining" ? "draining" : "healthy";
  };

  const merge = (): MergedSnapshot => {
    const services = new Map<string, { svc: Service; source: string }>();
    const workloads = new Map<string, Workload>();
    const eps = new Map<string, { service: string; port: number; byAddr: Map<string, Endpoint> }>();
    const found: Conflict[] = [];
    for (const [name, { snapshot }] of sources) {
      for (const svc of snapshot.services) {
        const prev = services.get(svc.id);
        if (!prev) services.set(svc.id, { svc, source: name });
        else if (prev.source !== name) found.push({ service: svc.id, kept: prev.source, ignored: name });
      }
      for (const w of snapshot.workloads) if (!workloads.has(w.id)) workloads.set(w.id, w);
      for (const se of snapshot.endpoints) {
        const k = `${se.service}|${se.port}`;
        const entry = eps.get(k) ?? { service: se.service, port: se.port, byAddr: new Map() };
        for (const e of se.endpoints) if (!entry.byAddr.has(epKey(e.address, e.port))) entry.byAddr.set(epKey(e.address, e.port), e);
        eps.set(k, entry);
      }
    }
    conflicts = found;
    return {
      revision,
      services: [...services.values()].map((s) => s.svc).sort((a, b) => (a.id < b.id ? -1 : 1)),
      workloads: [...workloads.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
      endpoints: [...eps.values()].map((e) => ({
        service: e.service,
        port: e.port,
        endpoints: [...e.byAddr.values()].map((ep) => ({ ...ep, health: healthOf(ep.address, ep.port, ep.health) })),
      })),
    };
  };

  const changed = () => {
    revision++;
    cached = null;
    const snap = self.snapshot();
    for (const s of subscribers) {
      try {
        s(snap);
      } catch {
        // one failing subscriber must not stop the others
      }
    }
  };

  const self: Registry = {
    setSource(name, snapshot) {
      const prev = sources.get(name);
      sources.set(name, { snapshot, updatedAt: now(), error: prev?.error });
      changed();
    },
    setSourceError(name, error) {
      const prev = sources.get(name) ?? { snapshot: { services: [], workloads: [], endpoints: [] }, updatedAt: null };
      sources.set(name, { ...prev, error });
    },
    removeSource(name) {
      if (sources.delete(name)) changed();
    },
    reportHealth(r) {
      const k = epKey(r.address, r.port);
      const m = health.get(k) ?? new Map();
      const before = healthOf(r.address, r.port, "healthy");
      m.set(r.reporter, { status: r.status, at: now() });
      health.set(k, m);
      if (healthOf(r.address, r.port, "healthy") !== before) changed();
    },
    snapshot() {
      cached ??= merge();
      return cached;
    },
    subscribe(onChange) {
      subscribers.add(onChange);
      return () => void subscribers.delete(onChange);
    },
    status() {
      self.snapshot();
      return {
        revision,
        conflicts,
        sources: [...sources].map(([name, s]) => ({
          name,
          services: s.snapshot.services.length,
          endpoints: s.snapshot.endpoints.reduce((n, e) => n + e.endpoints.length, 0),
          updatedAt: s.updatedAt,
          ...(s.error ? { error: s.error } : {}),
        })),
      };
    },
  };
  return self;
}
