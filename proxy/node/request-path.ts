/**
 * @module proxy/node/request-path
 * The request path of the Node host around an `Exchange`: path normalization (before routing and
 * filters; the normalized path is what the upstream gets), routing, the HTTP filter chain, direct
 * responses and redirects, cluster and host selection under the `maxRequests` breaker, the route
 * timeout (or a gRPC request's `grpc-timeout`), retries and mirrors set up, local replies with Envoy
 * response flags and details, requests the HTTP/1.1 codec rejected (400/431/408 with flag DPE), and
 * the end of every request: counters, filters' `onComplete`, stats and the JSON access log. With a
 * `telemetry:` section the request also starts and ends its Istio telemetry (telemetry.ts).
 */
import { accessLogRecord } from "../access-log-record.ts";
import { normalizeTarget } from "../request-target.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Socket } from "node:net";
import { randomUUID } from "node:crypto";
import type { HttpConnectionManagerConfig } from "../config/types.ts";
import { hash32 } from "../cluster/hash.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import { parseGrpcTimeout } from "../cluster/retry.ts";
import type { CompiledRoute } from "../router/route-table.ts";
import { Exchange, exchangeOf, onResClose, tag, type HttpListenerState } from "./exchange.ts";
import { runFilters } from "./filter-stream.ts";
import { H1Pool } from "./h1-upstream.ts";
import { H2Pool } from "./h2-upstream.ts";
import { mirror } from "./mirror.ts";
import { isH2WebSocket, tunnelH2WebSocket } from "./h2-websocket.ts";
import { upstreamTlsSettings, type WithConnection } from "./tls-identity.ts";
import { telemetryEnd, telemetryOutsideExchange, telemetryStart } from "./telemetry.ts";

type DownReq = IncomingMessage | Http2ServerRequest;
type DownRes = ServerResponse | Http2ServerResponse;

const GRPC_STATUS: Record<number, string> = { 400: "13", 401: "16", 403: "7", 404: "12", 429: "14", 502: "14", 503: "14", 504: "14" };
const RESPONSE_CODE_DETAILS_KEY = "weft.response_code_details";

/** Entry point for every downstream HTTP request on a listener. */
export function handleRequest(state: HttpListenerState, req: DownReq, res: DownRes, h2: boolean): void {
  const ex = new Exchange(state, req, res, h2);
  state.ctx.inflight++;
  tag(res, ex);
  res.on("close", onResClose);
  const tel = state.ctx.telemetry;
  if (tel !== undefined) telemetryStart(ex, tel);
  if (state.ctx.draining && !h2) (res as ServerResponse).shouldKeepAlive = false;
  if (ex.info.badTransferEncoding && !h2) {
    (res as ServerResponse).shouldKeepAlive = false;
    return localReply(ex, 400, "DPE", "", undefined, "codec_error{invalid_transfer_encoding}");
  }
  const maxBody = state.listener.http.maxRequestBodyBytes;
  if (maxBody !== undefined && ex.hasBody && ex.info.contentLength && Number(req.headers["content-length"]) > maxBody) {
    // A declared body over the limit is refused before routing: the upstream sees none of it.
    if (!h2) (res as ServerResponse).shouldKeepAlive = false;
    return localReply(ex, 413, "", `request body exceeds ${maxBody} bytes`, undefined, "request_payload_too_large");
  }
  const normalized = normalizeTarget(ex.target, state.listener.http.pathNormalization);
  if (normalized === null) return localReply(ex, 400, "DPE", "invalid request path", undefined, "path_normalization_failed");
  if (normalized !== ex.target) ex.target = ex.upstreamTarget = normalized;
  const route = state.listener.routes.route(ex, ex.target);
  if (route === undefined) return localReply(ex, 404, "NR", "", undefined, "route_not_found");
  ex.route = route;
  if (state.listener.filters.length > 0) {
    ex.filters = state.listener.filters;
    runFilters(ex, state.listener.filters).then((reply) => {
      if (ex.done) return;
      if (reply) {
        const details = reply.details ?? (ex.filterStream?.metadata.get(RESPONSE_CODE_DETAILS_KEY) as string | undefined) ?? "filter_local_reply";
        localReply(ex, reply.status, reply.flag ?? "", reply.body ?? "", reply.headers, details);
      } else proceed(ex, ex.route!);
    }, (err: unknown) => localReply(ex, 500, "", `filter error: ${(err as Error).message}`, undefined, "filter_error"));
    return;
  }
  proceed(ex, route);
}

function proceed(ex: Exchange, route: CompiledRoute): void {
  if (route.kind === "direct") return localReply(ex, route.status, "", route.body ?? "", route.headers, "direct_response");
  if (route.kind === "redirect") return localReply(ex, route.status, "", "", { location: route.redirectLocation(ex, ex.target) }, "direct_response");
  const snapshot = ex.state.snapshot;
  const cluster = snapshot.clusters.get(route.pickCluster(snapshot.random));
  if (cluster === undefined) return localReply(ex, 503, "NC", "no cluster", undefined, "cluster_not_found");
  ex.cluster = cluster;
  const res = cluster.resources;
  if (res.requests >= cluster.maxRequests) return localReply(ex, 503, "UO", "upstream overflow: too many requests", undefined, "upstream_overflow");
  res.requests++;
  ex.counted = true;
  if (cluster.usesHash) ex.hashKey = requestHash(ex, route);
  const host = cluster.pick(ex.hashKey);
  if (host === undefined) return localReply(ex, 503, "UH", "no healthy upstream", undefined, "no_healthy_upstream");
  ex.upstreamTarget = route.rewritePath(ex.upstreamTarget);
  if (route.hostRewrite !== undefined) ex.upstreamAuthority = route.hostRewrite;
  const http = ex.state.listener.http;
  if (http.appendForwardedFor) {
    const peer = ex.req.socket.remoteAddress ?? "";
    ex.forwardedFor = ex.info.forwardedFor === undefined ? peer : `${ex.info.forwardedFor}, ${peer}`;
  } else ex.forwardedFor = ex.info.forwardedFor;
  ex.requestId = ex.info.requestId ?? (http.generateRequestId ? randomUUID() : undefined);
  if (isH2WebSocket(ex)) return tunnelH2WebSocket(ex, host);
  // The route timeout runs from here: time waiting for a pooled connection counts.
  let timeout = route.timeoutMs;
  if (ex.grpc) {
    // Istio honours a gRPC client's deadline (grpc_timeout_header_max 0: uncapped).
    const g = parseGrpcTimeout(ex.header("grpc-timeout"));
    if (g !== undefined) timeout = g;
  }
  if (timeout > 0) ex.deadline = performance.now() + timeout;
  ex.retry = route.retry;
  if (route.mirrors !== undefined) {
    const chosen = route.mirrors.filter((m) => m.percent >= 100 || snapshot.random() * 100 < m.percent).map((m) => m.cluster);
    if (chosen.length > 0) ex.mirrors = chosen;
  }
  if (ex.retry !== undefined || ex.mirrors !== undefined) ex.keepBody();
  ex.beginTry(host);
  if (ex.mirrors !== undefined && !ex.hasBody) sendMirrors(ex);
}

/** The connection pool of a host, created on first use with the cluster's upstream TLS settings. */
export function poolFor(ex: Exchange, host: UpstreamHost): H1Pool | H2Pool {
  let pool = host.pool as H1Pool | H2Pool | undefined;
  if (pool === undefined) {
    const cluster = ex.cluster!;
    const tls = upstreamTlsSettings(cluster.config, ex.state.ctx.secrets);
    host.pool = pool = cluster.upstreamProtocol === "h1" ? new H1Pool(host, tls) : new H2Pool(host, tls);
  }
  return pool;
}

/** Shadows the request to its mirror clusters, once its body is complete (fire and forget). */
export function sendMirrors(ex: Exchange): void {
  const names = ex.mirrors;
  ex.mirrors = undefined;
  if (names === undefined || (ex.hasBody && ex.body === null)) return;
  for (const name of names) {
    const cluster = ex.state.snapshot.clusters.get(name);
    if (cluster !== undefined) mirror(ex, cluster);
  }
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
export function localReply(ex: Exchange, status: number, flag: string, body: string, headers?: Record<string, string>, details?: string): void {
  if (ex.done) return;
  if (flag !== "") ex.addFlag(flag);
  if (details !== undefined) ex.details = details;
  if (ex.headersSent) {
    ex.res.destroy();
    finish(ex);
    return;
  }
  const res = ex.res;
  if (ex.grpc && status >= 400) {
    ex.status = 200;
    ex.grpcStatus = Number(GRPC_STATUS[status] ?? "2");
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
  const length = Buffer.byteLength(body);
  ex.responseBytes = length;
  h["content-length"] = String(length);
  res.writeHead(status, h);
  (res as ServerResponse).end(body);
  finish(ex);
}

/** The end of every request: counters released, filters told, stats and access log written. */
export function finish(ex: Exchange): void {
  if (ex.done) return;
  ex.done = true;
  if (ex.timer !== undefined) clearTimeout(ex.timer);
  ex.leaveQueue();
  ex.releaseHost();
  const ctx = ex.state.ctx;
  ctx.inflight--;
  const cluster = ex.cluster;
  if (cluster !== undefined) {
    if (ex.counted) cluster.resources.requests--;
    if (ex.retrying) cluster.resources.retries--;
  }
  const ms = performance.now() - ex.start;
  (cluster?.stats ?? ctx.noCluster).record(ex.status, ms, ex.flags);
  if (ex.filters !== undefined && ex.filterStream !== undefined) {
    const summary = { status: ex.status, flags: ex.flags, details: ex.details, durationMs: ms, upstreamCluster: cluster?.name };
    for (const f of ex.filters) {
      try {
        f.onComplete?.(ex.filterStream, summary);
      } catch (err) {
        ctx.log(`filter ${f.name}: onComplete failed: ${(err as Error).message}`);
      }
    }
  }
  if (ex.state.listener.http.accessLog) ctx.accessLog(accessLogLine(ex, ms));
  if (ex.tel !== undefined) telemetryEnd(ex, ex.tel, ms);
  if (ctx.draining && ctx.inflight === 0) ctx.onIdle?.();
}

function accessLogLine(ex: Exchange, ms: number): string {
  return JSON.stringify(accessLogRecord({
    durationMs: ms,
    method: ex.method,
    target: ex.target,
    protocol: ex.h2 ? "HTTP/2" : `HTTP/${(ex.req as IncomingMessage).httpVersion}`,
    status: ex.status,
    flags: ex.flags,
    details: ex.details,
    authority: ex.authority,
    routeName: ex.route?.name,
    upstreamCluster: ex.cluster?.name,
    upstreamHost: ex.host?.key,
    attempts: ex.tries,
    transportFailure: ex.transportFailure,
    remoteAddress: ex.req.socket.remoteAddress,
    peerUriSan: ex.conn?.principal,
    peerSubject: ex.conn?.peerSubject,
    sni: ex.conn?.sni,
    forwardedFor: ex.forwardedFor,
    requestId: ex.requestId,
    listener: ex.state.listener.config.name,
  }));
}

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/**
 * A request node:http's parser rejected (smuggling attempts, bad bytes, oversized or slow heads):
 * answered 400 (431 for a head over the limit, 408 for one too slow), logged, and the connection closed.
 */
export function onClientError(state: HttpListenerState, err: Error & { code?: string }, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  // The client went away (mid-body EOF, reset): nothing to answer; a request in flight ends as DC.
  if (err.code === "ECONNRESET" || err.code === "HPE_INVALID_EOF_STATE" || !socket.writable) {
    socket.destroy();
    return;
  }
  if (inFlight !== undefined && inFlight !== null) {
    // The head was fine, the body is not (bad chunk framing): the request in flight gets the 400.
    const ex = exchangeOf(inFlight);
    if (ex !== undefined && !ex.headersSent) {
      ex.abortTry();
      inFlight.shouldKeepAlive = false;
      localReply(ex, 400, "DPE", "", undefined, `codec_error{${err.code ?? "invalid"}}`);
      socket.end();
    } else socket.destroy();
    return;
  }
  let status = 400;
  let flag = "DPE";
  let details = `codec_error{${err.code ?? "invalid"}}`;
  if (err.code === "HPE_HEADER_OVERFLOW") {
    status = 431;
    details = "codec_error{header_overflow}";
  } else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    flag = "";
    details = "request_header_timeout";
  }
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  const ctx = state.ctx;
  ctx.noCluster.record(status, 0, flag);
  if (ctx.telemetry !== undefined) telemetryOutsideExchange(ctx.telemetry, state.listener.config.trafficDirection === "OUTBOUND", socket as WithConnection, undefined, status, flag, 0);
  if (state.listener.http.accessLog) {
    ctx.accessLog(JSON.stringify({
      start_time: new Date().toISOString(),
      response_code: status,
      response_flags: flag || "-",
      response_code_details: details,
      downstream_remote_address: socket.remoteAddress,
      listener: state.listener.config.name,
    }));
  }
}
