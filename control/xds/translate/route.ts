/**
 * @module control/xds/translate/route
 * IR virtual hosts and routes → Envoy `RouteConfiguration`. One IR route with several match blocks
 * becomes one Envoy route per block (Envoy routes match one way each), in order. Forward actions map to
 * a cluster or weighted clusters with timeout, retry policy, mirrors, rewrites and hash policies;
 * redirects and direct responses map one to one; faults and CORS become per-route filter configs
 * (`envoy.filters.http.fault`, `envoy.filters.http.cors`), which the listener's HTTP filter chain must
 * carry. Routes restricted to source labels or a port are kept only when the caller's context matches
 * (Istio does the same when it builds a proxy's routes).
 */
import { create } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import type { CorsPolicy, FaultPolicy, HashPolicy, HeaderMatch, Route, RouteAction, RouteMatch, VirtualHost } from "../../../core/ir/model.ts";
import {
  DirectResponseActionSchema, HeaderMatcherSchema, QueryParameterMatcherSchema, RedirectAction_RedirectResponseCode,
  RedirectActionSchema, RouteActionSchema, RouteMatchSchema, RouteSchema, VirtualHostSchema,
  type HeaderMatcher, type Route as EnvoyRoute, type RouteMatch as EnvoyRouteMatch, type VirtualHost as EnvoyVirtualHost,
} from "../../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import { RouteConfigurationSchema, type RouteConfiguration } from "../../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { HTTPFaultSchema } from "../../../gen/proto/envoy/extensions/filters/http/fault/v3/fault_pb.ts";
import { CorsPolicySchema } from "../../../gen/proto/envoy/extensions/filters/http/cors/v3/cors_pb.ts";
import { RegexMatcherSchema } from "../../../gen/proto/envoy/type/matcher/v3/regex_pb.ts";
import { TypedExtensionConfigSchema } from "../../../gen/proto/envoy/config/core/v3/extension_pb.ts";
import { UriTemplateMatchConfigSchema } from "../../../gen/proto/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.ts";
import { duration, escapeRegex, fractionalPercent, headersToAdd, regexMatcher, stringMatcher } from "./common.ts";

export const FAULT_FILTER = "envoy.filters.http.fault";
export const CORS_FILTER = "envoy.filters.http.cors";

export interface RouteContext {
  /** Labels of the workload the routes are built for (for `sourceLabels` matches). */
  sourceLabels?: Record<string, string>;
  /** The listener port the routes are built for (for `port` matches). */
  port?: number;
}

function headerMatcher(h: HeaderMatch, invert = false): HeaderMatcher {
  const inverted = (h.invert === true) !== invert;
  if ("present" in h.match) return create(HeaderMatcherSchema, { name: h.name, headerMatchSpecifier: { case: "presentMatch", value: true }, invertMatch: inverted });
  return create(HeaderMatcherSchema, { name: h.name, headerMatchSpecifier: { case: "stringMatch", value: stringMatcher(h.match) }, invertMatch: inverted });
}

function pathSpecifier(path: RouteMatch["path"]): EnvoyRouteMatch["pathSpecifier"] {
  if (!path) return { case: "prefix", value: "/" };
  if ("template" in path) {
    const cfg = create(UriTemplateMatchConfigSchema, { pathTemplate: path.template });
    return { case: "pathMatchPolicy", value: create(TypedExtensionConfigSchema, { name: "envoy.path.match.uri_template.uri_template_matcher", typedConfig: anyPack(UriTemplateMatchConfigSchema, cfg) }) };
  }
  if ("exact" in path) return { case: "path", value: path.exact };
  if ("prefix" in path) return { case: "prefix", value: path.prefix };
  if ("suffix" in path) return { case: "safeRegex", value: create(RegexMatcherSchema, { regex: `.*${escapeRegex(path.suffix)}` }) };
  if ("regex" in path) return { case: "safeRegex", value: create(RegexMatcherSchema, { regex: path.regex }) };
  return { case: "safeRegex", value: create(RegexMatcherSchema, { regex: ".+" }) };
}

/** Is this IR match possible in the given context (source labels, port)? */
export function matchApplies(m: RouteMatch, ctx: RouteContext): boolean {
  if (m.port !== undefined && ctx.port !== undefined && m.port !== ctx.port) return false;
  if (m.sourceLabels) {
    const labels = ctx.sourceLabels ?? {};
    for (const [k, v] of Object.entries(m.sourceLabels)) if (labels[k] !== v) return false;
  }
  return true;
}

export function translateMatch(m: RouteMatch): EnvoyRouteMatch {
  const headers: HeaderMatcher[] = [];
  if (m.methods?.length) {
    headers.push(create(HeaderMatcherSchema, {
      name: ":method",
      headerMatchSpecifier: m.methods.length === 1
        ? { case: "stringMatch", value: stringMatcher({ exact: m.methods[0]! }) }
        : { case: "stringMatch", value: regexMatcher(`^(${m.methods.map(escapeRegex).join("|")})$`) },
    }));
  }
  if (m.authority) headers.push(headerMatcher({ name: ":authority", match: m.authority }));
  for (const h of m.headers ?? []) headers.push(headerMatcher(h));
  for (const h of m.withoutHeaders ?? []) headers.push(headerMatcher(h, true));
  return create(RouteMatchSchema, {
    pathSpecifier: pathSpecifier(m.path),
    ...(m.ignoreUriCase ? { caseSensitive: false } : {}),
    headers,
    queryParameters: (m.queryParams ?? []).map((q) => create(QueryParameterMatcherSchema, {
      name: q.name,
      queryParameterMatchSpecifier: "present" in q.match ? { case: "presentMatch", value: true } : { case: "stringMatch", value: stringMatcher(q.match) },
    })),
  });
}

function hashPolicy(h: HashPolicy) {
  if ("header" in h) return { policySpecifier: { case: "header" as const, value: { headerName: h.header } } };
  if ("cookie" in h) return { policySpecifier: { case: "cookie" as const, value: { name: h.cookie, ...(h.ttlMs !== undefined ? { ttl: duration(h.ttlMs) } : {}) } } };
  if ("queryParam" in h) return { policySpecifier: { case: "queryParameter" as const, value: { name: h.queryParam } } };
  return { policySpecifier: { case: "connectionProperties" as const, value: { sourceIp: true } } };
}

const REDIRECT_CODES: Record<number, RedirectAction_RedirectResponseCode> = {
  301: RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
  302: RedirectAction_RedirectResponseCode.FOUND,
  303: RedirectAction_RedirectResponseCode.SEE_OTHER,
  307: RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT,
  308: RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT,
};

function translateAction(a: RouteAction): EnvoyRoute["action"] {
  if (a.kind === "redirect") {
    return {
      case: "redirect",
      value: create(RedirectActionSchema, {
        ...(a.scheme ? { schemeRewriteSpecifier: { case: "schemeRedirect", value: a.scheme } } : {}),
        hostRedirect: a.host ?? "",
        portRedirect: a.port ?? 0,
        ...(a.path ? { pathRewriteSpecifier: { case: "pathRedirect", value: a.path } } : a.prefix ? { pathRewriteSpecifier: { case: "prefixRewrite", value: a.prefix } } : {}),
        responseCode: REDIRECT_CODES[a.status] ?? RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
      }),
    };
  }
  if (a.kind === "direct") {
    return {
      case: "directResponse",
      value: create(DirectResponseActionSchema, { status: a.status, ...(a.body !== undefined ? { body: { specifier: { case: "inlineString", value: a.body } } } : {}) }),
    };
  }
  const single = a.destinations.length === 1 && !a.destinations[0]!.headers && !a.destinations[0]!.responseHeaders;
  const value = create(RouteActionSchema, {
    clusterSpecifier: single
      ? { case: "cluster", value: a.destinations[0]!.cluster }
      : {
          case: "weightedClusters",
          value: {
            clusters: a.destinations.map((d) => ({
              name: d.cluster,
              weight: d.weight,
              requestHeadersToAdd: headersToAdd(d.headers),
              requestHeadersToRemove: d.headers?.remove ?? [],
              responseHeadersToAdd: headersToAdd(d.responseHeaders),
              responseHeadersToRemove: d.responseHeaders?.remove ?? [],
            })),
          },
        },
    // Istio disables the route timeout unless one is set.
    timeout: duration(a.timeoutMs ?? 0),
    ...(a.retry ? {
      retryPolicy: {
        retryOn: a.retry.retryOn.join(","),
        numRetries: a.retry.attempts,
        ...(a.retry.perTryTimeoutMs !== undefined ? { perTryTimeout: duration(a.retry.perTryTimeoutMs) } : {}),
        retriableStatusCodes: a.retry.retriableStatusCodes ?? [],
        ...(a.retry.backoff ? { retryBackOff: { baseInterval: duration(a.retry.backoff.baseMs), maxInterval: duration(a.retry.backoff.maxMs) } } : {}),
      },
    } : {}),
    requestMirrorPolicies: (a.mirror ?? []).map((m) => ({ cluster: m.cluster, runtimeFraction: { defaultValue: fractionalPercent(m.percent) } })),
    prefixRewrite: a.rewrite?.pathPrefix ?? "",
    ...(a.rewrite?.uriRegex ? { regexRewrite: { pattern: { regex: a.rewrite.uriRegex.pattern }, substitution: a.rewrite.uriRegex.substitution } } : {}),
    ...(a.rewrite?.authority ? { hostRewriteSpecifier: { case: "hostRewriteLiteral", value: a.rewrite.authority } } : {}),
    hashPolicy: (a.hashPolicy ?? []).map(hashPolicy),
  });
  return { case: "route", value };
}

export function faultConfig(f: FaultPolicy): Any {
  return anyPack(HTTPFaultSchema, create(HTTPFaultSchema, {
    ...(f.delay ? { delay: { faultDelaySecifier: { case: "fixedDelay", value: duration(f.delay.fixedMs) }, percentage: fractionalPercent(f.delay.percent) } } : {}),
    ...(f.abort ? {
      abort: {
        errorType: f.abort.grpcStatus !== undefined ? { case: "grpcStatus", value: f.abort.grpcStatus } : { case: "httpStatus", value: f.abort.httpStatus ?? 500 },
        percentage: fractionalPercent(f.abort.percent),
      },
    } : {}),
  }));
}

export function corsConfig(c: CorsPolicy): Any {
  return anyPack(CorsPolicySchema, create(CorsPolicySchema, {
    allowOriginStringMatch: c.allowOrigins.map(stringMatcher),
    allowMethods: (c.allowMethods ?? []).join(","),
    allowHeaders: (c.allowHeaders ?? []).join(","),
    exposeHeaders: (c.exposeHeaders ?? []).join(","),
    maxAge: c.maxAgeSeconds !== undefined ? String(c.maxAgeSeconds) : "",
    ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
  }));
}

/** One IR route → Envoy routes (one per applicable match block; none when no block applies). */
export function translateRoute(r: Route, ctx: RouteContext = {}): EnvoyRoute[] {
  const matches = r.match.length ? r.match : [{}];
  const applicable = matches.filter((m) => matchApplies(m, ctx));
  const perFilter: Record<string, Any> = {};
  if (r.fault) perFilter[FAULT_FILTER] = faultConfig(r.fault);
  if (r.cors) perFilter[CORS_FILTER] = corsConfig(r.cors);
  return applicable.map((m) => create(RouteSchema, {
    name: r.name ?? "",
    match: translateMatch(m),
    action: translateAction(r.action),
    typedPerFilterConfig: perFilter,
    requestHeadersToAdd: headersToAdd(r.requestHeaders),
    requestHeadersToRemove: r.requestHeaders?.remove ?? [],
    responseHeadersToAdd: headersToAdd(r.responseHeaders),
    responseHeadersToRemove: r.responseHeaders?.remove ?? [],
  }));
}

export function translateVirtualHost(vh: VirtualHost, ctx: RouteContext = {}): EnvoyVirtualHost {
  return create(VirtualHostSchema, { name: vh.name, domains: vh.domains, routes: vh.routes.flatMap((r) => translateRoute(r, ctx)) });
}

/**
 * Builds a route configuration.
 * @example
 * translateRouteConfiguration("8080", model.virtualHosts, { port: 8080 });
 */
export function translateRouteConfiguration(name: string, virtualHosts: readonly VirtualHost[], ctx: RouteContext = {}): RouteConfiguration {
  return create(RouteConfigurationSchema, { name, virtualHosts: virtualHosts.map((vh) => translateVirtualHost(vh, ctx)), validateClusters: false });
}

/** Whether any route uses a per-route fault or CORS config (the listener must then carry the filter). */
export function routeFilterNeeds(virtualHosts: readonly VirtualHost[]): { fault: boolean; cors: boolean } {
  const routes = virtualHosts.flatMap((vh) => vh.routes);
  return { fault: routes.some((r) => r.fault), cors: routes.some((r) => r.cors) };
}
