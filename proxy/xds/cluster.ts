/**
 * @module proxy/xds/cluster
 * Envoy `Cluster` (CDS) and `ClusterLoadAssignment` (EDS) → IR clusters. EDS clusters take their
 * endpoints from the load assignment named by `eds_cluster_config.service_name` (or the cluster name);
 * STATIC and STRICT_DNS/LOGICAL_DNS clusters from their inline `load_assignment` (weft resolves host
 * names per connection). Load balancing policy, circuit-breaker thresholds (default priority), outlier
 * detection, active health checks, the HTTP/2 upstream protocol and mesh mTLS (SDS certificate, bundle
 * and the SPIFFE IDs of the SAN matchers) map field by field; the rest is reported.
 */
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy, type Cluster as EnvoyCluster } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from "../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { HealthStatus as EnvoyHealth } from "../../gen/proto/envoy/config/core/v3/health_check_pb.ts";
import { HttpProtocolOptionsSchema } from "../../gen/proto/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.ts";
import type { Cluster, Endpoint, HealthCheck, HealthStatus, LoadBalancer, OutlierDetection, Protocol } from "../../core/ir/model.ts";
import type { SecretConfig } from "../config/types.ts";
import { durationMs, reportUnhandled, socketAddress, unpack, checkAdsSource } from "./common.ts";
import { joinPath, type IssueSink } from "./issues.ts";
import { upstreamTls } from "./tls.ts";

export const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/** A translated cluster; `eds` names the load assignment its endpoints come from (EDS clusters). */
export interface ClusterDraft {
  cluster: Cluster;
  eds?: string;
  secrets: SecretConfig[];
}

function lb(c: EnvoyCluster, issues: IssueSink): LoadBalancer {
  const cfg = c.lbConfig;
  switch (c.lbPolicy) {
    case Cluster_LbPolicy.ROUND_ROBIN: return { kind: "round-robin" };
    case Cluster_LbPolicy.LEAST_REQUEST:
      return { kind: "least-request", ...(cfg.case === "leastRequestLbConfig" && cfg.value.choiceCount !== undefined ? { choiceCount: cfg.value.choiceCount } : {}) };
    case Cluster_LbPolicy.RANDOM: return { kind: "random" };
    case Cluster_LbPolicy.RING_HASH:
      return { kind: "ring-hash", ...(cfg.case === "ringHashLbConfig" && cfg.value.minimumRingSize !== undefined ? { minRingSize: Number(cfg.value.minimumRingSize) } : {}) };
    case Cluster_LbPolicy.MAGLEV:
      return { kind: "maglev", ...(cfg.case === "maglevLbConfig" && cfg.value.tableSize !== undefined ? { tableSize: Number(cfg.value.tableSize) } : {}) };
    default:
      issues.ignored("lb_policy", `lb_policy ${Cluster_LbPolicy[c.lbPolicy] ?? c.lbPolicy} is not supported; round robin is used`);
      return { kind: "round-robin" };
  }
}

function protocolOf(c: EnvoyCluster, issues: IssueSink): Protocol {
  const opts = c.typedExtensionProtocolOptions[HTTP_PROTOCOL_OPTIONS];
  if (opts) {
    const o = unpack(opts, HttpProtocolOptionsSchema, issues, `typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS}"]`);
    const u = o?.upstreamProtocolOptions;
    if (u?.case === "explicitHttpConfig") {
      if (u.value.protocolConfig.case === "http2ProtocolOptions") return "http2";
      if (u.value.protocolConfig.case === "http3ProtocolOptions") issues.error(`typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS}"]`, "HTTP/3 upstreams are not supported");
      return "http";
    }
    if (u?.case !== undefined) issues.ignored(`typed_extension_protocol_options["${HTTP_PROTOCOL_OPTIONS}"]`, `${u.case} is not supported; HTTP/1.1 is used`);
  }
  for (const k of Object.keys(c.typedExtensionProtocolOptions)) {
    if (k !== HTTP_PROTOCOL_OPTIONS) issues.ignored(`typed_extension_protocol_options["${k}"]`, "not supported by weft; ignored");
  }
  return c.http2ProtocolOptions ? "http2" : "http";
}

function outlier(c: EnvoyCluster): OutlierDetection | undefined {
  const o = c.outlierDetection;
  if (!o) return undefined;
  const out: OutlierDetection = {
    consecutive5xx: (o.enforcingConsecutive5xx ?? 100) > 0 ? (o.consecutive5xx ?? 5) : 0,
    intervalMs: durationMs(o.interval) ?? 10_000,
    baseEjectionMs: durationMs(o.baseEjectionTime) ?? 30_000,
    maxEjectionPercent: o.maxEjectionPercent ?? 10,
  };
  if ((o.enforcingConsecutiveGatewayFailure ?? 0) > 0) out.consecutiveGatewayErrors = o.consecutiveGatewayFailure ?? 5;
  if (o.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    out.consecutiveLocalOriginFailures = o.consecutiveLocalOriginFailure ?? 5;
  }
  const panic = c.commonLbConfig?.healthyPanicThreshold?.value;
  if (panic !== undefined) out.minHealthPercent = panic;
  return out;
}

function healthChecks(c: EnvoyCluster, issues: IssueSink): HealthCheck[] {
  const out: HealthCheck[] = [];
  c.healthChecks.forEach((h, i) => {
    const base = {
      intervalMs: durationMs(h.interval) ?? 10_000,
      timeoutMs: durationMs(h.timeout) ?? 1_000,
      healthyThreshold: h.healthyThreshold ?? 1,
      unhealthyThreshold: h.unhealthyThreshold ?? 2,
    };
    const k = h.healthChecker;
    if (k.case === "httpHealthCheck") {
      const expected = k.value.expectedStatuses.flatMap((r) => Array.from({ length: Math.max(0, Math.min(100, Number(r.end - r.start))) }, (_, j) => Number(r.start) + j));
      out.push({ kind: "http", path: k.value.path || "/", ...base, ...(expected.length ? { expectedStatuses: expected } : {}) });
    } else if (k.case === "tcpHealthCheck") out.push({ kind: "tcp", ...base });
    else if (k.case === "grpcHealthCheck") out.push({ kind: "grpc", ...(k.value.serviceName ? { grpcService: k.value.serviceName } : {}), ...base });
    else issues.ignored(`health_checks[${i}]`, `health checker ${k.case ?? "(none)"} is not supported; ignored`);
  });
  return out;
}

/**
 * Translates a cluster (without endpoints for EDS clusters: `eds` names the assignment to fill them from).
 * @example
 * const d = translateCluster(c, createIssueSink("Cluster", c.name));
 */
export function translateCluster(c: EnvoyCluster, issues: IssueSink): ClusterDraft | null {
  const discovery = c.clusterDiscoveryType.case === "type" ? c.clusterDiscoveryType.value : undefined;
  if (discovery === Cluster_DiscoveryType.ORIGINAL_DST) {
    // Istio's PassthroughCluster/InboundPassthroughCluster: only original-destination listeners use them.
    issues.ignored("type", "an ORIGINAL_DST cluster is not served by weft (weft does not intercept traffic); routes to it fail");
    return null;
  }
  if (c.transportSocketMatches.length) {
    // Istio's auto mTLS picks TLS per endpoint (tlsMode=istio); weft cannot, and plaintext to every endpoint
    // would downgrade. Fail closed: the cluster is not served.
    issues.ignored("transport_socket_matches", "weft cannot choose the transport socket per endpoint (auto mTLS); the cluster is not served (fail closed)");
    return null;
  }
  reportUnhandled(ClusterSchema, c, [
    "name", "type", "eds_cluster_config", "connect_timeout", "lb_policy", "load_assignment", "health_checks", "max_requests_per_connection",
    "circuit_breakers", "typed_extension_protocol_options", "http2_protocol_options", "outlier_detection", "ring_hash_lb_config", "maglev_lb_config",
    "least_request_lb_config", "round_robin_lb_config", "common_lb_config", "transport_socket", "metadata", "alt_stat_name", "dns_lookup_family", "dns_refresh_rate", "respect_dns_ttl",
  ], issues, "", ["cluster_type", "transport_socket_matches", "lb_subset_config", "original_dst_lb_config", "upstream_bind_config", "filters"]);
  const secrets: SecretConfig[] = [];
  const cluster: Cluster = {
    name: c.name,
    protocol: protocolOf(c, issues),
    lb: lb(c, issues),
    endpoints: [],
    tls: upstreamTls(c.transportSocket, `cluster/${c.name}`, issues, "transport_socket", secrets),
  };
  const type = c.clusterDiscoveryType.case === "type" ? c.clusterDiscoveryType.value : Cluster_DiscoveryType.STATIC;
  let eds: string | undefined;
  if (type === Cluster_DiscoveryType.EDS) {
    checkAdsSource(c.edsClusterConfig?.edsConfig, issues, "eds_cluster_config.eds_config");
    eds = c.edsClusterConfig?.serviceName || c.name;
  } else if (type === Cluster_DiscoveryType.STATIC || type === Cluster_DiscoveryType.STRICT_DNS || type === Cluster_DiscoveryType.LOGICAL_DNS) {
    if (c.loadAssignment) cluster.endpoints = translateEndpoints(c.loadAssignment, issues, "load_assignment");
  } else {
    issues.error("type", `cluster type ${Cluster_DiscoveryType[type] ?? type} is not supported`);
  }
  const cb: NonNullable<Cluster["circuitBreakers"]> = {};
  const t = c.circuitBreakers?.thresholds.find((x) => x.priority === 0);
  if ((c.circuitBreakers?.thresholds.length ?? 0) > (t ? 1 : 0)) issues.ignored("circuit_breakers.thresholds", "only the DEFAULT priority thresholds are used");
  if (t?.maxConnections !== undefined) cb.maxConnections = t.maxConnections;
  if (t?.maxPendingRequests !== undefined) cb.maxPendingRequests = t.maxPendingRequests;
  if (t?.maxRequests !== undefined) cb.maxRequests = t.maxRequests;
  if (t?.maxRetries !== undefined) cb.maxRetries = t.maxRetries;
  if (t?.retryBudget) issues.ignored("circuit_breakers.thresholds.retry_budget", "not supported by weft; ignored");
  if (c.maxRequestsPerConnection !== undefined) cb.maxRequestsPerConnection = c.maxRequestsPerConnection;
  const connect = durationMs(c.connectTimeout);
  if (connect !== undefined) cb.connectTimeoutMs = connect;
  if (Object.keys(cb).length) cluster.circuitBreakers = cb;
  const od = outlier(c);
  if (od) cluster.outlierDetection = od;
  const hcs = healthChecks(c, issues);
  if (hcs.length) cluster.healthChecks = hcs;
  return { cluster, ...(eds !== undefined ? { eds } : {}), secrets };
}

const HEALTH: Partial<Record<EnvoyHealth, HealthStatus>> = {
  [EnvoyHealth.UNKNOWN]: "healthy",
  [EnvoyHealth.HEALTHY]: "healthy",
  [EnvoyHealth.UNHEALTHY]: "unhealthy",
  [EnvoyHealth.DRAINING]: "draining",
  [EnvoyHealth.TIMEOUT]: "unhealthy",
  [EnvoyHealth.DEGRADED]: "healthy",
};

/** The endpoints of a load assignment (priority 0; other priorities are reported and left out). */
export function translateEndpoints(cla: ClusterLoadAssignment, issues: IssueSink, base = ""): Endpoint[] {
  reportUnhandled(ClusterLoadAssignmentSchema, cla, ["cluster_name", "endpoints", "policy"], issues, base, ["named_endpoints"]);
  const out: Endpoint[] = [];
  cla.endpoints.forEach((group, gi) => {
    const gp = joinPath(base, `endpoints[${gi}]`);
    if (group.priority !== 0) {
      issues.ignored(joinPath(gp, "priority"), "endpoints of priority above 0 (failover) are not used by weft");
      return;
    }
    const loc = group.locality;
    const locality = loc && (loc.region || loc.zone || loc.subZone)
      ? { ...(loc.region ? { region: loc.region } : {}), ...(loc.zone ? { zone: loc.zone } : {}), ...(loc.subZone ? { subzone: loc.subZone } : {}) }
      : undefined;
    group.lbEndpoints.forEach((e, ei) => {
      const ep = joinPath(gp, `lb_endpoints[${ei}]`);
      if (e.hostIdentifier.case !== "endpoint") {
        issues.error(ep, "named endpoints are not supported");
        return;
      }
      const addr = socketAddress(e.hostIdentifier.value.address, issues, joinPath(ep, "endpoint.address"));
      if (!addr) return;
      out.push({
        address: addr.address, port: addr.port, health: HEALTH[e.healthStatus] ?? "healthy",
        ...(e.loadBalancingWeight !== undefined && e.loadBalancingWeight !== 1 ? { weight: e.loadBalancingWeight } : {}),
        ...(locality ? { locality } : {}),
      });
    });
  });
  return out;
}
