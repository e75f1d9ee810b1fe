/**
 * @module adapters/telemetry/fixtures
 * Shared test data for the telemetry unit and interop tests: a typical inbound mesh context (Bookinfo's
 * productpage calling reviews over mTLS) and a request record with every field set.
 */

import { createRequestRecord, type MeshContext, type RequestRecord } from "./attributes.ts";

export const inboundMesh: MeshContext = {
  reporter: "destination",
  source: { workload: "productpage-v1", namespace: "default", principal: "spiffe://cluster.local/ns/default/sa/productpage", app: "productpage", version: "v1" },
  destination: { workload: "reviews-v2", namespace: "default", principal: "spiffe://cluster.local/ns/default/sa/reviews", app: "reviews", version: "v2", canonicalService: "reviews" },
  service: { host: "reviews.default.svc.cluster.local", name: "reviews", namespace: "default" },
  securityPolicy: "mutual_tls",
};

export function sampleRequest(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    ...createRequestRecord("http"), method: "GET", scheme: "http", path: "/reviews/1", query: "x=1", authority: "reviews:9080",
    protocolVersion: "1.1", status: 200, requestBytes: 0, responseBytes: 295, startTimeMs: Date.UTC(2026, 10, 22, 3, 0, 0, 123),
    durationMs: 4.6, userAgent: "curl/8", requestId: "rid-1", clientAddress: "10.0.0.5", clientPort: 51000,
    upstreamHost: "127.0.0.1:9080", upstreamCluster: "inbound|9080||", routeName: "default", ...over,
  };
}
