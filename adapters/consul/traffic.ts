/**
 * @module adapters/consul/traffic
 * Consul's discovery-chain entries → IR routing: each `service-router` (or a `service-splitter` or
 * `service-resolver` without a router) becomes a VirtualHost for the service, whose routes keep the
 * router's order and end with Consul's implicit catch-all to the service itself; a destination resolves
 * as Consul's chain does — through the target's splitter (nested splitters flattened, weights multiplied)
 * and resolver (`DefaultSubset`, `Redirect`) — to clusters, one per service and subset, named
 * `[<subset>.]<service>.<namespace>` (Consul's SNI order). Resolver subsets become cluster subsets when
 * their `Filter` is a conjunction of `Service.Meta.<k> == "<v>"`; anything the IR cannot carry (failover,
 * other filters, `OnlyPassing`, idle timeouts, response headers on splits, ...) goes to the loss report.
 * Weights are Consul's percentages × 100 (Envoy's total of 10000).
 */
import type { Cluster, HashPolicy, HeaderMatch, HeaderMutation, LoadBalancer, Route, RouteMatch, StringMatch, VirtualHost, WeightedDestination } from "../../core/ir/model.ts";
import { parseGoDuration } from "./fields.ts";
import type { Loss } from "./loss.ts";
import type { ServiceResolverEntry, ServiceRouterEntry, ServiceSplitterEntry } from "./schema.ts";

export interface TrafficEntries {
  routers: ServiceRouterEntry[];
  splitters: ServiceSplitterEntry[];
  resolvers: ServiceResolverEntry[];
}

/** The IR cluster name of a Consul service (and subset). */
export function clusterName(service: string, namespace = "default", subset?: string): string {
  return `${subset ? `${subset}.` : ""}${service}.${namespace}`;
}

/** `Service.Meta.k == "v" and ...` → labels; null when the filter has another shape. */
export function filterLabels(filter: string): Record<string, string> | null {
  const labels: Record<string, string> = {};
  for (const part of filter.split(/\s+and\s+/)) {
    const m = /^\s*Service\.Meta\.([A-Za-z0-9_.-]+)\s*==\s*(?:"([^"]*)"|`([^`]*)`|([A-Za-z0-9_.-]+))\s*$/.exec(part);
    if (!m) return null;
    labels[m[1]!] = m[2] ?? m[3] ?? m[4]!;
  }
  return labels;
}

function headerMutation(h: { Add?: Record<string, string>; Set?: Record<string, string>; Remove?: string[] } | null | undefined): HeaderMutation | undefined {
  if (!h) return undefined;
  const m: HeaderMutation = {};
  if (h.Add && Object.keys(h.Add).length) m.add = h.Add;
  if (h.Set && Object.keys(h.Set).length) m.set = h.Set;
  if (h.Remove?.length) m.remove = h.Remove;
  return Object.keys(m).length ? m : undefined;
}

const LB: Record<string, (r: ServiceResolverEntry) => LoadBalancer> = {
  "": () => ({ kind: "round-robin" }),
  round_robin: () => ({ kind: "round-robin" }),
  random: () => ({ kind: "random" }),
  least_request: (r) => ({ kind: "least-request", ...(r.LoadBalancer?.LeastRequestConfig?.ChoiceCount ? { choiceCount: r.LoadBalancer.LeastRequestConfig.ChoiceCount } : {}) }),
  ring_hash: (r) => ({ kind: "ring-hash", ...(r.LoadBalancer?.RingHashConfig?.MinimumRingSize ? { minRingSize: r.LoadBalancer.RingHashConfig.MinimumRingSize } : {}) }),
  maglev: () => ({ kind: "maglev" }),
};

/**
 * Converts the chain entries of a set into virtual hosts and clusters.
 * @example
 * const { virtualHosts, clusters, losses } = trafficToIr({ routers: [], splitters: [split], resolvers: [resolver] });
 */
export function trafficToIr(t: TrafficEntries): { virtualHosts: VirtualHost[]; clusters: Cluster[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const key = (name: string, ns?: string) => `${ns || "default"}/${name}`;
  const resolvers = new Map(t.resolvers.map((r) => [key(r.Name, r.Namespace), r]));
  const splitters = new Map(t.splitters.map((s) => [key(s.Name, s.Namespace), s]));
  const clusters = new Map<string, Cluster>();

  const cluster = (service: string, ns: string, subset?: string): string => {
    const name = clusterName(service, ns, subset);
    if (clusters.has(name)) return name;
    const r = resolvers.get(key(service, ns));
    const c: Cluster = { name, service: `${ns}/${service}`, protocol: "http", lb: { kind: "round-robin" }, endpoints: [], tls: { mode: "mutual", expectedIdentities: [] }, origin: { system: "consul", object: `service-resolver/${service}` } };
    if (subset) {
      const def = r?.Subsets?.[subset];
      const labels = def?.Filter ? filterLabels(def.Filter) : {};
      if (labels === null) losses.push({ object: `service-resolver/${service}`, field: `Subsets.${subset}.Filter`, reason: `filter ${JSON.stringify(def?.Filter)} is not a conjunction of Service.Meta equalities; the subset selects no labels`, kind: "approximated" });
      if (def?.OnlyPassing) losses.push({ object: `service-resolver/${service}`, field: `Subsets.${subset}.OnlyPassing`, reason: "endpoints with warning health checks are not excluded", kind: "approximated" });
      c.subset = { name: subset, labels: labels ?? {} };
    }
    if (r) {
      const policy = r.LoadBalancer?.Policy ?? "";
      if (r.LoadBalancer) c.lb = (LB[policy] ?? LB[""]!)(r);
      const ct = r.ConnectTimeout !== undefined ? parseGoDuration(r.ConnectTimeout) : null;
      if (ct !== null) c.circuitBreakers = { connectTimeoutMs: ct };
    }
    clusters.set(name, c);
    return name;
  };

  /** Weighted clusters a (service, subset) target resolves to, as Consul's chain compiler does. */
  const resolve = (service: string, ns: string, subset: string | undefined, depth: number, via: string): WeightedDestination[] => {
    if (depth > 8) {
      losses.push({ object: via, field: "", reason: `the chain through ${service} is deeper than 8 hops; cut there` });
      return [{ cluster: cluster(service, ns, subset), weight: 10_000 }];
    }
    const split = subset ? undefined : splitters.get(key(service, ns));
    if (split) {
      const out: WeightedDestination[] = [];
      (split.Splits ?? []).forEach((s, i) => {
        if (s.Weight === 0) return;
        if (s.ResponseHeaders) losses.push({ object: `service-splitter/${split.Name}`, field: `Splits[${i}].ResponseHeaders`, reason: "per-split response headers are not modelled" });
        const tsvc = s.Service || split.Name;
        // A split to the splitter's own service goes to its resolver, not back into the splitter.
        const inner = tsvc === split.Name && !s.ServiceSubset ? [{ cluster: resolveResolver(tsvc, s.Namespace || ns, undefined, depth + 1, `service-splitter/${split.Name}`), weight: 10_000 }] : resolve(tsvc, s.Namespace || ns, s.ServiceSubset, depth + 1, `service-splitter/${split.Name}`);
        const headers = headerMutation(s.RequestHeaders);
        for (const d of inner) out.push({ cluster: d.cluster, weight: Math.round((d.weight * Math.round(s.Weight * 100)) / 10_000), ...(headers ? { headers } : {}) });
      });
      return out;
    }
    return [{ cluster: resolveResolver(service, ns, subset, depth, via), weight: 10_000 }];
  };

  const resolveResolver = (service: string, ns: string, subset: string | undefined, depth: number, via: string): string => {
    const r = resolvers.get(key(service, ns));
    if (r?.Redirect) {
      const rd = r.Redirect;
      if (rd.Datacenter || rd.Peer || rd.Partition || rd.SamenessGroup) {
        losses.push({ object: `service-resolver/${service}`, field: "Redirect", reason: "redirects to another datacenter, partition, peer or sameness group are not modelled; traffic stays local" });
      } else if (depth <= 8) {
        const d = resolve(rd.Service || service, rd.Namespace || ns, rd.ServiceSubset, depth + 1, `service-resolver/${service}`);
        if (d.length === 1) return d[0]!.cluster;
      }
    }
    if (r?.Failover && Object.keys(r.Failover).length) {
      losses.push({ object: `service-resolver/${service}`, field: "Failover", reason: "failover targets are not modelled by the IR's clusters" });
    }
    return cluster(service, ns, subset ?? (r?.DefaultSubset || undefined));
  };

  const vhosts: VirtualHost[] = [];
  const catchAll = (name: string, ns: string, timeoutMs: number | null): Route => ({
    name: "default",
    match: [{ path: { prefix: "/" } }],
    action: { kind: "forward", destinations: resolve(name, ns, undefined, 0, `service-router/${name}`), ...(timeoutMs !== null ? { timeoutMs } : {}) },
    origin: { system: "consul", object: `service-router/${name}` },
  });
  const requestTimeout = (name: string, ns: string) => {
    const r = resolvers.get(key(name, ns));
    return r?.RequestTimeout !== undefined ? parseGoDuration(r.RequestTimeout) : null;
  };
  const hashPolicies = (name: string, ns: string): HashPolicy[] | undefined => {
    const hp = resolvers.get(key(name, ns))?.LoadBalancer?.HashPolicies;
    if (!hp?.length) return undefined;
    return hp.flatMap((h): HashPolicy[] => (h.SourceIP ? [{ sourceIp: true }] : h.Field === "header" ? [{ header: h.FieldValue! }] : h.Field === "cookie" ? [{ cookie: h.FieldValue!, ...(h.CookieConfig?.TTL !== undefined ? { ttlMs: parseGoDuration(h.CookieConfig.TTL) ?? 0 } : {}) }] : h.Field === "query_parameter" ? [{ queryParam: h.FieldValue! }] : []));
  };

  for (const router of t.routers) {
    const ns = router.Namespace || "default";
    const routes: Route[] = (router.Routes ?? []).map((r, i) => routeOf(router, r, i, ns, resolve, losses));
    const hp = hashPolicies(router.Name, ns);
    for (const r of routes) if (hp && r.action.kind === "forward") r.action.hashPolicy = hp;
    routes.push(catchAll(router.Name, ns, requestTimeout(router.Name, ns)));
    vhosts.push({ name: router.Name, domains: [router.Name], routes });
  }
  const routed = new Set(t.routers.map((r) => key(r.Name, r.Namespace)));
  for (const e of [...t.splitters, ...t.resolvers]) {
    const k = key(e.Name, e.Namespace);
    if (routed.has(k)) continue;
    routed.add(k);
    const route = catchAll(e.Name, e.Namespace || "default", requestTimeout(e.Name, e.Namespace || "default"));
    const hp = hashPolicies(e.Name, e.Namespace || "default");
    if (hp && route.action.kind === "forward") route.action.hashPolicy = hp;
    vhosts.push({ name: e.Name, domains: [e.Name], routes: [route] });
  }
  for (const r of t.resolvers) cluster(r.Name, r.Namespace || "default");
  const unique = [...new Map(losses.map((l) => [`${l.object}\u0000${l.field}\u0000${l.reason}`, l])).values()];
  return { virtualHosts: vhosts, clusters: [...clusters.values()], losses: unique };
}

type Resolve = (service: string, ns: string, subset: string | undefined, depth: number, via: string) => WeightedDestination[];
type RouterRoute = NonNullable<ServiceRouterEntry["Routes"]>[number];

function routeOf(router: ServiceRouterEntry, r: RouterRoute, i: number, ns: string, resolve: Resolve, losses: Loss[]): Route {
  const object = `service-router/${router.Name}`;
  const h = r.Match?.HTTP;
  const match: RouteMatch = {};
  if (h) {
    const ic = h.CaseInsensitive ? { ignoreCase: true } : {};
    if (h.PathExact) match.path = { exact: h.PathExact, ...ic };
    else if (h.PathPrefix) match.path = { prefix: h.PathPrefix, ...ic };
    else if (h.PathRegex) match.path = { regex: h.CaseInsensitive ? `(?i)${h.PathRegex}` : h.PathRegex };
    if (h.Header?.length) {
      match.headers = h.Header.map((x): HeaderMatch => {
        const m: StringMatch = x.Present ? { present: true } : x.Exact ? { exact: x.Exact } : x.Prefix ? { prefix: x.Prefix } : x.Suffix ? { suffix: x.Suffix } : { regex: x.Regex ?? "" };
        return { name: x.Name ?? "", match: m, ...(x.Invert ? { invert: true } : {}) };
      });
    }
    if (h.QueryParam?.length) match.queryParams = h.QueryParam.map((q) => ({ name: q.Name ?? "", match: q.Present ? { present: true } : q.Exact !== undefined && q.Exact !== "" ? { exact: q.Exact } : { regex: q.Regex ?? "" } }));
    if (h.Methods?.length) match.methods = h.Methods;
  }
  const d = r.Destination ?? {};
  const destinations = resolve(d.Service || router.Name, d.Namespace || ns, d.ServiceSubset, 0, object);
  const action: Extract<Route["action"], { kind: "forward" }> = { kind: "forward", destinations };
  if (d.PrefixRewrite) action.rewrite = { pathPrefix: d.PrefixRewrite };
  const timeout = d.RequestTimeout !== undefined ? parseGoDuration(d.RequestTimeout) : null;
  if (timeout) action.timeoutMs = timeout;
  if (d.IdleTimeout !== undefined) losses.push({ object, field: `Routes[${i}].Destination.IdleTimeout`, reason: "route idle timeouts are not modelled" });
  if (d.Partition) losses.push({ object, field: `Routes[${i}].Destination.Partition`, reason: "cross-partition destinations are not modelled; the local partition is used" });
  const retryOn = [...(d.RetryOnConnectFailure ? ["connect-failure"] : []), ...(d.RetryOn ?? []), ...(d.RetryOnStatusCodes?.length ? ["retriable-status-codes"] : [])];
  if (d.NumRetries || retryOn.length) {
    action.retry = { attempts: d.NumRetries ?? 1, retryOn, ...(d.RetryOnStatusCodes?.length ? { retriableStatusCodes: d.RetryOnStatusCodes } : {}) };
  }
  const route: Route = { name: `route-${i}`, match: Object.keys(match).length ? [match] : [{ path: { prefix: "/" } }], action, origin: { system: "consul", object } };
  const rq = headerMutation(d.RequestHeaders);
  const rs = headerMutation(d.ResponseHeaders);
  if (rq) route.requestHeaders = rq;
  if (rs) route.responseHeaders = rs;
  return route;
}
