/**
 * @module control/extauthz/check-request
 * Maps an Envoy `envoy.service.auth.v3.CheckRequest` (as Istio's and Consul's Envoys send it) onto the
 * policy engine's `AuthzRequest`: source principal (the peer certificate's URI SAN, which Envoy puts in
 * `attributes.source.principal`), source and destination addresses, the HTTP request (method, path with
 * query, host, lower-case headers with multi-values), `tls_session.sni` and, when Envoy forwards
 * `envoy.filters.http.jwt_authn` filter metadata, the validated JWT payload. The destination workload
 * (namespace, labels, Consul service) comes, in order, from `context_extensions`, an injected address
 * lookup, the destination peer's SPIFFE ID and the peer's labels; a request whose workload namespace is
 * still unknown is reported so the server can fail closed. Pure: no I/O, Web-standard only.
 */
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Address } from "../../gen/proto/envoy/config/core/v3/address_pb.ts";
import type { AttributeContext_HttpRequest, AttributeContext_Peer } from "../../gen/proto/envoy/service/auth/v3/attribute_context_pb.ts";
import type { CheckRequest } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import type { AuthzRequest } from "../../core/policy/types.ts";

/** The workload a check is for. */
export interface DestinationWorkload {
  namespace?: string;
  labels?: Record<string, string>;
  /** Consul destination service name. */
  service?: string;
}

/** Finds the workload listening on a destination address (e.g. from the service registry). */
export type WorkloadResolver = (ip: string, port: number | undefined) => DestinationWorkload | undefined;

export interface MapOptions {
  resolveWorkload?: WorkloadResolver;
  /** Filter-metadata namespace holding JWT payloads (default `envoy.filters.http.jwt_authn`). */
  jwtMetadataNamespace?: string;
}

export interface MappedRequest {
  request: AuthzRequest;
  /** Where the destination workload came from, for the decision's metadata. */
  workloadFrom: "context_extensions" | "address" | "principal" | "unknown";
}

/** `context_extensions` keys weft reads. */
export const CONTEXT_KEYS = { namespace: "namespace", labels: "labels", service: "service" } as const;

export const JWT_AUTHN_NAMESPACE = "envoy.filters.http.jwt_authn";

function socketOf(addr: Address | undefined): { ip?: string; port?: number } {
  if (addr?.address.case !== "socketAddress") return {};
  const s = addr.address.value;
  const port = s.portSpecifier.case === "portValue" ? s.portSpecifier.value : undefined;
  return { ...(s.address ? { ip: s.address } : {}), ...(port ? { port } : {}) };
}

/** `app=web,version=v1` (or a JSON object) → labels. */
export function parseLabels(text: string): Record<string, string> {
  const t = text.trim();
  if (t.startsWith("{")) {
    const v = JSON.parse(t) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("labels must be a JSON object");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  }
  const out: Record<string, string> = {};
  for (const part of t.split(",")) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`label "${part.trim()}" is not key=value`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/**
 * Namespace (and Consul service) from a SPIFFE ID: Istio `spiffe://td/ns/NS/sa/SA`, Consul
 * `spiffe://td[/ap/P]/ns/NS/dc/DC/svc/SVC`.
 */
export function workloadFromSpiffe(id: string): DestinationWorkload | undefined {
  if (!id.startsWith("spiffe://")) return undefined;
  const parts = id.slice("spiffe://".length).split("/");
  const ns = parts.indexOf("ns");
  if (ns < 0 || !parts[ns + 1]) return undefined;
  const svc = parts.indexOf("svc");
  return { namespace: parts[ns + 1], ...(svc > ns && parts[svc + 1] ? { service: parts[svc + 1] } : {}) };
}

function headersOf(http: AttributeContext_HttpRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // `headers` is Envoy's default: one entry per name, repeated values joined with ",".
  for (const [k, v] of Object.entries(http.headers)) out[k.toLowerCase()] = v;
  // `header_map` (ext_authz `encode_raw_headers: true`): one entry per value.
  const entries = http.headerMap?.headers ?? [];
  if (entries.length) {
    const multi: Record<string, string[]> = {};
    const decoder = new TextDecoder();
    for (const h of entries) {
      const key = h.key.toLowerCase();
      const value = h.rawValue.length ? decoder.decode(h.rawValue) : h.value;
      (multi[key] ??= []).push(value);
    }
    for (const [k, vs] of Object.entries(multi)) out[k] = vs.length === 1 ? vs[0]! : vs;
  }
  return out;
}

function pathOf(http: AttributeContext_HttpRequest): string {
  // Envoy puts the query in `path` (`query` stays empty); accept either.
  let path = http.path || "/";
  if (http.query && !path.includes("?")) path += `?${http.query}`;
  return path;
}

const str = (v: JsonValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/** A JWT payload from jwt_authn filter metadata (`payload_in_metadata`: keyed by issuer or a fixed name). */
function jwtOf(req: CheckRequest, ns: string): AuthzRequest["auth"] | undefined {
  const meta = req.attributes?.metadataContext?.filterMetadata[ns];
  if (!meta) return undefined;
  const candidates: JsonObject[] = [];
  if (typeof meta.iss === "string") candidates.push(meta);
  for (const v of Object.values(meta)) {
    if (v && typeof v === "object" && !Array.isArray(v) && typeof (v as JsonObject).iss === "string") candidates.push(v as JsonObject);
  }
  const payload = candidates[0];
  if (!payload) return undefined;
  const iss = str(payload.iss)!;
  const sub = str(payload.sub);
  const aud = payload.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : undefined;
  const azp = str(payload.azp);
  return {
    ...(sub !== undefined ? { principal: `${iss}/${sub}` } : {}),
    ...(audiences ? { audiences } : {}),
    ...(azp !== undefined ? { presenter: azp } : {}),
    claims: payload as Record<string, unknown>,
  };
}

function workloadOf(req: CheckRequest, dest: AttributeContext_Peer | undefined, ip: string | undefined, port: number | undefined, options: MapOptions): { w: DestinationWorkload; from: MappedRequest["workloadFrom"] } {
  const ext = req.attributes?.contextExtensions ?? {};
  const w: DestinationWorkload = {};
  let from: MappedRequest["workloadFrom"] = "unknown";
  if (ext[CONTEXT_KEYS.namespace]) {
    w.namespace = ext[CONTEXT_KEYS.namespace];
    from = "context_extensions";
  }
  if (ext[CONTEXT_KEYS.labels] !== undefined) w.labels = parseLabels(ext[CONTEXT_KEYS.labels]!);
  if (ext[CONTEXT_KEYS.service]) w.service = ext[CONTEXT_KEYS.service];
  const fill = (o: DestinationWorkload | undefined, source: MappedRequest["workloadFrom"]) => {
    if (!o) return;
    if (w.namespace === undefined && o.namespace) {
      w.namespace = o.namespace;
      from = source;
    }
    if (w.labels === undefined && o.labels) w.labels = o.labels;
    if (w.service === undefined && o.service) w.service = o.service;
  };
  if (ip && options.resolveWorkload && (w.namespace === undefined || w.labels === undefined)) fill(options.resolveWorkload(ip, port), "address");
  if (dest?.principal) fill(workloadFromSpiffe(dest.principal), "principal");
  if (w.labels === undefined && dest && Object.keys(dest.labels).length) w.labels = { ...dest.labels };
  return { w, from };
}

/**
 * Maps a CheckRequest. Throws on a malformed `labels` context extension.
 * @example
 * const { request } = checkRequestToAuthz(checkRequest, { resolveWorkload: (ip) => registry.workloadAt(ip) });
 * authorizer.check(request);
 */
export function checkRequestToAuthz(req: CheckRequest, options: MapOptions = {}): MappedRequest {
  const attrs = req.attributes;
  const src = attrs?.source;
  const dst = attrs?.destination;
  const s = socketOf(src?.address);
  const d = socketOf(dst?.address);
  const { w, from } = workloadOf(req, dst, d.ip, d.port, options);
  const request: AuthzRequest = {
    destination: {
      namespace: w.namespace ?? "",
      ...(w.labels ? { labels: w.labels } : {}),
      ...(d.port !== undefined ? { port: d.port } : {}),
      ...(d.ip !== undefined ? { ip: d.ip } : {}),
      ...(w.service !== undefined ? { service: w.service } : {}),
    },
  };
  if (src?.principal || s.ip) request.source = { ...(src?.principal ? { principal: src.principal } : {}), ...(s.ip ? { ip: s.ip } : {}) };
  const http = attrs?.request?.http;
  if (http && http.method) {
    request.http = {
      method: http.method,
      path: pathOf(http),
      ...(http.host ? { host: http.host } : {}),
      headers: headersOf(http),
    };
  }
  const auth = jwtOf(req, options.jwtMetadataNamespace ?? JWT_AUTHN_NAMESPACE);
  if (auth) request.auth = auth;
  const sni = attrs?.tlsSession?.sni;
  if (sni) request.sni = sni;
  return { request, workloadFrom: w.namespace === undefined ? "unknown" : from };
}
