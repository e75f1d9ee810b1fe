/**
 * @module proxy/node/upgrade
 * `Upgrade` requests (WebSocket and others) on HTTP/1.1: the request is routed like any other, then a
 * fresh upstream connection gets the request head and the two sockets are joined byte for byte; the
 * upstream's `101 Switching Protocols` (or its refusal) flows back unchanged. The status of the first
 * upstream response line is recorded in the stats (and Istio's metrics) when the tunnel closes.
 */
import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import type { RouteRequest } from "../router/route-table.ts";
import type { HttpListenerState } from "./exchange.ts";
import { scanRequestHeaders, upstreamHeaderLines, type RequestHeadInfo } from "./headers.ts";
import { connectUpstreamTls, upstreamTlsSettings, type WithConnection } from "./tls-identity.ts";
import { telemetryOutsideExchange } from "./telemetry.ts";

const REASONS: Record<number, string> = { 404: "Not Found", 502: "Bad Gateway", 503: "Service Unavailable" };

export function handleUpgrade(state: HttpListenerState, req: IncomingMessage, socket: Socket, head: Buffer): void {
  const start = performance.now();
  const info: RequestHeadInfo = { host: undefined, connectionTokens: undefined, requestId: undefined, forwardedFor: undefined, forwardedProto: false, chunked: false, badTransferEncoding: false, contentLength: false, teTrailers: false };
  scanRequestHeaders(req.rawHeaders, info);
  const rr: RouteRequest = {
    method: req.method ?? "GET",
    authority: info.host ?? "",
    scheme: "http",
    header: (n) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v.join(",") : v;
    },
  };
  const ctx = state.ctx;
  const outbound = state.listener.config.trafficDirection === "OUTBOUND";
  const fail = (status: number, flag: string, stats = ctx.noCluster) => {
    stats.record(status, performance.now() - start, flag);
    if (ctx.telemetry !== undefined) telemetryOutsideExchange(ctx.telemetry, outbound, socket as WithConnection, undefined, status, flag, performance.now() - start);
    socket.on("error", () => socket.destroy());
    if (!socket.destroyed) socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  };
  const target = req.url ?? "/";
  const route = state.listener.routes.route(rr, target);
  if (route === undefined || route.kind !== "forward") return fail(404, "NR");
  const cluster = state.snapshot.clusters.get(route.pickCluster(state.snapshot.random));
  if (cluster === undefined) return fail(503, "NC");
  const host = cluster.pick();
  if (host === undefined) return fail(503, "UH", cluster.stats);

  const http = state.listener.http;
  const peer = socket.remoteAddress ?? "";
  const xff = http.appendForwardedFor ? (info.forwardedFor === undefined ? peer : `${info.forwardedFor}, ${peer}`) : info.forwardedFor;
  let lines = `${req.method} ${route.rewritePath(target)} HTTP/1.1\r\nhost: ${route.hostRewrite ?? rr.authority}\r\n${upstreamHeaderLines(req.rawHeaders, info.connectionTokens)}`;
  lines += `connection: upgrade\r\nupgrade: ${req.headers.upgrade ?? ""}\r\n`;
  if (xff !== undefined) lines += `x-forwarded-for: ${xff}\r\n`;
  if (!info.forwardedProto) lines += "x-forwarded-proto: http\r\n";
  const rid = info.requestId ?? (http.generateRequestId ? randomUUID() : undefined);
  if (rid !== undefined) lines += `x-request-id: ${rid}\r\n`;

  const tls = upstreamTlsSettings(cluster.config, ctx.secrets);
  const up: Socket = tls === undefined ? connect({ host: host.address, port: host.port, noDelay: true }) : connectUpstreamTls(tls, host.address, host.port, "http/1.1");
  socket.setNoDelay(true);
  host.activeRequests++;
  ctx.inflight++;
  let status = 0;
  let connected = false;
  let closed = 0;
  let flag = "";
  const onClose = () => {
    if (++closed < 2) return;
    host.activeRequests--;
    ctx.inflight--;
    cluster.stats.record(connected ? status : 503, performance.now() - start, connected ? flag : "UF");
    if (ctx.telemetry !== undefined) telemetryOutsideExchange(ctx.telemetry, outbound, socket as WithConnection, cluster.config, connected ? status : 503, connected ? flag : "UF", performance.now() - start);
    if (ctx.draining && ctx.inflight === 0) ctx.onIdle?.();
  };
  if (cluster.connectTimeoutMs > 0) up.setTimeout(cluster.connectTimeoutMs, () => { if (!connected) up.destroy(new Error("connect timeout")); });
  up.write(lines + "\r\n", "latin1");
  if (head.length > 0) up.write(head);
  up.once(tls === undefined ? "connect" : "secureConnect", () => {
    connected = true;
    up.setTimeout(0);
  });
  up.once("data", (first: Buffer) => {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(first.subarray(0, 16).toString("latin1"));
    status = m ? Number(m[1]) : 0;
  });
  up.on("error", () => {
    if (!connected) {
      flag = "UF";
      if (!socket.destroyed) socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    flag ||= status === 0 ? "UC" : "";
    socket.destroy();
  });
  socket.on("error", () => {
    flag ||= "DC";
    up.destroy();
  });
  up.pipe(socket);
  socket.pipe(up);
  up.on("close", (hadError: boolean) => {
    if (hadError && connected) socket.destroy();
    onClose();
  });
  socket.on("close", (hadError: boolean) => {
    if (hadError) up.destroy();
    onClose();
  });
}
