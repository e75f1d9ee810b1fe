/**
 * @module plugins/cors/filter
 * The CORS filter, with the behaviour Envoy gives Istio's `corsPolicy`: a preflight (`OPTIONS` with
 * `Origin` and `Access-Control-Request-Method`) from an allowed origin is answered here with the allowed
 * methods, headers, max age and credentials; an actual request from an allowed origin gets
 * `Access-Control-Allow-Origin` (the origin itself), credentials and exposed headers on its response.
 * An origin matcher that matches `*` allows every origin. Responses that depend on the origin carry
 * `Vary: Origin`.
 */
import type { FilterStream, HeaderMap, HttpFilter, LocalReply } from "../../proxy/filter.ts";
import { compileStringMatch, type CompiledStringMatch } from "../../core/match/string-match.ts";
import { setResponseDetails } from "../common/metadata.ts";
import { forRoute } from "../common/request.ts";
import { maxAgeSeconds, type CorsConfig, type CorsPolicyConfig } from "./config.ts";

const CORS_KEY = "weft.cors";

interface CompiledPolicy {
  allowed(origin: string): boolean;
  preflightHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
  unmatchedPreflights: "FORWARD" | "IGNORE";
}

function compile(p: CorsPolicyConfig): CompiledPolicy {
  const matchers: CompiledStringMatch[] = p.allowOrigins.map((m) => compileStringMatch(m));
  const any = matchers.some((m) => m("*"));
  const credentials: Record<string, string> = p.allowCredentials ? { "access-control-allow-credentials": "true" } : {};
  const maxAge = maxAgeSeconds(p);
  return {
    allowed: (origin) => any || matchers.some((m) => m(origin)),
    preflightHeaders: {
      ...credentials,
      ...(p.allowMethods?.length ? { "access-control-allow-methods": p.allowMethods.join(",") } : {}),
      ...(p.allowHeaders?.length ? { "access-control-allow-headers": p.allowHeaders.join(",") } : {}),
      ...(maxAge !== undefined ? { "access-control-max-age": maxAge } : {}),
    },
    responseHeaders: {
      ...credentials,
      ...(p.exposeHeaders?.length ? { "access-control-expose-headers": p.exposeHeaders.join(",") } : {}),
    },
    unmatchedPreflights: p.unmatchedPreflights,
  };
}

function addVaryOrigin(headers: HeaderMap): void {
  const vary = headers.get("vary");
  if (vary === undefined) headers.set("vary", "Origin");
  else if (!vary.split(",").some((v) => v.trim().toLowerCase() === "origin" || v.trim() === "*")) headers.set("vary", `${vary}, Origin`);
}

export function createCorsFilter(cfg: CorsConfig): HttpFilter {
  const listener = cfg.allowOrigins !== undefined ? compile({ unmatchedPreflights: "FORWARD", ...cfg, allowOrigins: cfg.allowOrigins }) : undefined;
  const routes: Record<string, CompiledPolicy | null> = {};
  for (const [name, p] of Object.entries(cfg.routes ?? {})) routes[name] = p === null ? null : compile(p);

  return {
    name: "cors",
    onRequest(stream: FilterStream): LocalReply | undefined {
      stream.metadata.delete(CORS_KEY);
      const policy = forRoute(routes, stream.routeName, listener);
      const origin = stream.headers.get("origin");
      if (policy === undefined || origin === undefined || origin === "") return undefined;
      const allowed = policy.allowed(origin);
      const preflight = stream.method === "OPTIONS" && !!stream.headers.get("access-control-request-method");
      if (preflight) {
        if (allowed) {
          setResponseDetails(stream, "cors_response");
          return { status: 200, body: "", headers: { "access-control-allow-origin": origin, ...policy.preflightHeaders, vary: "Origin" } };
        }
        if (policy.unmatchedPreflights === "IGNORE") {
          setResponseDetails(stream, "cors_response");
          return { status: 200, body: "", headers: { vary: "Origin" } };
        }
      }
      stream.metadata.set(CORS_KEY, allowed ? { origin, headers: policy.responseHeaders } : { origin: undefined, headers: {} });
      return undefined;
    },
    onResponse(stream, response) {
      const cors = stream.metadata.get(CORS_KEY) as { origin: string | undefined; headers: Record<string, string> } | undefined;
      if (cors === undefined) return;
      addVaryOrigin(response.headers);
      if (cors.origin === undefined) return;
      response.headers.set("access-control-allow-origin", cors.origin);
      for (const [k, v] of Object.entries(cors.headers)) response.headers.set(k, v);
    },
  };
}
