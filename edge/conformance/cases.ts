/**
 * @module edge/conformance/cases
 * The conformance table every host must pass: one proxy config (routing, rewrites, redirects, direct
 * responses, retries, timeouts, connection failures, JWT, RBAC, impersonation, rate limits, faults,
 * header mutation) and rows of (request → expected status, headers, body, what the upstream saw,
 * access-log fields). Where a runtime cannot behave the same, the row says so in `differences` with
 * the reason and the outcome that runtime must show instead — a difference is asserted, never skipped.
 */
import type { EdgeDocument } from "../config/edge-config.ts";

/** `node` is the Node proxy (proxy/node); `fetch-node` is the fetch-host core served by node:http. */
export type HostName = "node" | "fetch-node" | "deno" | "workerd";

export interface Expectation {
  status: number;
  /** Response headers: a string must equal, `null` must be absent. */
  headers?: Record<string, string | null>;
  bodyIncludes?: string;
  /** Headers the echo upstream saw (a string must equal, `null` must be absent), and its request target. */
  upstream?: { url?: string; headers?: Record<string, string | null> };
  /** Access-log fields (compared with `toMatchObject`). */
  log?: Record<string, unknown>;
}

export interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  expect: Expectation;
  /** Runtimes that behave differently, why, and what they must do instead. */
  differences?: Partial<Record<HostName, { reason: string; expect: Expectation }>>;
}

export interface Ports {
  echo: number;
  flaky: number;
  slow: number;
  closed: number;
}

export const ISSUER = "https://issuer.weft.test";

/** The proxy config file text shared by every host. */
export function proxyYaml(p: Ports, jwks: string): string {
  return `listeners:
  - name: conformance
    address: 127.0.0.1:0
    http:
      accessLog: true
      maxRequestHeadersBytes: 8192
      filters:
        - name: jwt-authn
          config:
            jwtRules:
              - issuer: ${JSON.stringify(ISSUER)}
                audiences: [edge]
                jwks: ${JSON.stringify(jwks)}
                outputClaimToHeaders: [{ header: x-jwt-sub, claim: sub }]
        - name: impersonation
          config: { servers: ["spiffe://cluster.local/ns/edge/sa/gateway"] }
        - name: rbac
          config:
            namespace: shop
            policies:
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: deny-private, namespace: shop }
                spec:
                  action: DENY
                  rules: [{ to: [{ operation: { paths: ["/private*"] } }] }]
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: jwt-required, namespace: shop }
                spec:
                  action: DENY
                  rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/jwt/*"] } }] }]
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: admins-only, namespace: shop }
                spec:
                  action: DENY
                  rules: [{ when: [{ key: "request.auth.claims[role]", notValues: ["admin"] }], to: [{ operation: { paths: ["/jwt/admin"] } }] }]
        - name: local-rate-limit
          config: { routes: { limited: { maxTokens: 1, tokensPerFill: 1, fillInterval: 1h } } }
        - name: fault
          config: { routes: { fault: { abort: { httpStatus: 418 } } } }
        - name: header-mutation
          config:
            request: { set: { x-added: "yes" }, remove: [x-remove-me] }
            response: { set: { x-resp-added: "yes" } }
        - name: router
      virtualHosts:
        - name: api
          domains: ["api.example", "api.example:*"]
          routes:
            - name: api-host
              match: { prefix: /api/ }
              route: { cluster: echo }
        - name: all
          domains: ["*"]
          routes:
            - name: direct
              match: { path: /direct }
              directResponse: { status: 200, body: direct-ok, headers: { x-direct: "1" } }
            - name: redirect
              match: { path: /old }
              redirect: { path: /new, status: 301 }
            - name: rewrite
              match: { prefix: /rewrite/ }
              route: { cluster: echo, prefixRewrite: /rewritten/ }
            - name: by-header
              match: { prefix: /echo/, headers: [{ name: x-variant, exact: b }] }
              route: { cluster: echo, hostRewrite: variant-b.internal }
            - name: flaky
              match: { path: /flaky }
              route: { cluster: flaky, retry: { attempts: 2, retryOn: [5xx], backoff: { baseMs: 1, maxMs: 5 } } }
            - name: flaky-once
              match: { path: /flaky-once }
              route: { cluster: flaky }
            - name: slow
              match: { path: /slow }
              route: { cluster: slow, timeoutMs: 300 }
            - name: down
              match: { path: /down }
              route: { cluster: down }
            - name: empty
              match: { path: /empty }
              route: { cluster: empty }
            - name: limited
              match: { path: /limited }
              route: { cluster: echo }
            - name: fault
              match: { path: /fault }
              route: { cluster: echo }
            - name: default
              match: { prefix: / }
              route: { cluster: echo }
clusters:
  - { name: echo, endpoints: ["127.0.0.1:${p.echo}"] }
  - { name: flaky, endpoints: ["127.0.0.1:${p.flaky}"] }
  - { name: slow, endpoints: ["127.0.0.1:${p.slow}"] }
  - { name: down, endpoints: ["127.0.0.1:${p.closed}"] }
  - { name: empty, endpoints: [] }
`;
}

/** The edge document the Deno and workerd hosts receive. */
export function edgeDocument(p: Ports, jwks: string): EdgeDocument {
  return { version: "conformance-1", proxy: proxyYaml(p, jwks) };
}

/** Tokens are filled in by the runner: `{{token:admin}}`, `{{token:user}}`, `{{token:wrong-aud}}`. */
export const cases: Case[] = [
  { name: "direct response with headers", path: "/direct", expect: { status: 200, bodyIncludes: "direct-ok", headers: { "x-direct": "1" }, log: { route_name: "direct", response_flags: "-", response_code: 200 } } },
  { name: "redirect keeps the authority", path: "/old?x=1", headers: { host: "shop.example" }, expect: { status: 301, headers: { location: "http://shop.example/new?x=1" }, log: { route_name: "redirect" } } },
  {
    name: "forwarding: forwarded headers, request id, host, hop-by-hop headers dropped both ways",
    path: "/echo/a?q=1", headers: { host: "shop.example", "x-request-id": "rid-forward", connection: "x-conn-named", "x-conn-named": "secret", "x-remove-me": "1" },
    expect: {
      status: 200,
      headers: { "x-upstream": "echo", "x-hop-named": null, "x-resp-added": "yes" },
      upstream: { url: "/echo/a?q=1", headers: { host: "shop.example", "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http", "x-request-id": "rid-forward", "x-conn-named": null, "x-remove-me": null, "x-added": "yes" } },
      log: { route_name: "default", upstream_cluster: "echo", response_flags: "-", request_id: "rid-forward", authority: "shop.example", x_forwarded_for: "127.0.0.1", downstream_remote_address: "127.0.0.1", method: "GET", path: "/echo/a?q=1" },
    },
  },
  { name: "x-forwarded-for is appended to", path: "/echo/xff", headers: { "x-forwarded-for": "203.0.113.9" }, expect: { status: 200, upstream: { headers: { "x-forwarded-for": "203.0.113.9, 127.0.0.1" } }, log: { x_forwarded_for: "203.0.113.9, 127.0.0.1" } } },
  { name: "prefix rewrite", path: "/rewrite/x/y", expect: { status: 200, upstream: { url: "/rewritten/x/y" }, log: { route_name: "rewrite" } } },
  { name: "header match and host rewrite", path: "/echo/b", headers: { "x-variant": "b" }, expect: { status: 200, upstream: { headers: { host: "variant-b.internal" } }, log: { route_name: "by-header" } } },
  { name: "virtual host by authority", path: "/api/v1", headers: { host: "api.example" }, expect: { status: 200, upstream: { url: "/api/v1" }, log: { route_name: "api-host" } } },
  { name: "no route in the virtual host: 404 NR", path: "/nothing", headers: { host: "api.example" }, expect: { status: 404, log: { response_flags: "NR", response_code: 404 } } },
  {
    name: "retry on 5xx succeeds on the second try", path: "/flaky",
    expect: { status: 200, bodyIncludes: "second try", log: { route_name: "flaky", upstream_cluster: "flaky", response_flags: "-", upstream_request_attempt_count: 2 } },
  },
  { name: "no retry policy: the upstream's 503 passes through", path: "/flaky-once", expect: { status: 503, bodyIncludes: "first try fails", log: { route_name: "flaky-once", response_flags: "-" } } },
  { name: "route timeout: 504 UT", path: "/slow", expect: { status: 504, log: { response_flags: "UT", response_code: 504, upstream_cluster: "slow" } } },
  { name: "connection refused: 503 UF", path: "/down", expect: { status: 503, log: { response_flags: "UF", response_code: 503, upstream_cluster: "down" } } },
  { name: "no healthy host: 503 UH", path: "/empty", expect: { status: 503, log: { response_flags: "UH", upstream_cluster: "empty" } } },
  { name: "RBAC deny by path", path: "/private/x", expect: { status: 403, bodyIncludes: "RBAC: access denied", log: { response_code: 403 } } },
  { name: "RBAC: a dot-segment does not bypass a path rule", path: "/public/../private/x", expect: { status: 403, log: { response_code: 403, path: "/private/x" } } },
  { name: "an encoded NUL in the path → 400 DPE", path: "/echo/a%00b", expect: { status: 400, log: { response_flags: "DPE", response_code_details: "path_normalization_failed" } } },
  { name: "JWT required by policy: no token → 403", path: "/jwt/data", expect: { status: 403 } },
  { name: "JWT valid: claim forwarded, token removed", path: "/jwt/data", headers: { authorization: "Bearer {{token:user}}" }, expect: { status: 200, upstream: { headers: { "x-jwt-sub": "alice", authorization: null } } } },
  { name: "JWT forged claim header is stripped", path: "/jwt/data", headers: { authorization: "Bearer {{token:user}}", "x-jwt-sub": "mallory" }, expect: { status: 200, upstream: { headers: { "x-jwt-sub": "alice" } } } },
  { name: "JWT claim policy: user is not admin → 403", path: "/jwt/admin", headers: { authorization: "Bearer {{token:user}}" }, expect: { status: 403 } },
  { name: "JWT claim policy: admin → 200", path: "/jwt/admin", headers: { authorization: "Bearer {{token:admin}}" }, expect: { status: 200 } },
  { name: "JWT wrong audience → 403 with www-authenticate", path: "/echo/x", headers: { authorization: "Bearer {{token:wrong-aud}}" }, expect: { status: 403, bodyIncludes: "Audiences in Jwt are not allowed" } },
  { name: "JWT garbage → 401", path: "/echo/x", headers: { host: "127.0.0.1", authorization: "Bearer not.a.jwt" }, expect: { status: 401, headers: { "www-authenticate": 'Bearer realm="http://127.0.0.1/echo/x", error="invalid_token"' } } },
  { name: "impersonation without an mTLS peer → 403", path: "/echo/imp", headers: { user_dn: "CN=alice" }, expect: { status: 403, bodyIncludes: "impersonation denied" } },
  { name: "rate limit: first request passes", path: "/limited", expect: { status: 200, log: { route_name: "limited", response_flags: "-" } } },
  { name: "rate limit: second request → 429 RL", path: "/limited", expect: { status: 429, headers: { "x-envoy-ratelimited": "true" }, log: { response_flags: "RL", response_code: 429 } } },
  { name: "fault abort → 418 FI", path: "/fault", expect: { status: 418, bodyIncludes: "fault filter abort", log: { response_flags: "FI", route_name: "fault" } } },
  { name: "oversized request head → 431", path: "/echo/big", headers: { "x-big": "a".repeat(9000) }, expect: { status: 431 } },
];
