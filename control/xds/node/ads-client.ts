/**
 * @module control/xds/node/ads-client
 * A small, protocol-level ADS client over real gRPC (connect-node's HTTP/2 transport): it opens a
 * SotW or delta stream, lets the caller send requests (subscriptions, ACKs, NACKs) and read responses
 * one by one. Used by the server's stream tests and the control-plane benchmark; it applies no policy
 * of its own, so tests can drive every corner of the protocol.
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AggregatedDiscoveryService } from "../../../gen/proto/envoy/service/discovery/v3/ads_pb.ts";
import {
  DeltaDiscoveryRequestSchema, DiscoveryRequestSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse,
  type DiscoveryRequest, type DiscoveryResponse,
} from "../../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue } from "../async-queue.ts";

export interface AdsStream<Req, Res> {
  send(req: Req): void;
  /** The next response; rejects when the stream ends or fails first, or after `timeoutMs` (default 10 s). */
  next(timeoutMs?: number): Promise<Res>;
  /** Responses received and not yet read. */
  readonly buffered: number;
  /** Half-closes the request side. */
  end(): void;
  /** Cancels the call. */
  cancel(): void;
  /** Resolves when the response stream has ended (with the error, if any). */
  readonly done: Promise<unknown>;
}

export interface AdsClientOptions {
  /** `http://127.0.0.1:PORT` or `https://...`. */
  baseUrl: string;
  /** TLS options for https (CA, client certificate, server identity check). */
  nodeOptions?: Record<string, unknown>;
}

function openStream<Req, Res>(call: (reqs: AsyncIterable<Req>, signal: AbortSignal) => AsyncIterable<Res>): AdsStream<Req, Res> {
  const requests = createAsyncQueue<Req>();
  const abort = new AbortController();
  const received: Res[] = [];
  const waiters: { resolve: (r: Res) => void; reject: (e: unknown) => void }[] = [];
  let ended: { error: unknown } | null = null;
  const done = (async () => {
    try {
      for await (const res of call(requests, abort.signal)) {
        const w = waiters.shift();
        if (w) w.resolve(res);
        else received.push(res);
      }
      ended = { error: new Error("stream ended") };
    } catch (err) {
      ended = { error: err };
    }
    for (const w of waiters.splice(0)) w.reject(ended.error);
    return ended.error;
  })();
  return {
    send: (req) => requests.push(req),
    next(timeoutMs = 10_000) {
      if (received.length) return Promise.resolve(received.shift()!);
      if (ended) return Promise.reject(ended.error);
      return new Promise<Res>((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no response within ${timeoutMs} ms`));
        }, timeoutMs);
        const w = {
          resolve: (r: Res) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e: unknown) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        waiters.push(w);
      });
    },
    get buffered() {
      return received.length;
    },
    end: () => requests.close(),
    cancel: () => abort.abort(),
    done,
  };
}

/**
 * Connects to an ADS server.
 * @example
 * const ads = createAdsClient({ baseUrl: `http://${server.address}` });
 * const s = ads.sotw();
 * s.send(sotwRequest({ node: { id: "n1" }, typeUrl: TypeUrl.cluster }));
 * const res = await s.next();
 */
export function createAdsClient(options: AdsClientOptions) {
  const transport = createGrpcTransport({ baseUrl: options.baseUrl, ...(options.nodeOptions ? { nodeOptions: options.nodeOptions } : {}) });
  const client = createClient(AggregatedDiscoveryService, transport);
  return {
    sotw: (): AdsStream<DiscoveryRequest, DiscoveryResponse> =>
      openStream((reqs, signal) => client.streamAggregatedResources(reqs, { signal })),
    delta: (): AdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> =>
      openStream((reqs, signal) => client.deltaAggregatedResources(reqs, { signal })),
  };
}

export const sotwRequest = (init: MessageInitShape<typeof DiscoveryRequestSchema>): DiscoveryRequest => create(DiscoveryRequestSchema, init);
export const deltaRequest = (init: MessageInitShape<typeof DeltaDiscoveryRequestSchema>): DeltaDiscoveryRequest => create(DeltaDiscoveryRequestSchema, init);
