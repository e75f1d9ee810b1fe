/**
 * @module adapters/istio/routes
 * Istio VirtualService → IR virtual host. HTTP routes become IR routes with Istio's semantics made
 * explicit: a route without `match` matches everything, no `timeout` means none (0), no `retries` means
 * Istio's default policy (2 attempts on `connect-failure,refused-stream,unavailable,cancelled,
 * retriable-status-codes`, other hosts preferred), numeric `retryOn` entries are status codes, a mirror
 * without a percentage mirrors everything, a fault without a percentage injects nothing. Destinations
 * name clusters by Istio's convention `outbound|<port>|<subset>|<FQDN host>`. TCP and TLS routes become
 * IR L4 routes. What the IR cannot hold is reported; see `routes-emit.ts` for the way back.
 */
import type {
  CorsPolicy, FaultPolicy, HeaderMatch, HeaderMutation, L4Match, L4Route, RetryPolicy, Route, RouteAction, RouteMatch, StringMatch,
  VirtualHost, WeightedDestination,
} from "../../core/ir/model.ts";
import type { HttpRoute, VirtualService } from "../../core/resources/istio/virtual-service.ts";
import { createLossSink, type LossSink } from "./loss.ts";
import { clusterName, fqdn, GRPC_STATUS, ms, objectRef, type IstioOptions } from "./names.ts";

export const ISTIO_DEFAULT_RETRY_ON = ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"];
export const ISTIO_DEFAULT_RETRY_ATTEMPTS = 2;

/** The retry policy Istio applies to a route without `retries`. */
export function istioDefaultRetry(): RetryPolicy {
  return { attempts: ISTIO_DEFAULT_RETRY_ATTEMPTS, retryOn: [...ISTIO_DEFAULT_RETRY_ON], ignorePreviousHosts: true };
}

type IstioStringMatch = { exact?: string | null; prefix?: string | null; regex?: string | null };
type HttpMatch = NonNullable<HttpRoute["match"]>[number];
type Destination = { host: string; subset?: string | null; port?: { number?: number | null } | null };
type HeaderOps = { set?: Record<string, string> | null; add?: Record<string, string> | null; remove?: string[] | null };

/** Istio's gateway reference → `namespace/name` (or `mesh`), resolving short and legacy `name.namespace` forms. */
export function gatewayRef(ref: string, namespace: string): string {
  if (ref === "mesh" || ref.includes("/")) return ref;
  if (ref.includes(".")) {
    const [name, ns] = ref.split(".");
    return `${ns}/${name}`;
  }
  return `${namespace}/${ref}`;
}

export function stringMatchToIr(m: IstioStringMatch): StringMatch {
  if (m.exact !== undefined && m.exact !== null) return { exact: m.exact };
  if (m.prefix !== undefined && m.prefix !== null) return { prefix: m.prefix };
  if (m.regex !== undefined && m.regex !== null) return { regex: m.regex };
  return { present: true };
}

function headerMap(map: Record<string, IstioStringMatch> | null | undefined): HeaderMatch[] | undefined {
  if (!map) return undefined;
  return Object.entries(map).map(([name, m]) => ({ name, match: stringMatchToIr(m) }));
}

function headerOps(h: HeaderOps | null | undefined): HeaderMutation | undefined {
  if (!h) return undefined;
  const out: HeaderMutation = {};
  if (h.set && Object.keys(h.set).length) out.set = { ...h.set };
  if (h.add && Object.keys(h.add).length) out.add = { ...h.add };
  if (h.remove?.length) out.remove = [...h.remove];
  return Object.keys(out).length ? out : undefined;
}

interface Ctx {
  ns: string;
  domain: string;
  loss: LossSink;
}

function destinationCluster(d: Destination, c: Ctx): string {
  return clusterName(fqdn(d.host, c.ns, c.domain), d.port?.number ?? undefined, d.subset ?? undefined);
}

function matchToIr(m: HttpMatch, at: string, c: Ctx): RouteMatch {
  const out: RouteMatch = {};
  if (m.name) out.name = m.name;
  if (m.uri) out.path = stringMatchToIr(m.uri);
  if (m.ignoreUriCase) out.ignoreUriCase = true;
  if (m.scheme) out.scheme = stringMatchToIr(m.scheme);
  if (m.method) {
    if (m.method.exact !== undefined && m.method.exact !== null) out.methods = [m.method.exact];
    else if (m.method.regex && /^\^?\(?[A-Z]+(\|[A-Z]+)*\)?\$?$/.test(m.method.regex)) out.methods = m.method.regex.replace(/[\^$()]/g, "").split("|");
    else c.loss.lost(`${at}.method`, "the IR matches methods by name only; a prefix or general regex method match cannot be carried");
  }
  if (m.authority) out.authority = stringMatchToIr(m.authority);
  const headers = headerMap(m.headers);
  if (headers?.length) out.headers = headers;
  const without = headerMap(m.withoutHeaders);
  if (without?.length) out.withoutHeaders = without;
  if (m.queryParams && Object.keys(m.queryParams).length) out.queryParams = Object.entries(m.queryParams).map(([name, v]) => ({ name, match: stringMatchToIr(v) }));
  if (m.port) out.port = m.port;
  if (m.sourceLabels && Object.keys(m.sourceLabels).length) out.sourceLabels = { ...m.sourceLabels };
  if (m.sourceNamespace) out.sourceNamespace = m.sourceNamespace;
  if (m.gateways?.length) out.gateways = m.gateways.map((g) => gatewayRef(g, c.ns));
  if (m.statPrefix) c.loss.lost(`${at}.statPrefix`, "per-route stats prefixes are Envoy stats configuration the IR does not carry");
  return out;
}

function retryToIr(r: HttpRoute["retries"]): RetryPolicy {
  if (!r) return istioDefaultRetry();
  if ((r.attempts ?? 0) <= 0) return { attempts: 0, retryOn: [] };
  const out: RetryPolicy = { attempts: r.attempts!, retryOn: [...ISTIO_DEFAULT_RETRY_ON], ignorePreviousHosts: r.retryIgnorePreviousHosts ?? true };
  if (r.retryOn) {
    const codes: number[] = [];
    const on: string[] = [];
    for (const part of r.retryOn.split(",").map((p) => p.trim()).filter(Boolean)) {
      if (/^\d{3}$/.test(part)) codes.push(Number(part));
      else on.push(part);
    }
    if (codes.length && !on.includes("retriable-status-codes")) on.push("retriable-status-codes");
    out.retryOn = on;
    if (codes.length) out.retriableStatusCodes = codes;
  }
  const perTry = ms(r.perTryTimeout);
  if (perTry !== undefined) out.perTryTimeoutMs = perTry;
  const base = ms(r.backoff);
  if (base !== undefined) out.backoff = { baseMs: base, maxMs: base * 10 };
  if (r.retryRemoteLocalities) out.remoteLocalities = true;
  return out;
}

function faultToIr(f: NonNullable<HttpRoute["fault"]>, at: string, c: Ctx): FaultPolicy | undefined {
  const out: FaultPolicy = {};
  if (f.delay) {
    const percent = f.delay.percentage?.value ?? f.delay.percent ?? 0;
    if (f.delay.fixedDelay) out.delay = { fixedMs: ms(f.delay.fixedDelay)!, percent };
    else c.loss.lost(`${at}.delay.exponentialDelay`, "exponential delays are not implemented by Istio's Envoy (it drops them) nor carried by the IR");
  }
  if (f.abort) {
    const percent = f.abort.percentage?.value ?? 0;
    if (f.abort.httpStatus !== undefined && f.abort.httpStatus !== null) out.abort = { httpStatus: f.abort.httpStatus, percent };
    else if (f.abort.grpcStatus) {
      const code = (GRPC_STATUS as readonly string[]).indexOf(f.abort.grpcStatus);
      if (code >= 0) out.abort = { grpcStatus: code, percent };
      else c.loss.lost(`${at}.abort.grpcStatus`, `unknown gRPC status ${f.abort.grpcStatus}`);
    } else if (f.abort.http2Error) c.loss.lost(`${at}.abort.http2Error`, "HTTP/2 error aborts are not carried by the IR (Istio's Envoy does not implement them either)");
  }
  return out.delay || out.abort ? out : undefined;
}

function corsToIr(p: NonNullable<HttpRoute["corsPolicy"]>): CorsPolicy {
  const out: CorsPolicy = { allowOrigins: [...(p.allowOrigins ?? []).map(stringMatchToIr), ...(p.allowOrigin ?? []).map((o) => ({ exact: o }))] };
  if (p.allowMethods?.length) out.allowMethods = [...p.allowMethods];
  if (p.allowHeaders?.length) out.allowHeaders = [...p.allowHeaders];
  if (p.exposeHeaders?.length) out.exposeHeaders = [...p.exposeHeaders];
  if (p.maxAge) out.maxAgeSeconds = ms(p.maxAge)! / 1000;
  if (p.allowCredentials !== undefined && p.allowCredentials !== null) out.allowCredentials = p.allowCredentials;
  if (p.unmatchedPreflights === "FORWARD") out.unmatchedPreflights = "forward";
  if (p.unmatchedPreflights === "IGNORE") out.unmatchedPreflights = "ignore";
  return out;
}

function destinationsToIr(route: NonNullable<HttpRoute["route"]>, c: Ctx): WeightedDestination[] {
  return route.map((d) => {
    const out: WeightedDestination = { cluster: destinationCluster(d.destination, c), weight: route.length === 1 ? 100 : (d.weight ?? 0) };
    const req = headerOps(d.headers?.request);
    const res = headerOps(d.headers?.response);
    if (req) out.headers = req;
    if (res) out.responseHeaders = res;
    return out;
  });
}

function actionToIr(r: HttpRoute, at: string, c: Ctx): RouteAction {
  if (r.redirect) {
    const d = r.redirect;
    return {
      kind: "redirect",
      status: d.redirectCode ?? 301,
      ...(d.scheme ? { scheme: d.scheme } : {}),
      ...(d.authority ? { host: d.authority } : {}),
      ...(d.port ? { port: d.port } : {}),
      ...(d.uri ? { path: d.uri } : {}),
      ...(d.derivePort === "FROM_REQUEST_PORT" ? { derivePort: "from-request-port" as const } : d.derivePort === "FROM_PROTOCOL_DEFAULT" ? { derivePort: "from-protocol-default" as const } : {}),
    };
  }
  if (r.directResponse) {
    const b = r.directResponse.body;
    let body: string | undefined;
    if (b?.string !== undefined && b.string !== null) body = b.string;
    else if (b?.bytes) {
      try {
        body = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(b.bytes), (ch) => ch.charCodeAt(0)));
      } catch {
        c.loss.lost(`${at}.directResponse.body.bytes`, "a binary body (not UTF-8 text) cannot be carried by the IR's text body");
      }
    }
    return { kind: "direct", status: r.directResponse.status, ...(body !== undefined ? { body } : {}) };
  }
  const action: Extract<RouteAction, { kind: "forward" }> = { kind: "forward", destinations: r.route ? destinationsToIr(r.route, c) : [] };
  action.timeoutMs = ms(r.timeout) ?? 0;
  action.retry = retryToIr(r.retries);
  const mirrors: { cluster: string; percent: number }[] = [];
  if (r.mirror) mirrors.push({ cluster: destinationCluster(r.mirror, c), percent: r.mirrorPercentage?.value ?? r.mirrorPercent ?? r.mirror_percent ?? 100 });
  for (const m of r.mirrors ?? []) mirrors.push({ cluster: destinationCluster(m.destination, c), percent: m.percentage?.value ?? 100 });
  if (mirrors.length) action.mirror = mirrors;
  if (r.rewrite) {
    const rw: NonNullable<typeof action.rewrite> = {};
    if (r.rewrite.uri !== undefined && r.rewrite.uri !== null) rw.pathPrefix = r.rewrite.uri;
    if (r.rewrite.uriRegexRewrite) rw.uriRegex = { pattern: r.rewrite.uriRegexRewrite.match ?? "", substitution: r.rewrite.uriRegexRewrite.rewrite ?? "" };
    if (r.rewrite.authority) rw.authority = r.rewrite.authority;
    if (Object.keys(rw).length) action.rewrite = rw;
  }
  return action;
}

function httpRouteToIr(r: HttpRoute, i: number, c: Ctx, object: string): Route {
  const at = `spec.http[${i}]`;
  const route: Route = {
    ...(r.name ? { name: r.name } : {}),
    match: r.match?.length ? r.match.map((m, j) => matchToIr(m, `${at}.match[${j}]`, c)) : [{}],
    action: actionToIr(r, at, c),
  };
  if (r.delegate) route.delegate = { name: r.delegate.name ?? "", ...(r.delegate.namespace ? { namespace: r.delegate.namespace } : {}) };
  const req = headerOps(r.headers?.request);
  const res = headerOps(r.headers?.response);
  if (req) route.requestHeaders = req;
  if (res) route.responseHeaders = res;
  if (r.fault) {
    const f = faultToIr(r.fault, `${at}.fault`, c);
    if (f) route.fault = f;
  }
  if (r.corsPolicy) route.cors = corsToIr(r.corsPolicy);
  route.origin = { system: "istio", object };
  return route;
}

type L4In = {
  port?: number | null; destinationSubnets?: string[] | null; sniHosts?: string[] | null; sourceLabels?: Record<string, string> | null;
  sourceNamespace?: string | null; sourceSubnet?: string | null; gateways?: string[] | null;
};

function l4MatchToIr(m: L4In, c: Ctx): L4Match {
  const out: L4Match = {};
  if (m.port) out.port = m.port;
  if (m.destinationSubnets?.length) out.destinationSubnets = [...m.destinationSubnets];
  if (m.sniHosts?.length) out.sniHosts = [...m.sniHosts];
  if (m.sourceLabels && Object.keys(m.sourceLabels).length) out.sourceLabels = { ...m.sourceLabels };
  if (m.sourceNamespace) out.sourceNamespace = m.sourceNamespace;
  if (m.sourceSubnet) out.sourceSubnet = m.sourceSubnet;
  if (m.gateways?.length) out.gateways = m.gateways.map((g) => gatewayRef(g, c.ns));
  return out;
}

function l4RouteToIr(r: { match?: L4In[] | null; route?: { destination: Destination; weight?: number | null }[] | null }, c: Ctx): L4Route {
  const route = r.route ?? [];
  return {
    match: (r.match ?? []).map((m) => l4MatchToIr(m, c)),
    destinations: route.map((d) => ({ cluster: destinationCluster(d.destination, c), weight: route.length === 1 ? 100 : (d.weight ?? 0) })),
  };
}

/**
 * One schema-valid VirtualService → one IR virtual host named `namespace/name`.
 * @example
 * const { value, losses } = virtualServiceToIr(parsed, { domain: "cluster.local" });
 */
export function virtualServiceToIr(vs: VirtualService, options: IstioOptions = {}): { value: VirtualHost; losses: ReturnType<typeof createLossSink>["losses"] } {
  const ns = vs.metadata.namespace ?? options.defaultNamespace ?? "default";
  const object = objectRef("VirtualService", ns, vs.metadata.name);
  const loss = createLossSink(object);
  const c: Ctx = { ns, domain: options.domain ?? "cluster.local", loss };
  const spec = vs.spec;
  const vh: VirtualHost = {
    name: `${ns}/${vs.metadata.name}`,
    domains: (spec.hosts ?? []).map((h) => fqdn(h, ns, c.domain)),
    routes: (spec.http ?? []).map((r, i) => httpRouteToIr(r, i, c, object)),
  };
  if (spec.tcp?.length) vh.tcpRoutes = spec.tcp.map((r) => l4RouteToIr(r, c));
  if (spec.tls?.length) vh.tlsRoutes = spec.tls.map((r) => l4RouteToIr(r, c));
  if (spec.gateways?.length) vh.gateways = spec.gateways.map((g) => gatewayRef(g, ns));
  if (spec.exportTo?.length) vh.exportTo = [...spec.exportTo];
  vh.origin = { system: "istio", object };
  return { value: vh, losses: loss.losses };
}
