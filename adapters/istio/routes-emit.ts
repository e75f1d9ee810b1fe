/**
 * @module adapters/istio/routes-emit
 * IR virtual host → Istio VirtualService, the inverse of `routes.ts`. Defaults Istio applies anyway are
 * left out (a catch-all match, Istio's default retries, a 301 redirect, a 100% mirror), so what comes
 * back from a round trip reads like what went in. Clusters that follow Istio's naming convention become
 * destinations with host, port and subset; IR meanings Istio cannot say (path templates, suffix matches
 * outside regexes, redirect prefixes, retry budgets, ...) are reported as losses.
 */
import type {
  CorsPolicy, HeaderMatch, HeaderMutation, L4Route, RetryPolicy, Route, RouteMatch, StringMatch, VirtualHost, WeightedDestination,
} from "../../core/ir/model.ts";
import { createLossSink, type Loss, type LossSink } from "./loss.ts";
import { compact, goDuration, GRPC_STATUS, nameOf, parseClusterName, safeName, type IstioOptions } from "./names.ts";
import { ISTIO_DEFAULT_RETRY_ATTEMPTS, ISTIO_DEFAULT_RETRY_ON } from "./routes.ts";

type Obj = Record<string, unknown>;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** IR string match → Istio `StringMatch`; `presence` is `{}` where Istio allows it (headers, query). */
export function stringMatchToIstio(m: StringMatch, field: string, loss: LossSink): Obj {
  if ("present" in m) return {};
  if ("regex" in m) return { regex: m.regex };
  const ci = "ignoreCase" in m && m.ignoreCase;
  if ("exact" in m && !ci) return { exact: m.exact };
  if ("prefix" in m && !ci) return { prefix: m.prefix };
  const value = "exact" in m ? m.exact : "prefix" in m ? m.prefix : m.suffix;
  const body = "exact" in m ? escapeRe(value) : "prefix" in m ? `${escapeRe(value)}.*` : `.*${escapeRe(value)}`;
  if (!ci) return { regex: body };
  loss.approximated(field, "a case-insensitive match becomes an RE2 regex with (?i)");
  return { regex: `(?i)${body}` };
}

function headerMapToIstio(list: HeaderMatch[] | undefined, field: string, loss: LossSink): Obj | undefined {
  if (!list?.length) return undefined;
  const out: Obj = {};
  for (const h of list) {
    if (h.name in out) loss.lost(`${field}.${h.name}`, "Istio takes one matcher per header name; the later one is dropped");
    else out[h.name] = stringMatchToIstio(h.match, `${field}.${h.name}`, loss);
  }
  return out;
}

function headerOps(h: HeaderMutation | undefined): Obj | undefined {
  if (!h) return undefined;
  const out = compact({ set: h.set && Object.keys(h.set).length ? h.set : undefined, add: h.add && Object.keys(h.add).length ? h.add : undefined, remove: h.remove?.length ? h.remove : undefined });
  return Object.keys(out).length ? out : undefined;
}

function headersBlock(req: HeaderMutation | undefined, res: HeaderMutation | undefined): Obj | undefined {
  const out = compact({ request: headerOps(req), response: headerOps(res) });
  return Object.keys(out).length ? out : undefined;
}

/** An IR cluster name → Istio `Destination`; names outside Istio's convention are used as hosts, reported. */
export function destinationOf(cluster: string, field: string, loss: LossSink): Obj {
  const key = parseClusterName(cluster);
  if (!key) {
    loss.approximated(field, `cluster ${cluster} does not follow Istio's outbound|<port>|<subset>|<host> naming; its name is used as the host`);
    return { host: cluster };
  }
  return compact({ host: key.host, subset: key.subset, port: key.port ? { number: key.port } : undefined });
}

function matchToIstio(m: RouteMatch, at: string, loss: LossSink): Obj {
  const out: Obj = {};
  if (m.name) out.name = m.name;
  let ignoreCase = m.ignoreUriCase ?? false;
  if (m.path) {
    if ("template" in m.path) loss.lost(`${at}.path`, "Istio VirtualServices have no path templates");
    else if (!("present" in m.path)) {
      const p = m.path;
      if ("ignoreCase" in p && p.ignoreCase && !("suffix" in p)) {
        ignoreCase = true;
        out.uri = "exact" in p ? { exact: p.exact } : { prefix: (p as { prefix: string }).prefix };
      } else out.uri = stringMatchToIstio(p, `${at}.path`, loss);
    }
  }
  if (ignoreCase) out.ignoreUriCase = true;
  if (m.scheme) out.scheme = stringMatchToIstio(m.scheme, `${at}.scheme`, loss);
  if (m.methods?.length === 1) out.method = { exact: m.methods[0] };
  else if (m.methods && m.methods.length > 1) out.method = { regex: m.methods.map(escapeRe).join("|") };
  if (m.authority) out.authority = stringMatchToIstio(m.authority, `${at}.authority`, loss);
  const positive = (m.headers ?? []).filter((h) => !h.invert);
  const negative = [...(m.headers ?? []).filter((h) => h.invert), ...(m.withoutHeaders ?? [])];
  const headers = headerMapToIstio(positive, `${at}.headers`, loss);
  if (headers) out.headers = headers;
  const without = headerMapToIstio(negative, `${at}.withoutHeaders`, loss);
  if (without) out.withoutHeaders = without;
  if (m.queryParams?.length) {
    const q: Obj = {};
    for (const p of m.queryParams) q[p.name] = stringMatchToIstio(p.match, `${at}.queryParams.${p.name}`, loss);
    out.queryParams = q;
  }
  if (m.port) out.port = m.port;
  if (m.sourceLabels && Object.keys(m.sourceLabels).length) out.sourceLabels = m.sourceLabels;
  if (m.sourceNamespace) out.sourceNamespace = m.sourceNamespace;
  if (m.gateways?.length) out.gateways = m.gateways;
  return out;
}

function isDefaultRetry(r: RetryPolicy): boolean {
  return r.attempts === ISTIO_DEFAULT_RETRY_ATTEMPTS && r.retryOn.length === ISTIO_DEFAULT_RETRY_ON.length && r.retryOn.every((x) => ISTIO_DEFAULT_RETRY_ON.includes(x))
    && !r.retriableStatusCodes?.length && r.perTryTimeoutMs === undefined && !r.backoff && !r.budget && r.ignorePreviousHosts === true && !r.remoteLocalities;
}

function retryToIstio(r: RetryPolicy | undefined, at: string, loss: LossSink): Obj | undefined {
  if (!r || r.attempts <= 0) return { attempts: 0 };
  if (isDefaultRetry(r)) return undefined;
  const on = [...r.retryOn, ...(r.retriableStatusCodes ?? []).map(String)];
  if (r.budget) loss.lost(`${at}.budget`, "Istio sets retry budgets per destination (DestinationRule trafficPolicy.retryBudget), not per route");
  if (r.backoff && r.backoff.maxMs !== r.backoff.baseMs * 10) loss.approximated(`${at}.backoff.maxMs`, "Istio sets only the base interval; the maximum becomes 10× the base");
  return compact({
    attempts: r.attempts,
    retryOn: on.length ? on.join(",") : undefined,
    perTryTimeout: r.perTryTimeoutMs !== undefined ? goDuration(r.perTryTimeoutMs) : undefined,
    backoff: r.backoff ? goDuration(r.backoff.baseMs) : undefined,
    retryIgnorePreviousHosts: r.ignorePreviousHosts ? undefined : false,
    retryRemoteLocalities: r.remoteLocalities ? true : undefined,
  });
}

function corsToIstio(c: CorsPolicy, at: string, loss: LossSink): Obj {
  return compact({
    allowOrigins: c.allowOrigins.map((o, i) => ("present" in o ? { regex: ".*" } : stringMatchToIstio(o, `${at}.allowOrigins[${i}]`, loss))),
    allowMethods: c.allowMethods?.length ? c.allowMethods : undefined,
    allowHeaders: c.allowHeaders?.length ? c.allowHeaders : undefined,
    exposeHeaders: c.exposeHeaders?.length ? c.exposeHeaders : undefined,
    maxAge: c.maxAgeSeconds !== undefined ? `${c.maxAgeSeconds}s` : undefined,
    allowCredentials: c.allowCredentials,
    unmatchedPreflights: c.unmatchedPreflights ? c.unmatchedPreflights.toUpperCase() : undefined,
  });
}

function destinationsToIstio(ds: WeightedDestination[], at: string, loss: LossSink): Obj[] {
  return ds.map((d, i) => compact({
    destination: destinationOf(d.cluster, `${at}[${i}].cluster`, loss),
    weight: ds.length === 1 ? undefined : d.weight,
    headers: headersBlock(d.headers, d.responseHeaders),
  }));
}

const percentage = (p: number) => (p === 100 ? undefined : { value: p });

function routeToIstio(r: Route, at: string, loss: LossSink): Obj | null {
  const out: Obj = {};
  if (r.name) out.name = r.name;
  const matches = r.match.filter((m) => Object.keys(m).length > 0);
  if (r.match.length === 0) loss.lost(`${at}.match`, "a route with no matches never applies; Istio has no such route, so it is left out");
  if (r.match.length === 0) return null;
  if (matches.length === r.match.length) out.match = matches.map((m, i) => matchToIstio(m, `${at}.match[${i}]`, loss));
  const a = r.action;
  let responseHeaders = r.responseHeaders;
  if (r.delegate) out.delegate = compact({ name: r.delegate.name, namespace: r.delegate.namespace });
  else if (a.kind === "redirect") {
    if (a.prefix !== undefined) loss.lost(`${at}.action.prefix`, "Istio redirects replace the whole path (uri); a prefix redirect cannot be said");
    out.redirect = compact({
      uri: a.path, authority: a.host, port: a.port, scheme: a.scheme,
      derivePort: a.derivePort === "from-request-port" ? "FROM_REQUEST_PORT" : a.derivePort === "from-protocol-default" ? "FROM_PROTOCOL_DEFAULT" : undefined,
      redirectCode: a.status === 301 ? undefined : a.status,
    });
  } else if (a.kind === "direct") {
    out.directResponse = compact({ status: a.status, body: a.body !== undefined ? { string: a.body } : undefined });
    if (a.headers && Object.keys(a.headers).length) responseHeaders = { ...responseHeaders, set: { ...responseHeaders?.set, ...a.headers } };
  } else {
    if (a.destinations.length === 0) {
      loss.lost(`${at}.action.destinations`, "a forward route without destinations has no Istio form; the route is left out");
      return null;
    }
    out.route = destinationsToIstio(a.destinations, `${at}.action.destinations`, loss);
    if (a.timeoutMs) out.timeout = goDuration(a.timeoutMs);
    const retries = retryToIstio(a.retry, `${at}.action.retry`, loss);
    if (retries) out.retries = retries;
    if (a.mirror?.length) out.mirrors = a.mirror.map((m, i) => compact({ destination: destinationOf(m.cluster, `${at}.action.mirror[${i}]`, loss), percentage: percentage(m.percent) }));
    if (a.rewrite) out.rewrite = compact({ uri: a.rewrite.pathPrefix, authority: a.rewrite.authority, uriRegexRewrite: a.rewrite.uriRegex ? { match: a.rewrite.uriRegex.pattern, rewrite: a.rewrite.uriRegex.substitution } : undefined });
    if (a.hashPolicy?.length) loss.lost(`${at}.action.hashPolicy`, "Istio sets hashing per destination (DestinationRule loadBalancer.consistentHash), not per route");
  }
  const headers = headersBlock(r.requestHeaders, responseHeaders);
  if (headers) out.headers = headers;
  if (r.fault) {
    const f = r.fault;
    out.fault = compact({
      delay: f.delay ? compact({ fixedDelay: goDuration(f.delay.fixedMs), percentage: f.delay.percent ? { value: f.delay.percent } : undefined }) : undefined,
      abort: f.abort ? compact({
        httpStatus: f.abort.grpcStatus === undefined ? f.abort.httpStatus : undefined,
        grpcStatus: f.abort.grpcStatus !== undefined ? GRPC_STATUS[f.abort.grpcStatus] : undefined,
        percentage: f.abort.percent ? { value: f.abort.percent } : undefined,
      }) : undefined,
    });
  }
  if (r.cors) out.corsPolicy = corsToIstio(r.cors, `${at}.cors`, loss);
  return out;
}

function l4ToIstio(r: L4Route, at: string, loss: LossSink, tls: boolean): Obj {
  return compact({
    match: r.match.length ? r.match.map((m) => compact({
      sniHosts: tls ? (m.sniHosts ?? []) : undefined,
      port: m.port, destinationSubnets: m.destinationSubnets, sourceLabels: m.sourceLabels, sourceNamespace: m.sourceNamespace,
      sourceSubnet: tls ? undefined : m.sourceSubnet, gateways: m.gateways,
    })) : undefined,
    route: r.destinations.map((d, i) => compact({ destination: destinationOf(d.cluster, `${at}.destinations[${i}]`, loss), weight: r.destinations.length === 1 ? undefined : d.weight })),
  });
}

/**
 * One IR virtual host → one VirtualService (named after `origin`, else after the virtual host).
 * @example
 * const { value, losses } = virtualHostToIstio(vh);
 */
export function virtualHostToIstio(vh: VirtualHost, options: IstioOptions = {}): { value: Obj; losses: Loss[] } {
  const { namespace, name } = nameOf(vh.name, vh.origin, "VirtualService", options.defaultNamespace);
  const loss = createLossSink(vh.origin?.object ?? `VirtualHost/${vh.name}`);
  const http = vh.routes.flatMap((r, i) => {
    const out = routeToIstio(r, `routes[${i}]`, loss);
    return out ? [out] : [];
  });
  (vh.tlsRoutes ?? []).forEach((r, i) => r.match.forEach((m, j) => {
    if (!m.sniHosts?.length) loss.lost(`tlsRoutes[${i}].match[${j}].sniHosts`, "Istio TLS routes must match SNI names; the match will be rejected");
    if (m.sourceSubnet) loss.lost(`tlsRoutes[${i}].match[${j}].sourceSubnet`, "Istio TLS routes cannot match a source subnet");
  }));
  const spec = compact({
    hosts: vh.domains,
    gateways: vh.gateways?.length ? vh.gateways : undefined,
    http: http.length ? http : undefined,
    tls: vh.tlsRoutes?.length ? vh.tlsRoutes.map((r, i) => l4ToIstio(r, `tlsRoutes[${i}]`, loss, true)) : undefined,
    tcp: vh.tcpRoutes?.length ? vh.tcpRoutes.map((r, i) => l4ToIstio(r, `tcpRoutes[${i}]`, loss, false)) : undefined,
    exportTo: vh.exportTo?.length ? vh.exportTo : undefined,
  });
  return {
    value: { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: safeName(name), namespace }, spec },
    losses: loss.losses,
  };
}
