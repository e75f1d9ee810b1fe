/**
 * @module adapters/istio/names
 * The small shared vocabulary of the Istio conversions: Istio's host short-name resolution
 * (`reviews` in namespace `bookinfo` → `reviews.bookinfo.svc.cluster.local`), its cluster naming
 * convention (`outbound|<port>|<subset>|<host>`, an empty port meaning "the service's port(s)"), Go
 * duration strings ↔ milliseconds, object references (`Kind/namespace/name`), and protocol names.
 */
import type { Origin, Protocol } from "../../core/ir/model.ts";
import { parseGoDuration } from "../../core/resources/istio/duration.ts";

/** Options every Istio conversion takes. */
export interface IstioOptions {
  /** Kubernetes cluster domain used to qualify short host names (default `cluster.local`). */
  domain?: string;
  /** The mesh trust domain, for identities (default `cluster.local`). */
  trustDomain?: string;
  /** Namespace for objects without `metadata.namespace` (default `default`). */
  defaultNamespace?: string;
  /** Istio's root namespace, where mesh-wide policies live (default `istio-system`). */
  rootNamespace?: string;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Istio's ResolveShortnameToFQDN: a name without dots gets `.<namespace>.svc.<domain>`. */
export function fqdn(host: string, namespace: string, domain = "cluster.local"): string {
  if (host === "" || host === "*" || host.includes(".") || host.includes(":") || IPV4.test(host)) return host;
  return `${host}.${namespace}.svc.${domain}`;
}

/** `outbound|<port>|<subset>|<host>`; `port` undefined leaves the port empty (the service's port(s)). */
export function clusterName(host: string, port?: number, subset?: string): string {
  return `outbound|${port ?? ""}|${subset ?? ""}|${host}`;
}

export interface ClusterKey {
  host: string;
  port?: number;
  subset?: string;
}

/** The inverse of `clusterName`; null for names that do not follow Istio's convention. */
export function parseClusterName(name: string): ClusterKey | null {
  const parts = name.split("|");
  if (parts.length !== 4 || parts[0] !== "outbound" || !parts[3]) return null;
  const [, port, subset, host] = parts as [string, string, string, string];
  if (port !== "" && !/^\d+$/.test(port)) return null;
  return { host, ...(port ? { port: Number(port) } : {}), ...(subset ? { subset } : {}) };
}

/** Go duration → milliseconds (undefined for undefined input). Invalid input was rejected by the schema. */
export function ms(d: string | null | undefined): number | undefined {
  if (d === undefined || d === null) return undefined;
  const ns = parseGoDuration(d);
  return ns === undefined ? undefined : ns / 1e6;
}

/** Milliseconds → the shortest Go duration string Istio accepts (`1.5s`, `250ms`, `2m`, `1h`). */
export function goDuration(milliseconds: number): string {
  if (milliseconds === 0) return "0s";
  if (milliseconds % 3_600_000 === 0) return `${milliseconds / 3_600_000}h`;
  if (milliseconds % 60_000 === 0) return `${milliseconds / 60_000}m`;
  if (milliseconds % 1000 === 0) return `${milliseconds / 1000}s`;
  if (Number.isInteger(milliseconds)) return milliseconds > 1000 ? `${milliseconds / 1000}s` : `${milliseconds}ms`;
  return `${Math.round(milliseconds * 1e6)}ns`;
}

export function objectRef(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** Namespace and name of an IR object that came from Istio (`origin.object` = `Kind/ns/name`), else from `id`. */
export function nameOf(id: string, origin: Origin | undefined, kind: string, fallbackNamespace = "default"): { namespace: string; name: string } {
  const o = origin?.object?.split("/");
  if (o && o.length === 3 && o[0] === kind) return { namespace: o[1]!, name: o[2]! };
  const slash = id.indexOf("/");
  return slash > 0 ? { namespace: id.slice(0, slash), name: id.slice(slash + 1) } : { namespace: fallbackNamespace, name: id };
}

/** Kubernetes object names: lower-case DNS labels joined by dots; other characters become `-`. */
export function safeName(s: string): string {
  const out = s.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "");
  return (out || "unnamed").slice(0, 253);
}

const PROTOCOLS: Record<string, Protocol> = {
  HTTP: "http", HTTP2: "http2", GRPC: "grpc", TCP: "tcp", TLS: "tls",
  "GRPC-WEB": "http", HTTP_PROXY: "http", HTTPS: "tls", MONGO: "tcp", MYSQL: "tcp", REDIS: "tcp", UDP: "tcp",
};
const CANONICAL: Record<Protocol, string> = { http: "HTTP", http2: "HTTP2", grpc: "GRPC", tcp: "TCP", tls: "TLS", websocket: "HTTP" };

/** Istio protocol name → IR protocol, plus the name when the IR protocol is coarser. */
export function protocolFromIstio(name: string): { protocol: Protocol; protocolName?: string } {
  const upper = name.toUpperCase();
  const protocol = PROTOCOLS[upper] ?? "tcp";
  return CANONICAL[protocol] === upper ? { protocol } : { protocol, protocolName: upper };
}

export function protocolToIstio(protocol: Protocol, protocolName?: string): string {
  return protocolName ?? CANONICAL[protocol];
}

/** gRPC status names Istio accepts in `fault.abort.grpcStatus`, by code. */
export const GRPC_STATUS = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
  "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"] as const;

/** Drops keys whose value is undefined, so emitted objects carry no `key: undefined`. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
