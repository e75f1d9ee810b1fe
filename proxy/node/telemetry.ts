/**
 * @module proxy/node/telemetry
 * weft's telemetry (Istio metrics, access log, tracing, audit) on the Node proxy. `createNodeTelemetry`
 * builds it from the config with Node's pieces (an append-only file or stdout for log lines, `fetch`
 * for OTLP, the Kafka audit sink) and keeps the previous one when a reload does not change it, so
 * counters and queues carry over. Per request the exchange calls `telemetryStart` when the head
 * arrives (trace context continued with a new span id, audit chain, the upstream headers that carry
 * both) and `telemetryEnd` once at the end (metrics from the request's fields, with no record object;
 * a full record only for the access log or a sampled span). TCP connections report opened, bytes and
 * closed. Module functions and module-level scratch state keep the request path free of closures.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import type { TLSSocket } from "node:tls";
import { createRequestRecord, originatorTokens, type AuditSink, type IstioMetrics, type RequestRecord } from "../../adapters/telemetry/index.ts";
import type { Cluster } from "../../core/ir/model.ts";
import type { ProxyConfig } from "../config/types.ts";
import { createProxyTelemetry, type MeshPeer, type ProxyTelemetry } from "../mesh-telemetry.ts";
import type { Exchange, HostContext } from "./exchange.ts";
import { kConnection, spiffeIdOf, type WithConnection } from "./tls-identity.ts";

export interface NodeTelemetry extends ProxyTelemetry {
  /** Istio metrics in the Prometheus text format ("" when metrics are off). */
  render(): string;
  /** Flushes spans and audit events and closes the log file. */
  close(): Promise<void>;
}

interface Built extends NodeTelemetry {
  readonly key: string;
}

/**
 * The telemetry for `config`: `previous` when its `telemetry` and `workload` sections are unchanged,
 * otherwise a new one (recording into the previous metrics when the label set is the same).
 */
export async function createNodeTelemetry(config: ProxyConfig, previous: NodeTelemetry | undefined, log: (line: string) => void): Promise<NodeTelemetry | undefined> {
  if (config.telemetry === undefined) return undefined;
  const key = JSON.stringify([config.telemetry, config.workload ?? null]);
  const prev = previous as Built | undefined;
  if (prev !== undefined && prev.key === key) return prev;
  const tc = config.telemetry;
  let file: WriteStream | undefined;
  if (tc.accessLogPath !== undefined) {
    file = createWriteStream(tc.accessLogPath, { flags: "a" });
    file.on("error", (err) => log(`telemetry: access log ${tc.accessLogPath}: ${err.message}`));
  }
  const out = createLineBuffer(file !== undefined ? (text) => void file.write(text) : (text) => void process.stdout.write(text));
  const write = out.write;
  let kafkaAuditSink: AuditSink | undefined;
  if (tc.settings.audit?.sink === "kafka") {
    const { createKafkaAuditSink } = await import("../../adapters/telemetry/node/kafka.ts");
    kafkaAuditSink = createKafkaAuditSink({
      brokers: tc.kafkaBrokers ?? [], topic: tc.settings.audit.topic ?? "weft-audit",
      onError: (e) => log(`telemetry: audit to Kafka: ${e.message}`),
    });
  }
  const sameLabels = prev !== undefined && prev.config.extendedLabels === tc.extendedLabels;
  const metrics: IstioMetrics | undefined = sameLabels ? prev.telemetry.metrics : undefined;
  let exportErrors = 0;
  const t = createProxyTelemetry(config, {
    write,
    fetch: globalThis.fetch,
    ...(kafkaAuditSink ? { kafkaAuditSink } : {}),
    ...(metrics ? { metrics } : {}),
    onExportError: (e) => {
      // One line per 100 failures: a collector that is down must not flood the log.
      if (exportErrors++ % 100 === 0) log(`telemetry: span export failed (${exportErrors} so far): ${e.message}`);
    },
  })!;
  const built: Built = {
    ...t,
    key,
    render: () => t.telemetry.renderPrometheus(),
    async close() {
      await t.telemetry.close().catch((err: unknown) => log(`telemetry: close: ${(err as Error).message}`));
      out.flush();
      if (file !== undefined) await new Promise<void>((resolve) => file.end(resolve));
    },
  };
  return built;
}

/**
 * Log lines gathered and written once per event-loop turn (or per 64 KiB): one write call for many
 * requests instead of one each.
 */
function createLineBuffer(sink: (text: string) => void): { write(line: string): void; flush(): void } {
  let pending = "";
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    sink(text);
  };
  return {
    write(line) {
      pending += line + "\n";
      if (pending.length >= 65536) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

// ------------------------------------------------------------------ HTTP requests

let reading: Exchange | undefined;
let sawTraceHeader = false;
let pairs: string[] = [];

function getHeader(name: string): string | undefined {
  const v = reading!.header(name);
  if (v !== undefined) sawTraceHeader = true;
  return v;
}

function pushHeader(name: string, value: string): void {
  pairs.push(name, value);
}

/** At the request head: continues the trace and the audit chain and sets the headers the upstream gets. */
export function telemetryStart(ex: Exchange, tel: NodeTelemetry): void {
  ex.tel = tel;
  if (!tel.tracing && !tel.audit) return;
  reading = ex;
  sawTraceHeader = false;
  pairs = [];
  const t = tel.telemetry;
  if (tel.tracing) {
    const hop = t.startTrace(getHeader);
    ex.trace = hop;
    t.inject(hop, pushHeader);
  }
  if (tel.audit) {
    const a = t.auditStart(getHeader);
    ex.audit = a;
    if (a !== undefined) pairs.push(a.chainHeader, a.chainHeaderValue);
  }
  reading = undefined;
  ex.extraHeaders = pairs;
  // The downstream's own trace headers are replaced, not repeated (most requests carry none).
  if (sawTraceHeader || tel.audit) ex.upstreamSkip = ex.upstreamSkip === undefined ? tel.replacedHeaders : [...ex.upstreamSkip, ...tel.replacedHeaders];
}

function meshPeerOf(ex: Exchange, tel: NodeTelemetry): MeshPeer {
  const cluster = ex.cluster?.config;
  if (ex.state.listener.config.trafficDirection === "OUTBOUND") return tel.outbound(cluster);
  const conn = ex.conn;
  return tel.inbound(cluster, conn?.principal, conn !== undefined && conn.tls && (conn.principal !== undefined || conn.peerSubject !== undefined));
}

/** Once when the request ends: metrics, then (when configured) the access log, the span and the audit event. */
export function telemetryEnd(ex: Exchange, tel: NodeTelemetry, ms: number): void {
  const p = meshPeerOf(ex, tel);
  p.metrics?.record(ex.grpc, ex.status, ex.grpcStatus, ex.flags, ms, ex.bodyBytes, ex.responseBytes);
  const hop = ex.trace;
  if (tel.accessLog || (hop !== undefined && hop.sampled === true && tel.exporting)) tel.telemetry.finish(undefined, p.mesh, requestRecord(ex, ms), hop);
  if (ex.audit !== undefined) {
    const raw = ex.rawHeaders;
    const headers: [string, string][] = [];
    for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
    tel.telemetry.auditFinish(ex.audit, {
      method: ex.method, path: ex.target, status: ex.status, requestHeaders: headers,
      ...(ex.forwardedFor !== undefined ? { forwardedFor: ex.forwardedFor } : {}),
      originators: originatorTokens({ ...(ex.conn?.peerSubject ? { externalSysDn: ex.conn.peerSubject } : {}), ...(ex.conn?.principal ? { peer: ex.conn.principal } : {}) }),
    });
  }
}

function requestRecord(ex: Exchange, ms: number): RequestRecord {
  const r = createRequestRecord(ex.grpc ? "grpc" : "http");
  const q = ex.target.indexOf("?");
  r.method = ex.method;
  r.scheme = ex.scheme;
  r.path = q === -1 ? ex.target : ex.target.slice(0, q);
  if (q !== -1) r.query = ex.target.slice(q + 1);
  r.authority = ex.authority;
  r.protocolVersion = ex.h2 ? "2" : ((ex.req as { httpVersion?: string }).httpVersion ?? "1.1");
  r.status = ex.status;
  r.grpcStatus = ex.grpcStatus;
  r.responseFlags = ex.flags;
  if (ex.details !== "") r.responseCodeDetails = ex.details;
  if (ex.transportFailure !== undefined) r.upstreamTransportFailureReason = ex.transportFailure;
  r.requestBytes = ex.bodyBytes;
  r.responseBytes = ex.responseBytes;
  r.startTimeMs = Date.now() - ms;
  r.durationMs = ms;
  const ua = ex.header("user-agent");
  if (ua !== undefined) r.userAgent = ua;
  if (ex.requestId !== undefined) r.requestId = ex.requestId;
  if (ex.forwardedFor !== undefined) r.forwardedFor = ex.forwardedFor;
  const sock = ex.req.socket;
  if (sock.remoteAddress !== undefined) r.clientAddress = sock.remoteAddress;
  if (sock.remotePort !== undefined) r.clientPort = sock.remotePort;
  if (sock.localAddress !== undefined) r.localAddress = `${sock.localAddress}:${sock.localPort}`;
  if (ex.host !== undefined) r.upstreamHost = ex.host.key;
  if (ex.cluster !== undefined) r.upstreamCluster = ex.cluster.name;
  if (ex.route?.name !== undefined) r.routeName = ex.route.name;
  if (ex.conn?.sni !== undefined) r.requestedServerName = ex.conn.sni;
  return r;
}

/**
 * A request that never became an exchange (a head the HTTP/1.1 codec rejected, a WebSocket upgrade):
 * its metrics only, on the listener's side of the mesh.
 */
export function telemetryOutsideExchange(tel: NodeTelemetry, outbound: boolean, socket: WithConnection, cluster: Cluster | undefined, status: number, flags: string, ms: number): void {
  const conn = socket[kConnection];
  const p = outbound ? tel.outbound(cluster) : tel.inbound(cluster, conn?.principal, conn !== undefined && conn.tls && (conn.principal !== undefined || conn.peerSubject !== undefined));
  p.metrics?.record(false, status, -1, flags, ms, 0, 0);
}

// ------------------------------------------------------------------ TCP connections

/** One proxied TCP connection's telemetry; `undefined` from `tcpStart` when telemetry is off. */
export interface TcpTelemetry {
  tel: NodeTelemetry;
  peer: MeshPeer;
  start: number;
}

/** A downstream TCP connection was accepted and its cluster chosen (or not: `cluster` undefined). */
export function tcpStart(ctx: HostContext, outbound: boolean, cluster: Cluster | undefined, down: import("node:net").Socket): TcpTelemetry | undefined {
  const tel = ctx.telemetry;
  if (tel === undefined) return undefined;
  let peer: MeshPeer;
  if (outbound) peer = tel.outbound(cluster);
  else {
    const tls = down as TLSSocket;
    const principal = tls.encrypted && tls.authorized ? spiffeIdOf(tls.getPeerCertificate()) : undefined;
    peer = tel.inbound(cluster, principal, tls.encrypted === true && tls.authorized);
  }
  peer.metrics?.tcpOpened();
  return { tel, peer, start: Date.now() };
}

/** The TCP connection closed: bytes both ways, the close with its flags, and the access-log line. */
export function tcpEnd(t: TcpTelemetry, down: import("node:net").Socket, flags: string, upstream: { cluster?: string; host?: string }): void {
  const sent = down.bytesWritten ?? 0;
  const received = down.bytesRead;
  const m = t.peer.metrics;
  if (m !== undefined) {
    m.tcpBytes(sent, received, flags);
    m.tcpClosed(flags);
  }
  if (!t.tel.accessLog) return;
  const r = createRequestRecord("tcp");
  r.responseFlags = flags;
  r.requestBytes = received;
  r.responseBytes = sent;
  r.startTimeMs = t.start;
  r.durationMs = Date.now() - t.start;
  if (down.remoteAddress !== undefined) r.clientAddress = down.remoteAddress;
  if (down.remotePort !== undefined) r.clientPort = down.remotePort;
  if (upstream.cluster !== undefined) r.upstreamCluster = upstream.cluster;
  if (upstream.host !== undefined) r.upstreamHost = upstream.host;
  t.tel.telemetry.finish(undefined, t.peer.mesh, r);
}
