/**
 * @module control/xds/publisher
 * Keeps the snapshot cache in step with the mesh model: `update(model)` rebuilds the snapshot of every
 * node key it knows; a node that connects before it has a snapshot gets one built on the spot (through
 * the cache's `onMissing`). Which resources a node gets is decided by `profileFor(node)` (proxyless
 * gRPC, or a sidecar for a workload). A snapshot the consistency check refuses is reported through
 * `onError` with the node key and the problems, and the node keeps its previous snapshot.
 *
 * Thread-safety and mutability contract: single-threaded; `update` publishes synchronously. The model
 * passed to `update` must not be mutated afterwards (snapshots are built from it lazily for new nodes).
 */
import type { MeshModel } from "../../core/ir/model.ts";
import { createSnapshotCache, type NodeInfo, type SnapshotCache, type SnapshotCacheOptions } from "./cache.ts";
import { createSnapshot, SnapshotError } from "./snapshot.ts";
import { buildNodeResources, type NodeProfile } from "./translate/mesh-snapshot.ts";

export interface MeshPublisherOptions extends Omit<SnapshotCacheOptions, "onMissing"> {
  /** The resources a node gets; null = none (the node waits). */
  profileFor: (node: NodeInfo) => NodeProfile | null;
  onError?: (key: string, error: Error) => void;
}

export interface MeshPublisher {
  readonly cache: SnapshotCache;
  /** Publishes `model` to every known node; returns the keys whose snapshot was refused. */
  update(model: MeshModel, label?: string): string[];
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
  const publish = (key: string, node: NodeInfo): boolean => {
    if (!model) return true;
    const profile = options.profileFor(node);
    if (!profile) return true;
    try {
      cache.setSnapshot(key, createSnapshot(buildNodeResources(model, profile), label));
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
