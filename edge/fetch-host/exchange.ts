/**
 * @module edge/fetch-host/exchange
 * One proxied request on a fetch host, from a Web `Request` to a Web `Response`: the same steps and
 * outcomes as the Node host's exchange (route lookup, the filter chain, direct responses and redirects,
 * cluster and host choice, Envoy response flags NR/NC/UH/UF/UC/UT/DC/URX, stats and the access-log
 * record, filters' `onComplete`), with the upstream call made through an injected `fetch`, route
 * retries (the engine's `retry` policy and decisions, bodyless requests only) and timeouts, the
 * listener's request-body limit (413: a declared length over it at once, a body of unknown length
 * counted while it is read), and the response body streamed through untouched. The path is
 * normalized as the listener says before routing;
 * note that the runtime has already resolved dot segments when it parsed the request URL.
 */
import { accessLogRecord, type AccessLogRecord } from "../../proxy/access-log-record.ts";
import { normalizeTarget } from "../../proxy/request-target.ts";
import type { FilterResponse, FilterStream, HttpFilter, LocalReply } from "../../proxy/filter.ts";
import { hash32 } from "../../proxy/cluster/hash.ts";
import { backoffMs, isRetriable, type TryOutcome } from "../../proxy/cluster/retry.ts";
import type { ClusterRuntime } from "../../proxy/cluster/cluster-manager.ts";
import type { UpstreamHost } from "../../proxy/cluster/host.ts";
import type { CompiledRoute, RouteRequest } from "../../proxy/router/route-table.ts";
import type { ListenerRuntime, Snapshot } from "../../proxy/snapshot.ts";
import type { ClusterStats } from "../../proxy/stats.ts";
import type { ProxyTelemetry } from "../../proxy/mesh-telemetry.ts";
import { readUpTo } from "./read-up-to.ts";
import { downstreamResponseHeaders, FetchHeaderMap, headBytes, upstreamHeaders } from "./headers.ts";

/** What the runtime adapter knows about the downstream connection. */
export interface DownstreamInfo {
  remoteAddress: string;
  /** Peer SPIFFE ID from mTLS (absent for plaintext or when the runtime cannot see the certificate). */
  principal?: string;
  /** Peer certificate subject DN, for the impersonation filter. */
  peerSubject?: string;
  sni?: string;
  /** `http` or `https` as the client used it. */
  scheme?: string;
  /** The address and port the connection arrived on (destination IP and port), when the runtime knows them. */
  localAddress?: string;
  localPort?: number;
  /** The downstream HTTP version when the runtime knows it (fetch hosts usually do not): `HTTP/1.1`. */
  protocol?: string;
}

/** Makes the upstream call for one try. `authority` is the Host the upstream should see. */
export type UpstreamFetch = (cluster: ClusterRuntime, host: UpstreamHost, request: Request, authority: string) => Promise<Response>;

/** One access-log record, field for field the Node host's (plus the attempt count). */
export type { AccessLogRecord } from "../../proxy/access-log-record.ts";

export interface ExchangeContext {
  snapshot: Snapshot;
  listener: Extract<ListenerRuntime, { kind: "http" }>;
  noCluster: ClusterStats;
  upstream: UpstreamFetch;
  now(): number;
  randomUUID(): string;
  sleep(ms: number): Promise<void>;
  accessLog?(record: AccessLogRecord): void;
  /** Istio's standard metrics (the config's `telemetry:` section), when configured. */
  telemetry?: ProxyTelemetry;
}

const GRPC_STATUS: Record<number, string> = { 400: "13", 401: "16", 403: "7", 404: "12", 429: "14", 502: "14", 503: "14", 504: "14" };
const textEncoder = new TextEncoder();

class Exchange implements RouteRequest {
  readonly start: number;
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  target: string;
  readonly grpc: boolean;
  route: CompiledRoute | undefined;
  cluster: ClusterRuntime | undefined;
  host: UpstreamHost | undefined;
  forwardedFor: string | undefined;
  requestId: string | undefined;
  flags = "";
  details = "";
  status = 0;
  attempts = 0;
  done = false;
  stream: FetchFilterStream | undefined;

  constructor(readonly ctx: ExchangeContext, readonly request: Request, readonly info: DownstreamInfo, readonly url: URL) {
    this.start = ctx.now();
    this.method = request.method;
    this.scheme = info.scheme ?? url.protocol.slice(0, -1);
    this.authority = request.headers.get("host") ?? url.host;
    this.target = url.pathname + url.search;
    this.grpc = (request.headers.get("content-type") ?? "").startsWith("application/grpc");
  }

  header(name: string): string | undefined {
    return this.request.headers.get(name) ?? undefined;
  }

  addFlag(flag: string): void {
    if (this.flags === "") this.flags = flag;
    else if (!this.flags.split(",").includes(flag)) this.flags += `,${flag}`;
  }
}

class FetchFilterStream implements FilterStream {
  readonly method: string;
  path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly headers: FetchHeaderMap;
  readonly connection: DownstreamInfo;
  readonly routeName: string | undefined;
  readonly metadata = new Map<string, unknown>();

  constructor(private readonly ex: Exchange) {
    this.method = ex.method;
    this.path = ex.target;
    this.authority = ex.authority;
    this.scheme = ex.scheme;
    this.headers = new FetchHeaderMap(new Headers(ex.request.headers));
    this.connection = ex.info;
    this.routeName = ex.route?.name;
  }

  addResponseFlag(flag: string): void {
    this.ex.addFlag(flag);
  }
}

/** Handles one request on an HTTP listener; never throws (errors become local replies). */
export async function handleExchange(ctx: ExchangeContext, request: Request, info: DownstreamInfo): Promise<Response> {
  const url = new URL(request.url);
  const ex = new Exchange(ctx, request, info, url);
  const http = ctx.listener.http;
  if (headBytes(ex.method, ex.target, request.headers) > http.maxRequestHeadersBytes) return localReply(ex, 431, "DPE", "", undefined, "request_headers_too_large");
  const maxBody = http.maxRequestBodyBytes;
  if (maxBody !== undefined && Number(request.headers.get("content-length") ?? 0) > maxBody) return tooLarge(ex, maxBody);
  const normalized = normalizeTarget(ex.target, http.pathNormalization ?? "BASE");
  if (normalized === null) return localReply(ex, 400, "DPE", "invalid request path", undefined, "path_normalization_failed");
  ex.target = normalized;
  const route = ctx.listener.routes.route(ex, ex.target);
  if (route === undefined) return localReply(ex, 404, "NR", "", undefined, "route_not_found");
  ex.route = route;
  let stream: FetchFilterStream | undefined;
  const filters = ctx.listener.filters;
  if (filters.length > 0) {
    stream = ex.stream = new FetchFilterStream(ex);
    try {
      const reply = await runRequestFilters(filters, stream);
      if (reply) {
        const details = reply.details ?? (stream.metadata.get(RESPONSE_CODE_DETAILS_KEY) as string | undefined) ?? "filter_local_reply";
        return localReply(ex, reply.status, reply.flag ?? "", reply.body ?? "", reply.headers, details);
      }
    } catch (err) {
      return localReply(ex, 500, "", `filter error: ${(err as Error).message}`, undefined, "filter_error");
    }
  }
  if (route.kind === "direct") return localReply(ex, route.status, "", route.body ?? "", route.headers, "direct_response");
  if (route.kind === "redirect") return localReply(ex, route.status, "", "", { location: route.redirectLocation(ex, ex.target) }, "direct_response");
  const cluster = ctx.snapshot.clusters.get(route.pickCluster(ctx.snapshot.random));
  if (cluster === undefined) return localReply(ex, 503, "NC", "no cluster", undefined, "cluster_not_found");
  ex.cluster = cluster;
  return forward(ex, route, cluster, stream);
}

const RESPONSE_CODE_DETAILS_KEY = "weft.response_code_details";
async function runRequestFilters(filters: readonly HttpFilter[], stream: FilterStream): Promise<LocalReply | undefined> {
  for (const f of filters) {
    if (f.onRequest === undefined) continue;
    const v = await f.onRequest(stream);
    if (v !== undefined) return v;
  }
  return undefined;
}

async function forward(ex: Exchange, route: CompiledRoute, cluster: ClusterRuntime, stream: FetchFilterStream | undefined): Promise<Response> {
  const ctx = ex.ctx;
  const http = ctx.listener.http;
  const target = route.rewritePath(stream !== undefined && stream.path !== ex.target ? stream.path : ex.target);
  const authority = route.hostRewrite ?? ex.authority;
  ex.requestId = ex.request.headers.get("x-request-id") ?? (http.generateRequestId ? ctx.randomUUID() : undefined);
  const built = upstreamHeaders(stream?.headers.headers ?? ex.request.headers, {
    peer: ex.info.remoteAddress, appendForwardedFor: http.appendForwardedFor, scheme: ex.scheme, requestId: ex.requestId,
  });
  ex.forwardedFor = built.forwardedFor;
  const retry = route.retry;
  const hasBody = ex.request.body !== null && ex.method !== "GET" && ex.method !== "HEAD";
  const maxTries = retry !== undefined && !hasBody ? 1 + Math.max(0, retry.attempts) : 1;
  const hashKey = cluster.usesHash ? requestHash(ex, route) : undefined;

  let requestBody: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null = hasBody ? ex.request.body : null;
  if (hasBody && http.maxRequestBodyBytes !== undefined && !ex.request.headers.has("content-length")) {
    // A body of unknown length is read up to the limit before the upstream call: no byte of an oversized
    // body leaves the proxy (workerd would end a chunked upload cleanly if the stream failed midway).
    const read = await readUpTo(ex.request.body!, http.maxRequestBodyBytes);
    if (read === undefined) return tooLarge(ex, http.maxRequestBodyBytes);
    requestBody = read;
  }
  const routeTimer = new AbortController();
  const timer = route.timeoutMs > 0 ? setTimeout(() => routeTimer.abort(), route.timeoutMs) : undefined;
  const tried: UpstreamHost[] = [];
  let outcome: TryOutcome = { kind: "error", flag: "UF" };
  let response: Response | undefined;
  for (let attempt = 1; attempt <= maxTries; attempt++) {
    const host = pickHost(cluster, hashKey, retry?.ignorePreviousHosts === true ? tried : []);
    if (host === undefined) {
      if (timer !== undefined) clearTimeout(timer);
      return localReply(ex, 503, "UH", "no healthy upstream", undefined, "no_healthy_upstream");
    }
    tried.push(host);
    if (ex.host !== undefined) ex.host.activeRequests--;
    ex.host = host;
    host.activeRequests++;
    ex.attempts = attempt;
    const perTry = retry?.perTryTimeoutMs !== undefined && retry.perTryTimeoutMs > 0 ? AbortSignal.timeout(retry.perTryTimeoutMs) : undefined;
    const signal = perTry ? AbortSignal.any([routeTimer.signal, perTry]) : routeTimer.signal;
    const init: RequestInit & { duplex?: "half" } = { method: ex.method, headers: built.headers, redirect: "manual", signal };
    if (hasBody) {
      init.body = requestBody;
      init.duplex = "half";
    }
    try {
      response = await ctx.upstream(cluster, host, new Request(`http://${host.key}${target}`, init), authority);
      outcome = { kind: "response", status: response.status };
    } catch (err) {
      response = undefined;
      outcome = { kind: "error", flag: routeTimer.signal.aborted || perTry?.aborted ? "UT" : errorFlag(err) };
      if (routeTimer.signal.aborted) break; // the route timeout is final
    }
    if (attempt === maxTries || retry === undefined || !isRetriable(retry, outcome)) break;
    await response?.body?.cancel().catch(() => undefined);
    await ctx.sleep(backoffMs(retry, attempt, ctx.snapshot.random));
    if (routeTimer.signal.aborted) {
      outcome = { kind: "error", flag: "UT" };
      response = undefined;
      break;
    }
  }
  const retriedOut = maxTries > 1 && ex.attempts === maxTries && retry !== undefined && isRetriable(retry, outcome) ? "URX" : "";
  if (response === undefined) {
    if (timer !== undefined) clearTimeout(timer);
    const flag = outcome.kind === "error" ? outcome.flag : "UC";
    const joined = retriedOut ? `${flag},URX` : flag;
    const details = flag === "UT" ? "upstream_response_timeout" : "upstream_reset_before_response_started";
    return localReply(ex, flag === "UT" ? 504 : flag === "UC" ? 502 : 503, joined, flag === "UT" ? "upstream request timeout" : flag === "UF" ? "upstream connect error" : "upstream reset", undefined, details);
  }
  if (retriedOut) ex.addFlag(retriedOut);
  ex.details = "via_upstream";
  let status = response.status;
  let headers = downstreamResponseHeaders(response.headers);
  if (stream !== undefined && ex.ctx.listener.filters.some((f) => f.onResponse)) {
    const fr: FilterResponse = { status, headers: new FetchHeaderMap(headers) };
    const filters = ex.ctx.listener.filters;
    for (let i = filters.length - 1; i >= 0; i--) filters[i]!.onResponse?.(stream, fr);
    status = fr.status;
    headers = (fr.headers as FetchHeaderMap).headers;
  }
  ex.status = status;
  const body = response.body;
  if (body === null || status === 204 || status === 304 || ex.method === "HEAD") {
    if (timer !== undefined) clearTimeout(timer);
    await body?.cancel().catch(() => undefined);
    finish(ex);
    return new Response(null, { status, headers });
  }
  return new Response(watchBody(ex, body, routeTimer.signal, () => timer !== undefined && clearTimeout(timer)), { status, headers });
}

/** 413 for a body over the listener's `maxRequestBodyBytes` (declared, or counted while streaming). */
function tooLarge(ex: Exchange, limit: number): Response {
  return localReply(ex, 413, "", `request body exceeds ${limit} bytes`, undefined, "request_payload_too_large");
}

function pickHost(cluster: ClusterRuntime, hash: number | undefined, avoid: readonly UpstreamHost[]): UpstreamHost | undefined {
  let host = cluster.pick(hash);
  for (let i = 0; i < 3 && host !== undefined && avoid.includes(host); i++) host = cluster.pick(hash);
  return host;
}

/** Passes the upstream body through, finishing the exchange at its end, error (UC/UT) or cancel (DC). */
function watchBody(ex: Exchange, body: ReadableStream<Uint8Array>, timeout: AbortSignal, clear: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          clear();
          controller.close();
          finish(ex);
        } else controller.enqueue(value);
      } catch (err) {
        clear();
        ex.addFlag(timeout.aborted ? "UT" : "UC");
        ex.details = timeout.aborted ? "upstream_response_timeout" : "upstream_reset_after_response_started";
        controller.error(err);
        finish(ex);
      }
    },
    cancel(reason) {
      clear();
      if (!ex.done) {
        ex.addFlag("DC");
        ex.details = "downstream_remote_disconnect";
      }
      finish(ex);
      return reader.cancel(reason);
    },
  });
}

function errorFlag(err: unknown): "UF" | "UC" {
  const text = `${(err as Error)?.message ?? ""} ${String((err as { cause?: unknown })?.cause ?? "")}`;
  return /refused|ECONNREFUSED|connect|resolve|dns|unreachable|No such host/i.test(text) ? "UF" : "UC";
}

function requestHash(ex: Exchange, route: CompiledRoute): number | undefined {
  for (const p of route.hashPolicy ?? []) {
    let v: string | undefined;
    if ("header" in p) v = ex.header(p.header);
    else if ("cookie" in p) v = cookieValue(ex.header("cookie"), p.cookie);
    else if ("sourceIp" in p) v = ex.info.remoteAddress;
    else v = ex.url.searchParams.get(p.queryParam) ?? undefined;
    if (v !== undefined) return hash32(v);
  }
  return undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/;\s*/)) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return undefined;
}

/** Answers from the proxy itself, as the Node host does (gRPC callers get a trailers-only grpc-status). */
function localReply(ex: Exchange, status: number, flag: string, body: string, headers: Record<string, string> | undefined, details: string): Response {
  if (flag !== "") ex.addFlag(flag);
  ex.details = details;
  if (ex.grpc && status >= 400) {
    ex.status = 200;
    finish(ex);
    return new Response(null, { status: 200, headers: { "content-type": "application/grpc", "grpc-status": GRPC_STATUS[status] ?? "2", "grpc-message": encodeURIComponent(body || `HTTP ${status}`) } });
  }
  ex.status = status;
  const h = new Headers(headers);
  if (body !== "" && !h.has("content-type")) h.set("content-type", "text/plain");
  const bytes = textEncoder.encode(body);
  h.set("content-length", String(bytes.byteLength));
  finish(ex);
  const nullBody = status === 204 || status === 304 || ex.method === "HEAD" || (status >= 300 && status < 400 && bytes.byteLength === 0);
  return new Response(nullBody ? null : bytes, { status, headers: h });
}

function finish(ex: Exchange): void {
  if (ex.done) return;
  ex.done = true;
  const ctx = ex.ctx;
  if (ex.host !== undefined) ex.host.activeRequests--;
  const ms = ctx.now() - ex.start;
  (ex.cluster?.stats ?? ctx.noCluster).record(ex.status, ms, ex.flags);
  const t = ctx.telemetry;
  if (t !== undefined) (ctx.listener.config.trafficDirection === "OUTBOUND" ? t.outbound(ex.cluster?.config) : t.inbound(ex.cluster?.config, ex.info.principal, ex.info.principal !== undefined)).metrics?.record(ex.grpc, ex.status, -1, ex.flags, ms, 0, 0);
  if (ex.stream !== undefined) {
    const summary = { status: ex.status, flags: ex.flags, details: ex.details, durationMs: ms, upstreamCluster: ex.cluster?.name };
    for (const f of ctx.listener.filters) {
      try {
        f.onComplete?.(ex.stream, summary);
      } catch {
        // a filter's bookkeeping must not break the response
      }
    }
  }
  if (!ctx.listener.http.accessLog || ctx.accessLog === undefined) return;
  ctx.accessLog(accessLogRecord({
    durationMs: ms,
    method: ex.method,
    target: ex.target,
    protocol: ex.info.protocol ?? "HTTP/1.1",
    status: ex.status,
    flags: ex.flags,
    details: ex.details,
    authority: ex.authority,
    routeName: ex.route?.name,
    upstreamCluster: ex.cluster?.name,
    upstreamHost: ex.host?.key,
    attempts: ex.attempts,
    remoteAddress: ex.info.remoteAddress,
    peerUriSan: ex.info.principal,
    peerSubject: ex.info.peerSubject,
    sni: ex.info.sni,
    forwardedFor: ex.forwardedFor,
    requestId: ex.requestId,
    listener: ctx.listener.config.name,
  }));
}
