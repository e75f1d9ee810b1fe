/**
 * @module control/xds/translate/cluster
 * IR clusters → Envoy `Cluster` (EDS over ADS) and `ClusterLoadAssignment`. Load balancer, circuit
 * breakers, outlier detection, active health checks and upstream TLS (mesh mTLS through SDS, or simple
 * TLS) map field by field; HTTP/2 and gRPC clusters get explicit HTTP/2 upstream protocol options.
 * Endpoints are grouped by locality; a locality's weight is the sum of its endpoints' weights (gRPC
 * clients ignore localities without one).
 */
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { Cluster as IrCluster, Endpoint, HealthCheck as IrHealthCheck, HealthStatus } from "../../../core/ir/model.ts";
import {
  Cluster_DiscoveryType, Cluster_LbPolicy, Cluster_LeastRequestLbConfigSchema, Cluster_MaglevLbConfigSchema,
  Cluster_RingHashLbConfigSchema, ClusterSchema, type Cluster,
} from "../../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { HealthStatus as EnvoyHealth } from "../../../gen/proto/envoy/config/core/v3/health_check_pb.ts";
import { HealthCheckSchema, type HealthCheck } from "../../../gen/proto/envoy/config/core/v3/health_check_pb.ts";
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from "../../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { LocalityLbEndpointsSchema, type LocalityLbEndpoints } from "../../../gen/proto/envoy/config/endpoint/v3/endpoint_components_pb.ts";
import { HttpProtocolOptionsSchema } from "../../../gen/proto/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.ts";
import { adsConfigSource, duration, socketAddress } from "./common.ts";
import { upstreamMtlsSocket, upstreamSimpleTlsSocket } from "./tls.ts";

export const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

function lb(c: IrCluster): Pick<Cluster, "lbPolicy" | "lbConfig"> {
  switch (c.lb.kind) {
    case "least-request":
      return { lbPolicy: Cluster_LbPolicy.LEAST_REQUEST, lbConfig: c.lb.choiceCount ? { case: "leastRequestLbConfig", value: create(Cluster_LeastRequestLbConfigSchema, { choiceCount: c.lb.choiceCount }) } : { case: undefined } };
    case "random":
      return { lbPolicy: Cluster_LbPolicy.RANDOM, lbConfig: { case: undefined } };
    case "ring-hash":
      return { lbPolicy: Cluster_LbPolicy.RING_HASH, lbConfig: c.lb.minRingSize ? { case: "ringHashLbConfig", value: create(Cluster_RingHashLbConfigSchema, { minimumRingSize: BigInt(c.lb.minRingSize) }) } : { case: undefined } };
    case "maglev":
      return { lbPolicy: Cluster_LbPolicy.MAGLEV, lbConfig: c.lb.tableSize ? { case: "maglevLbConfig", value: create(Cluster_MaglevLbConfigSchema, { tableSize: BigInt(c.lb.tableSize) }) } : { case: undefined } };
    default:
      return { lbPolicy: Cluster_LbPolicy.ROUND_ROBIN, lbConfig: { case: undefined } };
  }
}

function healthCheck(h: IrHealthCheck): HealthCheck {
  const base = {
    timeout: duration(h.timeoutMs),
    interval: duration(h.intervalMs),
    healthyThreshold: h.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold,
  };
  if (h.kind === "grpc") return create(HealthCheckSchema, { ...base, healthChecker: { case: "grpcHealthCheck", value: { serviceName: h.grpcService ?? "" } } });
  if (h.kind === "tcp") return create(HealthCheckSchema, { ...base, healthChecker: { case: "tcpHealthCheck", value: {} } });
  return create(HealthCheckSchema, {
    ...base,
    healthChecker: {
      case: "httpHealthCheck",
      value: { path: h.path ?? "/", expectedStatuses: (h.expectedStatuses ?? []).map((s) => ({ start: BigInt(s), end: BigInt(s + 1) })) },
    },
  });
}

/**
 * Translates one IR cluster.
 * @example
 * translateCluster({ name: "outbound|80||web.default.svc.cluster.local", protocol: "http", lb: { kind: "round-robin" }, endpoints: [], tls: { mode: "disable" } });
 */
export function translateCluster(c: IrCluster): Cluster {
  const cb = c.circuitBreakers;
  const od = c.outlierDetection;
  const http2 = c.protocol === "grpc" || c.protocol === "http2";
  return create(ClusterSchema, {
    name: c.name,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: adsConfigSource() },
    connectTimeout: duration(cb?.connectTimeoutMs ?? 10_000),
    ...lb(c),
    ...(cb && (cb.maxConnections ?? cb.maxPendingRequests ?? cb.maxRequests ?? cb.maxRetries) !== undefined ? {
      circuitBreakers: {
        thresholds: [{
          ...(cb.maxConnections !== undefined ? { maxConnections: cb.maxConnections } : {}),
          ...(cb.maxPendingRequests !== undefined ? { maxPendingRequests: cb.maxPendingRequests } : {}),
          ...(cb.maxRequests !== undefined ? { maxRequests: cb.maxRequests } : {}),
          ...(cb.maxRetries !== undefined ? { maxRetries: cb.maxRetries } : {}),
        }],
      },
    } : {}),
    ...(cb?.maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection: cb.maxRequestsPerConnection } : {}),
    ...(od ? {
      outlierDetection: {
        interval: duration(od.intervalMs),
        baseEjectionTime: duration(od.baseEjectionMs),
        maxEjectionPercent: od.maxEjectionPercent,
        ...(od.consecutive5xx !== undefined ? { consecutive5xx: od.consecutive5xx } : {}),
        ...(od.consecutiveGatewayErrors !== undefined ? { consecutiveGatewayFailure: od.consecutiveGatewayErrors, enforcingConsecutiveGatewayFailure: 100 } : {}),
        splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors === true,
        ...(od.consecutiveLocalOriginFailures !== undefined ? { consecutiveLocalOriginFailure: od.consecutiveLocalOriginFailures } : {}),
      },
    } : {}),
    ...(od?.minHealthPercent !== undefined ? { commonLbConfig: { healthyPanicThreshold: { value: od.minHealthPercent } } } : {}),
    healthChecks: (c.healthChecks ?? []).map(healthCheck),
    typedExtensionProtocolOptions: http2
      ? { [HTTP_PROTOCOL_OPTIONS]: anyPack(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, { upstreamProtocolOptions: { case: "explicitHttpConfig", value: { protocolConfig: { case: "http2ProtocolOptions", value: {} } } } })) }
      : {},
    ...(c.tls.mode === "mutual" ? { transportSocket: upstreamMtlsSocket(c.tls.expectedIdentities, c.tls.sni ?? "", c.tls.alpn ?? []) } : {}),
    ...(c.tls.mode === "simple" ? { transportSocket: upstreamSimpleTlsSocket(c.tls.sni ?? "", c.tls.caPem) } : {}),
  });
}

const HEALTH: Record<HealthStatus, EnvoyHealth> = {
  healthy: EnvoyHealth.HEALTHY,
  unhealthy: EnvoyHealth.UNHEALTHY,
  draining: EnvoyHealth.DRAINING,
  unknown: EnvoyHealth.UNKNOWN,
};

function localityKey(e: Endpoint): string {
  return `${e.locality?.region ?? ""}/${e.locality?.zone ?? ""}/${e.locality?.subzone ?? ""}`;
}

/** The cluster's endpoints grouped by locality (in first-seen order). */
export function translateLoadAssignment(c: IrCluster): ClusterLoadAssignment {
  const groups = new Map<string, Endpoint[]>();
  for (const e of c.endpoints) {
    const k = localityKey(e);
    const g = groups.get(k) ?? [];
    g.push(e);
    groups.set(k, g);
  }
  const endpoints: LocalityLbEndpoints[] = [...groups.values()].map((eps) => create(LocalityLbEndpointsSchema, {
    // Always set (gRPC clients refuse a locality group without one).
    locality: { region: eps[0]!.locality?.region ?? "", zone: eps[0]!.locality?.zone ?? "", subZone: eps[0]!.locality?.subzone ?? "" },
    loadBalancingWeight: eps.reduce((sum, e) => sum + (e.weight ?? 1), 0),
    lbEndpoints: eps.map((e) => ({
      hostIdentifier: { case: "endpoint" as const, value: { address: socketAddress(e.address, e.port) } },
      healthStatus: HEALTH[e.health],
      loadBalancingWeight: e.weight ?? 1,
    })),
  }));
  return create(ClusterLoadAssignmentSchema, { clusterName: c.name, endpoints });
}
