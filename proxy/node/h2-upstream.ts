/**
 * @module proxy/node/h2-upstream
 * HTTP/2 to upstream hosts — cleartext with prior knowledge, or mTLS with ALPN `h2` for clusters with
 * `tls` — one multiplexed session per host, reopened when it closes or receives GOAWAY. Used for
 * `http2` and `grpc` clusters: request and response bodies stream both ways and trailers
 * (`grpc-status`, `grpc-message`) pass through. Flags: UF when the session never connected, UC when the
 * stream was reset (a REFUSED_STREAM reset is told apart for `refused-stream` retries). Timeouts are
 * the exchange's.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { connect as netConnect } from "node:net";
import type { ClusterRuntime } from "../cluster/cluster-manager.ts";
import type { UpstreamHost } from "../cluster/host.ts";
import type { Exchange, UpstreamAttempt } from "./exchange.ts";
import { upstreamHeaderObject } from "./headers.ts";
import { connectUpstreamTls, type UpstreamTlsSettings } from "./tls-identity.ts";

interface Session {
  s: ClientHttp2Session;
  connected: boolean;
  /** Why the session failed to connect (TLS errors), for the access log. */
  failure: string | undefined;
}

export class H2Pool {
  readonly host: UpstreamHost;
  private current: Session | null = null;
  private closed = false;

  constructor(host: UpstreamHost, private readonly tls: UpstreamTlsSettings | undefined) {
    this.host = host;
  }

  dispatch(ex: Exchange): void {
    const cluster = ex.cluster as ClusterRuntime;
    let sess = this.current;
    if (sess === null || sess.s.closed || sess.s.destroyed) sess = this.open(cluster);
    const headers: Record<string, string | string[]> = {
      ...upstreamHeaderObject(ex.rawHeaders, ex.upstreamSkip),
      ":method": ex.method,
      ":path": ex.upstreamTarget,
      ":authority": ex.upstreamAuthority,
      ":scheme": this.tls === undefined ? "http" : "https",
    };
    if (ex.info.teTrailers) headers.te = "trailers";
    if (ex.forwardedFor !== undefined) headers["x-forwarded-for"] = ex.forwardedFor;
    if (!ex.info.forwardedProto) headers["x-forwarded-proto"] = ex.scheme;
    if (ex.requestId !== undefined) headers["x-request-id"] = ex.requestId;
    const extra = ex.extraHeaders;
    if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) headers[extra[i]!] = extra[i + 1]!;
    let stream: ClientHttp2Stream;
    try {
      stream = sess.s.request(headers, { endStream: !ex.hasBody });
    } catch (err) {
      ex.onUpstreamError(sess.connected ? "UC" : "UF", (err as Error).message);
      return;
    }
    ex.startTimer(undefined);
    new H2Exchange(ex, stream, sess);
  }

  private open(cluster: ClusterRuntime): Session {
    const host = this.host.address.includes(":") ? `[${this.host.address}]` : this.host.address;
    const tls = this.tls;
    const s = connect(`${tls === undefined ? "http" : "https"}://${host}:${this.host.port}`, {
      peerMaxConcurrentStreams: 1000,
      createConnection: () => tls === undefined
        ? netConnect({ host: this.host.address, port: this.host.port, noDelay: true })
        : connectUpstreamTls(tls, this.host.address, this.host.port, "h2"),
    });
    const sess: Session = { s, connected: false, failure: undefined };
    this.current = sess;
    const timer = cluster.connectTimeoutMs > 0
      ? setTimeout(() => { if (!sess.connected) s.destroy(new Error("upstream connect timeout")); }, cluster.connectTimeoutMs).unref()
      : undefined;
    s.on("connect", () => {
      sess.connected = true;
      if (timer) clearTimeout(timer);
    });
    const forget = () => {
      if (this.current === sess) this.current = null;
    };
    s.on("goaway", forget);
    s.on("close", forget);
    s.on("error", (err: Error & { code?: string }) => {
      if (!sess.connected) sess.failure = `${tls !== undefined ? "TLS error: " : ""}${err.code ? `${err.code}: ` : ""}${err.message}`;
      forget();
    });
    s.unref();
    return sess;
  }

  close(): void {
    this.closed = true;
    this.current?.s.close();
    this.current = null;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** The upstream half of one exchange over an HTTP/2 stream. */
class H2Exchange implements UpstreamAttempt {
  private trailers: Record<string, string | string[]> | undefined;
  private ended = false;

  constructor(private readonly ex: Exchange, private readonly stream: ClientHttp2Stream, private readonly sess: Session) {
    ex.upstream = this;
    stream.on("response", (h) => this.onResponse(h));
    stream.on("data", (chunk: Buffer) => {
      if (this.ended) return;
      ex.onUpstreamData(chunk);
      ex.flushPending();
    });
    stream.on("trailers", (t) => (this.trailers = stripPseudo(t)));
    stream.on("end", () => this.onEnd());
    stream.on("drain", () => ex.resumeRequestBody());
    stream.on("error", (err: Error) => this.onFail(err.message));
    stream.on("close", () => {
      if (!this.ended) this.onFail(`upstream stream closed (code ${stream.rstCode ?? 0})`);
    });
    ex.feedBody(this);
  }

  writeBody(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  endBody(): void {
    this.stream.end();
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  abort(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.close(constants.NGHTTP2_CANCEL);
  }

  private onResponse(h: IncomingHttpHeaders): void {
    if (this.ended) return;
    const status = Number(h[":status"]);
    const raw: string[] = [];
    for (const [k, v] of Object.entries(h)) {
      if (k.charCodeAt(0) === 58 || v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) raw.push(k, x);
      else raw.push(k, String(v));
    }
    this.ex.onUpstreamHeaders(status, raw);
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.ex.status === 0) {
      this.ex.onUpstreamError("UC", "upstream stream ended without a response");
      return;
    }
    this.ex.onUpstreamEnd(this.trailers);
  }

  private onFail(message: string): void {
    if (this.ended) return;
    this.ended = true;
    const refused = this.stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
    if (this.sess.connected) this.ex.onUpstreamError("UC", message, refused);
    else this.ex.onUpstreamError("UF", this.sess.failure ?? message);
  }
}

function stripPseudo(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (k.charCodeAt(0) !== 58 && v !== undefined) out[k] = v;
  return out;
}
