/**
 * @module control/store/store
 * The embedded config store: an in-memory index rebuilt from, and made durable by, an injected
 * append-only log. Applies are validated first and committed as one record (all objects or none), in
 * order, each at a new store revision. Watchers get events after any revision still in history;
 * compaction rewrites the log as one snapshot once it grows past `compactAfter` records.
 */
import type { Diagnostic } from "../../core/schema/index.ts";
import {
  type ApplyOptions, type ApplyResult, type ChangeEvent, type ChangeSummary, CompactedError, type ConfigStore,
  ConflictError, type DurableLog, type HistoryEntry, type LogRecord, type ResourceKey, type StoredResource, StoreValidationError,
} from "./types.ts";

export interface StoreOptions {
  log: DurableLog;
  /** Validates one object; errors reject the whole apply. */
  validate: (obj: Record<string, unknown>) => Diagnostic[];
  now?: () => number;
  /** Versions kept per object in history (default 20). */
  historyPerKey?: number;
  /** Events kept for watch replay (default 10,000). */
  maxEvents?: number;
  /** Compact the log after this many records (default 1,000). */
  compactAfter?: number;
}

export function keyOf(k: ResourceKey): string {
  return `${k.group}/${k.kind}/${k.namespace}/${k.name}`;
}

export function keyFromObject(obj: Record<string, unknown>): ResourceKey {
  const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
  const slash = apiVersion.lastIndexOf("/");
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  return {
    group: slash < 0 ? "" : apiVersion.slice(0, slash),
    kind: String(obj.kind ?? ""),
    namespace: typeof meta.namespace === "string" && meta.namespace ? meta.namespace : "default",
    name: String(meta.name ?? ""),
  };
}

function parseKey(key: string): ResourceKey {
  const parts = key.split("/");
  const name = parts.pop()!;
  const namespace = parts.pop()!;
  const kind = parts.pop()!;
  return { group: parts.join("/"), kind, namespace, name };
}

/** JSON with sorted keys: equal objects give equal strings. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Leaf paths that differ between two JSON values (at most `limit`). */
export function diffPaths(a: unknown, b: unknown, path = "", out: string[] = [], limit = 50): string[] {
  if (out.length >= limit) return out;
  const isObj = (x: unknown) => x !== null && typeof x === "object";
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) {
      const p = Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
      diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], p, out, limit);
    }
    return out;
  }
  if (canonicalJson(a) !== canonicalJson(b)) out.push(path || "(root)");
  return out;
}

/** Drops server-managed metadata so it never counts as a change. */
function normalize(obj: Record<string, unknown>): Record<string, unknown> {
  const { status: _s, ...rest } = obj;
  const meta = { ...((rest.metadata ?? {}) as Record<string, unknown>) };
  for (const k of ["resourceVersion", "generation", "creationTimestamp", "uid", "managedFields"]) delete meta[k];
  if (!meta.namespace) meta.namespace = "default";
  return { ...rest, metadata: meta };
}

/**
 * Opens a store: replays the log, then accepts writes.
 * @example
 * const store = await createConfigStore({ log: await createFileLog(dir), validate: (o) => validateResource(o, allKinds) });
 */
export async function createConfigStore(options: StoreOptions): Promise<ConfigStore> {
  const { log, validate } = options;
  const now = options.now ?? (() => Date.now());
  const historyPerKey = options.historyPerKey ?? 20;
  const maxEvents = options.maxEvents ?? 10_000;
  const compactAfter = options.compactAfter ?? 1_000;
  const objects = new Map<string, StoredResource>();
  const histories = new Map<string, HistoryEntry[]>();
  let events: ChangeEvent[] = [];
  let rev = 0;
  let firstKeptRevision = 1;
  let recordsSinceCompaction = 0;
  const watchers = new Set<{ from: number; cb: (e: ChangeEvent[]) => void }>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const remember = (key: string, entry: HistoryEntry) => {
    const h = histories.get(key) ?? [];
    h.push(entry);
    if (h.length > historyPerKey) h.splice(0, h.length - historyPerKey);
    histories.set(key, h);
  };

  /** Applies a committed record to memory; returns its events. */
  const applyRecord = (r: LogRecord): ChangeEvent[] => {
    if (r.snapshot) {
      objects.clear();
      events = [];
      firstKeptRevision = r.revision + 1;
    }
    const out: ChangeEvent[] = [];
    for (const p of r.puts) {
      const previous = objects.get(p.key);
      const resource: StoredResource = { ...parseKey(p.key), object: p.object, revision: r.revision, createRevision: previous?.createRevision ?? r.revision };
      objects.set(p.key, resource);
      if (!r.snapshot) {
        out.push({ type: "PUT", revision: r.revision, key: p.key, resource, ...(previous ? { previous } : {}) });
        remember(p.key, { revision: r.revision, type: "PUT", object: p.object, actor: r.actor, time: r.time });
      }
    }
    for (const key of r.deletes) {
      const previous = objects.get(key);
      if (!previous) continue;
      objects.delete(key);
      out.push({ type: "DELETE", revision: r.revision, key, resource: { ...previous, revision: r.revision }, previous });
      remember(key, { revision: r.revision, type: "DELETE", object: null, actor: r.actor, time: r.time });
    }
    rev = r.revision;
    events.push(...out);
    if (events.length > maxEvents) {
      const drop = events.length - maxEvents;
      firstKeptRevision = events[drop]!.revision;
      events = events.slice(drop);
    }
    return out;
  };

  for (const r of await log.readAll()) {
    applyRecord(r);
    recordsSinceCompaction++;
  }

  const notify = (evs: ChangeEvent[]) => {
    if (evs.length === 0) return;
    for (const w of watchers) {
      const mine = evs.filter((e) => e.revision > w.from);
      if (mine.length) {
        w.from = mine[mine.length - 1]!.revision;
        try {
          w.cb(mine);
        } catch {
          // A failing watcher must not break the store or other watchers.
        }
      }
    }
  };

  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const commit = async (puts: LogRecord["puts"], deletes: string[], options: ApplyOptions): Promise<number> => {
    const record: LogRecord = { revision: rev + 1, time: now(), puts, deletes, ...(options.actor ? { actor: options.actor } : {}) };
    await log.append(record);
    const evs = applyRecord(record);
    recordsSinceCompaction++;
    if (recordsSinceCompaction >= compactAfter) {
      await log.compact({ revision: rev, time: now(), snapshot: true, puts: [...objects].map(([key, r]) => ({ key, object: r.object })), deletes: [] });
      recordsSinceCompaction = 1;
    }
    notify(evs);
    return record.revision;
  };

  const checkOpen = (options: ApplyOptions) => {
    if (closed) throw new Error("config store is closed");
    if (options.expectRevision !== undefined && options.expectRevision !== rev) {
      throw new ConflictError(`store is at revision ${rev}, not ${options.expectRevision}`);
    }
  };

  return {
    apply(input, options = {}) {
      return serialized(async (): Promise<ApplyResult> => {
        checkOpen(options);
        const diagnostics: Diagnostic[] = [];
        const seen = new Set<string>();
        const puts: LogRecord["puts"] = [];
        const changes: ChangeSummary[] = [];
        input.forEach((raw, i) => {
          const ds = validate(raw);
          diagnostics.push(...ds.map((d) => ({ ...d, object: d.object ?? `object #${i + 1}` })));
          if (ds.some((d) => d.severity === "error")) return;
          const obj = normalize(raw);
          const key = keyOf(keyFromObject(obj));
          if (seen.has(key)) {
            diagnostics.push({ severity: "error", object: key, message: "the same object appears twice in one apply" });
            return;
          }
          seen.add(key);
          const prev = objects.get(key);
          if (!prev) changes.push({ key, action: "create" });
          else if (canonicalJson(prev.object) === canonicalJson(obj)) {
            changes.push({ key, action: "unchanged" });
            return;
          } else changes.push({ key, action: "update", changedPaths: diffPaths(prev.object, obj) });
          puts.push({ key, object: obj });
        });
        if (diagnostics.some((d) => d.severity === "error")) throw new StoreValidationError(diagnostics);
        if (options.dryRun || puts.length === 0) return { revision: rev, changes, diagnostics, dryRun: options.dryRun === true };
        const revision = await commit(puts, [], options);
        return { revision, changes, diagnostics, dryRun: false };
      });
    },
    delete(keys, options = {}) {
      return serialized(async (): Promise<ApplyResult> => {
        checkOpen(options);
        const deletes = keys.map(keyOf).filter((k) => objects.has(k));
        const changes = deletes.map((key) => ({ key, action: "delete" as const }));
        if (options.dryRun || deletes.length === 0) return { revision: rev, changes, diagnostics: [], dryRun: options.dryRun === true };
        return { revision: await commit([], deletes, options), changes, diagnostics: [], dryRun: false };
      });
    },
    get(key) {
      return objects.get(keyOf(key));
    },
    list(filter = {}) {
      const out: StoredResource[] = [];
      for (const r of objects.values()) {
        if (filter.kind && r.kind !== filter.kind) continue;
        if (filter.group !== undefined && r.group !== filter.group) continue;
        if (filter.namespace && r.namespace !== filter.namespace) continue;
        out.push(r);
      }
      return out.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    },
    revision: () => rev,
    watch(fromRevision, onChange) {
      if (fromRevision + 1 < firstKeptRevision && fromRevision < rev) {
        throw new CompactedError(`revision ${fromRevision} is compacted (oldest kept: ${firstKeptRevision}); list and watch from ${rev}`);
      }
      const w = { from: fromRevision, cb: onChange };
      const backlog = events.filter((e) => e.revision > fromRevision);
      if (backlog.length) {
        w.from = backlog[backlog.length - 1]!.revision;
        onChange(backlog);
      }
      watchers.add(w);
      return () => void watchers.delete(w);
    },
    history(key) {
      return [...(histories.get(keyOf(key)) ?? [])];
    },
    async close() {
      closed = true;
      watchers.clear();
      await queue;
      await log.close();
    },
  };
}
