/**
 * @module proxy/config/cluster-schema
 * The `clusters:` section of the proxy config file: endpoints (`host:port` or objects with weight,
 * health and locality), the balancer, circuit breakers, outlier detection, active health checks and
 * upstream mTLS (the secret to present and the SPIFFE IDs the server may have), transformed into IR
 * clusters.
 */
import { z } from "../../core/schema/index.ts";
import type { Cluster, Endpoint, HealthCheck, LoadBalancer, OutlierDetection } from "../../core/ir/model.ts";
import { ms, name, socketAddress } from "./primitives.ts";

const endpoint = z.union([
  socketAddress.transform((a): Endpoint => ({ ...a, health: "unknown" })),
  z.strictObject({
    address: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    weight: z.number().int().min(1).max(128).optional(),
    health: z.enum(["healthy", "unhealthy", "draining", "unknown"]).default("unknown"),
    locality: z.strictObject({ region: z.string().optional(), zone: z.string().optional(), subzone: z.string().optional() }).optional(),
    /** Workload labels (`app`, `version`, ...): the destination labels of outbound telemetry. */
    labels: z.record(z.string(), z.string()).optional(),
  }).transform((v): Endpoint => v),
]);

const lb = z.union([
  z.enum(["round-robin", "least-request", "random", "ring-hash", "maglev"]).transform((kind) => ({ kind }) as LoadBalancer),
  z.strictObject({ kind: z.literal("round-robin") }),
  z.strictObject({ kind: z.literal("least-request"), choiceCount: z.number().int().min(2).max(10).optional() }),
  z.strictObject({ kind: z.literal("random") }),
  z.strictObject({ kind: z.literal("ring-hash"), minRingSize: z.number().int().min(1).max(8_388_608).optional() }),
  z.strictObject({ kind: z.literal("maglev"), tableSize: z.number().int().min(1).max(5_000_011).optional() }),
]);

const outlierDetection = z.strictObject({
  consecutive5xx: z.number().int().min(0).default(5),
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  intervalMs: ms.default(10_000),
  baseEjectionMs: ms.default(30_000),
  maxEjectionPercent: z.number().min(0).max(100).default(10),
  minHealthPercent: z.number().min(0).max(100).optional(),
}).transform((v): OutlierDetection => v);

const healthCheck = z.strictObject({
  kind: z.enum(["http", "tcp", "grpc"]),
  path: z.string().startsWith("/").optional(),
  grpcService: z.string().optional(),
  intervalMs: ms.default(10_000),
  timeoutMs: ms.default(1_000),
  healthyThreshold: z.number().int().min(1).default(1),
  unhealthyThreshold: z.number().int().min(1).default(2),
  expectedStatuses: z.array(z.number().int().min(100).max(599)).optional(),
}).transform((v, ctx): HealthCheck => {
  if (v.kind === "http" && v.path === undefined) ctx.addIssue({ code: "custom", path: ["path"], message: "an http health check needs a path" });
  return v;
});

const upstreamTls = z.strictObject({
  secret: name,
  validationSecret: name.optional(),
  expectedIdentities: z.array(z.string().startsWith("spiffe://", "a SPIFFE ID (spiffe://trust-domain/path)")).min(1),
  sni: z.string().optional(),
});

export const clusterSchema = z.strictObject({
  name: name,
  /** The service (FQDN) the cluster reaches: Istio's `destination_service` label. */
  service: z.string().min(1).optional(),
  protocol: z.enum(["http", "http2", "grpc"]).default("http"),
  lb: lb.default({ kind: "round-robin" }),
  connectTimeoutMs: ms.optional(),
  circuitBreakers: z.strictObject({
    maxConnections: z.number().int().min(1).optional(),
    maxPendingRequests: z.number().int().min(0).optional(),
    maxRequests: z.number().int().min(1).optional(),
    maxRetries: z.number().int().min(0).optional(),
    maxRequestsPerConnection: z.number().int().min(1).optional(),
  }).optional(),
  outlierDetection: outlierDetection.optional(),
  healthChecks: z.array(healthCheck).optional(),
  /** Upstream mTLS (SPIFFE): absent = plaintext. */
  tls: upstreamTls.optional(),
  endpoints: z.array(endpoint),
}).transform((v): Cluster => ({
  name: v.name,
  ...(v.service !== undefined ? { service: v.service } : {}),
  protocol: v.protocol,
  lb: v.lb,
  endpoints: v.endpoints,
  // The secret travels as `files.credentialName` (the IR's "a secret holding the certificate, key and roots").
  tls: v.tls
    ? {
        mode: "mutual", expectedIdentities: v.tls.expectedIdentities, identitySource: "explicit",
        ...(v.tls.sni !== undefined ? { sni: v.tls.sni } : {}),
        files: { credentialName: v.tls.secret, ...(v.tls.validationSecret ? { caCertificates: `secret:${v.tls.validationSecret}` } : {}) },
      }
    : { mode: "disable" },
  ...(v.outlierDetection ? { outlierDetection: v.outlierDetection } : {}),
  ...(v.healthChecks ? { healthChecks: v.healthChecks } : {}),
  ...(v.circuitBreakers || v.connectTimeoutMs !== undefined
    ? { circuitBreakers: { ...v.circuitBreakers, ...(v.connectTimeoutMs !== undefined ? { connectTimeoutMs: v.connectTimeoutMs } : {}) } }
    : {}),
}));
