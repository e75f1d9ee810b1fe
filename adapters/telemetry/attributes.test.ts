import { describe, expect, it } from "vitest";
import { createRequestRecord, istioLabels, logFields, spanAttributes, splitHostPort, type MeshContext } from "./attributes.ts";
import { inboundMesh, sampleRequest as request } from "./fixtures.ts";

describe("istioLabels", () => {
  it("gives every label of INTEROP.md's set, in Istio's order, for an HTTP request", () => {
    const labels = istioLabels(inboundMesh, request());
    expect(Object.keys(labels)).toEqual([
      "reporter", "source_workload", "source_canonical_service", "source_workload_namespace", "source_principal", "source_app",
      "source_version", "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
      "destination_version", "destination_service", "destination_canonical_service", "destination_service_name",
      "destination_service_namespace", "request_protocol", "response_code", "grpc_response_status", "response_flags",
      "connection_security_policy",
    ]);
    expect(labels).toMatchObject({
      reporter: "destination", source_workload: "productpage-v1", source_canonical_service: "productpage",
      destination_canonical_service: "reviews", destination_service: "reviews.default.svc.cluster.local",
      request_protocol: "http", response_code: "200", grpc_response_status: "", response_flags: "-",
      connection_security_policy: "mutual_tls",
    });
  });

  it("fills missing values with unknown, as Istio does", () => {
    const labels = istioLabels({ reporter: "source", source: {}, destination: {}, service: {}, securityPolicy: "unknown" }, request({ status: 503, responseFlags: "UF" }));
    expect(labels.source_workload).toBe("unknown");
    expect(labels.destination_principal).toBe("unknown");
    expect(labels.destination_service_name).toBe("unknown");
    expect(labels.response_flags).toBe("UF");
    expect(labels.connection_security_policy).toBe("unknown");
  });

  it("has no response code or gRPC status for TCP, and a gRPC status for gRPC", () => {
    const tcp = istioLabels(inboundMesh, { ...createRequestRecord("tcp") });
    expect(tcp.request_protocol).toBe("tcp");
    expect("response_code" in tcp).toBe(false);
    expect("grpc_response_status" in tcp).toBe(false);
    const grpc = istioLabels(inboundMesh, request({ protocol: "grpc", grpcStatus: 14 }));
    expect(grpc.grpc_response_status).toBe("14");
  });

  it("derives the service name from the host when not given, and adds Istio's extended labels on request", () => {
    const mesh: MeshContext = { ...inboundMesh, service: { host: "ratings.prod.svc.cluster.local" } };
    const labels = istioLabels(mesh, request(), true);
    expect(labels.destination_service_name).toBe("ratings");
    expect(labels.destination_service_namespace).toBe("default");
    expect(labels.destination_canonical_revision).toBe("v2");
    expect(labels.source_cluster).toBe("unknown");
  });
});

describe("spanAttributes", () => {
  it("uses the OpenTelemetry HTTP semantic conventions and the mesh attributes", () => {
    const a = spanAttributes(inboundMesh, request({ status: 503, responseFlags: "UF" }));
    expect(a).toMatchObject({
      "http.request.method": "GET", "url.path": "/reviews/1", "url.query": "x=1", "server.address": "reviews", "server.port": 9080,
      "network.protocol.version": "1.1", "http.response.status_code": 503, "error.type": "503", "client.address": "10.0.0.5",
      "response_flags": "UF", "upstream_cluster": "inbound|9080||", "istio.canonical_service": "reviews",
      "weft.source.principal": "spiffe://cluster.local/ns/default/sa/productpage", "weft.connection_security_policy": "mutual_tls",
    });
    expect("http.request.body.size" in a).toBe(false);
  });
});

describe("logFields", () => {
  it("uses the field names of Istio's JSON access log", () => {
    const f = logFields(inboundMesh, request({ responseFlags: "URX,UF", status: 503 }));
    expect(f).toMatchObject({
      start_time: "2026-11-22T03:00:00.123Z", method: "GET", path: "/reviews/1?x=1", protocol: "HTTP/1.1", response_code: 503,
      response_flags: "URX,UF", bytes_received: 0, bytes_sent: 295, duration: 5, request_id: "rid-1", authority: "reviews:9080",
      upstream_host: "127.0.0.1:9080", upstream_cluster: "inbound|9080||", downstream_remote_address: "10.0.0.5:51000",
      x_forwarded_for: null, user_agent: "curl/8", route_name: "default",
    });
  });
});

describe("splitHostPort", () => {
  it.each([
    ["example.com:8080", "example.com", 8080],
    ["example.com", "example.com", undefined],
    ["[::1]:443", "::1", 443],
    ["[::1]", "::1", undefined],
    ["::1", "::1", undefined],
    ["host:", "host:", undefined],
  ])("%s", (input, host, port) => {
    expect(splitHostPort(input)).toEqual({ host, port });
  });
});
