/**
 * @module plugins/envoy-rbac/testing
 * Request variants for parity tests: from one corpus request, the neighbours most likely to expose a
 * difference between two evaluators — plaintext instead of mTLS, another peer namespace, no JWT, another
 * method, a longer or upper-cased path, a query string, a neighbouring port, another client address and an
 * extra header. Parity needs no expected value, so every variant is a free extra check. Not used by the filter.
 */
import type { AuthzRequest } from "../../core/policy/types.ts";

export interface RequestVariant {
  name: string;
  request: AuthzRequest;
}

function clone(r: AuthzRequest): AuthzRequest {
  return structuredClone(r);
}

/** Up to ten variants of `r` (only those that change something). */
export function requestVariants(r: AuthzRequest): RequestVariant[] {
  const out: RequestVariant[] = [];
  const add = (name: string, change: (x: AuthzRequest) => boolean) => {
    const x = clone(r);
    if (change(x)) out.push({ name, request: x });
  };
  add("plaintext", (x) => {
    if (!x.source?.principal) return false;
    delete x.source.principal;
    return true;
  });
  add("peer in another namespace", (x) => {
    const p = x.source?.principal;
    if (!p) return false;
    x.source!.principal = p.replace(/\/ns\/[^/]+\//, "/ns/other/");
    return x.source!.principal !== p;
  });
  add("no JWT", (x) => {
    if (!x.auth) return false;
    delete x.auth;
    return true;
  });
  add("another method", (x) => {
    if (!x.http) return false;
    x.http.method = x.http.method === "GET" ? "POST" : "GET";
    return true;
  });
  add("longer path", (x) => {
    if (!x.http) return false;
    x.http.path = x.http.path.replace(/^([^?#]*)/, (p) => (p.endsWith("/") ? `${p}x` : `${p}/x`));
    return true;
  });
  add("upper-case path", (x) => {
    if (!x.http || x.http.path.toUpperCase() === x.http.path) return false;
    x.http.path = x.http.path.toUpperCase();
    return true;
  });
  add("query string", (x) => {
    if (!x.http || x.http.path.includes("?")) return false;
    x.http.path += "?q=1";
    return true;
  });
  add("next port", (x) => {
    if (x.destination.port === undefined) return false;
    x.destination.port += 1;
    return true;
  });
  add("another client address", (x) => {
    if (!x.source) return false;
    x.source.ip = "192.168.7.7";
    if (x.source.remoteIp !== undefined) x.source.remoteIp = "198.51.100.7";
    return true;
  });
  add("extra header", (x) => {
    if (!x.http) return false;
    x.http.headers = { ...(x.http.headers ?? {}), "x-weft-probe": "1" };
    return true;
  });
  return out;
}
