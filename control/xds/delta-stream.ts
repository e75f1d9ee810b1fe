/**
 * @module control/xds/delta-stream
 * One incremental ADS stream (`DeltaAggregatedResources`): the client subscribes and unsubscribes by
 * name (or `*` for wildcard; LDS/CDS with an empty first subscription are wildcard too) and tells the
 * server the versions it already has (`initial_resource_versions`). Each response carries only the
 * resources whose content version differs from what the client has, and `removed_resources` for names
 * it has that the snapshot no longer holds. ACK and NACK name the nonce they answer; a NACK is recorded
 * and the refused resources are not resent until their content changes. The first request for a type
 * always gets an answer (possibly empty) so a client can finish its initial fetch. A snapshot derived
 * from the one the stream last reconciled with is compared only where it changed.
 */
import { create } from "@bufbuild/protobuf";
import {
  DeltaDiscoveryResponseSchema, ResourceSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
} from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { createAsyncQueue } from "./async-queue.ts";
import type { NodeInfo } from "./cache.ts";
import { isResourceTypeUrl, isWildcardType } from "./resource-types.ts";
import type { Snapshot } from "./snapshot.ts";
import { nextStreamId, nodeInfo, packResource, StreamProtocolError, type StreamOptions, pumpRequests } from "./stream-common.ts";

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** Name → content version the client holds. */
  known: Map<string, string>;
  /** Nonce → system version sent with it (until answered). */
  inFlight: Map<string, string>;
  /** The next evaluation must answer even if nothing changed. */
  mustAnswer: boolean;
  /** The snapshot `known` was last reconciled with (0: none, or the subscription changed since). */
  syncedId: number;
}

/**
 * Serves one delta stream until the request stream ends or `signal` aborts.
 * @example
 * for await (const res of deltaStream(requests, { watcher: cache, status })) send(res);
 */
export function deltaStream(requests: AsyncIterable<DeltaDiscoveryRequest>, options: StreamOptions, signal?: AbortSignal): AsyncIterable<DeltaDiscoveryResponse> {
  const { watcher, status } = options;
  const now = options.now ?? (() => Date.now());
  const emit = options.onEvent ?? (() => {});
  const out = createAsyncQueue<DeltaDiscoveryResponse>();
  const streamId = nextStreamId();
  const types = new Map<string, TypeState>();
  let node: NodeInfo | null = null;
  let key = "";
  let unwatch: (() => void) | null = null;
  let nonce = 0;

  const evaluate = (typeUrl: string, st: TypeState, snap: Snapshot) => {
    const all = snap.resources(typeUrl);
    const changes = snap.changes(typeUrl);
    const inScope = (name: string) => st.wildcard || st.names.has(name);
    const send = [];
    const removed: string[] = [];
    if (changes && st.syncedId !== 0 && snap.baseId === st.syncedId) {
      // Reconciled with the base already: only what the snapshot changed can differ.
      for (const name of changes.changed) {
        const r = all.get(name)!;
        if (inScope(name) && st.known.get(name) !== r.version) send.push(r);
      }
      for (const name of changes.removed) if (st.known.has(name) && inScope(name)) removed.push(name);
    } else {
      for (const r of all.values()) {
        if (inScope(r.name) && st.known.get(r.name) !== r.version) send.push(r);
      }
      for (const name of st.known.keys()) {
        if (!all.has(name) && inScope(name)) removed.push(name);
      }
    }
    st.syncedId = snap.id;
    if (!send.length && !removed.length && !st.mustAnswer) return;
    st.mustAnswer = false;
    for (const r of send) st.known.set(r.name, r.version);
    for (const name of removed) st.known.delete(name);
    const version = snap.version(typeUrl);
    const n = String(++nonce);
    st.inFlight.set(n, version);
    out.push(create(DeltaDiscoveryResponseSchema, {
      systemVersionInfo: version,
      typeUrl,
      nonce: n,
      removedResources: removed,
      resources: send.map((r) => create(ResourceSchema, { name: r.name, version: r.version, resource: packResource(typeUrl, r) })),
    }));
    status.sent(streamId, typeUrl, version);
    emit({ kind: "send", streamId, typeUrl, version, nonce: n, names: send.map((r) => r.name), removed });
  };

  const onSnapshot = (snap: Snapshot) => {
    for (const [typeUrl, st] of types) evaluate(typeUrl, st, snap);
  };

  const handle = (req: DeltaDiscoveryRequest) => {
    if (!node) {
      node = nodeInfo(req.node);
      if (!node) throw new StreamProtocolError("the first DeltaDiscoveryRequest on a stream must carry node.id");
      key = watcher.nodeKey(node);
      status.connect(streamId, node, key, "delta");
      emit({ kind: "open", streamId, node, protocol: "delta" });
      unwatch = watcher.watch(key, onSnapshot, node);
    }
    const typeUrl = req.typeUrl;
    if (!isResourceTypeUrl(typeUrl)) return;
    let st = types.get(typeUrl);
    const first = !st;
    if (!st) {
      st = { wildcard: false, names: new Set(), known: new Map(), inFlight: new Map(), mustAnswer: true, syncedId: 0 };
      types.set(typeUrl, st);
      for (const [name, version] of Object.entries(req.initialResourceVersions)) st.known.set(name, version);
      st.wildcard = isWildcardType(typeUrl) && req.resourceNamesSubscribe.length === 0;
    }
    if (req.responseNonce) {
      const version = st.inFlight.get(req.responseNonce);
      st.inFlight.delete(req.responseNonce);
      if (version === undefined) {
        emit({ kind: "stale", streamId, typeUrl, nonce: req.responseNonce });
      } else if (req.errorDetail) {
        const message = req.errorDetail.message;
        status.nacked(streamId, typeUrl, { version, nonce: req.responseNonce, message, code: req.errorDetail.code, time: now() });
        emit({ kind: "nack", streamId, typeUrl, version, message });
      } else {
        status.acked(streamId, typeUrl, version);
        emit({ kind: "ack", streamId, typeUrl, version });
      }
    }
    let changed = first;
    for (const name of req.resourceNamesSubscribe) {
      if (name === "*") st.wildcard = true;
      else if (!st.names.has(name)) st.names.add(name);
      changed = true;
    }
    for (const name of req.resourceNamesUnsubscribe) {
      if (name === "*") st.wildcard = false;
      else {
        st.names.delete(name);
        st.known.delete(name); // the client drops what it unsubscribes from
      }
      changed = true;
    }
    if (!changed) return;
    st.syncedId = 0;
    status.subscribed(streamId, typeUrl, st.wildcard ? ["*", ...st.names] : [...st.names]);
    const snap = watcher.getSnapshot(key);
    if (snap) evaluate(typeUrl, st, snap);
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
