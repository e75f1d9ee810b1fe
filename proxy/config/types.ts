/**
 * @module proxy/config/types
 * The proxy's configuration model. It mirrors xDS so that LDS/RDS/CDS/EDS/SDS map onto it thinly:
 * listeners hold filter chains; an HTTP filter chain names a route config (RDS) and a list of HTTP
 * filters ending with `router`; route configs hold IR virtual hosts and routes; clusters are IR
 * clusters with their endpoints (EDS folded in); secrets are referenced by name (SDS). A config is an
 * immutable snapshot: the host compiles it once and swaps it atomically on reload.
 */
import type { Cluster, Locality, Origin, TelemetrySettings, VirtualHost } from "../../core/ir/model.ts";

/** One complete, validated proxy configuration. Never mutated after validation. */
export interface ProxyConfig {
  /** Changes whenever the content changes (a content hash for files, the xDS version later). */
  version: string;
  admin?: SocketAddress;
  listeners: ListenerConfig[];
  routeConfigs: RouteConfig[];
  clusters: Cluster[];
  secrets: SecretConfig[];
  /** Where this proxy runs (Envoy's node): its locality makes balancers prefer endpoints in the same one. */
  node?: { id?: string; locality?: Locality };
  /** Who this proxy serves: the local side of Istio's metric labels. */
  workload?: WorkloadConfig;
  /** Istio metrics, access log, tracing and audit; absent = none of them (weft's own stats stay on). */
  telemetry?: ProxyTelemetryConfig;
}

/** The workload a proxy serves (Istio's node metadata). Missing fields are reported as `unknown`. */
export interface WorkloadConfig {
  name?: string;
  namespace?: string;
  app?: string;
  version?: string;
  /** This workload's SPIFFE ID. */
  principal?: string;
  canonicalService?: string;
  canonicalRevision?: string;
  cluster?: string;
  /** The local service (FQDN) inbound requests reach, when the cluster does not name one. */
  service?: string;
}

/** The proxy's telemetry: the IR's mesh-wide settings plus what only the host needs. */
export interface ProxyTelemetryConfig {
  settings: TelemetrySettings;
  extendedLabels: boolean;
  /** Istio's longer text access-log format (the IR's `text` is Envoy's default format). */
  accessLogFormat?: "istio";
  /** File the access log is appended to; absent = stdout. */
  accessLogPath?: string;
  b3Style?: "multi" | "single" | "both";
  otlpEndpoint?: string;
  serviceName?: string;
  kafkaBrokers?: string[];
}

export interface SocketAddress {
  address: string;
  port: number;
}

/** LDS: a socket the proxy accepts connections on. */
export interface ListenerConfig extends SocketAddress {
  name: string;
  /**
   * Envoy's `traffic_direction`: `INBOUND` listeners take traffic for the local workload (Istio's
   * `reporter="destination"`), `OUTBOUND` ones take the workload's own calls (`reporter="source"`).
   * Absent = inbound.
   */
  trafficDirection?: "INBOUND" | "OUTBOUND";
  /** Chains are tried in order; the first whose `match` fits the connection wins. */
  filterChains: FilterChainConfig[];
  origin?: Origin;
}

export interface FilterChainConfig {
  name: string;
  /**
   * Which connections the chain takes. `serverNames` match the TLS SNI (`*.example.com` wildcards);
   * absent = any. Chains with `serverNames` are tried first, in order; the listener's default chain last.
   */
  match?: { serverNames?: string[] };
  /** Downstream TLS (mTLS with SPIFFE); absent = plaintext only. */
  tls?: DownstreamTlsConfig;
  terminal: { kind: "http"; http: HttpConnectionManagerConfig } | { kind: "tcp"; tcp: TcpProxyConfig };
}

/**
 * Downstream TLS of a filter chain. `STRICT` accepts only TLS; `PERMISSIVE` also accepts plaintext on
 * the same port (told apart by the first byte: a TLS handshake record starts with 0x16).
 */
export interface DownstreamTlsConfig {
  /** Secret (SDS) with the certificate chain and private key this side presents. */
  secret: string;
  /** Secret with the trust bundle client certificates must chain to (default: `secret`'s). */
  validationSecret?: string;
  mode: "STRICT" | "PERMISSIVE";
  /** Ask for and verify a client certificate; its URI SAN is the request's source principal (default true). */
  requireClientCertificate: boolean;
  /** ALPN protocols offered, in preference order (default `h2`, `http/1.1`). */
  alpn: string[];
}

/** Upstream mTLS of a cluster: the client certificate to present and the SPIFFE IDs the server may have. */
export interface UpstreamTlsConfig {
  secret: string;
  validationSecret?: string;
  /** The server's certificate must carry one of these SPIFFE IDs as its URI SAN (host names are not checked). */
  expectedIdentities: string[];
  sni?: string;
}

export type HttpCodec = "auto" | "http1" | "http2";

/** The HTTP connection manager: codec, route config reference, HTTP filters and connection limits. */
export interface HttpConnectionManagerConfig {
  /** `auto` detects HTTP/2 prior knowledge (h2c) by the connection preface; otherwise HTTP/1.1. */
  codec: HttpCodec;
  /** Name of a `RouteConfig` (RDS). */
  routeConfig: string;
  /** Ordered HTTP filters; the last one is the terminal `router`. */
  httpFilters: HttpFilterConfig[];
  /** Add `x-request-id` when the request has none (default true). */
  generateRequestId: boolean;
  /** Append the peer address to `x-forwarded-for` (default true). */
  appendForwardedFor: boolean;
  /** Log one JSON line per request. */
  accessLog: boolean;
  /** Time allowed to receive the request headers (default 10 s). */
  requestHeadersTimeoutMs: number;
  /** Idle keep-alive connection timeout (default 60 s). */
  idleTimeoutMs: number;
  /** Largest request head accepted, in bytes (default 60 KiB, Envoy's default); larger gets 431. */
  maxRequestHeadersBytes: number;
  /**
   * Largest request body accepted, in bytes (absent = no limit); larger gets 413, streamed bodies
   * counted as they arrive (Node host: as they are forwarded, so an upstream may see the first bytes of
   * a chunked body before the 413; fetch hosts: read up to the limit before the upstream call).
   */
  maxRequestBodyBytes?: number;
  /**
   * How the request path is normalized before routing and filters (Istio's MeshConfig
   * `pathNormalization`, default BASE); the normalized path is what the upstream receives.
   * A path that cannot be normalized (`%00`, bad percent-encoding) is answered 400.
   */
  pathNormalization: "NONE" | "BASE" | "MERGE_SLASHES" | "DECODE_AND_MERGE_SLASHES";
}

export interface HttpFilterConfig {
  name: string;
  config: unknown;
}

/** A plain TCP proxy for non-HTTP ports. */
export interface TcpProxyConfig {
  cluster: string;
  /** Close both sides after this long without bytes (default 1 h, Envoy's default). */
  idleTimeoutMs: number;
}

/** RDS: named route tables of IR virtual hosts. */
export interface RouteConfig {
  name: string;
  virtualHosts: VirtualHost[];
  origin?: Origin;
}

/** SDS: certificates and trust bundles, by reference (files read by the host) or inline (from xDS). */
export interface SecretConfig {
  name: string;
  tlsCertificate?: { certificateChainFile: string; privateKeyFile: string };
  validationContext?: { trustedCaFile: string };
  /** PEM texts given directly (SDS over xDS delivers secrets inline); used where the file forms are absent. */
  inline?: { certificateChain?: string; privateKey?: string; trustedCa?: string };
  origin?: Origin;
}

/** The defaults an HTTP connection manager gets when the file leaves a field out. */
export const HTTP_DEFAULTS = {
  codec: "auto" as HttpCodec,
  generateRequestId: true,
  appendForwardedFor: true,
  accessLog: false,
  requestHeadersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxRequestHeadersBytes: 60 * 1024,
  pathNormalization: "BASE" as HttpConnectionManagerConfig["pathNormalization"],
};

/** Envoy's default route timeout. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
/** Envoy's default connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
