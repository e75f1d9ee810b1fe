/**
 * @module control/xds/stream-common
 * Pieces shared by the state-of-the-world and delta stream handlers: stream ids, the node identity
 * taken from the first request, packing snapshot resources into `Any`s (once per resource, shared by
 * all streams), and the handler options.
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

// One `Any` per resource record, shared by every stream and response that carries it (never mutated).
const packed = new WeakMap<SnapshotResource, Any>();

/** The resource as an `Any` (made once per resource record). */
export function packResource(typeUrl: string, r: SnapshotResource): Any {
  let any = packed.get(r);
  if (!any || any.typeUrl !== typeUrl) packed.set(r, (any = create(AnySchema, { typeUrl, value: r.bytes })));
  return any;
}

/** Whether two name lists are equal, element by element (clients repeat their subscription on every ACK). */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
