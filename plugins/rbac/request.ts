/**
 * @module plugins/rbac/request
 * Maps a request in flight (`FilterStream`) onto the policy engine's `AuthzRequest`: the peer principal
 * from mTLS, the direct and original client addresses, the validated JWT that jwt-authn left in the
 * metadata, the destination port and address (configured, else the connection's local side), and the
 * HTTP method, target, host and headers.
 */
import type { FilterStream } from "../../proxy/filter.ts";
import type { AuthzRequest } from "../../core/policy/index.ts";
import { JWT_AUTHN_KEY, type JwtAuthnResult } from "../common/metadata.ts";
import { normalizeIp } from "../common/request.ts";
import type { RbacConfig } from "./config.ts";

/** The original client address: the `hops`-th `X-Forwarded-For` entry from the right, else the peer. */
export function remoteIp(stream: FilterStream, hops: number): string {
  const peer = normalizeIp(stream.connection.remoteAddress);
  if (hops <= 0) return peer;
  const xff = stream.headers.get("x-forwarded-for");
  if (xff === undefined) return peer;
  const list = xff.split(",").map((s) => s.trim()).filter(Boolean);
  const picked = list[list.length - hops];
  return picked === undefined ? peer : normalizeIp(picked);
}

export function toAuthzRequest(stream: FilterStream, cfg: RbacConfig): AuthzRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of stream.headers.entries()) headers[k] = v;
  const jwt = stream.metadata.get(JWT_AUTHN_KEY) as JwtAuthnResult | undefined;
  const ip = normalizeIp(stream.connection.remoteAddress);
  // The configured port and address win (a proxy behind a port mapping); else the connection's own.
  const port = cfg.port ?? stream.connection.localPort;
  const local = stream.connection.localAddress;
  const destinationIp = cfg.destinationIp ?? (local !== undefined ? normalizeIp(local) : undefined);
  return {
    destination: {
      namespace: cfg.namespace,
      ...(cfg.labels ? { labels: cfg.labels } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(destinationIp !== undefined ? { ip: destinationIp } : {}),
      ...(cfg.service !== undefined ? { service: cfg.service } : {}),
    },
    source: {
      ...(stream.connection.principal ? { principal: stream.connection.principal } : {}),
      ip,
      remoteIp: remoteIp(stream, cfg.xffNumTrustedHops),
    },
    http: { method: stream.method, path: stream.path, host: stream.authority, headers },
    ...(jwt ? { auth: { principal: jwt.principal, audiences: jwt.aud, ...(jwt.azp !== undefined ? { presenter: jwt.azp } : {}), claims: jwt.claims } } : {}),
    ...(stream.connection.sni ? { sni: stream.connection.sni } : {}),
  };
}
