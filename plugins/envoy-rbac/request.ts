/**
 * @module plugins/envoy-rbac/request
 * What Envoy's RBAC filter sees of a request, built from weft's `AuthzRequest`: the header map with
 * pseudo-headers (`:method`, `:path` normalized as the HTTP connection manager does it with its query kept,
 * `:authority`), the peer's URI SAN, the direct and original client addresses, the destination address and
 * port, the SNI, and the dynamic metadata the filters before RBAC would have written: the validated JWT as
 * `envoy.filters.http.jwt_authn` → `payload` (what istiod's rules read) and the older `istio_authn` keys.
 */
import { parseIp } from "../../core/policy/cidr.ts";
import { normalizePath } from "../../core/policy/path.ts";
import type { AuthzRequest, PathNormalization } from "../../core/policy/types.ts";
import type { DynamicMetadata, HeaderLookup } from "./matchers.ts";

export const JWT_AUTHN_FILTER = "envoy.filters.http.jwt_authn";
export const ISTIO_AUTHN_FILTER = "istio_authn";

/** A request as the compiled rules read it. Built once per decision. */
export interface RbacInput {
  readonly isHttp: boolean;
  readonly header: HeaderLookup;
  /** `:path` as the filter sees it (normalized, query kept); undefined for TCP. */
  readonly path: string | undefined;
  /** Peer URI SAN (`spiffe://…`), undefined for plaintext. */
  readonly principal: string | undefined;
  readonly directRemoteIp: Uint8Array | null;
  readonly remoteIp: Uint8Array | null;
  readonly destinationIp: Uint8Array | null;
  readonly destinationPort: number | undefined;
  readonly sni: string;
  readonly metadata: DynamicMetadata;
  readonly filterState: Readonly<Record<string, string>>;
}

export interface InputOptions {
  /** Envoy's path normalization before filters (Istio default `BASE`). */
  pathNormalization?: PathNormalization;
  /** Extra dynamic metadata by filter name, merged over what is derived from the request. */
  metadata?: DynamicMetadata;
}

function jwtPayload(auth: NonNullable<AuthzRequest["auth"]>): Record<string, unknown> {
  const payload: Record<string, unknown> = { ...(auth.claims ?? {}) };
  if (auth.principal && (payload["iss"] === undefined || payload["sub"] === undefined)) {
    const i = auth.principal.lastIndexOf("/");
    if (i >= 0) {
      payload["iss"] ??= auth.principal.slice(0, i);
      payload["sub"] ??= auth.principal.slice(i + 1);
    } else payload["iss"] ??= auth.principal;
  }
  if (payload["aud"] === undefined && auth.audiences?.length) payload["aud"] = auth.audiences.length === 1 ? auth.audiences[0] : [...auth.audiences];
  if (payload["azp"] === undefined && auth.presenter !== undefined) payload["azp"] = auth.presenter;
  return payload;
}

function istioAuthn(req: AuthzRequest, principal: string | undefined, payload: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (principal !== undefined) {
    out["source.principal"] = principal.replace(/^spiffe:\/\//, "");
    const ns = /\/ns\/([^/]+)\//.exec(principal);
    if (ns) out["source.namespace"] = ns[1];
  }
  if (payload !== undefined) {
    const iss = payload["iss"];
    const sub = payload["sub"];
    if (typeof iss === "string") out["request.auth.principal"] = typeof sub === "string" ? `${iss}/${sub}` : iss;
    const aud = payload["aud"];
    if (aud !== undefined) out["request.auth.audiences"] = Array.isArray(aud) ? aud.join(",") : aud;
    if (typeof payload["azp"] === "string") out["request.auth.presenter"] = payload["azp"];
    out["request.auth.claims"] = payload;
    if (req.auth?.principal && out["request.auth.principal"] === undefined) out["request.auth.principal"] = req.auth.principal;
  }
  return out;
}

/** Builds the RBAC filter's view of a request. */
export function toRbacInput(req: AuthzRequest, options: InputOptions = {}): RbacInput {
  const http = req.http ?? undefined;
  const headers = new Map<string, string>();
  let path: string | undefined;
  if (http) {
    for (const [k, v] of Object.entries(http.headers ?? {})) {
      const lk = k.toLowerCase() === "host" ? ":authority" : k.toLowerCase();
      const s = Array.isArray(v) ? v.join(",") : String(v);
      const prev = headers.get(lk);
      headers.set(lk, prev === undefined ? s : `${prev},${s}`);
    }
    headers.set(":method", http.method);
    if (http.host !== undefined) headers.set(":authority", http.host);
    const normalized = normalizePath(http.path, options.pathNormalization ?? "BASE");
    const q = http.path.search(/[?#]/);
    path = normalized === null ? http.path : normalized + (q >= 0 && http.path[q] === "?" ? http.path.slice(q).replace(/#.*$/, "") : "");
    headers.set(":path", path);
  }
  const raw = req.source?.principal;
  const principal = raw ? (raw.startsWith("spiffe://") ? raw : `spiffe://${raw}`) : undefined;
  const payload = http && req.auth ? jwtPayload(req.auth) : undefined;
  const metadata: Record<string, unknown> = {};
  if (payload) metadata[JWT_AUTHN_FILTER] = { payload };
  const authn = istioAuthn(req, principal, payload);
  if (Object.keys(authn).length) metadata[ISTIO_AUTHN_FILTER] = authn;
  Object.assign(metadata, options.metadata ?? {});
  const direct = req.source?.ip;
  const remote = req.source?.remoteIp ?? direct;
  return {
    isHttp: http !== undefined,
    header: (name) => headers.get(name),
    path,
    principal,
    directRemoteIp: direct ? parseIp(direct) : null,
    remoteIp: remote ? parseIp(remote) : null,
    destinationIp: req.destination.ip ? parseIp(req.destination.ip) : null,
    destinationPort: req.destination.port,
    sni: req.sni ?? "",
    metadata,
    filterState: principal !== undefined ? { "io.istio.peer_principal": principal } : {},
  };
}
