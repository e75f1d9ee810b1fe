/**
 * @module proxy/node/h1-upstream
 * HTTP/1.1 to upstream hosts over pooled raw sockets (or mTLS sockets for clusters with `tls`, so a
 * handshake is paid once per connection, not per request): one request at a time per connection,
 * keep-alive reuse (LIFO, so few connections stay warm), llhttp for response framing, request bodies
 * streamed with backpressure (re-chunked when the length is unknown), and the cluster's circuit
 * breakers: connections and pending requests are counted per cluster (503 UO past the limits). A
 * pooled connection that the upstream closed while idle is retried once on a fresh connection when the
 * request has no body and no response byte arrived. Timeouts are the exchange's.
 */
import { connect, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ClusterRuntime } from "../cluster/cluster-manager.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import { createResponseParser, type ResponseParser } from "./llhttp.ts";
import { onTimer, type Exchange, type UpstreamAttempt } from "./exchange.ts";
import { upstreamHeaderLines } from "./headers.ts";
import { connectUpstreamTls, type UpstreamTlsSettings } from "./tls-identity.ts";

const IDLE_CLOSE_MS = 30_000;

export class H1Pool {
  readonly host: UpstreamHost;
  readonly tls: UpstreamTlsSettings | undefined;
  readonly idle: H1Connection[] = [];
  readonly pending: Exchange[] = [];
  total = 0;
  closed = false;
  private cluster: ClusterRuntime | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(host: UpstreamHost, tls: UpstreamTlsSettings | undefined) {
    this.host = host;
    this.tls = tls;
  }

  dispatch(ex: Exchange): void {
    const cluster = ex.cluster as ClusterRuntime;
    this.cluster = cluster;
    const conn = this.idle.pop();
    if (conn !== undefined) {
      conn.start(ex);
      return;
    }
    if (cluster.resources.connections < cluster.maxConnections) {
      this.open(cluster).start(ex);
      return;
    }
    if (cluster.resources.pending < cluster.maxPendingRequests) {
      cluster.resources.pending++;
      ex.queuedIn = this;
      this.pending.push(ex);
      ex.startTimer(undefined); // the route timeout runs while queued
      return;
    }
    ex.onUpstreamError("UO", "upstream connection pool overflow");
  }

  /** Opens a fresh connection (also used for the stale-connection retry). */
  open(cluster: ClusterRuntime): H1Connection {
    this.total++;
    cluster.resources.connections++;
    this.cluster = cluster;
    this.sweeper ??= setInterval(sweep, IDLE_CLOSE_MS / 2, this).unref();
    return new H1Connection(this, cluster.connectTimeoutMs, cluster.maxRequestsPerConnection, cluster.resources);
  }

  private takePending(): Exchange | undefined {
    const next = this.pending.shift();
    if (next !== undefined) {
      next.queuedIn = null;
      (next.cluster as ClusterRuntime).resources.pending--;
    }
    return next;
  }

  release(conn: H1Connection): void {
    const next = this.takePending();
    if (next !== undefined) {
      if (next.done) return this.release(conn);
      conn.start(next);
      return;
    }
    if (this.closed) {
      conn.destroy();
      return;
    }
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }

  removed(conn: H1Connection): void {
    this.total--;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    // A slot freed up: serve a waiting request on a new connection.
    const next = this.takePending();
    if (next !== undefined && !next.done && !this.closed) this.open(next.cluster as ClusterRuntime).start(next);
  }

  /** Stops pooling: idle connections close now, busy ones after their response. */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.destroy();
    if (this.sweeper) clearInterval(this.sweeper);
  }
}

function sweep(pool: H1Pool): void {
  const limit = performance.now() - IDLE_CLOSE_MS;
  for (const c of [...pool.idle]) if (c.idleSince < limit) c.destroy();
}

export class H1Connection implements UpstreamAttempt {
  readonly pool: H1Pool;
  readonly socket: Socket | TLSSocket;
  ex: Exchange | null = null;
  idleSince = 0;
  private readonly parser: ResponseParser;
  private readonly maxRequests: number;
  private readonly resources: ClusterRuntime["resources"];
  private connected = false;
  private requests = 0;
  private gotBytes = false;
  private keepAlive = false;
  private dead = false;
  private removed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerMs = 0;

  constructor(pool: H1Pool, connectTimeoutMs: number, maxRequests: number, resources: ClusterRuntime["resources"]) {
    this.pool = pool;
    this.maxRequests = maxRequests;
    this.resources = resources;
    const tls = pool.tls;
    const s = tls === undefined
      ? connect({ host: pool.host.address, port: pool.host.port, noDelay: true })
      : connectUpstreamTls(tls, pool.host.address, pool.host.port, "http/1.1");
    this.socket = s;
    if (connectTimeoutMs > 0) s.setTimeout(connectTimeoutMs);
    s.on(tls === undefined ? "connect" : "secureConnect", () => {
      this.connected = true;
      s.setTimeout(0);
    });
    s.on("timeout", () => this.fail("UF", "upstream connect timeout"));
    s.on("data", (chunk: Buffer) => this.onData(chunk));
    s.on("drain", () => this.ex?.resumeRequestBody());
    s.on("error", (err: Error & { code?: string }) => {
      const m = tls !== undefined && !this.connected ? `TLS error: ${err.code ? `${err.code}: ` : ""}${err.message}` : err.message;
      this.fail(this.connected ? "UC" : "UF", m);
    });
    s.on("end", () => {
      const err = this.parser.finish();
      if (err !== undefined || this.ex !== null) this.fail("UC", "upstream closed the connection");
      else this.destroy();
    });
    s.on("close", () => {
      if (this.ex !== null) this.fail("UC", "upstream connection closed");
      this.destroy();
    });
    this.parser = createResponseParser({
      onHeaders: (status, _msg, headers, keepAlive, upgrade) => {
        const ex = this.ex;
        this.gotBytes = true;
        if (ex === null || upgrade) {
          this.dead = true;
          return 1;
        }
        this.keepAlive = keepAlive;
        if (status < 200) return 0; // 100 Continue and other interim responses are not forwarded
        ex.onUpstreamHeaders(status, headers);
        return ex.method === "HEAD" ? 1 : 0;
      },
      onBody: (chunk) => this.ex?.onUpstreamData(chunk),
      onComplete: (trailers) => {
        const ex = this.ex;
        if (ex === null || ex.status === 0) return; // end of an interim response
        this.ex = null;
        const reusable = this.keepAlive && ex.requestDone && !this.dead && (this.maxRequests === 0 || this.requests < this.maxRequests);
        if (!ex.requestDone) ex.detachRequestBody();
        ex.onUpstreamEnd(trailers);
        if (reusable) this.pool.release(this);
        else this.destroy();
      },
    });
  }

  start(ex: Exchange): void {
    this.ex = ex;
    ex.upstream = this;
    this.requests++;
    this.gotBytes = false;
    const info = ex.info;
    let head = `${ex.method} ${ex.upstreamTarget} HTTP/1.1\r\nhost: ${ex.upstreamAuthority}\r\n${upstreamHeaderLines(ex.rawHeaders, ex.upstreamSkip)}`;
    if (ex.forwardedFor !== undefined) head += `x-forwarded-for: ${ex.forwardedFor}\r\n`;
    if (!info.forwardedProto) head += `x-forwarded-proto: ${ex.scheme}\r\n`;
    if (ex.requestId !== undefined) head += `x-request-id: ${ex.requestId}\r\n`;
    if (ex.extraHeaders !== undefined) head += ex.extraHeaderLines();
    if (ex.bodyChunked) head += "transfer-encoding: chunked\r\n";
    this.socket.write(head + "\r\n", "latin1");
    ex.startTimer(this);
    ex.feedBody(this);
  }

  /** Runs the exchange's timeout in `ms`; reuses the timer when the duration repeats (the common case). */
  armTimer(ms: number): void {
    if (this.timer !== undefined && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(onConnTimer, ms, this).unref();
    this.timerMs = ms;
  }

  writeBody(chunk: Buffer, chunked: boolean): boolean {
    if (!chunked) return this.socket.write(chunk);
    if (chunk.length === 0) return true;
    this.socket.cork();
    this.socket.write(chunk.length.toString(16) + "\r\n", "latin1");
    this.socket.write(chunk);
    const ok = this.socket.write("\r\n", "latin1");
    this.socket.uncork();
    return ok;
  }

  endBody(chunked: boolean): void {
    if (chunked) this.socket.write("0\r\n\r\n", "latin1");
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  abort(): void {
    this.destroy();
  }

  /** Drops the connection (the exchange on it, if any, is not told). */
  destroy(): void {
    this.ex = null;
    this.dead = true;
    if (!this.socket.destroyed) this.socket.destroy();
    if (this.removed) return;
    this.removed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.resources.connections--;
    this.pool.removed(this);
    setImmediate(closeParser, this.parser);
  }

  private onData(chunk: Buffer): void {
    const ex = this.ex;
    const err = this.parser.execute(chunk);
    if (err !== undefined) {
      this.fail("UC", `upstream sent an invalid response: ${(err as Error & { code?: string }).code ?? err.message}`);
      return;
    }
    ex?.flushPending();
  }

  private fail(flag: "UF" | "UC", message: string): void {
    const ex = this.ex;
    const retry = ex !== null && !this.gotBytes && this.requests > 1 && !ex.hasBody && !ex.retried && flag === "UC";
    this.destroy();
    if (ex === null) return;
    ex.upstream = null;
    if (retry) {
      ex.retried = true;
      this.pool.open(ex.cluster as ClusterRuntime).start(ex);
      return;
    }
    ex.onUpstreamError(flag, message);
  }
}

function onConnTimer(conn: H1Connection): void {
  // An idle connection's timer, or one a later request refreshed: only the exchange on it counts.
  if (conn.ex !== null) onTimer(conn.ex);
}

function closeParser(p: ResponseParser): void {
  p.close();
}
