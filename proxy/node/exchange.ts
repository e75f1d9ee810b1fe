/**
 * @module proxy/node/exchange
 * One proxied HTTP request, from the downstream request (node:http or node:http2 compat) to an upstream
 * pool and back: routing, direct responses and redirects, cluster and host selection, response
 * streaming with backpressure, local replies with Envoy response flags (NR 404, NC/UH/UF/UO 503, UC 502,
 * UT 504, DC for a client that went away), stats and the access log. Handlers are module functions
 * that find the exchange on the request or response object, so no closure is made per request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { randomUUID } from "node:crypto";
import type { ClusterRuntime } from "../cluster/cluster-manager.ts";
import { hash32 } from "../cluster/hash.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import type { CompiledRoute, RouteRequest } from "../router/route-table.ts";
import type { ListenerRuntime, Snapshot } from "../snapshot.ts";
import type { ClusterStats, StatsRegistry } from "../stats.ts";
import { H1Pool, type H1Connection } from "./h1-upstream.ts";
import { H2Pool } from "./h2-upstream.ts";
import { headerObject, responseHeaders, scanRequestHeaders, type RequestHeadInfo } from "./headers.ts";
import { runFilters } from "./filter-stream.ts";

/** Process-wide state shared by listeners. */
export interface HostContext {
  readonly stats: StatsRegistry;
  readonly noCluster: ClusterStats;
  accessLog(line: string): void;
  draining: boolean;
  inflight: number;
  onIdle: (() => void) | undefined;
}

export interface HttpListenerState {
  snapshot: Snapshot;
  listener: Extract<ListenerRuntime, { kind: "http" }>;
  ctx: HostContext;
}

type DownReq = IncomingMessage | Http2ServerRequest;
type DownRes = ServerResponse | Http2ServerResponse;

const kEx = Symbol("weft.exchange");
type Tagged = { [kEx]?: Exchange };

const GRPC_STATUS: Record<number, string> = { 400: "13", 401: "16", 403: "7", 404: "12", 429: "14", 502: "14", 503: "14", 504: "14" };

export class Exchange implements RouteRequest {
  readonly req: DownReq;
  readonly res: DownRes;
  readonly h2: boolean;
  readonly state: HttpListenerState;
  readonly start = performance.now();
  readonly method: string;
  readonly scheme = "http";
  readonly authority: string;
  target: string;
  readonly info: RequestHeadInfo = { host: undefined, connectionTokens: undefined, requestId: undefined, forwardedFor: undefined, forwardedProto: false, chunked: false, contentLength: false, teTrailers: false };
  rawHeaders: string[];
  route: CompiledRoute | undefined = undefined;
  cluster: ClusterRuntime | undefined = undefined;
  host: UpstreamHost | undefined = undefined;
  upstream: H1Connection | null = null;
  /** The HTTP/2 upstream stream, for backpressure. */
  h2stream: import("node:http2").ClientHttp2Stream | null = null;
  /** Cancels an HTTP/2 upstream stream. */
  cancelUpstream: (() => void) | null = null;
  upstreamTarget: string;
  upstreamAuthority: string;
  forwardedFor: string | undefined = undefined;
  requestId: string | undefined = undefined;
  hasBody: boolean;
  bodyChunked: boolean;
  requestDone = false;
  retried = false;
  status = 0;
  flags = "";
  done = false;
  headersSent = false;
  grpc: boolean;
  /** Set when filters have response hooks. */
  onResponseHead: ((status: number, raw: string[]) => { status: number; raw: string[] }) | undefined = undefined;
  private pending: Buffer | null = null;

  constructor(state: HttpListenerState, req: DownReq, res: DownRes, h2: boolean) {
    this.state = state;
    this.req = req;
    this.res = res;
    this.h2 = h2;
    this.method = req.method ?? "GET";
    this.rawHeaders = req.rawHeaders;
    scanRequestHeaders(this.rawHeaders, this.info);
    let target = req.url ?? "/";
    let authority = h2 ? ((req as Http2ServerRequest).authority ?? this.info.host ?? "") : (this.info.host ?? "");
    if (target.charCodeAt(0) !== 47 /* / */ && /^https?:\/\//i.test(target)) {
      // Absolute form (a client configured to use us as its HTTP proxy).
      const u = new URL(target);
      authority = u.host;
      target = u.pathname + u.search;
    }
    this.target = target;
    this.authority = authority;
    this.upstreamTarget = target;
    this.upstreamAuthority = authority;
    const ct = req.headers["content-type"];
    this.grpc = typeof ct === "string" && ct.startsWith("application/grpc");
    if (h2) {
      this.hasBody = !(req as Http2ServerRequest).stream.endAfterHeaders;
      this.bodyChunked = this.hasBody && !this.info.contentLength;
    } else {
      this.bodyChunked = this.info.chunked;
      this.hasBody = this.bodyChunked || (this.info.contentLength && req.headers["content-length"] !== "0");
    }
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(",") : v;
  }

  // ------------------------------------------------------------ request body (to an HTTP/1 upstream)

  attachRequestBody(): void {
    (this.req as Tagged)[kEx] = this;
    this.req.on("data", onReqData);
    this.req.on("end", onReqEnd);
  }

  detachRequestBody(): void {
    this.req.removeListener("data", onReqData);
    this.req.removeListener("end", onReqEnd);
  }

  resumeRequestBody(): void {
    if (!this.requestDone) this.req.resume();
  }

  // ------------------------------------------------------------ upstream events

  onUpstreamHeaders(status: number, raw: string[]): void {
    if (this.done) return;
    let headers = responseHeaders(raw);
    if (this.onResponseHead !== undefined) ({ status, raw: headers } = this.onResponseHead(status, headers));
    this.status = status;
    this.headersSent = true;
    if (this.h2) (this.res as Http2ServerResponse).writeHead(status, headerObject(headers));
    else (this.res as ServerResponse).writeHead(status, headers);
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.done) return;
    // Hold one chunk so a response that arrives in one read goes out in one write with its head.
    if (this.pending !== null) this.writeDown(this.pending);
    this.pending = chunk;
  }

  flushPending(): void {
    const p = this.pending;
    if (p !== null && !this.done) {
      this.pending = null;
      this.writeDown(p);
    }
  }

  private writeDown(chunk: Buffer): void {
    if (!(this.res as ServerResponse).write(chunk)) {
      this.upstream?.pause();
      this.h2stream?.pause();
      (this.res as Tagged)[kEx] = this;
      this.res.once("drain", onResDrain);
    }
  }

  onUpstreamEnd(trailers: string[] | Record<string, string | string[]> | undefined): void {
    if (this.done) return;
    if (trailers !== undefined && this.h2) (this.res as Http2ServerResponse).addTrailers(Array.isArray(trailers) ? headerObject(trailers) : trailers);
    const p = this.pending;
    this.pending = null;
    if (p !== null) (this.res as ServerResponse).end(p);
    else (this.res as ServerResponse).end();
    finish(this);
  }

  onUpstreamError(flag: string, message: string): void {
    if (this.done) return;
    this.upstream = null;
    if (!this.headersSent) {
      localReply(this, flag === "UT" ? 504 : flag === "UC" ? 502 : 503, flag, message);
      return;
    }
    this.flags = flag;
    if (this.h2) (this.res as Http2ServerResponse).stream.close(2 /* INTERNAL_ERROR */);
    else (this.res as ServerResponse).destroy();
    finish(this);
  }
}

// ------------------------------------------------------------------ module-level handlers (no closures)

function onReqData(this: Tagged, chunk: Buffer): void {
  const ex = this[kEx];
  const up = ex?.upstream;
  if (!ex || !up) return;
  if (!up.writeBody(chunk, ex.bodyChunked)) ex.req.pause();
}

function onReqEnd(this: Tagged): void {
  const ex = this[kEx];
  if (!ex) return;
  ex.requestDone = true;
  ex.upstream?.endBody(ex.bodyChunked);
}

function onResDrain(this: Tagged): void {
  const ex = this[kEx];
  ex?.upstream?.resume();
  ex?.h2stream?.resume();
}

function onResClose(this: Tagged): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  // The client went away before the response finished.
  ex.flags = "DC";
  const up = ex.upstream;
  ex.upstream = null;
  up?.destroy();
  ex.cancelUpstream?.();
  finish(ex);
}

// ------------------------------------------------------------------ the request path

/** Entry point for every downstream HTTP request on a listener. */
export function handleRequest(state: HttpListenerState, req: DownReq, res: DownRes, h2: boolean): void {
  const ex = new Exchange(state, req, res, h2);
  state.ctx.inflight++;
  (res as Tagged)[kEx] = ex;
  res.on("close", onResClose);
  if (state.ctx.draining && !h2) (res as ServerResponse).shouldKeepAlive = false;
  const route = state.listener.routes.route(ex, ex.target);
  if (route === undefined) return localReply(ex, 404, "NR", "");
  ex.route = route;
  if (state.listener.filters.length > 0) {
    runFilters(ex, state.listener.filters).then((reply) => {
      if (ex.done) return;
      if (reply) localReply(ex, reply.status, reply.flag ?? "", reply.body ?? "", reply.headers);
      else proceed(ex, ex.route!);
    }, (err: unknown) => localReply(ex, 500, "", `filter error: ${(err as Error).message}`));
    return;
  }
  proceed(ex, route);
}

function proceed(ex: Exchange, route: CompiledRoute): void {
  if (route.kind === "direct") return localReply(ex, route.status, "", route.body ?? "", route.headers);
  if (route.kind === "redirect") return localReply(ex, route.status, "", "", { location: route.redirectLocation(ex, ex.target) });
  const snapshot = ex.state.snapshot;
  const cluster = snapshot.clusters.get(route.pickCluster(snapshot.random));
  if (cluster === undefined) return localReply(ex, 503, "NC", "no cluster");
  ex.cluster = cluster;
  const host = cluster.pick(cluster.usesHash ? requestHash(ex, route) : undefined);
  if (host === undefined) return localReply(ex, 503, "UH", "no healthy upstream");
  ex.host = host;
  host.activeRequests++;
  ex.upstreamTarget = route.rewritePath(ex.upstreamTarget);
  if (route.hostRewrite !== undefined) ex.upstreamAuthority = route.hostRewrite;
  const http = ex.state.listener.http;
  if (http.appendForwardedFor) {
    const peer = ex.req.socket.remoteAddress ?? "";
    ex.forwardedFor = ex.info.forwardedFor === undefined ? peer : `${ex.info.forwardedFor}, ${peer}`;
  } else ex.forwardedFor = ex.info.forwardedFor;
  ex.requestId = ex.info.requestId ?? (http.generateRequestId ? randomUUID() : undefined);
  let pool = host.pool as H1Pool | H2Pool | undefined;
  if (pool === undefined) host.pool = pool = cluster.upstreamProtocol === "h1" ? new H1Pool(host) : new H2Pool(host);
  pool.dispatch(ex);
}

function requestHash(ex: Exchange, route: CompiledRoute): number | undefined {
  for (const p of route.hashPolicy ?? []) {
    let v: string | undefined;
    if ("header" in p) v = ex.header(p.header);
    else if ("cookie" in p) v = cookieValue(ex.header("cookie"), p.cookie);
    else if ("sourceIp" in p) v = ex.req.socket.remoteAddress;
    else {
      const q = ex.target.indexOf("?");
      v = q === -1 ? undefined : new URLSearchParams(ex.target.slice(q + 1)).get(p.queryParam) ?? undefined;
    }
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

/** Answers from the proxy itself. gRPC requests get a trailers-only response with a grpc-status. */
export function localReply(ex: Exchange, status: number, flag: string, body: string, headers?: Record<string, string>): void {
  if (ex.done) return;
  ex.flags = flag;
  if (ex.headersSent) {
    ex.res.destroy();
    finish(ex);
    return;
  }
  const res = ex.res;
  if (ex.grpc && status >= 400) {
    ex.status = 200;
    const h = { "content-type": "application/grpc", "grpc-status": GRPC_STATUS[status] ?? "2", "grpc-message": encodeURIComponent(body || `HTTP ${status}`) };
    ex.headersSent = true;
    if (ex.h2) (res as Http2ServerResponse).stream.respond({ ":status": 200, ...h }, { endStream: true });
    else {
      res.writeHead(200, h);
      (res as ServerResponse).end();
    }
    finish(ex);
    return;
  }
  ex.status = status;
  ex.headersSent = true;
  const h: Record<string, string> = { ...headers };
  if (body !== "" && !Object.keys(h).some((k) => k.toLowerCase() === "content-type")) h["content-type"] = "text/plain";
  h["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(status, h);
  (res as ServerResponse).end(body);
  finish(ex);
}

function finish(ex: Exchange): void {
  if (ex.done) return;
  ex.done = true;
  const ctx = ex.state.ctx;
  ctx.inflight--;
  if (ex.host !== undefined) ex.host.activeRequests--;
  const ms = performance.now() - ex.start;
  (ex.cluster?.stats ?? ctx.noCluster).record(ex.status, ms, ex.flags);
  if (ex.state.listener.http.accessLog) ctx.accessLog(accessLogLine(ex, ms));
  if (ctx.draining && ctx.inflight === 0) ctx.onIdle?.();
}

function accessLogLine(ex: Exchange, ms: number): string {
  return JSON.stringify({
    start_time: new Date(Date.now() - ms).toISOString(),
    method: ex.method,
    path: ex.target,
    protocol: ex.h2 ? "HTTP/2" : `HTTP/${(ex.req as IncomingMessage).httpVersion}`,
    response_code: ex.status,
    response_flags: ex.flags || "-",
    duration_ms: Math.round(ms * 1000) / 1000,
    authority: ex.authority,
    route_name: ex.route?.name,
    upstream_cluster: ex.cluster?.name,
    upstream_host: ex.host?.key,
    downstream_remote_address: ex.req.socket.remoteAddress,
    x_forwarded_for: ex.forwardedFor,
    request_id: ex.requestId,
    listener: ex.state.listener.config.name,
  });
}
