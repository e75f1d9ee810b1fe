/**
 * @module control/xds/publisher
 * Keeps the snapshot cache in step with the mesh model: `update(model)` republishes every node key it
 * knows; a node that connects before it has a snapshot gets one on the spot (through the cache's
 * `onMissing`). Which resources a node gets is decided by `profileFor(node)` (proxyless gRPC, or a
 * sidecar for a workload). Nodes with the same `shareKey` (by default every `grpc` node) share one
 * immutable snapshot, built once per update. Each snapshot is
 * derived from the one it replaces, so unchanged resources are not re-encoded or re-hashed and the
 * consistency check covers only what changed. A snapshot the check refuses is reported through
 * `onError` with the node key and the problems, and the node keeps its previous snapshot.
 *
 * Thread-safety and mutability contract: single-threaded; `update` publishes synchronously. The model
 * passed to `update` must not be mutated afterwards (snapshots are built from it lazily for new nodes).
 */
import type { MeshModel } from "../../core/ir/model.ts";
import { createSnapshotCache, type NodeInfo, type SnapshotCache, type SnapshotCacheOptions } from "./cache.ts";
import { createSnapshot, SnapshotError, type Snapshot } from "./snapshot.ts";
import { buildNodeResources, type NodeProfile } from "./translate/mesh-snapshot.ts";

export interface MeshPublisherOptions extends Omit<SnapshotCacheOptions, "onMissing"> {
  /** The resources a node gets; null = none (the node waits). */
  profileFor: (node: NodeInfo) => NodeProfile | null;
  /**
   * Nodes with the same key get the same snapshot object, built once per update (null: the node's
   * own). Default: `"grpc"` for the grpc profile, null otherwise. Keys should be few (one entry each).
   */
  shareKey?: (node: NodeInfo, profile: NodeProfile) => string | null;
  onError?: (key: string, error: Error) => void;
}

export interface MeshPublisher {
  readonly cache: SnapshotCache;
  /** Publishes `model` to every known node; returns the keys whose snapshot was refused. */
  update(model: MeshModel, label?: string): string[];
}

interface Built {
  model: MeshModel;
  label: string;
  result: Snapshot | SnapshotError;
}

/**
 * Creates a cache and keeps it published from the latest model.
 * @example
 * const pub = createMeshPublisher({ profileFor: (n) => (n.metadata?.GENERATOR === "grpc" ? { kind: "grpc" } : null) });
 * pub.update(model, `rev-${store.revision()}`);
 * await startXdsServer({ watcher: pub.cache, status });
 */
export function createMeshPublisher(options: MeshPublisherOptions): MeshPublisher {
  const nodes = new Map<string, NodeInfo>();
  let model: MeshModel | null = null;
  let label = "";
  const shareKey = options.shareKey ?? ((_node: NodeInfo, profile: NodeProfile) => (profile.kind === "grpc" ? "grpc" : null));
  /** Per share key: the last snapshot accepted (the base of the next) and what the current model built. */
  const shared = new Map<string, { good?: Snapshot; built?: Built }>();

  const build = (profile: NodeProfile, base: Snapshot | undefined): Snapshot | SnapshotError => {
    try {
      return createSnapshot(buildNodeResources(model!, profile), label, base);
    } catch (err) {
      if (err instanceof SnapshotError) return err;
      throw err;
    }
  };

  const publish = (key: string, node: NodeInfo): boolean => {
    if (!model) return true;
    const profile = options.profileFor(node);
    if (!profile) return true;
    const sk = shareKey(node, profile);
    let entry = sk === null ? undefined : shared.get(sk);
    if (sk !== null && !entry) shared.set(sk, (entry = {}));
    let snap: Snapshot | SnapshotError;
    if (entry) {
      if (!entry.built || entry.built.model !== model || entry.built.label !== label) {
        entry.built = { model, label, result: build(profile, entry.good) };
      }
      snap = entry.built.result;
    } else {
      snap = build(profile, cache.getSnapshot(key));
    }
    try {
      if (snap instanceof SnapshotError) throw snap;
      cache.setSnapshot(key, snap);
      if (entry) entry.good = snap;
      return true;
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      options.onError?.(key, err);
      return false;
    }
  };
  const cache: SnapshotCache = createSnapshotCache({
    ...options,
    onMissing: (key, node) => {
      if (!node) return;
      nodes.set(key, node);
      publish(key, node);
    },
  });
  return {
    cache,
    update(next, nextLabel = "") {
      model = next;
      label = nextLabel;
      const refused: string[] = [];
      for (const [key, node] of nodes) if (!publish(key, node)) refused.push(key);
      return refused;
    },
  };
}
