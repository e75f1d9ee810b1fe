/**
 * @module proxy/config/types
 * The proxy's configuration model. It mirrors xDS so that LDS/RDS/CDS/EDS/SDS map onto it thinly:
 * listeners hold filter chains; an HTTP filter chain names a route config (RDS) and a list of HTTP
 * filters ending with `router`; route configs hold IR virtual hosts and routes; clusters are IR
 * clusters with their endpoints (EDS folded in); secrets are referenced by name (SDS). A config is an
 * immutable snapshot: the host compiles it once and swaps it atomically on reload.
 */
import type { Cluster, Origin, VirtualHost } from "../../core/ir/model.ts";

/** One complete, validated proxy configuration. Never mutated after validation. */
export interface ProxyConfig {
  /** Changes whenever the content changes (a content hash for files, the xDS version later). */
  version: string;
  admin?: SocketAddress;
  listeners: ListenerConfig[];
  routeConfigs: RouteConfig[];
  clusters: Cluster[];
  secrets: SecretConfig[];
}

export interface SocketAddress {
  address: string;
  port: number;
}

/** LDS: a socket the proxy accepts connections on. */
export interface ListenerConfig extends SocketAddress {
  name: string;
  /** Chains are tried in order; the first whose `match` fits the connection wins. */
  filterChains: FilterChainConfig[];
  origin?: Origin;
}

export interface FilterChainConfig {
  name: string;
  /** Absent = matches every connection. SNI/ALPN matching arrives with downstream TLS. */
  match?: { serverNames?: string[]; transportProtocol?: "raw_buffer" | "tls" };
  /** Downstream TLS context by secret name (SDS); absent = plaintext. */
  tlsSecret?: string;
  terminal: { kind: "http"; http: HttpConnectionManagerConfig } | { kind: "tcp"; tcp: TcpProxyConfig };
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

/** SDS: certificates and trust bundles, by reference. Files are read by the host. */
export interface SecretConfig {
  name: string;
  tlsCertificate?: { certificateChainFile: string; privateKeyFile: string };
  validationContext?: { trustedCaFile: string };
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
};

/** Envoy's default route timeout. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
/** Envoy's default connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
