/**
 * @module control/xds/stream-common
 * Pieces shared by the state-of-the-world and delta stream handlers: stream ids, the node identity
 * taken from the first request, packing snapshot resources into `Any`s, and the handler options.
 */
import { create } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import type { Node } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import type { ConfigWatcher, NodeInfo } from "./cache.ts";
import type { SnapshotResource } from "./snapshot.ts";
import type { XdsStatus } from "./status.ts";

export interface StreamOptions {
  watcher: ConfigWatcher;
  status: XdsStatus;
  now?: () => number;
  /** Observes protocol events (tests, debug logs). */
  onEvent?: (event: StreamEvent) => void;
}

export type StreamEvent =
  | { kind: "open"; streamId: number; node: NodeInfo; protocol: "sotw" | "delta" }
  | { kind: "ack"; streamId: number; typeUrl: string; version: string }
  | { kind: "nack"; streamId: number; typeUrl: string; version: string; message: string }
  | { kind: "stale"; streamId: number; typeUrl: string; nonce: string }
  | { kind: "send"; streamId: number; typeUrl: string; version: string; nonce: string; names: string[]; removed?: string[] }
  | { kind: "close"; streamId: number };

let lastStreamId = 0;
export function nextStreamId(): number {
  return ++lastStreamId;
}

export class StreamProtocolError extends Error {}

export function nodeInfo(node: Node | undefined): NodeInfo | null {
  if (!node || !node.id) return null;
  return { id: node.id, cluster: node.cluster, ...(node.metadata ? { metadata: node.metadata as Record<string, unknown> } : {}) };
}

export function packResource(typeUrl: string, r: SnapshotResource): Any {
  return create(AnySchema, { typeUrl, value: r.bytes });
}

/**
 * Feeds every request of a stream to `handle` until the client ends it, the output closes or `signal`
 * aborts, then calls `finish` once (with the error, unless the stream was aborted).
 */
export function pumpRequests<Req>(
  requests: AsyncIterable<Req>,
  signal: AbortSignal | undefined,
  isClosed: () => boolean,
  handle: (req: Req) => void,
  finish: (error?: unknown) => void,
): void {
  const onAbort = () => finish();
  signal?.addEventListener("abort", onAbort, { once: true });
  void (async () => {
    try {
      for await (const req of requests) {
        if (isClosed()) break;
        handle(req);
      }
      finish();
    } catch (err) {
      finish(signal?.aborted ? undefined : err);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  })();
}
