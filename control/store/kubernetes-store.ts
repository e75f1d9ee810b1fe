/**
 * @module control/store/kubernetes-store
 * `ConfigStore` on a Kubernetes API server, so several control-plane replicas share one configuration.
 * Each kind is a custom resource (`kubernetes-mapping.ts`); each replica lists and watches every kind
 * and answers `get`/`list` from that cache, so it sees other replicas' writes as they happen. Writes
 * use the cached resourceVersion as an optimistic-concurrency precondition and resolve only once the
 * replica's own watch has delivered them (read-your-writes).
 *
 * Where it differs from the embedded store (see docs/kubernetes.md):
 * - Revisions are resourceVersions (etcd revisions): one per written object, ordered within a kind,
 *   globally increasing but delivered per kind, so events of different kinds may arrive out of order.
 * - An apply is validated as a whole, but written object by object; if a write fails, the objects
 *   already written are rolled back (best effort: a concurrent writer or an outage can defeat it).
 * - `expectRevision` is checked against this replica's view; per-object preconditions catch
 *   concurrent writes from other replicas (`ConflictError`).
 * - History and watch replay cover only what this replica observed since it started: the API server
 *   keeps no history (etcd compacts it).
 */
import type { KindSpec } from "../../core/resources/kind.ts";
import type { Diagnostic } from "../../core/schema/index.ts";
import { errorStatus, KubeApiError, resourcePath, type KubeApi, type KubeObject } from "../../adapters/kubernetes/api.ts";
import type { BackoffOptions } from "../../adapters/kubernetes/backoff.ts";
import { crdName, ensureCrds, generateCrd } from "../../adapters/kubernetes/crds.ts";
import { createReflector, type Reflector } from "../../adapters/kubernetes/reflector.ts";
import { crdShapeFor, fromKubernetes, parseRevision, storedTypeFor, toKubernetes, type StoredType } from "./kubernetes-mapping.ts";
import { canonicalJson, diffPaths, keyFromObject, keyOf } from "./store.ts";
import {
  type ApplyOptions, type ApplyResult, type ChangeEvent, type ChangeSummary, CompactedError, type ConfigStore, ConflictError,
  type HistoryEntry, type ResourceKey, type StoredResource, StoreValidationError,
} from "./types.ts";

export interface KubernetesStoreOptions {
  api: KubeApi;
  /** The kinds this store holds (one custom resource each). */
  kinds: readonly Pick<KindSpec, "group" | "kind" | "versions">[];
  validate: (obj: Record<string, unknown>) => Diagnostic[];
  /** Create missing CRDs (default true). `crds` are used where given (Istio's own), else generated. */
  installCrds?: boolean;
  crds?: readonly KubeObject[];
  /** Create a missing namespace on first write into it (default true). */
  createNamespaces?: boolean;
  historyPerKey?: number;
  maxEvents?: number;
  /** How long a write waits for the watch to deliver it (default 10 s). */
  writeTimeoutMs?: number;
  /** How long opening waits for the first list of every kind (default 60 s). */
  startTimeoutMs?: number;
  backoff?: BackoffOptions;
  now?: () => number;
}

interface Entry extends StoredResource {
  resourceVersion: string;
}

const STRIP = ["resourceVersion", "generation", "creationTimestamp", "uid", "managedFields"];
function normalize(obj: Record<string, unknown>): Record<string, unknown> {
  const { status: _s, ...rest } = obj;
  const meta = { ...((rest.metadata ?? {}) as Record<string, unknown>) };
  for (const k of STRIP) delete meta[k];
  if (!meta.namespace) meta.namespace = "default";
  return { ...rest, metadata: meta };
}

/** Compares ignoring the version part of apiVersion (the server may serve another version). */
const sameContent = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  canonicalJson({ ...a, apiVersion: undefined }) === canonicalJson({ ...b, apiVersion: undefined });

function diagnosticsFrom(err: KubeApiError, object: string): Diagnostic[] {
  if (err.causes.length === 0) return [{ severity: "error", object, message: `rejected by the API server: ${err.message}` }];
  return err.causes.map((c) => ({ severity: "error" as const, object, ...(c.field ? { path: c.field } : {}), message: `rejected by the API server: ${c.message ?? c.reason ?? err.message}` }));
}

/**
 * Opens the store: installs missing CRDs, lists every kind, starts the watches.
 * @example
 * const store = await createKubernetesStore({ api: createKubeApi(loadKubeConfig()), kinds: allKinds, validate: (o) => validateResource(o, allKinds) });
 */
export async function createKubernetesStore(opts: KubernetesStoreOptions): Promise<ConfigStore> {
  const { api, validate } = opts;
  const now = opts.now ?? (() => Date.now());
  const historyPerKey = opts.historyPerKey ?? 20;
  const maxEvents = opts.maxEvents ?? 10_000;
  const writeTimeout = opts.writeTimeoutMs ?? 10_000;
  const types = opts.kinds.map(storedTypeFor);
  const typeOf = (group: string, kind: string) => types.find((t) => t.group === group && t.kind === kind);

  if (opts.installCrds !== false) {
    const given = new Map((opts.crds ?? []).map((c) => [c.metadata?.name ?? "", c]));
    await ensureCrds(api, types.map((t) => given.get(crdName(t.resource)) ?? generateCrd(crdShapeFor(t))));
  }

  const objects = new Map<string, Entry>();
  const histories = new Map<string, HistoryEntry[]>();
  let events: ChangeEvent[] = [];
  let rev = 0;
  let firstKept = Infinity;
  const watchers = new Set<(e: ChangeEvent[]) => void>();
  const waiters = new Set<() => boolean>();
  const knownNamespaces = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const remember = (key: string, e: HistoryEntry) => {
    const h = histories.get(key) ?? [];
    h.push(e);
    if (h.length > historyPerKey) h.splice(0, h.length - historyPerKey);
    histories.set(key, h);
  };

  const emit = (evs: ChangeEvent[]) => {
    if (evs.length === 0) return;
    events.push(...evs);
    if (events.length > maxEvents) {
      const drop = events.length - maxEvents;
      firstKept = Math.max(firstKept, events[drop]!.revision);
      events = events.slice(drop);
    }
    for (const w of watchers) {
      try {
        w(evs);
      } catch {
        // a failing watcher must not break the store or other watchers
      }
    }
  };

  const wakeWaiters = () => {
    for (const w of [...waiters]) if (w()) waiters.delete(w);
  };

  const put = (t: StoredType, obj: KubeObject): ChangeEvent | null => {
    const d = fromKubernetes(obj, t);
    const key = keyOf(d.key);
    const prev = objects.get(key);
    if (prev && prev.revision >= d.revision) return null;
    const entry: Entry = { ...d.key, object: d.object, revision: d.revision, createRevision: prev?.createRevision ?? d.revision, resourceVersion: d.resourceVersion };
    objects.set(key, entry);
    rev = Math.max(rev, d.revision);
    remember(key, { revision: d.revision, type: "PUT", object: d.object, ...(d.actor ? { actor: d.actor } : {}), time: now() });
    const { resourceVersion: _rv, ...resource } = entry;
    return { type: "PUT", revision: d.revision, key, resource, ...(prev ? { previous: strip(prev) } : {}) };
  };
  const strip = (e: Entry): StoredResource => {
    const { resourceVersion: _rv, ...r } = e;
    return r;
  };
  const remove = (key: string, revision: number): ChangeEvent | null => {
    const prev = objects.get(key);
    if (!prev) return null;
    objects.delete(key);
    rev = Math.max(rev, revision);
    remember(key, { revision, type: "DELETE", object: null, time: now() });
    return { type: "DELETE", revision, key, resource: { ...strip(prev), revision }, previous: strip(prev) };
  };

  const reflectors: Reflector[] = types.map((t) => createReflector({
    api,
    path: resourcePath(t.resource),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    onReplace(items) {
      const seen = new Set<string>();
      const evs: ChangeEvent[] = [];
      for (const o of items) {
        const e = put(t, o);
        seen.add(keyOf(fromKubernetes(o, t).key));
        if (e) evs.push(e);
      }
      const listRv = Number(reflectors[types.indexOf(t)]?.status().resourceVersion) || rev;
      for (const [key, entry] of objects) {
        if (entry.group === t.group && entry.kind === t.kind && !seen.has(key)) {
          const e = remove(key, listRv); // deleted while unwatched: the exact revision is unknown
          if (e) evs.push(e);
        }
      }
      rev = Math.max(rev, listRv);
      emit(evs);
      wakeWaiters();
    },
    onEvent(type, o) {
      const e = type === "DELETED" ? remove(keyOf(fromKubernetes(o, t).key), parseRevision(o.metadata?.resourceVersion)) : put(t, o);
      if (e) emit([e]);
      wakeWaiters();
    },
  }));
  for (const r of reflectors) r.start();
  const startTimeout = opts.startTimeoutMs ?? 60_000;
  let startTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all(reflectors.map((r) => r.synced())),
      new Promise((_, reject) => (startTimer = setTimeout(() => reject(new Error(`Kubernetes store: not every kind was listed within ${startTimeout} ms: ${reflectors.map((r) => r.status()).filter((s) => !s.synced).map((s) => `${s.path}: ${s.lastError ?? "pending"}`).join("; ")}`)), startTimeout))),
    ]);
  } catch (err) {
    for (const r of reflectors) r.stop();
    throw err;
  } finally {
    clearTimeout(startTimer);
  }
  firstKept = rev + 1;

  const waitUntil = (cond: () => boolean) => new Promise<void>((resolve) => {
    if (cond()) return resolve();
    const t = setTimeout(() => { waiters.delete(check); resolve(); }, writeTimeout);
    const check = () => {
      if (!cond()) return false;
      clearTimeout(t);
      resolve();
      return true;
    };
    waiters.add(check);
  });

  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const ensureNamespace = async (ns: string) => {
    if (knownNamespaces.has(ns) || opts.createNamespaces === false) return;
    try {
      await api.request("GET", `/api/v1/namespaces/${encodeURIComponent(ns)}`);
    } catch (err) {
      if (errorStatus(err) !== 404) throw err;
      try {
        await api.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } });
      } catch (e) {
        if (errorStatus(e) !== 409) throw e;
      }
    }
    knownNamespaces.add(ns);
  };

  /** Writes one object; returns the written object as the server answered it. */
  const write = async (t: StoredType, obj: Record<string, unknown>, key: ResourceKey, options: ApplyOptions): Promise<KubeObject> => {
    const body = toKubernetes(obj, t, options.actor);
    const path = resourcePath(t.resource, key.namespace);
    const cached = objects.get(keyOf(key));
    const replace = async (rv: string) => api.request("PUT", resourcePath(t.resource, key.namespace, key.name), { body: { ...body, metadata: { ...body.metadata, resourceVersion: rv } } });
    const fresh = async () => (await api.request("GET", resourcePath(t.resource, key.namespace, key.name))).metadata?.resourceVersion ?? "";
    try {
      if (cached) return await replace(cached.resourceVersion);
      await ensureNamespace(key.namespace);
      return await api.request("POST", path, { body });
    } catch (err) {
      const status = errorStatus(err);
      // Another replica wrote first: with expectRevision that is a conflict, else the last writer wins.
      if ((status === 409 || (status === 404 && cached)) && options.expectRevision !== undefined) throw new ConflictError(`${keyOf(key)} was changed concurrently: ${(err as Error).message}`);
      if (status === 409) return await replace(await fresh());
      if (status === 404 && cached) {
        await ensureNamespace(key.namespace);
        return await api.request("POST", path, { body });
      }
      throw err;
    }
  };

  const store: ConfigStore = {
    apply(input, options = {}) {
      return serialized(async (): Promise<ApplyResult> => {
        if (closed) throw new Error("config store is closed");
        if (options.expectRevision !== undefined && options.expectRevision !== rev) throw new ConflictError(`store is at revision ${rev}, not ${options.expectRevision}`);
        const diagnostics: Diagnostic[] = [];
        const seen = new Set<string>();
        const puts: { key: ResourceKey; obj: Record<string, unknown>; t: StoredType }[] = [];
        const changes: ChangeSummary[] = [];
        input.forEach((raw, i) => {
          const ds = validate(raw);
          diagnostics.push(...ds.map((d) => ({ ...d, object: d.object ?? `object #${i + 1}` })));
          if (ds.some((d) => d.severity === "error")) return;
          const obj = normalize(raw);
          const key = keyFromObject(obj);
          const t = typeOf(key.group, key.kind);
          if (!t) {
            diagnostics.push({ severity: "error", object: keyOf(key), path: "kind", message: `this Kubernetes store does not hold ${key.kind} (${key.group || "core"})` });
            return;
          }
          if (seen.has(keyOf(key))) {
            diagnostics.push({ severity: "error", object: keyOf(key), message: "the same object appears twice in one apply" });
            return;
          }
          seen.add(keyOf(key));
          const prev = objects.get(keyOf(key));
          if (!prev) changes.push({ key: keyOf(key), action: "create" });
          else if (sameContent(prev.object, obj)) {
            changes.push({ key: keyOf(key), action: "unchanged" });
            return;
          } else changes.push({ key: keyOf(key), action: "update", changedPaths: diffPaths(prev.object, obj) });
          puts.push({ key, obj, t });
        });
        if (diagnostics.some((d) => d.severity === "error")) throw new StoreValidationError(diagnostics);
        if (options.dryRun || puts.length === 0) return { revision: rev, changes, diagnostics, dryRun: options.dryRun === true };
        const written: { key: ResourceKey; t: StoredType; revision: number; previous?: Entry }[] = [];
        try {
          for (const p of puts) {
            const previous = objects.get(keyOf(p.key));
            const res = await write(p.t, p.obj, p.key, options);
            written.push({ key: p.key, t: p.t, revision: parseRevision(res.metadata?.resourceVersion), ...(previous ? { previous } : {}) });
          }
        } catch (err) {
          await rollback(written);
          if (err instanceof KubeApiError && (err.status === 422 || err.status === 400)) throw new StoreValidationError([...diagnostics, ...diagnosticsFrom(err, keyOf(puts[written.length]!.key))]);
          throw err;
        }
        await waitUntil(() => written.every((w) => (objects.get(keyOf(w.key))?.revision ?? 0) >= w.revision));
        return { revision: Math.max(...written.map((w) => w.revision)), changes, diagnostics, dryRun: false };
      });
    },
    delete(keys, options = {}) {
      return serialized(async (): Promise<ApplyResult> => {
        if (closed) throw new Error("config store is closed");
        if (options.expectRevision !== undefined && options.expectRevision !== rev) throw new ConflictError(`store is at revision ${rev}, not ${options.expectRevision}`);
        const present = keys.filter((k) => objects.has(keyOf(k)) && typeOf(k.group, k.kind));
        const changes = present.map((k) => ({ key: keyOf(k), action: "delete" as const }));
        if (options.dryRun || present.length === 0) return { revision: rev, changes, diagnostics: [], dryRun: options.dryRun === true };
        for (const k of present) {
          const t = typeOf(k.group, k.kind)!;
          const cached = objects.get(keyOf(k))!;
          try {
            await api.request("DELETE", resourcePath(t.resource, k.namespace, k.name), {
              body: { apiVersion: "v1", kind: "DeleteOptions", ...(options.expectRevision !== undefined ? { preconditions: { resourceVersion: cached.resourceVersion } } : {}) },
            });
          } catch (err) {
            if (errorStatus(err) === 409) throw new ConflictError(`${keyOf(k)} was changed concurrently: ${(err as Error).message}`);
            if (errorStatus(err) !== 404) throw err;
          }
        }
        const before = rev;
        await waitUntil(() => present.every((k) => !objects.has(keyOf(k))));
        const revision = Math.max(before, ...present.map((k) => histories.get(keyOf(k))?.at(-1)?.revision ?? 0));
        return { revision, changes, diagnostics: [], dryRun: false };
      });
    },
    get: (key) => {
      const e = objects.get(keyOf(key));
      return e ? strip(e) : undefined;
    },
    list(filter = {}) {
      const out: StoredResource[] = [];
      for (const r of objects.values()) {
        if (filter.kind && r.kind !== filter.kind) continue;
        if (filter.group !== undefined && r.group !== filter.group) continue;
        if (filter.namespace && r.namespace !== filter.namespace) continue;
        out.push(strip(r));
      }
      return out.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    },
    revision: () => rev,
    watch(fromRevision, onChange) {
      if (fromRevision + 1 < firstKept && fromRevision < rev) {
        throw new CompactedError(`revision ${fromRevision} is before this replica started watching (${firstKept - 1}); the API server keeps no history: list and watch from ${rev}`);
      }
      const backlog = events.filter((e) => e.revision > fromRevision);
      if (backlog.length) onChange(backlog);
      const w = (evs: ChangeEvent[]) => onChange(evs);
      watchers.add(w);
      return () => void watchers.delete(w);
    },
    history: (key) => [...(histories.get(keyOf(key)) ?? [])],
    async close() {
      closed = true;
      watchers.clear();
      await queue;
      for (const r of reflectors) r.stop();
    },
  };

  async function rollback(written: { key: ResourceKey; t: StoredType; previous?: Entry }[]) {
    for (const w of [...written].reverse()) {
      try {
        const path = resourcePath(w.t.resource, w.key.namespace, w.key.name);
        if (!w.previous) await api.request("DELETE", path);
        else {
          const current = await api.request("GET", path);
          const body = toKubernetes(w.previous.object, w.t);
          await api.request("PUT", path, { body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } } });
        }
      } catch {
        // best effort: the watch shows whatever state remains
      }
    }
  }

  return store;
}
