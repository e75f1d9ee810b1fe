/**
 * @module control/xds/status
 * What the control plane knows about its xDS clients, for the admin API and `weft` status pages:
 * connected nodes, per resource type the version last sent and last acknowledged, and the last NACK
 * (the version refused, the client's `error_detail` message and code, and when). The last NACK is kept
 * after later ACKs (history for the operator); `rejecting` says whether the latest answer was a NACK,
 * i.e. the proxy still runs older config than the control plane sent.
 *
 * Thread-safety and mutability contract: single-threaded; `nodes()` returns copies, never live state.
 */
import type { NodeInfo } from "./cache.ts";
import { TYPE_SHORT_NAME, isResourceTypeUrl } from "./resource-types.ts";

export interface NackInfo {
  /** The version the client refused (what was sent with that nonce). */
  version: string;
  nonce: string;
  message: string;
  /** google.rpc.Code from `error_detail`. */
  code: number;
  time: number;
}

export interface TypeStatus {
  typeUrl: string;
  /** LDS, RDS, CDS, EDS or SDS. */
  type: string;
  sentVersion?: string;
  sentAt?: number;
  ackedVersion?: string;
  ackedAt?: number;
  lastNack?: NackInfo;
  /** The client's latest answer for this type was a NACK. */
  rejecting: boolean;
  /** Names the client subscribes to; `["*"]` for wildcard. */
  subscribed: string[];
}

export interface NodeStatus {
  id: string;
  cluster: string;
  /** The snapshot key serving this node. */
  key: string;
  connected: boolean;
  /** Number of open streams from this node. */
  streams: number;
  connectedAt: number;
  disconnectedAt?: number;
  /** `sotw` or `delta` (of the most recent stream). */
  protocol: "sotw" | "delta";
  types: TypeStatus[];
}

/** The recorder the stream handlers call, and the read side the admin API calls. */
export interface XdsStatus {
  connect(streamId: number, node: NodeInfo, key: string, protocol: "sotw" | "delta"): void;
  disconnect(streamId: number): void;
  sent(streamId: number, typeUrl: string, version: string): void;
  acked(streamId: number, typeUrl: string, version: string): void;
  nacked(streamId: number, typeUrl: string, nack: NackInfo): void;
  subscribed(streamId: number, typeUrl: string, names: string[]): void;
  /** Every node seen (connected first, then by id). */
  nodes(): NodeStatus[];
  node(id: string): NodeStatus | undefined;
  /** Nodes whose latest answer for some type was a NACK. */
  nacking(): NodeStatus[];
}

export interface XdsStatusOptions {
  now?: () => number;
  /** Disconnected nodes kept for display (default 1000, oldest dropped first). */
  keepDisconnected?: number;
}

interface NodeState {
  id: string;
  cluster: string;
  key: string;
  streams: Set<number>;
  connectedAt: number;
  disconnectedAt?: number;
  protocol: "sotw" | "delta";
  types: Map<string, TypeStatus>;
}

/**
 * Creates the status registry.
 * @example
 * const status = createXdsStatus();
 * status.nodes().filter((n) => n.types.some((t) => t.lastNack));
 */
export function createXdsStatus(options: XdsStatusOptions = {}): XdsStatus {
  const now = options.now ?? (() => Date.now());
  const keep = options.keepDisconnected ?? 1000;
  const nodes = new Map<string, NodeState>();
  const byStream = new Map<number, NodeState>();

  const typeOf = (n: NodeState, typeUrl: string): TypeStatus => {
    let t = n.types.get(typeUrl);
    if (!t) {
      t = { typeUrl, type: isResourceTypeUrl(typeUrl) ? TYPE_SHORT_NAME[typeUrl] : typeUrl, subscribed: [], rejecting: false };
      n.types.set(typeUrl, t);
    }
    return t;
  };
  const copy = (n: NodeState): NodeStatus => ({
    id: n.id,
    cluster: n.cluster,
    key: n.key,
    connected: n.streams.size > 0,
    streams: n.streams.size,
    connectedAt: n.connectedAt,
    ...(n.disconnectedAt !== undefined && n.streams.size === 0 ? { disconnectedAt: n.disconnectedAt } : {}),
    protocol: n.protocol,
    types: [...n.types.values()].map((t) => ({ ...t, subscribed: [...t.subscribed], ...(t.lastNack ? { lastNack: { ...t.lastNack } } : {}) }))
      .sort((a, b) => (a.type < b.type ? -1 : 1)),
  });
  const prune = () => {
    const gone = [...nodes.values()].filter((n) => n.streams.size === 0).sort((a, b) => (a.disconnectedAt ?? 0) - (b.disconnectedAt ?? 0));
    while (gone.length > keep) nodes.delete(gone.shift()!.id);
  };

  return {
    connect(streamId, node, key, protocol) {
      let n = nodes.get(node.id);
      if (!n) {
        n = { id: node.id, cluster: node.cluster, key, streams: new Set(), connectedAt: now(), protocol, types: new Map() };
        nodes.set(node.id, n);
      } else if (n.streams.size === 0) {
        n.connectedAt = now();
      }
      n.key = key;
      n.cluster = node.cluster;
      n.protocol = protocol;
      n.streams.add(streamId);
      byStream.set(streamId, n);
    },
    disconnect(streamId) {
      const n = byStream.get(streamId);
      if (!n) return;
      byStream.delete(streamId);
      n.streams.delete(streamId);
      if (n.streams.size === 0) n.disconnectedAt = now();
      prune();
    },
    sent(streamId, typeUrl, version) {
      const n = byStream.get(streamId);
      if (!n) return;
      const t = typeOf(n, typeUrl);
      t.sentVersion = version;
      t.sentAt = now();
    },
    acked(streamId, typeUrl, version) {
      const n = byStream.get(streamId);
      if (!n) return;
      const t = typeOf(n, typeUrl);
      t.ackedVersion = version;
      t.ackedAt = now();
      t.rejecting = false;
    },
    nacked(streamId, typeUrl, nack) {
      const n = byStream.get(streamId);
      if (!n) return;
      const t = typeOf(n, typeUrl);
      t.lastNack = nack;
      t.rejecting = true;
    },
    subscribed(streamId, typeUrl, names) {
      const n = byStream.get(streamId);
      if (!n) return;
      typeOf(n, typeUrl).subscribed = [...names].sort();
    },
    nodes() {
      return [...nodes.values()].map(copy).sort((a, b) => (a.connected !== b.connected ? (a.connected ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    node(id) {
      const n = nodes.get(id);
      return n ? copy(n) : undefined;
    },
    nacking() {
      return this.nodes().filter((n) => n.types.some((t) => t.rejecting));
    },
  };
}
