/**
 * @module control/extauthz/testing
 * Builds CheckRequests shaped as Envoy's ext_authz filter builds them (CheckRequestUtils): source and
 * destination peers with socket addresses and URI-SAN principals, the request time, the HTTP request
 * with pseudo-headers in the lower-case `headers` map, the query inside `path`, `x-request-id`,
 * protocol and size, and optionally TLS SNI, context extensions and jwt_authn metadata. Used by the
 * tests and the benchmark.
 */
import { create, type JsonObject } from "@bufbuild/protobuf";
import { CheckRequestSchema, type CheckRequest } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";

export interface EnvoyRequestInit {
  source?: { ip?: string; port?: number; principal?: string };
  destination?: { ip?: string; port?: number; principal?: string };
  method?: string;
  /** Path including the query, as in `:path`. */
  path?: string;
  host?: string;
  /** Extra request headers (lower-case names; Envoy joins repeated values with ","). */
  headers?: Record<string, string>;
  protocol?: "HTTP/1.1" | "HTTP/2";
  sni?: string;
  contextExtensions?: Record<string, string>;
  jwtPayload?: JsonObject;
  requestId?: string;
}

const socket = (ip: string, port: number) => ({ address: { case: "socketAddress" as const, value: { address: ip, portSpecifier: { case: "portValue" as const, value: port } } } });

/** A CheckRequest as an Envoy HTTP ext_authz filter sends it. */
export function envoyCheckRequest(init: EnvoyRequestInit = {}): CheckRequest {
  const method = init.method ?? "GET";
  const path = init.path ?? "/";
  const host = init.host ?? "httpbin.foo.svc.cluster.local:8000";
  const id = init.requestId ?? "6a1b3c9e-0f5e-4c4b-9d6e-1f2a3b4c5d6e";
  const scheme = init.source?.principal ? "https" : "http";
  const headers: Record<string, string> = {
    ":authority": host,
    ":method": method,
    ":path": path,
    ":scheme": scheme,
    "user-agent": "curl/8.5.0",
    accept: "*/*",
    "x-forwarded-proto": scheme,
    "x-request-id": id,
    ...init.headers,
  };
  const now = Date.now();
  return create(CheckRequestSchema, {
    attributes: {
      source: {
        address: socket(init.source?.ip ?? "10.244.1.7", init.source?.port ?? 47_912),
        ...(init.source?.principal ? { principal: init.source.principal } : {}),
      },
      destination: {
        address: socket(init.destination?.ip ?? "10.244.2.9", init.destination?.port ?? 8000),
        ...(init.destination?.principal ? { principal: init.destination.principal } : {}),
      },
      request: {
        time: { seconds: BigInt(Math.floor(now / 1000)), nanos: (now % 1000) * 1_000_000 },
        http: { id, method, headers, path, host, scheme, protocol: init.protocol ?? "HTTP/1.1", size: 0n },
      },
      contextExtensions: init.contextExtensions ?? {},
      metadataContext: init.jwtPayload ? { filterMetadata: { "envoy.filters.http.jwt_authn": { [String(init.jwtPayload.iss)]: init.jwtPayload } } } : {},
      ...(init.sni ? { tlsSession: { sni: init.sni } } : {}),
    },
  });
}
