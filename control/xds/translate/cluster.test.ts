// Table tests: IR clusters → Envoy Cluster and ClusterLoadAssignment; SDS secrets.
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import type { Cluster } from "../../../core/ir/model.ts";
import { ClusterSchema } from "../../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ClusterLoadAssignmentSchema } from "../../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { SecretSchema } from "../../../gen/proto/envoy/extensions/transport_sockets/tls/v3/secret_pb.ts";
import { nestedRegistry } from "../resource-types.ts";
import { translateCluster, translateLoadAssignment } from "./cluster.ts";
import { bundleSecret, svidSecret } from "./tls.ts";

const base: Cluster = { name: "outbound|80||web.default.svc.cluster.local", protocol: "http", lb: { kind: "round-robin" }, endpoints: [], tls: { mode: "disable" } };
const json = (c: Cluster) => toJson(ClusterSchema, translateCluster(c), { registry: nestedRegistry }) as Record<string, unknown>;
const ads = { ads: {}, resourceApiVersion: "V3" };

describe("translateCluster", () => {
  it("an EDS cluster over ADS with round robin by default", () => {
    expect(json(base)).toEqual({ name: base.name, type: "EDS", edsClusterConfig: { edsConfig: ads }, connectTimeout: "10s" });
  });

  it.each([
    [{ kind: "least-request", choiceCount: 3 } as const, { lbPolicy: "LEAST_REQUEST", leastRequestLbConfig: { choiceCount: 3 } }],
    [{ kind: "random" } as const, { lbPolicy: "RANDOM" }],
    [{ kind: "ring-hash", minRingSize: 1024 } as const, { lbPolicy: "RING_HASH", ringHashLbConfig: { minimumRingSize: "1024" } }],
    [{ kind: "maglev" } as const, { lbPolicy: "MAGLEV" }],
  ])("load balancer %j", (lb, want) => {
    expect(json({ ...base, lb })).toMatchObject(want);
  });

  it("circuit breakers, outlier detection, health checks and HTTP/2 for gRPC", () => {
    const got = json({
      ...base, protocol: "grpc",
      circuitBreakers: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 1000, maxRetries: 3, maxRequestsPerConnection: 50, connectTimeoutMs: 250 },
      outlierDetection: { consecutive5xx: 5, consecutiveGatewayErrors: 2, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 50 },
      healthChecks: [
        { kind: "http", path: "/healthz", intervalMs: 5000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [200] },
        { kind: "grpc", grpcService: "greeter", intervalMs: 5000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 1 },
      ],
    });
    expect(got).toMatchObject({
      connectTimeout: "0.250s",
      circuitBreakers: { thresholds: [{ maxConnections: 100, maxPendingRequests: 10, maxRequests: 1000, maxRetries: 3 }] },
      maxRequestsPerConnection: 50,
      outlierDetection: { consecutive5xx: 5, consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: 100, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
      healthChecks: [
        { timeout: "1s", interval: "5s", healthyThreshold: 2, unhealthyThreshold: 3, httpHealthCheck: { path: "/healthz", expectedStatuses: [{ start: "200", end: "201" }] } },
        { grpcHealthCheck: { serviceName: "greeter" } },
      ],
      typedExtensionProtocolOptions: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicitHttpConfig: { http2ProtocolOptions: {} },
      } },
    });
  });

  it("mesh mTLS: SVID and bundle from SDS, the server's SPIFFE ID pinned", () => {
    const got = json({ ...base, tls: { mode: "mutual", expectedIdentities: ["spiffe://cluster.local/ns/default/sa/web"], sni: "web", alpn: ["h2"] } });
    expect(got.transportSocket).toEqual({
      name: "envoy.transport_sockets.tls",
      typedConfig: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        commonTlsContext: {
          tlsCertificateSdsSecretConfigs: [{ name: "default", sdsConfig: ads }],
          combinedValidationContext: {
            defaultValidationContext: { matchTypedSubjectAltNames: [{ sanType: "URI", matcher: { exact: "spiffe://cluster.local/ns/default/sa/web" } }] },
            validationContextSdsSecretConfig: { name: "ROOTCA", sdsConfig: ads },
          },
          alpnProtocols: ["h2"],
        },
        sni: "web",
      },
    });
  });
});

describe("translateLoadAssignment", () => {
  it("groups endpoints by locality with summed weights and maps health", () => {
    const got = toJson(ClusterLoadAssignmentSchema, translateLoadAssignment({
      ...base,
      endpoints: [
        { address: "10.0.0.1", port: 8080, health: "healthy", locality: { region: "eu", zone: "a" }, weight: 3 },
        { address: "10.0.0.2", port: 8080, health: "draining", locality: { region: "eu", zone: "a" } },
        { address: "10.0.1.1", port: 8080, health: "unhealthy" },
      ],
    }));
    const ep = (address: string, healthStatus: string | undefined, w: number) => ({
      endpoint: { address: { socketAddress: { address, portValue: 8080 } } }, ...(healthStatus ? { healthStatus } : {}), loadBalancingWeight: w,
    });
    expect(got).toEqual({
      clusterName: base.name,
      endpoints: [
        { locality: { region: "eu", zone: "a" }, loadBalancingWeight: 4, lbEndpoints: [ep("10.0.0.1", "HEALTHY", 3), ep("10.0.0.2", "DRAINING", 1)] },
        { locality: {}, loadBalancingWeight: 1, lbEndpoints: [ep("10.0.1.1", "UNHEALTHY", 1)] },
      ],
    });
  });
});

describe("SDS secrets", () => {
  it("the SVID (chain without the root) and the trust bundle", () => {
    expect(toJson(SecretSchema, svidSecret({ chainPem: ["LEAF\n", "INT\n", "ROOT\n"], keyPem: "KEY\n" }))).toEqual({
      name: "default", tlsCertificate: { certificateChain: { inlineString: "LEAF\nINT\n" }, privateKey: { inlineString: "KEY\n" } },
    });
    expect(toJson(SecretSchema, bundleSecret(["R1\n", "R2\n"]))).toEqual({ name: "ROOTCA", validationContext: { trustedCa: { inlineString: "R1\nR2\n" } } });
  });
});
