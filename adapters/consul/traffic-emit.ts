/**
 * @module adapters/consul/traffic-emit
 * IR routing → Consul discovery-chain entries, with a loss report. A VirtualHost becomes a
 * `service-router` for the service it is named after; its final catch-all route becomes the service's own
 * chain (a `service-splitter` when it splits, else nothing); other routes keep their matches, and a route
 * that splits gets a splitter of its own on a synthesized service name (`<vhost>--route-<i>`, with a
 * `service-defaults` declaring it HTTP, as Consul requires). Clusters become `service-resolver` subsets
 * (labels → `Service.Meta.<k> == "<v>"` filters), load balancing and connect timeouts. Cluster names are
 * read back as `[<subset>.]<service>.<namespace>` (see `traffic.ts`).
 */
import type { Cluster, HeaderMatch, Route, RouteMatch, StringMatch, VirtualHost, WeightedDestination } from "../../core/ir/model.ts";
import { formatGoDuration } from "./fields.ts";
import type { Loss } from "./loss.ts";

type Json = Record<string, unknown>;

/** Reads a cluster name back into its Consul target, using the clusters' own subset/service fields when known. */
function targetOf(name: string, clusters: Map<string, Cluster>): { service: string; subset?: string; namespace?: string } {
  const c = clusters.get(name);
  if (c?.service) {
    const [ns, svc] = c.service.includes("/") ? c.service.split("/") as [string, string] : ["default", c.service];
    return { service: svc, ...(c.subset ? { subset: c.subset.name } : {}), ...(ns !== "default" ? { namespace: ns } : {}) };
  }
  const parts = name.split(".");
  if (parts.length === 3) return { subset: parts[0]!, service: parts[1]!, ...(parts[2] !== "default" ? { namespace: parts[2]! } : {}) };
  if (parts.length === 2) return { service: parts[0]!, ...(parts[1] !== "default" ? { namespace: parts[1]! } : {}) };
  return { service: name };
}

function stringMatchJson(m: StringMatch, object: string, field: string, losses: Loss[]): Json {
  if ("present" in m) return { Present: true };
  if ("regex" in m) return { Regex: m.regex };
  if ("ignoreCase" in m && m.ignoreCase) losses.push({ object, field, reason: "case-insensitive header matches have no Consul router form; matched case-sensitively", kind: "approximated" });
  if ("exact" in m) return { Exact: m.exact };
  if ("prefix" in m) return { Prefix: m.prefix };
  return { Suffix: m.suffix };
}

function matchJson(m: RouteMatch, object: string, field: string, losses: Loss[]): Json | null {
  const http: Json = {};
  const p = m.path;
  if (p && "template" in p) { losses.push({ object, field: `${field}.path`, reason: "URI templates have no Consul form" }); return null; }
  if (p) {
    if ("exact" in p) http.PathExact = p.exact;
    else if ("prefix" in p) { if (p.prefix !== "/") http.PathPrefix = p.prefix; }
    else if ("regex" in p) http.PathRegex = p.regex;
    else if ("suffix" in p) http.PathRegex = `.*${p.suffix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
    if ("ignoreCase" in p && p.ignoreCase) http.CaseInsensitive = true;
  }
  if (m.ignoreUriCase) http.CaseInsensitive = true;
  const headers: HeaderMatch[] = [...(m.headers ?? []), ...(m.withoutHeaders ?? []).map((h) => ({ ...h, invert: !h.invert }))];
  if (headers.length) http.Header = headers.map((h, i) => ({ Name: h.name, ...stringMatchJson(h.match, object, `${field}.headers[${i}]`, losses), ...(h.invert ? { Invert: true } : {}) }));
  if (m.queryParams?.length) {
    http.QueryParam = m.queryParams.map((q, i) => {
      const j = stringMatchJson(q.match, object, `${field}.queryParams[${i}]`, losses);
      if ("Prefix" in j || "Suffix" in j) losses.push({ object, field: `${field}.queryParams[${i}]`, reason: "Consul query matches are Present, Exact or Regex; prefix/suffix kept as a regex", kind: "approximated" });
      return { Name: q.name, ...("Prefix" in j ? { Regex: `${String(j.Prefix).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*` } : "Suffix" in j ? { Regex: `.*${String(j.Suffix).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}` } : j) };
    });
  }
  if (m.methods?.length) http.Methods = m.methods;
  for (const k of ["authority", "sourceLabels", "port"] as const) if (m[k] !== undefined) losses.push({ object, field: `${field}.${k}`, reason: `Consul routes cannot match ${k}` });
  return Object.keys(http).length ? { HTTP: http } : null;
}

const isCatchAll = (r: Route) => r.match.length === 1 && Object.keys(r.match[0]!).length === 1 && r.match[0]!.path !== undefined && "prefix" in r.match[0]!.path && r.match[0]!.path.prefix === "/";

function splitsJson(ds: WeightedDestination[], clusters: Map<string, Cluster>): Json[] {
  const total = ds.reduce((a, d) => a + d.weight, 0) || 1;
  return ds.map((d) => {
    const t = targetOf(d.cluster, clusters);
    return {
      Weight: Math.round((d.weight / total) * 10_000) / 100,
      Service: t.service, ...(t.subset ? { ServiceSubset: t.subset } : {}), ...(t.namespace ? { Namespace: t.namespace } : {}),
      ...(d.headers ? { RequestHeaders: mutationJson(d.headers) } : {}),
    };
  });
}

function mutationJson(h: Route["requestHeaders"]): Json {
  return { ...(h?.add ? { Add: h.add } : {}), ...(h?.set ? { Set: h.set } : {}), ...(h?.remove ? { Remove: h.remove } : {}) };
}

/**
 * @example
 * const { entries, losses } = routingToConsul(model.virtualHosts, model.clusters);
 */
export function routingToConsul(vhosts: readonly VirtualHost[], clusterList: readonly Cluster[]): { entries: Json[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const entries: Json[] = [];
  const clusters = new Map(clusterList.map((c) => [c.name, c]));
  for (const vh of vhosts) {
    const object = `VirtualHost/${vh.name}`;
    const routes: Json[] = [];
    vh.routes.forEach((r, i) => {
      const field = `routes[${i}]`;
      if (r.action.kind !== "forward") { losses.push({ object, field: `${field}.action`, reason: `${r.action.kind} routes have no Consul form; the route is left out` }); return; }
      for (const k of ["fault", "cors"] as const) if (r[k]) losses.push({ object, field: `${field}.${k}`, reason: `Consul routers have no ${k} settings` });
      const a = r.action;
      for (const k of ["mirror", "hashPolicy"] as const) if (a[k]) losses.push({ object, field: `${field}.action.${k}`, reason: `Consul routes have no ${k}` });
      if (a.rewrite?.uriRegex || a.rewrite?.authority) losses.push({ object, field: `${field}.action.rewrite`, reason: "only prefix rewrites have a Consul form" });
      if (i === vh.routes.length - 1 && isCatchAll(r) && a.destinations.length > 1) {
        entries.push({ Kind: "service-splitter", Name: vh.name, Splits: splitsJson(a.destinations, clusters) });
        return;
      }
      if (i === vh.routes.length - 1 && isCatchAll(r) && a.destinations.length === 1 && targetOf(a.destinations[0]!.cluster, clusters).service === vh.name && !a.timeoutMs && !a.retry && !a.rewrite && !r.requestHeaders && !r.responseHeaders) return;
      const dest: Json = {};
      if (a.destinations.length > 1) {
        const synth = `${vh.name}--route-${i}`;
        entries.push({ Kind: "service-defaults", Name: synth, Protocol: "http" }, { Kind: "service-splitter", Name: synth, Splits: splitsJson(a.destinations, clusters) });
        losses.push({ object, field: `${field}.action.destinations`, reason: `Consul splits per service: this route's split lives on the synthesized service ${synth}`, kind: "approximated" });
        dest.Service = synth;
      } else if (a.destinations.length === 1) {
        const t = targetOf(a.destinations[0]!.cluster, clusters);
        dest.Service = t.service;
        if (t.subset) dest.ServiceSubset = t.subset;
        if (t.namespace) dest.Namespace = t.namespace;
        if (a.destinations[0]!.headers) losses.push({ object, field: `${field}.action.destinations[0].headers`, reason: "per-destination headers of a single destination are not kept; use route headers" });
      }
      if (a.rewrite?.pathPrefix) dest.PrefixRewrite = a.rewrite.pathPrefix;
      if (a.timeoutMs) dest.RequestTimeout = formatGoDuration(a.timeoutMs);
      if (a.retry) {
        dest.NumRetries = a.retry.attempts;
        const on = a.retry.retryOn.filter((x) => x !== "connect-failure" && x !== "retriable-status-codes");
        if (a.retry.retryOn.includes("connect-failure")) dest.RetryOnConnectFailure = true;
        if (on.length) dest.RetryOn = on;
        if (a.retry.retriableStatusCodes?.length) dest.RetryOnStatusCodes = a.retry.retriableStatusCodes;
        if (a.retry.perTryTimeoutMs || a.retry.backoff || a.retry.budget) losses.push({ object, field: `${field}.action.retry`, reason: "per-try timeouts, backoff and budgets have no Consul form" });
      }
      if (r.requestHeaders) dest.RequestHeaders = mutationJson(r.requestHeaders);
      if (r.responseHeaders) dest.ResponseHeaders = mutationJson(r.responseHeaders);
      const matches = r.match.length ? r.match : [{}];
      matches.forEach((m, j) => {
        const mj = matchJson(m, object, `${field}.match[${j}]`, losses);
        routes.push({ ...(mj ? { Match: mj } : {}), Destination: dest });
      });
    });
    if (routes.length) entries.push({ Kind: "service-router", Name: vh.name, Routes: routes });
  }
  const byService = new Map<string, Cluster[]>();
  for (const c of clusterList) {
    const t = targetOf(c.name, clusters);
    const k = `${t.namespace ?? "default"}/${t.service}`;
    byService.set(k, [...(byService.get(k) ?? []), c]);
  }
  for (const [k, cs] of byService) {
    const [ns, service] = k.split("/") as [string, string];
    const r: Json = { Kind: "service-resolver", Name: service, ...(ns !== "default" ? { Namespace: ns } : {}) };
    const subsets: Json = {};
    for (const c of cs) {
      const object = `Cluster/${c.name}`;
      if (c.subset) subsets[c.subset.name] = { Filter: Object.entries(c.subset.labels).map(([lk, lv]) => `Service.Meta.${lk} == ${JSON.stringify(lv)}`).join(" and ") };
      if (c.outlierDetection) losses.push({ object, field: "outlierDetection", reason: "outlier detection is set per upstream in service-defaults UpstreamConfig.PassiveHealthCheck; not emitted" });
      if (c.circuitBreakers && Object.keys(c.circuitBreakers).some((x) => x !== "connectTimeoutMs")) losses.push({ object, field: "circuitBreakers", reason: "limits are set per upstream in service-defaults UpstreamConfig.Limits; not emitted" });
      if (c.healthChecks?.length) losses.push({ object, field: "healthChecks", reason: "Consul health checks belong to service registrations, not config entries" });
      if (c.tls.mode !== "mutual") losses.push({ object, field: "tls", reason: "Consul mesh traffic is always mutual TLS" });
      if (c.circuitBreakers?.connectTimeoutMs) r.ConnectTimeout = formatGoDuration(c.circuitBreakers.connectTimeoutMs);
      const lb = c.lb;
      if (lb.kind !== "round-robin") {
        r.LoadBalancer = lb.kind === "least-request" ? { Policy: "least_request", ...(lb.choiceCount ? { LeastRequestConfig: { ChoiceCount: lb.choiceCount } } : {}) }
          : lb.kind === "ring-hash" ? { Policy: "ring_hash", ...(lb.minRingSize ? { RingHashConfig: { MinimumRingSize: lb.minRingSize } } : {}) }
          : { Policy: lb.kind };
      }
    }
    if (Object.keys(subsets).length) r.Subsets = subsets;
    if (Object.keys(r).length > 2 + (ns !== "default" ? 1 : 0)) entries.push(r);
  }
  return { entries, losses };
}
