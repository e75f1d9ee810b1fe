/**
 * @module proxy/node/exchange
 * One proxied HTTP request on the Node host, from the downstream request (node:http or node:http2
 * compat) through one or more upstream tries and back: the request body fed to the current try (and
 * kept for retries and mirrors up to a limit), the route timeout (counted from routing, so time queued
 * for a pooled connection counts) and per-try timeouts, retries with Envoy's conditions, backoff and
 * budget, outlier-detection reports, and the response streamed back with backpressure (trailers too,
 * to HTTP/1.1 clients that sent `TE: trailers`). Handlers are module functions that find the exchange on
 * the request or response object, so no closure is made per request. Routing, local replies and the
 * access log are in `request-path.ts`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { RetryPolicy } from "../../core/ir/model.ts";
import type { ClusterRuntime } from "../cluster/cluster-manager.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import { backoffMs, isRetriable, retryAllowed, type TryOutcome } from "../cluster/retry.ts";
import type { FilterStream, HttpFilter } from "../filter.ts";
import type { CompiledRoute, RouteRequest } from "../router/route-table.ts";
import type { HttpListenerRuntime, Snapshot } from "../snapshot.ts";
import type { ClusterStats, StatsRegistry } from "../stats.ts";
import { headerObject, responseHeaders, scanRequestHeaders, type RequestHeadInfo } from "./headers.ts";
import type { H1Pool } from "./h1-upstream.ts";
import { finish, localReply, poolFor, sendMirrors } from "./request-path.ts";
import { kConnection, type ConnectionInfo, type WithConnection } from "./tls-identity.ts";
import type { SecretStore } from "./tls-secrets.ts";
import type { AuditStart, TraceContext } from "../../adapters/telemetry/index.ts";
import type { NodeTelemetry } from "./telemetry.ts";

export { handleRequest, localReply, onClientError } from "./request-path.ts";

/** Process-wide state shared by listeners. */
export interface HostContext {
  readonly stats: StatsRegistry;
  readonly noCluster: ClusterStats;
  readonly secrets: SecretStore;
  /** Istio metrics, access log, tracing and audit (`telemetry:` in the config); undefined when off. */
  telemetry: NodeTelemetry | undefined;
  accessLog(line: string): void;
  log(line: string): void;
  draining: boolean;
  inflight: number;
  onIdle: (() => void) | undefined;
}

export interface HttpListenerState {
  snapshot: Snapshot;
  listener: HttpListenerRuntime;
  ctx: HostContext;
}

/** One upstream try as the exchange drives it (an HTTP/1.1 connection or an HTTP/2 stream). */
export interface UpstreamAttempt {
  writeBody(chunk: Buffer, chunked: boolean): boolean;
  endBody(chunked: boolean): void;
  pause(): void;
  resume(): void;
  /** Abandons the try: its connection or stream closes and it reports nothing more. */
  abort(): void;
}

type DownReq = IncomingMessage | Http2ServerRequest;
type DownRes = ServerResponse | Http2ServerResponse;

const kEx = Symbol("weft.exchange");
type Tagged = { [kEx]?: Exchange };

/** Request bodies up to this size are kept for retries and mirrors (Envoy's default buffer limit). */
const BODY_BUFFER_LIMIT = 1024 * 1024;

export class Exchange implements RouteRequest {
  readonly req: DownReq;
  readonly res: DownRes;
  readonly h2: boolean;
  readonly state: HttpListenerState;
  readonly start = performance.now();
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly conn: ConnectionInfo | undefined;
  target: string;
  readonly info: RequestHeadInfo = { host: undefined, connectionTokens: undefined, requestId: undefined, forwardedFor: undefined, forwardedProto: false, chunked: false, badTransferEncoding: false, contentLength: false, teTrailers: false };
  rawHeaders: string[];
  route: CompiledRoute | undefined = undefined;
  cluster: ClusterRuntime | undefined = undefined;
  host: UpstreamHost | undefined = undefined;
  /** The try in flight, if any. */
  upstream: UpstreamAttempt | null = null;
  /** The HTTP/1.1 pool the request waits in for a connection, if it does. */
  queuedIn: H1Pool | null = null;
  upstreamTarget: string;
  upstreamAuthority: string;
  forwardedFor: string | undefined = undefined;
  requestId: string | undefined = undefined;
  hasBody: boolean;
  bodyChunked: boolean;
  requestDone = false;
  /** The stale-pooled-connection retry of `h1-upstream.ts` was used. */
  retried = false;
  status = 0;
  flags = "";
  details = "";
  /** Why the upstream connection failed (TLS errors, identity mismatch), for the access log. */
  transportFailure: string | undefined = undefined;
  done = false;
  headersSent = false;
  grpc: boolean;
  /** Set when filters have response hooks. */
  onResponseHead: ((status: number, raw: string[]) => { status: number; raw: string[] }) | undefined = undefined;
  /** The filter stream, when filters ran (for `onComplete`). */
  filterStream: FilterStream | undefined = undefined;
  filters: readonly HttpFilter[] | undefined = undefined;
  // Timeouts, tries and retries.
  deadline = Infinity;
  tryDeadline = Infinity;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  tries = 0;
  retry: RetryPolicy | undefined = undefined;
  retrying = false;
  counted = false;
  tried: UpstreamHost[] | undefined = undefined;
  hashKey: number | undefined = undefined;
  body: Buffer[] | null = null;
  /** Request body bytes received. */
  bodyBytes = 0;
  /** Response body bytes sent (upstream bytes, or a local reply's body). */
  responseBytes = 0;
  /** The gRPC status from the response head or trailers; -1 when none was seen. */
  grpcStatus = -1;
  // Telemetry (telemetry.ts), set only when the config has a `telemetry:` section.
  tel: NodeTelemetry | undefined = undefined;
  trace: TraceContext | undefined = undefined;
  audit: AuditStart | undefined = undefined;
  /** Headers the upstream request gets besides the copied ones (`[name, value, ...]`: trace context, audit chain). */
  extraHeaders: string[] | undefined = undefined;
  /** Downstream header names not copied upstream (`Connection` tokens, replaced trace headers). */
  upstreamSkip: readonly string[] | undefined;
  mirrors: string[] | undefined = undefined;
  private bodyAttached = false;
  private hostReleased = false;
  private pending: Buffer | null = null;

  constructor(state: HttpListenerState, req: DownReq, res: DownRes, h2: boolean) {
    this.state = state;
    this.req = req;
    this.res = res;
    this.h2 = h2;
    this.method = req.method ?? "GET";
    this.rawHeaders = req.rawHeaders;
    this.conn = (req.socket as WithConnection)[kConnection];
    this.scheme = this.conn?.tls === true ? "https" : "http";
    scanRequestHeaders(this.rawHeaders, this.info);
    this.upstreamSkip = this.info.connectionTokens;
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

  /** `extraHeaders` as HTTP/1.1 header lines. */
  extraHeaderLines(): string {
    const h = this.extraHeaders;
    let out = "";
    if (h !== undefined) for (let i = 0; i < h.length; i += 2) out += `${h[i]}: ${h[i + 1]}\r\n`;
    return out;
  }

  addFlag(flag: string): void {
    if (this.flags === "") this.flags = flag;
    else if (!this.flags.split(",").includes(flag)) this.flags += `,${flag}`;
  }

  // ------------------------------------------------------------ tries

  /** Starts a try on `host`: counts it, arms the timer (queue time included) and dispatches. */
  beginTry(host: UpstreamHost): void {
    this.tries++;
    this.host = host;
    this.hostReleased = false;
    host.activeRequests++;
    if (this.retry !== undefined) (this.tried ??= []).push(host);
    this.armTimer();
    poolFor(this, host).dispatch(this);
  }

  /** Ends the try in flight (if any) without a verdict: its connection or stream is abandoned. */
  abortTry(): void {
    const up = this.upstream;
    this.upstream = null;
    up?.abort();
    this.leaveQueue();
    this.releaseHost();
  }

  /** The try ended (failed or answered); the host stops counting it. */
  releaseHost(): void {
    if (this.host !== undefined && this.tries > 0 && !this.hostReleased) {
      this.host.activeRequests--;
      this.hostReleased = true;
    }
  }
  leaveQueue(): void {
    const pool = this.queuedIn;
    if (pool === null) return;
    this.queuedIn = null;
    const i = pool.pending.indexOf(this);
    if (i !== -1) {
      pool.pending.splice(i, 1);
      (this.cluster as ClusterRuntime).resources.pending--;
    }
  }

  /** Sets the try's deadline; the pool starts the timer (`startTimer`) once it knows where the try waits. */
  armTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const perTry = this.retry?.perTryTimeoutMs;
    this.tryDeadline = perTry !== undefined && perTry > 0 ? Math.min(this.deadline, performance.now() + perTry) : this.deadline;
  }

  /**
   * Starts the try's timer. On a pooled HTTP/1.1 connection that starts the try at once (the common
   * case) the connection's own timer is refreshed — no timer is created per request; otherwise
   * (queued, per-try timeouts, HTTP/2) the exchange gets one.
   */
  startTimer(conn: { armTimer(ms: number): void } | undefined): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tryDeadline === Infinity) return;
    const left = this.tryDeadline - performance.now();
    const ms = this.route!.timeoutMs;
    if (conn !== undefined && ms > 0 && left > ms - 1) conn.armTimer(ms);
    else this.timer = setTimeout(onTimer, Math.min(Math.max(0, left), 2 ** 31 - 1), this);
  }

  /**
   * Decides whether a failed or retriable try is retried; when it is, the try is abandoned and the
   * next one scheduled after the backoff. Adds URX (tries used up) or UO (retry budget or breaker).
   */
  maybeRetry(o: TryOutcome): boolean {
    const p = this.retry;
    if (p === undefined || this.headersSent || !isRetriable(p, o)) return false;
    const cluster = this.cluster as ClusterRuntime;
    if (this.tries > p.attempts) {
      this.addFlag("URX");
      return false;
    }
    if (this.hasBody && this.body === null) return false; // the body outgrew the buffer: it cannot be replayed
    if (performance.now() >= this.deadline) return false;
    const res = cluster.resources;
    if (!this.retrying) {
      if (!retryAllowed(p, res.retries, res.requests, cluster.maxRetries)) {
        this.addFlag("UO");
        return false;
      }
      this.retrying = true;
      res.retries++;
    }
    this.abortTry();
    this.pending = null;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const delay = backoffMs(p, this.tries, this.state.snapshot.random);
    this.timer = setTimeout(onRetry, Math.min(delay, Math.max(0, this.deadline - performance.now())), this);
    return true;
  }

  // ------------------------------------------------------------ request body (to the current try)

  /** Gives the current try the body: what was kept so far, then the rest as it arrives. */
  feedBody(up: UpstreamAttempt): void {
    if (!this.hasBody) {
      this.requestDone = true;
      return;
    }
    if (this.body !== null) for (const c of this.body) up.writeBody(c, this.bodyChunked);
    if (this.requestDone) {
      up.endBody(this.bodyChunked);
      return;
    }
    if (!this.bodyAttached) {
      this.bodyAttached = true;
      (this.req as Tagged)[kEx] = this;
      this.req.on("data", onReqData);
      this.req.on("end", onReqEnd);
    }
    this.req.resume();
  }

  /** Keeps the body for retries and mirrors (called before the first try). */
  keepBody(): void {
    if (this.hasBody) this.body = [];
  }

  detachRequestBody(): void {
    if (this.retry !== undefined || this.mirrors !== undefined) return; // still needed
    this.req.removeListener("data", onReqData);
    this.req.removeListener("end", onReqEnd);
    this.bodyAttached = false;
  }

  resumeRequestBody(): void {
    if (!this.requestDone) this.req.resume();
  }

  /**
   * The streamed body crossed the listener's `maxRequestBodyBytes`: the try is reset, and the client
   * gets 413 if the response has not started (else its response is cut short); the connection closes.
   */
  rejectBody(limit: number): void {
    this.req.removeListener("data", onReqData);
    this.req.removeListener("end", onReqEnd);
    this.bodyAttached = false;
    this.body = null;
    this.mirrors = undefined;
    this.abortTry();
    if (!this.h2) (this.res as ServerResponse).shouldKeepAlive = false;
    localReply(this, 413, "", `request body exceeds ${limit} bytes`, undefined, "request_payload_too_large");
  }

  // ------------------------------------------------------------ upstream events

  onUpstreamHeaders(status: number, raw: string[]): void {
    if (this.done) return;
    const cluster = this.cluster as ClusterRuntime;
    if (cluster.outlier !== undefined && cluster.outlier.record(this.host!, status, performance.now())) cluster.refreshHealth();
    if (this.grpc && (this.tel !== undefined || this.retry !== undefined)) this.grpcStatus = grpcStatusOf(raw) ?? -1;
    if (this.retry !== undefined && !this.headersSent) {
      const gs = this.grpc && this.grpcStatus >= 0 ? this.grpcStatus : undefined;
      if (this.maybeRetry({ kind: "response", status, ...(gs !== undefined ? { grpcStatus: gs } : {}) })) return;
    }
    let headers = responseHeaders(raw);
    if (this.onResponseHead !== undefined) ({ status, raw: headers } = this.onResponseHead(status, headers));
    this.status = status;
    this.headersSent = true;
    this.details = "via_upstream";
    if (this.h2) (this.res as Http2ServerResponse).writeHead(status, headerObject(headers));
    else (this.res as ServerResponse).writeHead(status, headers);
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.done || !this.headersSent) return;
    this.responseBytes += chunk.length;
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
      (this.res as Tagged)[kEx] = this;
      this.res.once("drain", onResDrain);
    }
  }

  onUpstreamEnd(trailers: string[] | Record<string, string | string[]> | undefined): void {
    if (this.done || !this.headersSent) return;
    this.upstream = null;
    this.releaseHost();
    if (trailers !== undefined) {
      const t = Array.isArray(trailers) ? headerObject(trailers) : trailers;
      if (this.grpc) {
        const gs = t["grpc-status"];
        if (typeof gs === "string") this.grpcStatus = Number(gs);
      }
      if (this.h2) (this.res as Http2ServerResponse).addTrailers(t);
      // HTTP/1.1 carries trailers only in a chunked body, and only to a client that asked for them.
      else if (this.info.teTrailers && (this.res as ServerResponse).chunkedEncoding) (this.res as ServerResponse).addTrailers(t);
    }
    const p = this.pending;
    this.pending = null;
    if (p !== null) (this.res as ServerResponse).end(p);
    else (this.res as ServerResponse).end();
    finish(this);
  }

  /** A try failed (`UF` connect, `UC` reset or bad response, `UT` timeout, `UO` overflow). */
  onUpstreamError(flag: string, message: string, refusedStream = false): void {
    if (this.done) return;
    this.upstream = null;
    this.leaveQueue();
    this.releaseHost();
    const cluster = this.cluster;
    if (flag === "UF" || flag === "UC" || flag === "UT") {
      if (flag === "UF") this.transportFailure = message;
      if (cluster?.outlier !== undefined && this.host !== undefined && cluster.outlier.record(this.host, "local", performance.now())) cluster.refreshHealth();
      if (!this.headersSent && this.maybeRetry({ kind: "error", flag, refusedStream })) return;
    }
    if (!this.headersSent) {
      this.details = flag === "UT" ? "upstream_response_timeout" : flag === "UO" ? "upstream_overflow" : "upstream_reset_before_response_started";
      localReply(this, flag === "UT" ? 504 : flag === "UC" ? 502 : 503, flag, message);
      return;
    }
    this.addFlag(flag);
    this.details = "upstream_reset_after_response_started";
    if (this.h2) (this.res as Http2ServerResponse).stream.close(2 /* INTERNAL_ERROR */);
    else (this.res as ServerResponse).destroy();
    finish(this);
  }
}

/** `grpc-status` of a trailers-only response (in the response head), if present. */
function grpcStatusOf(raw: readonly string[]): number | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 11 && raw[i]!.toLowerCase() === "grpc-status") return Number(raw[i + 1]);
  }
  return undefined;
}

// ------------------------------------------------------------------ module-level handlers (no closures)

export function onTimer(ex: Exchange): void {
  // A connection's timer left from an earlier request may fire for one without a deadline.
  if (ex.done || ex.tryDeadline === Infinity) return;
  if (ex.timer !== undefined) clearTimeout(ex.timer);
  ex.timer = undefined;
  const now = performance.now();
  // Timers run on the loop's cached clock and may fire a little early (or a reused connection timer
  // late-armed); re-arm for the rest.
  if (ex.tryDeadline - now > 1) {
    ex.timer = setTimeout(onTimer, Math.min(ex.tryDeadline - now, 2 ** 31 - 1), ex);
    return;
  }
  const perTry = ex.deadline - now > 1;
  ex.abortTry();
  ex.onUpstreamError("UT", perTry ? "upstream per-try timeout" : "upstream request timeout");
}

function onRetry(ex: Exchange): void {
  ex.timer = undefined;
  if (ex.done) return;
  if (performance.now() >= ex.deadline - 1) {
    ex.details = "upstream_response_timeout";
    localReply(ex, 504, "UT", "upstream request timeout");
    return;
  }
  const cluster = ex.cluster as ClusterRuntime;
  const host = cluster.pickAvoiding(ex.tried ?? [], ex.hashKey);
  if (host === undefined) {
    ex.details = "no_healthy_upstream";
    localReply(ex, 503, "UH", "no healthy upstream");
    return;
  }
  ex.beginTry(host);
}

function onReqData(this: Tagged, chunk: Buffer): void {
  const ex = this[kEx];
  if (!ex) return;
  ex.bodyBytes += chunk.length;
  const limit = ex.state.listener.http.maxRequestBodyBytes;
  if (limit !== undefined && ex.bodyBytes > limit && !ex.done) return ex.rejectBody(limit);
  if (ex.body !== null) {
    if (ex.bodyBytes > BODY_BUFFER_LIMIT) ex.body = null; // too big to replay: no more retries or mirrors
    else ex.body.push(chunk);
  }
  const up = ex.upstream;
  if (up !== null && !up.writeBody(chunk, ex.bodyChunked)) ex.req.pause();
}

function onReqEnd(this: Tagged): void {
  const ex = this[kEx];
  if (!ex) return;
  ex.requestDone = true;
  ex.upstream?.endBody(ex.bodyChunked);
  if (ex.mirrors !== undefined) sendMirrors(ex);
}

function onResDrain(this: Tagged): void {
  this[kEx]?.upstream?.resume();
}

/** The downstream response closed; before it finished, that is the client going away (DC). */
export function onResClose(this: Tagged): void {
  const ex = this[kEx];
  if (ex === undefined || ex.done) return;
  ex.flags = "DC";
  ex.details = "downstream_remote_disconnect";
  ex.abortTry();
  finish(ex);
}

export function tag(res: DownRes, ex: Exchange): void {
  (res as Tagged)[kEx] = ex;
}

export function exchangeOf(res: DownRes): Exchange | undefined {
  return (res as Tagged)[kEx];
}
