/**
 * @module control/xds/cache
 * The snapshot cache: the one place that holds what each node (or node group) should run, separated
 * from the gRPC transport by the `ConfigWatcher` interface, as in go-control-plane. A publisher calls
 * `setSnapshot(key, snapshot)`; the cache checks the snapshot's consistency first and refuses an
 * inconsistent one with a `SnapshotError` (the previous snapshot keeps serving). A snapshot derived from
 * the key's current one is checked in proportion to the change, and a snapshot published under many
 * keys is checked once. Streams `watch` a node and are told about every newly published snapshot;
 * deciding what to send (state of the world or delta, which types changed) is the stream's job, not
 * the cache's.
 *
 * Thread-safety and mutability contract: JavaScript is single-threaded; `setSnapshot` notifies watchers
 * synchronously, in registration order, after the new snapshot is visible to `getSnapshot`. Snapshots
 * are immutable, so watchers may keep them.
 */
import { checkSnapshot } from "./consistency.ts";
import { SnapshotError, type Snapshot } from "./snapshot.ts";

/** The part of a node identity the cache needs (from the first request on a stream). */
export interface NodeInfo {
  id: string;
  cluster: string;
  /** Node metadata (google.protobuf.Struct as JSON). */
  metadata?: Record<string, unknown>;
}

/** Maps a node to the key its snapshot is stored under: its id, or a group shared by many nodes. */
export type NodeHash = (node: NodeInfo) => string;

export const nodeIdHash: NodeHash = (node) => node.id;

/** What a transport needs from a cache. */
export interface ConfigWatcher {
  nodeKey(node: NodeInfo): string;
  getSnapshot(key: string): Snapshot | undefined;
  /**
   * Calls `onSnapshot` for every snapshot published for `key` from now on; returns the cancel function.
   * `node` (the client that watches) lets a publisher build a snapshot for a node it has not seen.
   */
  watch(key: string, onSnapshot: (snapshot: Snapshot) => void, node?: NodeInfo): () => void;
}

export interface SnapshotCache extends ConfigWatcher {
  /** Publishes after the consistency check; throws `SnapshotError` (and keeps the previous) when inconsistent. */
  setSnapshot(key: string, snapshot: Snapshot): void;
  clearSnapshot(key: string): void;
  keys(): string[];
  /** Number of live watches per key (streams waiting on it). */
  watchCount(key: string): number;
}

export interface SnapshotCacheOptions {
  nodeHash?: NodeHash;
  /** Skip the consistency check (tests of the transport only). */
  skipConsistencyCheck?: boolean;
  /** Called when a stream starts watching a key that has no snapshot yet (publish one from here). */
  onMissing?: (key: string, node: NodeInfo | undefined) => void;
}

/**
 * Creates an in-memory snapshot cache.
 * @example
 * const cache = createSnapshotCache();
 * cache.setSnapshot("sidecar~10.0.0.1~web.default", createSnapshot({ ... }));
 */
export function createSnapshotCache(options: SnapshotCacheOptions = {}): SnapshotCache {
  const nodeHash = options.nodeHash ?? nodeIdHash;
  const snapshots = new Map<string, Snapshot>();
  const watchers = new Map<string, Set<(s: Snapshot) => void>>();
  // A snapshot's verdict is a pure function of the snapshot: a snapshot shared by many keys is checked once.
  const verdicts = new WeakMap<Snapshot, string[]>();
  const check = (key: string, snapshot: Snapshot): string[] => {
    let problems = verdicts.get(snapshot);
    if (!problems) verdicts.set(snapshot, (problems = checkSnapshot(snapshot, snapshots.get(key))));
    return problems;
  };
  return {
    nodeKey: nodeHash,
    getSnapshot: (key) => snapshots.get(key),
    setSnapshot(key, snapshot) {
      if (!options.skipConsistencyCheck) {
        const problems = check(key, snapshot);
        if (problems.length) throw new SnapshotError(problems);
      }
      snapshots.set(key, snapshot);
      for (const w of [...(watchers.get(key) ?? [])]) w(snapshot);
    },
    clearSnapshot(key) {
      snapshots.delete(key);
    },
    keys: () => [...snapshots.keys()],
    watchCount: (key) => watchers.get(key)?.size ?? 0,
    watch(key, onSnapshot, node) {
      let set = watchers.get(key);
      if (!set) watchers.set(key, (set = new Set()));
      const fn = (s: Snapshot) => onSnapshot(s);
      set.add(fn);
      if (!snapshots.has(key)) options.onMissing?.(key, node);
      return () => {
        set.delete(fn);
        if (set.size === 0 && watchers.get(key) === set) watchers.delete(key);
      };
    },
  };
}
