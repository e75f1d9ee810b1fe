/**
 * @module control/xds/sotw-stream
 * One state-of-the-world ADS stream (`StreamAggregatedResources`): reads `DiscoveryRequest`s, answers
 * with `DiscoveryResponse`s from the node's snapshot. Rules, per resource type:
 * - the first request names the node; a request whose `response_nonce` is not the last nonce sent is
 *   stale and ignored;
 * - a request carrying `error_detail` is a NACK: it is recorded in the status registry and nothing is
 *   resent until the snapshot changes (the previous config keeps running on the client);
 * - a response goes out only when the type's version differs from what the client has, or the client
 *   subscribed to names it has not been answered for — never merely because a request arrived;
 * - LDS and CDS with no names (or `*`) are wildcard: all resources; otherwise only the names asked for;
 * - LDS and CDS responses hold every resource the client wants; RDS, EDS and SDS responses hold only
 *   the resources whose content changed since this stream last sent them (and names newly subscribed),
 *   as the protocol allows for those types — one changed load assignment is one small response.
 * Runtime-neutral: it consumes and produces async iterables; the transport lives elsewhere.
 */
import { create } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import {
  DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse,
} from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { createAsyncQueue } from "./async-queue.ts";
import type { NodeInfo } from "./cache.ts";
import { isFullStateType, isResourceTypeUrl, isWildcardType } from "./resource-types.ts";
import type { Snapshot, SnapshotResource } from "./snapshot.ts";
import { nextStreamId, nodeInfo, packResource, sameNames, StreamProtocolError, type StreamOptions, pumpRequests } from "./stream-common.ts";

interface TypeState {
  wildcard: boolean;
  names: string[];
  nameSet: Set<string>;
  /** The version the client reported on its first request (before we sent anything). */
  clientVersion: string;
  lastNonce?: string;
  sentVersion?: string;
  /** The `resource_names` array of the last request (lean-request.ts reuses it while unchanged). */
  requested: readonly string[];
  /** Names the last response answered for (named subscriptions). */
  answered: Set<string>;
  /** Some subscribed name has not been answered yet. */
  unanswered: boolean;
  /** A request is waiting for a response. */
  open: boolean;
  /** RDS/EDS/SDS: name → content version last sent on this stream. */
  sent: Map<string, string>;
  /** RDS/EDS/SDS: the snapshot `sent` was last reconciled with (0: none), for the incremental path. */
  syncedId: number;
}

// Full-state (LDS/CDS wildcard) resource lists, packed once per resource map and shared by all streams.
const wildcardLists = new WeakMap<ReadonlyMap<string, SnapshotResource>, { typeUrl: string; anys: Any[]; names: string[] }>();

function wildcardList(typeUrl: string, all: ReadonlyMap<string, SnapshotResource>) {
  let l = wildcardLists.get(all);
  if (!l || l.typeUrl !== typeUrl) {
    const rs = [...all.values()];
    wildcardLists.set(all, (l = { typeUrl, anys: rs.map((r) => packResource(typeUrl, r)), names: rs.map((r) => r.name) }));
  }
  return l;
}

/**
 * Serves one SotW stream until the request stream ends or `signal` aborts.
 * @example
 * for await (const res of sotwStream(requests, { watcher: cache, status })) send(res);
 */
export function sotwStream(requests: AsyncIterable<DiscoveryRequest>, options: StreamOptions, signal?: AbortSignal): AsyncIterable<DiscoveryResponse> {
  const { watcher, status } = options;
  const now = options.now ?? (() => Date.now());
  const emit = options.onEvent ?? (() => {});
  const out = createAsyncQueue<DiscoveryResponse>();
  const streamId = nextStreamId();
  const types = new Map<string, TypeState>();
  let node: NodeInfo | null = null;
  let key = "";
  let unwatch: (() => void) | null = null;
  let nonce = 0;

  const send = (typeUrl: string, st: TypeState, version: string, resources: Any[], names: string[]) => {
    const n = String(++nonce);
    st.lastNonce = n;
    st.sentVersion = version;
    if (st.unanswered) st.answered = new Set(st.names);
    st.unanswered = false;
    st.open = false;
    out.push(create(DiscoveryResponseSchema, { versionInfo: version, typeUrl, nonce: n, resources }));
    status.sent(streamId, typeUrl, version);
    emit({ kind: "send", streamId, typeUrl, version, nonce: n, names });
  };

  /** LDS/CDS: every wanted resource, whenever the type's version moves. */
  const respondFull = (typeUrl: string, st: TypeState, snap: Snapshot) => {
    const version = snap.version(typeUrl);
    if (version === (st.sentVersion ?? st.clientVersion) && !st.unanswered) return;
    const all = snap.resources(typeUrl);
    if (st.wildcard) {
      const l = wildcardList(typeUrl, all);
      send(typeUrl, st, version, l.anys, l.names);
      return;
    }
    const chosen = st.names.flatMap((n) => (all.has(n) ? [all.get(n)!] : []));
    send(typeUrl, st, version, chosen.map((r) => packResource(typeUrl, r)), chosen.map((r) => r.name));
  };

  /** RDS/EDS/SDS: only what this stream has not sent in its current content. */
  const respondChanged = (typeUrl: string, st: TypeState, snap: Snapshot) => {
    if (snap.id === st.syncedId && !st.unanswered) return; // reconciled with this very snapshot already
    const all = snap.resources(typeUrl);
    const changes = snap.changes(typeUrl);
    const inScope = (name: string) => st.wildcard || st.nameSet.has(name);
    const chosen: SnapshotResource[] = [];
    const consider = (name: string) => {
      const r = all.get(name);
      if (!r) st.sent.delete(name);
      else if (st.sent.get(name) !== r.version) chosen.push(r);
    };
    if (!st.unanswered && changes && snap.baseId === st.syncedId && st.syncedId !== 0) {
      for (const name of changes.changed) if (inScope(name)) consider(name);
      for (const name of changes.removed) st.sent.delete(name);
    } else if (st.wildcard) {
      for (const name of all.keys()) consider(name);
      for (const name of st.sent.keys()) if (!all.has(name)) st.sent.delete(name);
    } else {
      for (const name of st.names) consider(name);
    }
    st.syncedId = snap.id;
    if (!chosen.length && !st.unanswered) return;
    for (const r of chosen) st.sent.set(r.name, r.version);
    send(typeUrl, st, snap.version(typeUrl), chosen.map((r) => packResource(typeUrl, r)), chosen.map((r) => r.name));
  };

  const respond = (typeUrl: string, st: TypeState, snap: Snapshot) => {
    if (!st.open) return;
    if (isFullStateType(typeUrl)) respondFull(typeUrl, st, snap);
    else respondChanged(typeUrl, st, snap);
  };

  const onSnapshot = (snap: Snapshot) => {
    for (const [typeUrl, st] of types) respond(typeUrl, st, snap);
  };

  const handle = (req: DiscoveryRequest) => {
    if (!node) {
      node = nodeInfo(req.node);
      if (!node) throw new StreamProtocolError("the first DiscoveryRequest on a stream must carry node.id");
      key = watcher.nodeKey(node);
      status.connect(streamId, node, key, "sotw");
      emit({ kind: "open", streamId, node, protocol: "sotw" });
      unwatch = watcher.watch(key, onSnapshot, node);
    }
    const typeUrl = req.typeUrl;
    if (!isResourceTypeUrl(typeUrl)) return; // types weft does not serve stay unanswered, as Envoy allows
    let st = types.get(typeUrl);
    // A nonce on the first request of a type comes from an earlier stream: treat it as an initial request.
    if (req.responseNonce && st && st.lastNonce !== req.responseNonce) {
      emit({ kind: "stale", streamId, typeUrl, nonce: req.responseNonce });
      return;
    }
    if (!st) {
      st = { wildcard: false, names: [], nameSet: new Set(), clientVersion: req.versionInfo, requested: [], answered: new Set(), unanswered: false, open: false, sent: new Map(), syncedId: 0 };
      types.set(typeUrl, st);
    }
    if (req.responseNonce && st.lastNonce === req.responseNonce) {
      const version = st.sentVersion ?? "";
      if (req.errorDetail) {
        const message = req.errorDetail.message;
        status.nacked(streamId, typeUrl, { version, nonce: req.responseNonce, message, code: req.errorDetail.code, time: now() });
        emit({ kind: "nack", streamId, typeUrl, version, message });
      } else {
        status.acked(streamId, typeUrl, req.versionInfo || version);
        emit({ kind: "ack", streamId, typeUrl, version: req.versionInfo || version });
      }
    }
    const unchanged = req.resourceNames === st.requested && st.lastNonce !== undefined;
    st.requested = req.resourceNames;
    const wildcard = unchanged ? st.wildcard : req.resourceNames.includes("*") || (isWildcardType(typeUrl) && req.resourceNames.length === 0);
    const names = unchanged ? st.names : req.resourceNames.filter((n) => n !== "*");
    if (wildcard !== st.wildcard || !sameNames(names, st.names) || st.lastNonce === undefined) {
      st.wildcard = wildcard;
      st.names = names;
      st.nameSet = new Set(names);
      st.answered = new Set(names.filter((n) => st.answered.has(n)));
      st.unanswered = !wildcard && names.some((n) => !st.answered.has(n));
      // The client drops what it no longer subscribes to: forget having sent it.
      for (const name of st.sent.keys()) if (!wildcard && !st.nameSet.has(name)) st.sent.delete(name);
      st.syncedId = 0;
      status.subscribed(streamId, typeUrl, wildcard ? ["*", ...names] : names);
    }
    st.open = true;
    const snap = watcher.getSnapshot(key);
    if (snap) respond(typeUrl, st, snap);
  };

  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    unwatch?.();
    unwatch = null;
    if (node) status.disconnect(streamId);
    emit({ kind: "close", streamId });
    out.close(error);
  };

  pumpRequests(requests, signal, () => out.closed, handle, finish);
  return out;
}
