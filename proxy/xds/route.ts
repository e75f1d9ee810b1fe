/**
 * @module proxy/xds/route
 * Envoy `RouteConfiguration` (RDS, or inline in an HTTP connection manager) → a weft route config of IR
 * virtual hosts and routes. Matches, forward actions (cluster or weighted clusters, timeout, retries,
 * mirrors, rewrites, hash policies), redirects and direct responses map one to one. What Envoy keeps on
 * routes for HTTP filters (`typed_per_filter_config`, CORS policies, header mutations at route, virtual
 * host and route-config level) is collected per route name, so the listener's filters can be given
 * per-route config when the whole config is assembled. Every route gets a name unique in its route
 * config (Envoy's, or `<virtual host>/<index>`), since weft filters key per-route config by name.
 */
import type { Any } from "@bufbuild/protobuf/wkt";
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOption } from "../../gen/proto/envoy/config/core/v3/base_pb.ts";
import { RouteConfigurationSchema, type RouteConfiguration } from "../../gen/proto/envoy/config/route/v3/route_pb.ts";
import {
  RedirectAction_RedirectResponseCode, RouteActionSchema, RouteMatchSchema, RouteSchema, VirtualHost_TlsRequirementType, VirtualHostSchema,
  type CorsPolicy, type HeaderMatcher, type RetryPolicy as EnvoyRetryPolicy, type Route as EnvoyRoute, type RouteAction as EnvoyRouteAction, type RouteMatch as EnvoyRouteMatch,
  type VirtualHost as EnvoyVirtualHost,
} from "../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import { FractionalPercent_DenominatorType, type FractionalPercent } from "../../gen/proto/envoy/type/v3/percent_pb.ts";
import { UriTemplateMatchConfigSchema } from "../../gen/proto/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.ts";
import type { HashPolicy, HeaderMatch, RetryPolicy, Route, RouteAction, RouteMatch, StringMatch, VirtualHost, WeightedDestination } from "../../core/ir/model.ts";
import type { RouteConfig } from "../config/types.ts";
import { durationMs, escapeRegex, reportUnhandled, stringMatch, unpack } from "./common.ts";
import { joinPath, type IssueSink } from "./issues.ts";

/** Header changes in the shape of weft's `header-mutation` filter. */
export interface Mutation {
  remove?: string[];
  set?: Record<string, string>;
  add?: Record<string, string[]>;
}

/** What a translated route config carries besides the routes themselves, by weft route name. */
export interface RouteDraft {
  config: RouteConfig;
  /** Envoy HTTP filter name → weft route name → that filter's per-route config (most specific wins). */
  perFilter: Map<string, Map<string, Any>>;
  /** weft route name → the deprecated `cors` policy of the route or its virtual host. */
  cors: Map<string, CorsPolicy>;
  /** weft route name → request and response header changes (route config, then virtual host, then route). */
  headers: Map<string, { request?: Mutation; response?: Mutation }>;
}

/** `FractionalPercent` as a percentage 0–100. */
export function percentOf(p: FractionalPercent | undefined, fallback = 100): number {
  if (!p) return fallback;
  const denom = p.denominator === FractionalPercent_DenominatorType.TEN_THOUSAND ? 10_000 : p.denominator === FractionalPercent_DenominatorType.MILLION ? 1_000_000 : 100;
  return Math.min(100, (p.numerator * 100) / denom);
}

function mutation(add: HeaderValueOption[], remove: string[], issues: IssueSink, path: string): Mutation | undefined {
  const m: Mutation = {};
  if (remove.length) m.remove = remove.map((h) => h.toLowerCase());
  add.forEach((o, i) => {
    const key = o.header?.key.toLowerCase();
    if (!key) return;
    const value = o.header?.value ?? "";
    let append: boolean;
    if (o.append !== undefined) append = o.append;
    else if (o.appendAction === HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD) append = true;
    else if (o.appendAction === HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD) append = false;
    else {
      issues.ignored(joinPath(path, `[${i}].append_action`), "only APPEND_IF_EXISTS_OR_ADD and OVERWRITE_IF_EXISTS_OR_ADD are supported; treated as overwrite");
      append = false;
    }
    if (append) ((m.add ??= {})[key] ??= []).push(value);
    else (m.set ??= {})[key] = value;
  });
  return m.remove || m.set || m.add ? m : undefined;
}

function mergeMutation(a: Mutation | undefined, b: Mutation | undefined): Mutation | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: Mutation = {};
  const remove = [...(a.remove ?? []), ...(b.remove ?? [])];
  if (remove.length) out.remove = remove;
  if (a.set || b.set) out.set = { ...a.set, ...b.set };
  if (a.add || b.add) {
    out.add = { ...a.add };
    for (const [k, v] of Object.entries(b.add ?? {})) out.add[k] = [...(out.add[k] ?? []), ...v];
  }
  return out;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function headerMatch(h: HeaderMatcher, issues: IssueSink, path: string): HeaderMatch | undefined {
  const s = h.headerMatchSpecifier;
  let match: StringMatch | undefined;
  switch (s.case) {
    case "exactMatch": match = { exact: s.value }; break;
    case "prefixMatch": match = { prefix: s.value }; break;
    case "suffixMatch": match = { suffix: s.value }; break;
    case "containsMatch": match = { regex: `.*${escapeRegex(s.value)}.*` }; break;
    case "safeRegexMatch": match = { regex: s.value.regex }; break;
    case "stringMatch": match = stringMatch(s.value, issues, joinPath(path, "string_match")); break;
    case "presentMatch":
      if (s.value) match = { present: true };
      else return { name: h.name.toLowerCase(), match: { present: true }, invert: !h.invertMatch };
      break;
    case undefined: match = { present: true }; break;
    default:
      issues.error(path, `header match ${s.case} is not supported`);
      return undefined;
  }
  if (!match) return undefined;
  if (h.treatMissingHeaderAsEmpty) issues.ignored(joinPath(path, "treat_missing_header_as_empty"), "not supported by weft; ignored");
  return { name: h.name.toLowerCase(), match, ...(h.invertMatch ? { invert: true } : {}) };
}

/** `^(GET|POST)$`, `GET|POST` or `GET` as method names, or undefined. */
function methodsOf(m: StringMatch): string[] | undefined {
  if ("exact" in m && !m.ignoreCase) return [m.exact];
  if ("regex" in m) {
    const body = /^\^?\(?([A-Z|]+)\)?\$?$/.exec(m.regex)?.[1];
    if (body) return body.split("|").filter(Boolean);
  }
  return undefined;
}

function translateMatch(m: EnvoyRouteMatch | undefined, issues: IssueSink, path: string): RouteMatch | undefined {
  if (!m) return { path: { prefix: "/" } };
  reportUnhandled(RouteMatchSchema, m, ["prefix", "path", "safe_regex", "path_separated_prefix", "path_match_policy", "case_sensitive", "headers", "query_parameters"], issues, path,
    ["connect_matcher", "runtime_fraction", "grpc", "tls_context", "dynamic_metadata"]);
  const ic = m.caseSensitive === false;
  const out: RouteMatch = {};
  const p = m.pathSpecifier;
  switch (p.case) {
    case "prefix": out.path = { prefix: p.value, ...(ic ? { ignoreCase: true } : {}) }; break;
    case "path": out.path = { exact: p.value, ...(ic ? { ignoreCase: true } : {}) }; break;
    case "safeRegex": out.path = { regex: p.value.regex }; break;
    case "pathSeparatedPrefix": out.path = { regex: `${escapeRegex(p.value)}(?:[/?#].*)?` }; break;
    case "pathMatchPolicy": {
      const cfg = unpack(p.value.typedConfig, UriTemplateMatchConfigSchema, issues, joinPath(path, "path_match_policy.typed_config"));
      if (cfg) out.path = { template: cfg.pathTemplate };
      break;
    }
    default: if (p.case !== undefined) issues.error(path, `path match ${p.case} is not supported`);
  }
  if (ic) {
    out.ignoreUriCase = true;
    if (p.case === "safeRegex") issues.ignored(joinPath(path, "case_sensitive"), "case-insensitive regex paths are matched case-sensitively");
  }
  const headers: HeaderMatch[] = [];
  const without: HeaderMatch[] = [];
  m.headers.forEach((h, i) => {
    const hp = joinPath(path, `headers[${i}]`);
    const hm = headerMatch(h, issues, hp);
    if (!hm) return;
    if (hm.name === ":method" && !hm.invert) {
      const methods = methodsOf(hm.match);
      if (methods) out.methods = out.methods ? out.methods.filter((x) => methods.includes(x)) : methods;
      else issues.error(hp, "a :method match must be exact or a list of methods (^(A|B)$)");
      return;
    }
    if (hm.name.startsWith(":") || !HEADER_NAME.test(hm.name)) {
      issues.error(hp, `matching on ${hm.name} is not supported`);
      return;
    }
    if (hm.invert) without.push({ name: hm.name, match: hm.match });
    else headers.push(hm);
  });
  if (headers.length) out.headers = headers;
  if (without.length) out.withoutHeaders = without;
  const qps: { name: string; match: StringMatch }[] = [];
  m.queryParameters.forEach((q, i) => {
    const s = q.queryParameterMatchSpecifier;
    if (s.case === "presentMatch") qps.push({ name: q.name, match: { present: true } });
    else if (s.case === "stringMatch") {
      const sm = stringMatch(s.value, issues, joinPath(path, `query_parameters[${i}].string_match`));
      if (sm) qps.push({ name: q.name, match: sm });
    } else issues.error(joinPath(path, `query_parameters[${i}]`), "a query parameter match needs string_match or present_match");
  });
  if (qps.length) out.queryParams = qps;
  return out;
}

function retryPolicy(r: EnvoyRetryPolicy, issues: IssueSink, path: string): RetryPolicy {
  const base = durationMs(r.retryBackOff?.baseInterval) ?? 25;
  const out: RetryPolicy = {
    attempts: r.numRetries ?? 1,
    retryOn: r.retryOn.split(",").map((x) => x.trim()).filter(Boolean),
    backoff: { baseMs: base, maxMs: durationMs(r.retryBackOff?.maxInterval) ?? base * 10 },
  };
  const perTry = durationMs(r.perTryTimeout);
  if (perTry !== undefined) out.perTryTimeoutMs = perTry;
  if (r.retriableStatusCodes.length) out.retriableStatusCodes = [...r.retriableStatusCodes];
  r.retryHostPredicate.forEach((p, i) => {
    if (p.name === "envoy.retry_host_predicates.previous_hosts") out.ignorePreviousHosts = true;
    else issues.ignored(joinPath(path, `retry_host_predicate[${i}]`), `retry host predicate ${p.name} is not supported; ignored`);
  });
  if (r.retryPriority) issues.ignored(joinPath(path, "retry_priority"), "not supported by weft; ignored");
  return out;
}

function hashPolicies(a: EnvoyRouteAction, issues: IssueSink, path: string): HashPolicy[] {
  const out: HashPolicy[] = [];
  a.hashPolicy.forEach((h, i) => {
    const s = h.policySpecifier;
    if (s.case === "header") out.push({ header: s.value.headerName.toLowerCase() });
    else if (s.case === "cookie") out.push({ cookie: s.value.name, ...(s.value.ttl ? { ttlMs: durationMs(s.value.ttl)! } : {}), ...(s.value.path ? { path: s.value.path } : {}) });
    else if (s.case === "connectionProperties" && s.value.sourceIp) out.push({ sourceIp: true });
    else if (s.case === "queryParameter") out.push({ queryParam: s.value.name });
    else issues.ignored(joinPath(path, `hash_policy[${i}]`), `hash policy ${s.case ?? "(empty)"} is not supported; ignored`);
  });
  return out;
}

function forwardAction(a: EnvoyRouteAction, vhRetry: EnvoyRetryPolicy | undefined, issues: IssueSink, path: string): RouteAction | undefined {
  reportUnhandled(RouteActionSchema, a, ["cluster", "weighted_clusters", "prefix_rewrite", "regex_rewrite", "host_rewrite_literal", "timeout", "retry_policy", "request_mirror_policies", "hash_policy", "cors", "upgrade_configs", "max_grpc_timeout"], issues, path,
    ["cluster_header", "cluster_specifier_plugin", "inline_cluster_specifier_plugin", "metadata_match", "path_rewrite_policy"]);
  const c = a.clusterSpecifier;
  let destinations: WeightedDestination[];
  if (c.case === "cluster") destinations = [{ cluster: c.value, weight: 1 }];
  else if (c.case === "weightedClusters") {
    destinations = c.value.clusters.map((w, i) => {
      const wp = joinPath(path, `weighted_clusters.clusters[${i}]`);
      if (w.clusterHeader) issues.error(joinPath(wp, "cluster_header"), "not supported by weft");
      if (w.requestHeadersToAdd.length || w.responseHeadersToAdd.length || w.requestHeadersToRemove.length || w.responseHeadersToRemove.length) {
        issues.ignored(wp, "per-cluster header changes are not supported; ignored");
      }
      if (Object.keys(w.typedPerFilterConfig).length) issues.ignored(joinPath(wp, "typed_per_filter_config"), "per-cluster filter config is not supported; ignored");
      return { cluster: w.name, weight: w.weight ?? 0 };
    });
    if (destinations.length === 0 || destinations.every((d) => d.weight === 0)) issues.error(joinPath(path, "weighted_clusters"), "no cluster with a weight above 0");
  } else return undefined; // reported above
  const out: RouteAction & { kind: "forward" } = { kind: "forward", destinations };
  const timeout = durationMs(a.timeout);
  if (timeout !== undefined) out.timeoutMs = timeout;
  const rp = a.retryPolicy ?? vhRetry;
  if (rp) out.retry = retryPolicy(rp, issues, joinPath(path, "retry_policy"));
  if (a.requestMirrorPolicies.length) {
    out.mirror = a.requestMirrorPolicies.map((m) => ({ cluster: m.cluster, percent: percentOf(m.runtimeFraction?.defaultValue) }));
  }
  const rewrite: NonNullable<(RouteAction & { kind: "forward" })["rewrite"]> = {};
  if (a.prefixRewrite) rewrite.pathPrefix = a.prefixRewrite;
  if (a.regexRewrite) rewrite.uriRegex = { pattern: a.regexRewrite.pattern?.regex ?? "", substitution: a.regexRewrite.substitution.replace(/\\(\d)/g, "$$$1") };
  if (a.hostRewriteSpecifier.case === "hostRewriteLiteral") rewrite.authority = a.hostRewriteSpecifier.value;
  else if (a.hostRewriteSpecifier.case !== undefined) issues.ignored(joinPath(path, "host_rewrite_specifier"), `${a.hostRewriteSpecifier.case} is not supported; ignored`);
  if (Object.keys(rewrite).length) out.rewrite = rewrite;
  const hp = hashPolicies(a, issues, path);
  if (hp.length) out.hashPolicy = hp;
  return out;
}

const REDIRECT_STATUS: Record<number, number> = {
  [RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY]: 301,
  [RedirectAction_RedirectResponseCode.FOUND]: 302,
  [RedirectAction_RedirectResponseCode.SEE_OTHER]: 303,
  [RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT]: 307,
  [RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT]: 308,
};

function action(r: EnvoyRoute, vh: EnvoyVirtualHost, issues: IssueSink, path: string): RouteAction | undefined {
  const a = r.action;
  switch (a.case) {
    case "route": return forwardAction(a.value, vh.retryPolicy, issues, joinPath(path, "route"));
    case "redirect": {
      const v = a.value;
      const out: RouteAction = { kind: "redirect", status: REDIRECT_STATUS[v.responseCode] ?? 301 };
      if (v.schemeRewriteSpecifier.case === "httpsRedirect" && v.schemeRewriteSpecifier.value) out.scheme = "https";
      if (v.schemeRewriteSpecifier.case === "schemeRedirect") out.scheme = v.schemeRewriteSpecifier.value;
      if (v.hostRedirect) out.host = v.hostRedirect;
      if (v.portRedirect) out.port = v.portRedirect;
      if (v.pathRewriteSpecifier.case === "pathRedirect") out.path = v.pathRewriteSpecifier.value;
      else if (v.pathRewriteSpecifier.case === "prefixRewrite") out.prefix = v.pathRewriteSpecifier.value;
      else if (v.pathRewriteSpecifier.case !== undefined) issues.error(joinPath(path, "redirect"), `${v.pathRewriteSpecifier.case} is not supported`);
      if (v.stripQuery) issues.ignored(joinPath(path, "redirect.strip_query"), "not supported by weft; ignored");
      return out;
    }
    case "directResponse": {
      const body = a.value.body?.specifier;
      const text = body?.case === "inlineString" ? body.value : body?.case === "inlineBytes" ? new TextDecoder().decode(body.value) : undefined;
      if (body && text === undefined) issues.error(joinPath(path, "direct_response.body"), "only inline bodies are supported");
      return { kind: "direct", status: a.value.status, ...(text !== undefined ? { body: text } : {}) };
    }
    default:
      issues.error(path, `route action ${a.case ?? "(none)"} is not supported`);
      return undefined;
  }
}

/**
 * Translates a route configuration (its problems go to `issues`, paths relative to `base`).
 * @example
 * const draft = translateRouteConfiguration(rc, createIssueSink("RouteConfiguration", rc.name));
 */
export function translateRouteConfiguration(rc: RouteConfiguration, issues: IssueSink, base = "", name = rc.name): RouteDraft {
  reportUnhandled(RouteConfigurationSchema, rc, ["name", "virtual_hosts", "validate_clusters", "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove", "typed_per_filter_config"], issues, base, ["vhds", "cluster_specifier_plugins"]);
  const draft: RouteDraft = { config: { name, virtualHosts: [] }, perFilter: new Map(), cors: new Map(), headers: new Map() };
  const rcReq = mutation(rc.requestHeadersToAdd, rc.requestHeadersToRemove, issues, joinPath(base, "request_headers_to_add"));
  const rcRes = mutation(rc.responseHeadersToAdd, rc.responseHeadersToRemove, issues, joinPath(base, "response_headers_to_add"));
  const names = new Map<string, number>();
  for (const vh of rc.virtualHosts) for (const r of vh.routes) if (r.name) names.set(r.name, (names.get(r.name) ?? 0) + 1);
  rc.virtualHosts.forEach((vh, vi) => {
    const vp = joinPath(base, `virtual_hosts[${vi}]`);
    reportUnhandled(VirtualHostSchema, vh, ["name", "domains", "routes", "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove", "cors", "typed_per_filter_config", "retry_policy"], issues, vp,
      ["matcher", "require_tls"]);
    if (vh.requireTls !== VirtualHost_TlsRequirementType.NONE) issues.error(joinPath(vp, "require_tls"), "not supported by weft");
    const vhReq = mergeMutation(rcReq, mutation(vh.requestHeadersToAdd, vh.requestHeadersToRemove, issues, joinPath(vp, "request_headers_to_add")));
    const vhRes = mergeMutation(rcRes, mutation(vh.responseHeadersToAdd, vh.responseHeadersToRemove, issues, joinPath(vp, "response_headers_to_add")));
    const routes: Route[] = [];
    vh.routes.forEach((r, ri) => {
      const rp = joinPath(vp, `routes[${ri}]`);
      reportUnhandled(RouteSchema, r, ["name", "match", "route", "redirect", "direct_response", "typed_per_filter_config", "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove", "decorator", "metadata"], issues, rp,
        ["filter_action", "non_forwarding_action"]);
      const routeName = r.name && names.get(r.name) === 1 ? r.name : r.name ? `${vh.name}/${r.name}` : `${vh.name}/${ri}`;
      const match = translateMatch(r.match, issues, joinPath(rp, "match"));
      const act = action(r, vh, issues, rp);
      if (!match || !act) return;
      routes.push({ name: routeName, match: [match], action: act });
      for (const [filter, cfg] of [...Object.entries(rc.typedPerFilterConfig), ...Object.entries(vh.typedPerFilterConfig), ...Object.entries(r.typedPerFilterConfig)]) {
        let m = draft.perFilter.get(filter);
        if (!m) draft.perFilter.set(filter, (m = new Map()));
        m.set(routeName, cfg);
      }
      const cors = (r.action.case === "route" ? r.action.value.cors : undefined) ?? vh.cors;
      if (cors) draft.cors.set(routeName, cors);
      const req = mergeMutation(vhReq, mutation(r.requestHeadersToAdd, r.requestHeadersToRemove, issues, joinPath(rp, "request_headers_to_add")));
      const res = mergeMutation(vhRes, mutation(r.responseHeadersToAdd, r.responseHeadersToRemove, issues, joinPath(rp, "response_headers_to_add")));
      if (req || res) draft.headers.set(routeName, { ...(req ? { request: req } : {}), ...(res ? { response: res } : {}) });
    });
    const vhOut: VirtualHost = { name: vh.name, domains: vh.domains.length ? [...vh.domains] : ["*"], routes };
    draft.config.virtualHosts.push(vhOut);
  });
  return draft;
}
