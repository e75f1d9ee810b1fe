import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRequestRecord, istioLabels, type MeshContext } from "./attributes.ts";
import { inboundMesh, sampleRequest } from "./fixtures.ts";
import { createIstioMetrics, ISTIO_DEFAULT_BUCKETS } from "./metrics.ts";

function samples(text: string, name: string): { labels: string; value: string }[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`)).map((l) => {
    const close = l.lastIndexOf("}");
    return { labels: l.slice(name.length + 1, close), value: l.slice(close + 2) };
  });
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
}

describe("Istio request metrics", () => {
  it("counts requests under exactly the labels istioLabels gives, in Istio's order", () => {
    const m = createIstioMetrics();
    const peer = m.peer(inboundMesh);
    const req = sampleRequest();
    peer.recordRequest(req);
    peer.recordRequest(req);
    const out = m.render();
    expect(samples(out, "istio_requests_total")).toEqual([{ labels: labelText(istioLabels(inboundMesh, req)), value: "2" }]);
    expect(out).toContain("# TYPE istio_requests_total counter");
    expect(out).toContain("# TYPE istio_request_duration_milliseconds histogram");
    expect(out).toContain("# TYPE istio_request_bytes histogram");
    expect(out).toContain("# TYPE istio_response_bytes histogram");
  });

  it("uses Envoy's default buckets for the three histograms", () => {
    const m = createIstioMetrics();
    m.peer(inboundMesh).record(false, 200, -1, "", 7, 100, 2000);
    const out = m.render();
    for (const name of ["istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"]) {
      const les = out.split("\n").filter((l) => l.startsWith(`${name}_bucket{`)).map((l) => /le="([^"]+)"/.exec(l)![1]);
      expect(les).toEqual([...ISTIO_DEFAULT_BUCKETS.map(String), "+Inf"]);
    }
    expect(out).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*le="5"\} 0\n/);
    expect(out).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*le="10"\} 1\n/);
    expect(out).toMatch(/istio_response_bytes_bucket\{[^}]*le="1000"\} 0\n/);
    expect(out).toMatch(/istio_response_bytes_bucket\{[^}]*le="2500"\} 1\n/);
    expect(out).toMatch(/istio_request_duration_milliseconds_sum\{[^}]*\} 7\n/);
  });

  it("keeps a separate series per response code, gRPC status, protocol and flags", () => {
    const m = createIstioMetrics();
    const p = m.peer(inboundMesh);
    p.record(false, 200, -1, "", 1, 0, 0);
    p.record(false, 503, -1, "UF", 1, 0, 0);
    p.record(false, 503, -1, "UO", 1, 0, 0);
    p.record(false, 503, -1, "UF", 1, 0, 0);
    p.record(true, 200, 14, "", 1, 0, 0);
    p.record(true, 200, 0, "", 1, 0, 0);
    p.record(false, 1200, 40, "X", 1, 0, 0);
    const rows = samples(m.render(), "istio_requests_total").map((s) => {
      const get = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(s.labels)![1];
      return `${get("request_protocol")} ${get("response_code")} ${get("grpc_response_status")} ${get("response_flags")} = ${s.value}`;
    });
    expect(rows.sort()).toEqual(["grpc 200 0 - = 1", "grpc 200 14 - = 1", "http 1200 40 X = 1", "http 200  - = 1", "http 503  UF = 2", "http 503  UO = 1"]);
  });

  it("interns peers with equal labels and separates peers that differ", () => {
    const m = createIstioMetrics();
    expect(m.peer(inboundMesh)).toBe(m.peer({ ...inboundMesh, source: { ...inboundMesh.source } }));
    expect(m.peer(inboundMesh)).not.toBe(m.peer({ ...inboundMesh, securityPolicy: "none" }));
    expect(m.peer(inboundMesh)).not.toBe(m.peer({ ...inboundMesh, source: { ...inboundMesh.source, principal: "spiffe://x/ns/a/sa/b" } }));
  });

  it("agrees with istioLabels for any response (property)", () => {
    fc.assert(fc.property(
      fc.integer({ min: 100, max: 599 }), fc.integer({ min: -1, max: 16 }), fc.boolean(), fc.constantFrom("", "UF", "UH", "URX,UF", "DC"),
      (status, grpcStatus, grpc, flags) => {
        const m = createIstioMetrics();
        const req = { ...createRequestRecord(grpc ? "grpc" : "http"), status, grpcStatus, responseFlags: flags };
        m.peer(inboundMesh).recordRequest(req);
        expect(samples(m.render(), "istio_requests_total")).toEqual([{ labels: labelText(istioLabels(inboundMesh, req)), value: "1" }]);
      }));
  });

  it("emits Istio's four extra labels in Istio's order when asked", () => {
    const m = createIstioMetrics({ extendedLabels: true });
    const req = sampleRequest();
    m.peer(inboundMesh).recordRequest(req);
    const names = samples(m.render(), "istio_requests_total")[0]!.labels.split(",").map((kv) => kv.split("=")[0]);
    expect(names.slice(0, 5)).toEqual(["reporter", "source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace"]);
    expect(names).toContain("destination_cluster");
    expect(names.indexOf("destination_canonical_revision")).toBe(names.indexOf("destination_service_name") - 1);
    expect(new Set(names)).toEqual(new Set(Object.keys(istioLabels(inboundMesh, req, true))));
  });
});

describe("Istio TCP metrics", () => {
  it("counts connections and bytes with the TCP label set", () => {
    const m = createIstioMetrics();
    const mesh: MeshContext = { ...inboundMesh, securityPolicy: "none" };
    const p = m.peer(mesh);
    p.tcpOpened();
    p.tcpBytes(100, 40);
    p.tcpBytes(5, 0);
    p.tcpClosed();
    p.tcpOpened();
    p.tcpClosed("UF");
    const out = m.render();
    const labels = labelText(istioLabels(mesh, createRequestRecord("tcp")));
    expect(samples(out, "istio_tcp_sent_bytes_total")).toEqual([{ labels, value: "105" }]);
    expect(samples(out, "istio_tcp_received_bytes_total")[0]).toEqual({ labels, value: "40" });
    expect(samples(out, "istio_tcp_connections_opened_total")).toEqual([{ labels, value: "2" }]);
    expect(samples(out, "istio_tcp_connections_closed_total").map((s) => s.value)).toEqual(["1", "1"]);
    expect(labels).toContain('request_protocol="tcp",response_flags="-",connection_security_policy="none"');
    expect(labels).not.toContain("response_code");
  });
});
