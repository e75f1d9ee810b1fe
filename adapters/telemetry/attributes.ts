/**
 * @module adapters/telemetry/attributes
 * The one attribute model of weft's telemetry. A `MeshContext` describes who talks to whom (source and
 * destination workload, namespace, principal, app, version, canonical service, the destination service,
 * the reporter and the connection's security policy); it is built once per connection or per
 * (listener, cluster) pair. A `RequestRecord` carries what one request did (OpenTelemetry HTTP semantic
 * conventions: method, path, status, protocol version, sizes, duration, plus Envoy's response flags and
 * gRPC status); the proxy fills one per request. Three pure functions turn the pair into the three
 * outside shapes: Istio metric labels (`istioLabels`), span attributes (`spanAttributes`) and access-log
 * fields (`logFields`), so that a metric, a span and a log line about one request always agree.
 * Runtime-neutral: no platform APIs.
 */

/** Which side of the connection recorded the telemetry (Istio's `reporter` label). */
export type Reporter = "source" | "destination" | "waypoint";

/** Istio's `connection_security_policy`: `mutual_tls` or `none` on the server side, `unknown` on the client side. */
export type SecurityPolicy = "mutual_tls" | "none" | "unknown";

/** `request_protocol` as Istio reports it. */
export type RequestProtocol = "http" | "grpc" | "tcp";

/** One side of a connection: a workload and its identity. Missing fields are reported as `unknown`. */
export interface WorkloadInfo {
  workload?: string;
  namespace?: string;
  /** SPIFFE ID (`spiffe://td/ns/x/sa/y`); from the peer certificate inbound, the expected identity outbound. */
  principal?: string;
  app?: string;
  version?: string;
  /** `service.istio.io/canonical-name`; defaults to `app`, then the workload name. */
  canonicalService?: string;
  /** `service.istio.io/canonical-revision`; defaults to `version`, then `latest`. */
  canonicalRevision?: string;
  /** Mesh cluster id (Istio's `source_cluster` / `destination_cluster`). */
  cluster?: string;
}

/** The destination service: FQDN host, short name and namespace. */
export interface ServiceInfo {
  host?: string;
  name?: string;
  namespace?: string;
}

/** Who talks to whom; fixed for a connection (inbound) or a cluster (outbound). */
export interface MeshContext {
  reporter: Reporter;
  source: WorkloadInfo;
  destination: WorkloadInfo;
  service: ServiceInfo;
  securityPolicy: SecurityPolicy;
}

/**
 * What one request (or TCP connection) did. The proxy fills one per request; every field is optional
 * except the few needed to label a metric. Times are milliseconds; `startTimeMs` is Unix epoch.
 */
export interface RequestRecord {
  protocol: RequestProtocol;
  method?: string;
  scheme?: string;
  /** Path without the query (`url.path`). */
  path?: string;
  /** Query without the `?` (`url.query`). */
  query?: string;
  /** The `:authority` / `Host` header as received. */
  authority?: string;
  /** `1.0`, `1.1`, `2` (`network.protocol.version`). */
  protocolVersion?: string;
  /** HTTP status; 0 when no response was sent. */
  status: number;
  /** gRPC status code, or -1 when the request is not gRPC or no status was seen. */
  grpcStatus: number;
  /** Envoy response flags, comma separated (`UF`, `UH,URX`); `""` when none. */
  responseFlags: string;
  responseCodeDetails?: string;
  upstreamTransportFailureReason?: string;
  requestBytes: number;
  responseBytes: number;
  startTimeMs?: number;
  durationMs: number;
  userAgent?: string;
  requestId?: string;
  forwardedFor?: string;
  clientAddress?: string;
  clientPort?: number;
  localAddress?: string;
  upstreamHost?: string;
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  upstreamServiceTimeMs?: number;
  routeName?: string;
  requestedServerName?: string;
}

/** A fresh `RequestRecord` with the required fields zeroed. */
export function createRequestRecord(protocol: RequestProtocol = "http"): RequestRecord {
  return { protocol, status: 0, grpcStatus: -1, responseFlags: "", requestBytes: 0, responseBytes: 0, durationMs: 0 };
}

const UNKNOWN = "unknown";

/** `x || "unknown"`: Istio's placeholder for a missing label value. */
export function orUnknown(x: string | undefined): string {
  return x === undefined || x === "" ? UNKNOWN : x;
}

function canonicalService(w: WorkloadInfo): string {
  return orUnknown(w.canonicalService || w.app || w.workload);
}

function canonicalRevision(w: WorkloadInfo): string {
  return w.canonicalRevision || w.version || "latest";
}

/** The Istio labels that depend only on the mesh context, in Istio's order (before the request labels). */
export const ISTIO_PEER_LABELS = [
  "reporter", "source_workload", "source_canonical_service", "source_workload_namespace", "source_principal",
  "source_app", "source_version", "destination_workload", "destination_workload_namespace", "destination_principal",
  "destination_app", "destination_version", "destination_service", "destination_canonical_service",
  "destination_service_name", "destination_service_namespace",
] as const;

/** Istio also emits these four; off by default because INTEROP.md's label set does not list them. */
export const ISTIO_EXTENDED_LABELS = ["source_canonical_revision", "source_cluster", "destination_canonical_revision", "destination_cluster"] as const;

/** The labels of the request metrics after the peer labels. */
export const ISTIO_HTTP_LABELS = ["request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy"] as const;

/** The labels of the TCP metrics after the peer labels (no response code, no gRPC status). */
export const ISTIO_TCP_LABELS = ["request_protocol", "response_flags", "connection_security_policy"] as const;

/** Label values that depend only on the mesh context, keyed by label name. */
export function istioPeerLabels(mesh: MeshContext, extended = false): Record<string, string> {
  const s = mesh.source;
  const d = mesh.destination;
  const out: Record<string, string> = {
    reporter: mesh.reporter,
    source_workload: orUnknown(s.workload),
    source_canonical_service: canonicalService(s),
    source_workload_namespace: orUnknown(s.namespace),
    source_principal: orUnknown(s.principal),
    source_app: orUnknown(s.app),
    source_version: orUnknown(s.version),
    destination_workload: orUnknown(d.workload),
    destination_workload_namespace: orUnknown(d.namespace),
    destination_principal: orUnknown(d.principal),
    destination_app: orUnknown(d.app),
    destination_version: orUnknown(d.version),
    destination_service: orUnknown(mesh.service.host),
    destination_canonical_service: canonicalService(d),
    destination_service_name: orUnknown(mesh.service.name ?? mesh.service.host?.split(".")[0]),
    destination_service_namespace: orUnknown(mesh.service.namespace ?? d.namespace),
  };
  if (extended) {
    out.source_canonical_revision = canonicalRevision(s);
    out.source_cluster = orUnknown(s.cluster);
    out.destination_canonical_revision = canonicalRevision(d);
    out.destination_cluster = orUnknown(d.cluster);
  }
  return out;
}

/** `response_flags` as a label: `-` when there are none. */
export function flagsLabel(flags: string): string {
  return flags === "" ? "-" : flags;
}

/**
 * Every Istio metric label for one request or connection (the HTTP set, or the TCP set when
 * `req.protocol === "tcp"`). The metrics registry computes the same values without this object on its
 * hot path; this function is the readable reference and what tests compare against.
 */
export function istioLabels(mesh: MeshContext, req: RequestRecord, extended = false): Record<string, string> {
  const out = istioPeerLabels(mesh, extended);
  out.request_protocol = req.protocol;
  if (req.protocol !== "tcp") {
    out.response_code = String(req.status);
    out.grpc_response_status = req.grpcStatus < 0 ? "" : String(req.grpcStatus);
  }
  out.response_flags = flagsLabel(req.responseFlags);
  out.connection_security_policy = mesh.securityPolicy;
  return out;
}

/** A span attribute value (OTLP AnyValue subset). */
export type AttributeValue = string | number | boolean;

/**
 * Span attributes: OpenTelemetry HTTP semantic conventions first, then the tags Istio's Envoys put on
 * spans (`istio.canonical_service`, `istio.namespace`, `upstream_cluster`, `response_flags`), then weft's
 * mesh attributes under `weft.*`. Absent values are left out.
 */
export function spanAttributes(mesh: MeshContext, req: RequestRecord): Record<string, AttributeValue> {
  const a: Record<string, AttributeValue> = {};
  const put = (k: string, v: AttributeValue | undefined): void => {
    if (v !== undefined && v !== "") a[k] = v;
  };
  put("http.request.method", req.method);
  put("url.scheme", req.scheme);
  put("url.path", req.path);
  put("url.query", req.query);
  if (req.authority !== undefined) {
    const { host, port } = splitHostPort(req.authority);
    put("server.address", host);
    put("server.port", port);
  }
  put("network.protocol.name", req.protocol === "tcp" ? undefined : "http");
  put("network.protocol.version", req.protocolVersion);
  if (req.status > 0) a["http.response.status_code"] = req.status;
  if (req.grpcStatus >= 0) a["rpc.grpc.status_code"] = req.grpcStatus;
  if (req.protocol === "grpc") put("rpc.system", "grpc");
  if (req.requestBytes > 0) a["http.request.body.size"] = req.requestBytes;
  if (req.responseBytes > 0) a["http.response.body.size"] = req.responseBytes;
  put("user_agent.original", req.userAgent);
  put("client.address", req.clientAddress);
  put("client.port", req.clientPort);
  if (req.status >= 500) a["error.type"] = String(req.status);
  else if (req.responseFlags !== "" && req.status === 0) a["error.type"] = req.responseFlags;
  put("guid:x-request-id", req.requestId);
  put("upstream_cluster", req.upstreamCluster);
  put("upstream_address", req.upstreamHost);
  put("response_flags", req.responseFlags === "" ? undefined : req.responseFlags);
  const self = mesh.reporter === "source" ? mesh.source : mesh.destination;
  put("istio.canonical_service", self.canonicalService || self.app || self.workload);
  put("istio.canonical_revision", self.canonicalRevision || self.version);
  put("istio.namespace", self.namespace);
  put("weft.reporter", mesh.reporter);
  put("weft.source.workload", mesh.source.workload);
  put("weft.source.namespace", mesh.source.namespace);
  put("weft.source.principal", mesh.source.principal);
  put("weft.destination.workload", mesh.destination.workload);
  put("weft.destination.namespace", mesh.destination.namespace);
  put("weft.destination.principal", mesh.destination.principal);
  put("weft.destination.service", mesh.service.host);
  put("weft.connection_security_policy", mesh.securityPolicy);
  return a;
}

/** A JSON access-log value. */
export type LogValue = string | number | null;

/**
 * Access-log fields with the names of Istio's JSON access log (Envoy command operators in snake case):
 * `start_time`, `method`, `path` (with query), `protocol`, `response_code`, `response_flags`, ... Missing
 * strings are `null`, as Envoy writes them in JSON.
 */
export function logFields(mesh: MeshContext, req: RequestRecord): Record<string, LogValue> {
  const s = (v: string | undefined): string | null => (v === undefined || v === "" ? null : v);
  return {
    start_time: req.startTimeMs === undefined ? null : new Date(req.startTimeMs).toISOString(),
    method: s(req.method),
    path: req.path === undefined ? null : req.query ? `${req.path}?${req.query}` : req.path,
    protocol: protocolName(req),
    response_code: req.status,
    response_flags: flagsLabel(req.responseFlags),
    response_code_details: s(req.responseCodeDetails),
    upstream_transport_failure_reason: s(req.upstreamTransportFailureReason),
    bytes_received: req.requestBytes,
    bytes_sent: req.responseBytes,
    duration: Math.round(req.durationMs),
    upstream_service_time: req.upstreamServiceTimeMs === undefined ? null : Math.round(req.upstreamServiceTimeMs),
    x_forwarded_for: s(req.forwardedFor),
    user_agent: s(req.userAgent),
    request_id: s(req.requestId),
    authority: s(req.authority),
    upstream_host: s(req.upstreamHost),
    upstream_cluster: s(req.upstreamCluster),
    upstream_local_address: s(req.upstreamLocalAddress),
    downstream_local_address: s(req.localAddress),
    downstream_remote_address: req.clientAddress === undefined ? null
      : req.clientPort === undefined ? req.clientAddress : joinHostPort(req.clientAddress, req.clientPort),
    requested_server_name: s(req.requestedServerName),
    route_name: s(req.routeName),
    grpc_status: req.grpcStatus < 0 ? null : req.grpcStatus,
    source_principal: s(mesh.source.principal),
    destination_service: s(mesh.service.host),
    connection_security_policy: mesh.securityPolicy,
  };
}

/** Envoy's `%PROTOCOL%`: `HTTP/1.1`, `HTTP/2`; `null` for TCP. */
export function protocolName(req: RequestRecord): string | null {
  if (req.protocol === "tcp") return null;
  const v = req.protocolVersion ?? "1.1";
  return v === "2" || v === "2.0" ? "HTTP/2" : v === "3" ? "HTTP/3" : `HTTP/${v}`;
}

/** Splits `host:port` (and `[v6]:port`); the port is undefined when absent or not numeric. */
export function splitHostPort(authority: string): { host: string; port: number | undefined } {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end > 0) {
      const rest = authority.slice(end + 1);
      const port = rest.startsWith(":") ? Number(rest.slice(1)) : NaN;
      return { host: authority.slice(1, end), port: Number.isInteger(port) && rest.length > 1 ? port : undefined };
    }
  }
  const colon = authority.lastIndexOf(":");
  if (colon > 0 && authority.indexOf(":") === colon) {
    const port = Number(authority.slice(colon + 1));
    if (Number.isInteger(port) && colon < authority.length - 1) return { host: authority.slice(0, colon), port };
  }
  return { host: authority, port: undefined };
}

/** `host:port`, with an IPv6 host in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
