import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../core/schema/index.ts";
import { createAccessLogger, formatJsonLine, formatTextLine, RESPONSE_FLAGS } from "./access-log.ts";
import { logFields, type MeshContext } from "./attributes.ts";
import { inboundMesh, sampleRequest } from "./fixtures.ts";

describe("access log", () => {
  it("writes Envoy's default text format, with - for what is missing", () => {
    const line = formatTextLine(inboundMesh, sampleRequest({ status: 503, responseFlags: "UF", upstreamServiceTimeMs: 3 }));
    expect(line).toBe('[2026-11-22T03:00:00.123Z] "GET /reviews/1?x=1 HTTP/1.1" 503 UF 0 295 5 3 "-" "curl/8" "rid-1" "reviews:9080" "127.0.0.1:9080"');
  });

  it("writes Istio's default text format", () => {
    const line = formatTextLine(inboundMesh, sampleRequest({ responseCodeDetails: "via_upstream" }), "istio");
    expect(line).toBe('[2026-11-22T03:00:00.123Z] "GET /reviews/1?x=1 HTTP/1.1" 200 - via_upstream - "-" 0 295 5 - "-" "curl/8" "rid-1" ' +
      '"reviews:9080" "127.0.0.1:9080" inbound|9080|| - - 10.0.0.5:51000 - default');
  });

  it("writes one JSON object per line", () => {
    const line = formatJsonLine(inboundMesh, sampleRequest({ protocolVersion: "2", responseFlags: "UT", status: 504 }));
    expect(line.includes("\n")).toBe(false);
    expect(JSON.parse(line)).toMatchObject({ protocol: "HTTP/2", response_code: 504, response_flags: "UT", request_id: "rid-1" });
  });

  it("writes exactly JSON.stringify(logFields(...)) for any record (property)", () => {
    const str = fc.option(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom("", 'a"b\\c', "x\ny", "\ud800", "😀")), { nil: undefined });
    const num = fc.oneof(fc.integer({ min: -1, max: 1_000_000 }), fc.double(), fc.constant(Number.NaN));
    const record = fc.record({
      method: str, path: str, query: str, authority: str, protocolVersion: fc.option(fc.constantFrom("1.0", "1.1", "2", "3"), { nil: undefined }),
      status: num, grpcStatus: fc.integer({ min: -1, max: 16 }), responseFlags: fc.constantFrom("", "UF", "UH,URX"), responseCodeDetails: str,
      upstreamTransportFailureReason: str, requestBytes: num, responseBytes: num, durationMs: num,
      startTimeMs: fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: undefined }),
      upstreamServiceTimeMs: fc.option(num, { nil: undefined }), forwardedFor: str, userAgent: str, requestId: str,
      clientAddress: str, clientPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }), localAddress: str,
      upstreamHost: str, upstreamCluster: str, upstreamLocalAddress: str, requestedServerName: str, routeName: str,
    }, { requiredKeys: ["status", "grpcStatus", "responseFlags", "requestBytes", "responseBytes", "durationMs"] });
    fc.assert(fc.property(record, fc.boolean(), str, (r, grpc, principal) => {
      const req = { ...r, protocol: grpc ? "grpc" as const : "http" as const };
      const mesh: MeshContext = { ...inboundMesh, source: { ...inboundMesh.source, principal }, securityPolicy: grpc ? "none" : "mutual_tls" };
      expect(formatJsonLine(mesh, req)).toBe(JSON.stringify(logFields(mesh, req)));
    }), { numRuns: 500 });
  });

  it("logs only what the filter admits, and never throws from a broken writer", () => {
    const lines: string[] = [];
    const log = createAccessLogger({ format: "json", filter: "response.code >= 500 || response.flags != 0", write: (l) => lines.push(l) });
    log.log(inboundMesh, sampleRequest({ status: 200 }));
    log.log(inboundMesh, sampleRequest({ status: 503, responseFlags: "UH" }));
    log.log(inboundMesh, sampleRequest({ status: 200, responseFlags: "DC" }));
    expect(lines.map((l) => (JSON.parse(l) as { response_flags: string }).response_flags)).toEqual(["UH", "DC"]);
    const broken = createAccessLogger({ format: "envoy", write: () => { throw new Error("disk full"); } });
    expect(() => broken.log(inboundMesh, sampleRequest())).not.toThrow();
  });

  it("rejects a bad filter when created, with a diagnostic", () => {
    expect(() => createAccessLogger({ filter: "response.code >=", write: () => undefined })).toThrow(ValidationError);
  });

  it("knows the Envoy response flags the proxy sets", () => {
    for (const f of ["UF", "UH", "UO", "URX", "NR", "UT", "DC", "RL", "UAEX", "FI", "DI", "NC", "UC"]) expect(RESPONSE_FLAGS[f]).toBeTypeOf("string");
  });
});
