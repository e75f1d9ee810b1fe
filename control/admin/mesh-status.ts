/**
 * @module control/admin/mesh-status
 * What the admin API needs to know about the live mesh: the proxies connected to the xDS server, the
 * config version each has acknowledged per resource type, the last NACK each sent (type, message,
 * when) and when its certificate expires. The xDS server implements `MeshStatusProvider`; until it is
 * plugged in (and in tests) `createInMemoryMeshStatus` holds the same facts, set by hand.
 *
 * Mutability contract: `nodes()` returns a fresh array of plain objects each call; callers may keep or
 * change them without affecting the provider.
 */

/** A NACK a proxy sent: it rejected the config of `type` and kept its previous one. */
export interface NackStatus {
  /** Resource type short name (LDS, RDS, CDS, EDS, SDS) or type URL. */
  type: string;
  message: string;
  /** Epoch milliseconds. */
  at: number;
}

/** One proxy (Envoy, weft proxy, proxyless gRPC client) connected to the control plane. */
export interface NodeStatus {
  /** The xDS node id. */
  id: string;
  /** Epoch milliseconds when its current stream opened. */
  connectedSince: number;
  /** Acknowledged version per resource type short name, e.g. `{ CDS: "3", LDS: "3" }`. */
  acked: Record<string, string>;
  /** The most recent NACK, if any since it connected. */
  lastNack?: NackStatus;
  /** Epoch milliseconds when its SVID expires, when the control plane issued one. */
  certificateExpiry?: number;
  /** SPIFFE ID the proxy presented or was issued. */
  identity?: string;
  /** Service it fronts (`namespace/name`), when known; the UI draws it beside that service. */
  service?: string;
}

export interface MeshStatusProvider {
  nodes(): NodeStatus[];
}

export interface InMemoryMeshStatus extends MeshStatusProvider {
  /** Adds or replaces a node. */
  set(node: NodeStatus): void;
  remove(id: string): void;
}

/**
 * @example
 * const mesh = createInMemoryMeshStatus();
 * mesh.set({ id: "sidecar~10.0.0.1~web", connectedSince: Date.now(), acked: { CDS: "1" } });
 */
export function createInMemoryMeshStatus(initial: NodeStatus[] = []): InMemoryMeshStatus {
  const nodes = new Map<string, NodeStatus>(initial.map((n) => [n.id, structuredClone(n)]));
  return {
    nodes: () => [...nodes.values()].map((n) => structuredClone(n)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    set: (node) => void nodes.set(node.id, structuredClone(node)),
    remove: (id) => void nodes.delete(id),
  };
}
