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
 * - LDS and CDS with no names (or `*`) are wildcard: all resources; otherwise only the names asked for.
 * Runtime-neutral: it consumes and produces async iterables; the transport lives elsewhere.
 */
import { create } from "@bufbuild/protobuf";
import {
  DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse,
} from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { createAsyncQueue } from "./async-queue.ts";
import type { NodeInfo } from "./cache.ts";
import { isResourceTypeUrl, isWildcardType } from "./resource-types.ts";
import type { Snapshot } from "./snapshot.ts";
import { nextStreamId, nodeInfo, packResource, StreamProtocolError, type StreamOptions, pumpRequests } from "./stream-common.ts";

interface TypeState {
  wildcard: boolean;
  names: string[];
  /** The version the client reported on its first request (before we sent anything). */
  clientVersion: string;
  lastNonce?: string;
  sentVersion?: string;
  /** Names the last response answered for (named subscriptions). */
  answered: Set<string>;
  /** A request is waiting for a response. */
  open: boolean;
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

  const respond = (typeUrl: string, st: TypeState, snap: Snapshot) => {
    if (!st.open) return;
    const version = snap.version(typeUrl);
    const known = st.sentVersion ?? st.clientVersion;
    const newNames = !st.wildcard && st.names.some((n) => !st.answered.has(n));
    if (version === known && !newNames) return;
    const all = snap.resources(typeUrl);
    const chosen = st.wildcard ? [...all.values()] : st.names.flatMap((n) => (all.has(n) ? [all.get(n)!] : []));
    const n = String(++nonce);
    st.lastNonce = n;
    st.sentVersion = version;
    st.answered = new Set(st.names);
    st.open = false;
    out.push(create(DiscoveryResponseSchema, { versionInfo: version, typeUrl, nonce: n, resources: chosen.map((r) => packResource(typeUrl, r)) }));
    status.sent(streamId, typeUrl, version);
    emit({ kind: "send", streamId, typeUrl, version, nonce: n, names: chosen.map((r) => r.name) });
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
      st = { wildcard: false, names: [], clientVersion: req.versionInfo, answered: new Set(), open: false };
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
    const names = req.resourceNames.filter((n) => n !== "*");
    st.wildcard = req.resourceNames.includes("*") || (isWildcardType(typeUrl) && req.resourceNames.length === 0);
    st.names = names;
    status.subscribed(streamId, typeUrl, st.wildcard ? ["*", ...names] : names);
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
