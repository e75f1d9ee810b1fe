/**
 * @module proxy/xds/http-filters
 * Envoy HTTP filters (in an HTTP connection manager) → weft HTTP filters from `plugins/`. Each filter is
 * recognised by the type of its `typed_config` and becomes a draft that builds the weft config once the
 * route config is known (per-route settings live on routes: `typed_per_filter_config`, CORS policies).
 * Envoy RBAC goes to `plugins/envoy-rbac` as is (its config is the Envoy message). A filter weft does
 * not implement is the security decision here: one that could affect authorization
 * (anything not known to be harmless) fails the listener closed — the update is refused — unless it is
 * marked `is_optional` or `disabled`; a known harmless one (stats, compression, ...) is reported and left
 * out.
 */
import { anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import type { HttpFilter as EnvoyHttpFilter } from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import { FilterConfigSchema } from "../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import type { CorsPolicy as RouteCorsPolicy } from "../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import { CorsSchema, CorsPolicySchema, type CorsPolicy } from "../../gen/proto/envoy/extensions/filters/http/cors/v3/cors_pb.ts";
import { HTTPFaultSchema, type HTTPFault } from "../../gen/proto/envoy/extensions/filters/http/fault/v3/fault_pb.ts";
import { RouterSchema } from "../../gen/proto/envoy/extensions/filters/http/router/v3/router_pb.ts";
import { RBACSchema } from "../../gen/proto/envoy/extensions/filters/http/rbac/v3/rbac_pb.ts";
import { anyTypeName, durationMs, reportUnhandled, stringMatch, unpack } from "./common.ts";
import { joinPath, type IssueSink } from "./issues.ts";
import { percentOf, type RouteDraft } from "./route.ts";

/** A weft HTTP filter to be, built once the listener's route config is known. */
export interface HttpFilterDraft {
  /** The filter's name in the HTTP connection manager (the key of `typed_per_filter_config`). */
  envoyName: string;
  /** The weft filter (`plugins/registry.ts` name). */
  weft: string;
  build(routes: RouteDraft, issues: IssueSink, path: string): unknown;
}

/** The weft filter that evaluates Envoy RBAC configs (`plugins/envoy-rbac`), when the registry has it. */
export const ENVOY_RBAC_FILTER = "envoy.filters.http.rbac";

/** How the translator maps filters. */
export interface HttpFilterOptions {
  /** Names of the weft HTTP filters available (the registry's keys). */
  available: ReadonlySet<string>;
}

/** Type names of HTTP filters that decide or shape who may do what: unknown to weft means fail closed. */
const AUTHZ_FILTERS = new Set([
  "envoy.extensions.filters.http.rbac.v3.RBAC",
  "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
  "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
  "envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
  "envoy.extensions.filters.http.wasm.v3.Wasm",
  "envoy.extensions.filters.http.lua.v3.Lua",
  "envoy.extensions.filters.http.oauth2.v3.OAuth2",
  "envoy.extensions.filters.http.basic_auth.v3.BasicAuth",
  // Removing headers a client may spoof is a security function too.
  "envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
]);

/** Type names of HTTP filters weft leaves out without weakening access control (reported, not refused). */
const HARMLESS_FILTERS = new Set([
  "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
  "envoy.extensions.filters.http.compressor.v3.Compressor",
  "envoy.extensions.filters.http.decompressor.v3.Decompressor",
  "envoy.extensions.filters.http.buffer.v3.Buffer",
  "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb",
  "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
  "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",
  "io.istio.http.peer_metadata.Config",
  "stats.PluginConfig",
]);

/** The route's per-filter config for `envoyName`: the message, `null` when disabled there, undefined when none. */
function perRoute(routes: RouteDraft, envoyName: string): Map<string, Any | null> {
  const out = new Map<string, Any | null>();
  for (const [route, any] of routes.perFilter.get(envoyName) ?? []) {
    if (anyTypeName(any) === FilterConfigSchema.typeName) {
      const fc = anyUnpack(any, FilterConfigSchema);
      out.set(route, fc?.disabled ? null : (fc?.config ?? null));
    } else out.set(route, any);
  }
  return out;
}

function ms(v: number): string {
  return `${v}ms`;
}

function faultSettings(f: HTTPFault, issues: IssueSink, path: string): { settings: Record<string, unknown>; headerControl: boolean } {
  reportUnhandled(HTTPFaultSchema, f, ["delay", "abort", "max_active_faults"], issues, path, ["headers", "upstream_cluster", "downstream_nodes"]);
  const settings: Record<string, unknown> = {};
  let headerControl = false;
  if (f.delay) {
    const d = f.delay.faultDelaySecifier;
    if (d.case === "fixedDelay") settings.delay = { fixedDelay: ms(durationMs(d.value) ?? 0), percentage: percentOf(f.delay.percentage) };
    else if (d.case === "headerDelay") headerControl = true;
  }
  if (f.abort) {
    const a = f.abort.errorType;
    const percentage = percentOf(f.abort.percentage);
    if (a.case === "httpStatus") settings.abort = { httpStatus: a.value, percentage };
    else if (a.case === "grpcStatus") settings.abort = { grpcStatus: a.value, percentage };
    else if (a.case === "headerAbort") headerControl = true;
  }
  return { settings, headerControl };
}

function faultDraft(envoyName: string, base: HTTPFault): HttpFilterDraft {
  return {
    envoyName, weft: "fault",
    build(routes, issues, path) {
      const b = faultSettings(base, issues, path);
      const cfg: Record<string, unknown> = { ...b.settings, headerControl: b.headerControl };
      if (base.maxActiveFaults !== undefined) cfg.maxActiveFaults = base.maxActiveFaults;
      const per: Record<string, unknown> = {};
      for (const [route, any] of perRoute(routes, envoyName)) {
        if (any === null) { per[route] = null; continue; }
        const f = unpack(any, HTTPFaultSchema, issues, `${path} (route ${route})`);
        if (f) per[route] = faultSettings(f, issues, `${path} (route ${route})`).settings;
      }
      if (Object.keys(per).length) cfg.routes = per;
      return cfg;
    },
  };
}

function corsPolicy(p: CorsPolicy | RouteCorsPolicy, issues: IssueSink, path: string): Record<string, unknown> {
  const origins = p.allowOriginStringMatch.flatMap((m, i): Record<string, string>[] => {
    const sm = stringMatch(m, issues, joinPath(path, `allow_origin_string_match[${i}]`));
    if (!sm) return [];
    if ("exact" in sm) return [{ exact: sm.exact }];
    if ("prefix" in sm) return [{ prefix: sm.prefix }];
    if ("suffix" in sm) return [{ regex: `.*${sm.suffix.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}` }];
    if ("regex" in sm) return [{ regex: sm.regex }];
    return [];
  });
  const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
  const out: Record<string, unknown> = { allowOrigins: origins };
  if (p.allowMethods) out.allowMethods = list(p.allowMethods);
  if (p.allowHeaders) out.allowHeaders = list(p.allowHeaders);
  if (p.exposeHeaders) out.exposeHeaders = list(p.exposeHeaders);
  if (p.maxAge && /^\d+$/.test(p.maxAge)) out.maxAge = `${p.maxAge}s`;
  if (p.allowCredentials !== undefined) out.allowCredentials = p.allowCredentials;
  if ("forwardNotMatchingPreflights" in p && p.forwardNotMatchingPreflights === false) out.unmatchedPreflights = "IGNORE";
  return out;
}

function corsDraft(envoyName: string): HttpFilterDraft {
  return {
    envoyName, weft: "cors",
    build(routes, issues, path) {
      const per: Record<string, unknown> = {};
      for (const [route, p] of routes.cors) per[route] = corsPolicy(p, issues, `${path} (route ${route})`);
      for (const [route, any] of perRoute(routes, envoyName)) {
        if (any === null) { per[route] = null; continue; }
        const p = unpack(any, CorsPolicySchema, issues, `${path} (route ${route})`);
        if (p) per[route] = corsPolicy(p, issues, `${path} (route ${route})`);
      }
      return Object.keys(per).length ? { routes: per } : {};
    },
  };
}

/**
 * One HTTP filter of a connection manager → a draft, `null` (left out, reported), or an error (refused).
 */
export function translateHttpFilter(f: EnvoyHttpFilter, options: HttpFilterOptions, listener: string, issues: IssueSink, path: string): HttpFilterDraft | null {
  if (f.configType.case === "configDiscovery") {
    if (f.isOptional || f.disabled) {
      issues.ignored(path, `filter ${f.name}: extension config discovery (ECDS) is not supported; the filter is optional or disabled, so it is left out`);
      return null;
    }
    issues.error(path, `listener ${listener}: filter ${f.name} uses extension config discovery (ECDS), which weft does not support; refusing the listener (fail closed)`);
    return null;
  }
  const any = f.configType.case === "typedConfig" ? f.configType.value : undefined;
  const type = any ? anyTypeName(any) : "";
  switch (type) {
    case RouterSchema.typeName: {
      const r = unpack(any, RouterSchema, issues, joinPath(path, "typed_config"));
      if (r) reportUnhandled(RouterSchema, r, ["suppress_envoy_headers", "start_child_span", "dynamic_stats"], issues, joinPath(path, "typed_config"));
      return { envoyName: f.name, weft: "router", build: () => ({}) };
    }
    case HTTPFaultSchema.typeName: {
      const base = unpack(any, HTTPFaultSchema, issues, joinPath(path, "typed_config"));
      return base ? faultDraft(f.name, base) : null;
    }
    case CorsSchema.typeName:
      return corsDraft(f.name);
    case RBACSchema.typeName:
      if (options.available.has(ENVOY_RBAC_FILTER)) {
        const r = unpack(any, RBACSchema, issues, joinPath(path, "typed_config"));
        if (!r) return null;
        return {
          envoyName: f.name, weft: ENVOY_RBAC_FILTER,
          build(routes, sink, p) {
            const per = [...(routes.perFilter.get(f.name)?.keys() ?? [])];
            if (per.length) sink.error(p, `listener ${listener}: per-route RBAC (route ${per[0]}) is not supported by weft; refusing the listener (fail closed)`);
            return any;
          },
        };
      }
      break;
  }
  if (f.disabled) {
    issues.ignored(path, `filter ${f.name} (${type || "no typed_config"}) is not supported by weft; it is disabled, so it is left out unless a route enables it`);
    return { envoyName: f.name, weft: "", build: () => undefined };
  }
  if (HARMLESS_FILTERS.has(type)) {
    issues.ignored(path, `filter ${f.name} (${type}) is not supported by weft; left out (it does not take part in authorization)`);
    return null;
  }
  if (f.isOptional) {
    issues.ignored(path, `filter ${f.name} (${type}) is not supported by weft; left out because it is marked is_optional`);
    return null;
  }
  issues.error(path, `listener ${listener}: HTTP filter ${f.name} (${type || "no typed_config"}) is not supported by weft and could affect authorization; refusing the listener (fail closed)`);
  return null;
}
