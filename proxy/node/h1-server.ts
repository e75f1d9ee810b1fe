/**
 * @module proxy/node/h1-server
 * HTTP/1.1 served on raw sockets with Node's own llhttp request parser (`llhttp.ts`) instead of
 * `http.createServer`: the same strict parsing (every request node:http rejects is rejected here, with
 * the same error codes for `onClientError`), at a fraction of the per-request cost. One connection
 * serves its requests one at a time, in order: a pipelined request waits (head and body kept, the
 * socket paused) until the response before it is complete. `Expect: 100-continue` is answered when the
 * request is dispatched (other expectations get 417); `Upgrade` requests go to the upgrade path with the
 * bytes after their head, CONNECT is refused by closing (as node:http does without a handler). One
 * timer per connection covers the header timeout (408) and the idle keep-alive timeout; a response the
 * exchange leaves before the body arrived discards the rest of that body and keeps the connection.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { handleRequest, onClientError, type HttpListenerState } from "./exchange.ts";
import { H1Request, H1Response, type H1Sink } from "./h1-message.ts";
import { createRequestParser, type RequestParser } from "./llhttp.ts";
import { handleUpgrade } from "./upgrade.ts";

type ClientError = Error & { code?: string };
type SocketWithMessage = Socket & { _httpMessage?: unknown };

export interface H1Server {
  /** Serves HTTP/1.1 on a connected socket (plaintext, or TLS after its handshake). */
  serve(socket: Socket): void;
  /** Closes connections with no request in flight; the others close after their response. */
  closeIdle(): void;
  closeAll(): void;
}

/** `stateOf` gives the listener state for a socket (read once per request: reloads apply to the next one). */
export function createH1Server(stateOf: (socket: Socket) => HttpListenerState): H1Server {
  const conns = new Set<H1Connection>();
  return {
    serve: (socket) => void new H1Connection(socket, stateOf, conns),
    closeIdle() {
      for (const c of conns) {
        c.closing = true;
        if (c.idle()) c.socket.destroy();
      }
    },
    closeAll() {
      for (const c of conns) c.socket.destroy();
    },
  };
}

const IDLE = 0;
const HEAD = 1;
const BUSY = 2;
const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

class H1Connection implements H1Sink {
  readonly socket: Socket;
  closing = false;
  private readonly stateOf: (socket: Socket) => HttpListenerState;
  private readonly conns: Set<H1Connection>;
  private readonly parser: RequestParser;
  /** The response in flight. */
  private current: H1Response | null = null;
  /** The request whose body the parser is reading. */
  private parsing: H1Request | null = null;
  /** Parsed requests waiting for the one in flight. */
  private readonly queue: H1Response[] = [];
  private upgradeReq: H1Response | null = null;
  private pendingError: ClientError | null = null;
  private reqPaused = false;
  private readPaused = false;
  private detached = false;
  // One timer for the header and idle timeouts: it fires every `period` ms at most and checks `deadline`.
  private phase = HEAD;
  private deadline = Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private period = 0;
  private headMs: number;
  private idleMs: number;

  constructor(socket: Socket, stateOf: (socket: Socket) => HttpListenerState, conns: Set<H1Connection>) {
    this.socket = socket;
    this.stateOf = stateOf;
    this.conns = conns;
    conns.add(this);
    const http = stateOf(socket).listener.http;
    this.headMs = http.requestHeadersTimeoutMs;
    this.idleMs = http.idleTimeoutMs;
    this.parser = createRequestParser({
      onHeaders: (method, url, minor, headers, keepAlive, upgrade) => this.onHead(method, url, minor, headers, keepAlive, upgrade),
      onBody: (chunk) => {
        if (!this.detached) this.parsing?.push(chunk);
      },
      onComplete: () => this.onMessageComplete(),
    }, http.maxRequestHeadersBytes);
    socket.setNoDelay(true);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("drain", onDrain);
    (socket as Socket & { [kConn]?: H1Connection })[kConn] = this;
    this.arm(HEAD, this.headMs);
    if (socket.isPaused()) socket.resume();
  }

  idle(): boolean {
    return this.current === null && this.parsing === null && this.queue.length === 0;
  }

  // ------------------------------------------------------------ input

  onData(chunk: Buffer): void {
    if (this.detached) return;
    if (this.phase === IDLE) {
      // Only the deadline moves: the pending timer fires no later than the idle arm set it, and re-arms.
      this.phase = HEAD;
      this.deadline = this.headMs > 0 ? performance.now() + this.headMs : Infinity;
    }
    const r = this.parser.execute(chunk);
    if (typeof r !== "number") {
      this.clientError(r);
      return;
    }
    const up = this.upgradeReq as H1Response | null;
    if (up !== null) {
      this.upgradeReq = null;
      up.upgradeHead = chunk.subarray(r);
      if (this.current === null) this.dispatch(up);
      else this.queue.push(up);
    }
    this.updateReading();
  }

  private onHead(method: string, url: string, minor: number, headers: string[], keepAlive: boolean, upgrade: boolean): void {
    if (this.detached || this.pendingError !== null) return;
    this.phase = BUSY;
    const req = new H1Request(this.socket, method, url, minor, headers, keepAlive, upgrade, (p) => {
      this.reqPaused = p;
      this.updateReading();
    });
    const res = new H1Response(this, req, keepAlive && !this.closing);
    if (upgrade) {
      this.upgradeReq = res;
      return;
    }
    this.parsing = req;
    if (minor === 1 && !hasHeader(headers, "host")) {
      const err: ClientError = new Error("HTTP/1.1 request without a Host header");
      err.code = "missing_host_header";
      this.clientError(err);
      return;
    }
    if (this.current === null && this.queue.length === 0) this.dispatch(res);
    else this.queue.push(res);
  }

  private onMessageComplete(): void {
    if (this.upgradeReq !== null || this.detached) return;
    const req = this.parsing;
    this.parsing = null;
    req?.finish();
    if (this.current === null && this.queue.length === 0 && !this.detached) this.arm(IDLE, this.idleMs);
  }

  // ------------------------------------------------------------ requests and responses

  private dispatch(res: H1Response): void {
    const req = res.req;
    const state = this.stateOf(this.socket);
    if (req.upgrade) {
      this.detach(true);
      if (req.method === "CONNECT") this.socket.destroy(); // as node:http does without a 'connect' handler
      else handleUpgrade(state, req as unknown as IncomingMessage, this.socket, res.upgradeHead ?? Buffer.alloc(0));
      return;
    }
    this.current = res;
    (this.socket as SocketWithMessage)._httpMessage = res;
    const expect = headerValue(req.rawHeaders, "expect");
    if (expect !== undefined && req.httpVersionMinor === 1) {
      if (/^100-continue$/i.test(expect.trim())) this.socket.write(CONTINUE, "latin1");
      else {
        res.shouldKeepAlive = false;
        res.writeHead(417, { "content-length": "0" });
        res.end();
        return;
      }
    }
    try {
      handleRequest(state, req as unknown as IncomingMessage, res as unknown as ServerResponse, false);
    } catch (err) {
      state.ctx.log(`http1: request failed: ${(err as Error).message}`);
      this.socket.destroy();
    }
  }

  /** From the response: it is complete. */
  responseDone(res: H1Response, keepAlive: boolean): void {
    if (res !== this.current) return;
    this.current = null;
    (this.socket as SocketWithMessage)._httpMessage = null;
    const req = res.req;
    if (!req.complete) req.dumping = true; // the rest of its body is read and dropped
    if (this.reqPaused) this.reqPaused = false;
    if (!keepAlive || this.detached) {
      this.closing = true;
      this.detach();
      this.socket.destroySoon();
      return;
    }
    if (this.queue.length > 0) {
      // After the caller (the exchange finishing its request) has returned.
      queueMicrotask(() => this.next());
      return;
    }
    if (this.pendingError !== null) return this.raisePending();
    if (this.parsing === null) this.arm(IDLE, this.idleMs);
    this.updateReading();
  }

  private next(): void {
    if (this.current !== null || this.detached) return;
    const res = this.queue.shift();
    if (res !== undefined) {
      if (this.socket.destroyed) return;
      this.dispatch(res);
      this.updateReading();
      return;
    }
    if (this.pendingError !== null) this.raisePending();
    else {
      if (this.parsing === null) this.arm(IDLE, this.idleMs);
      this.updateReading();
    }
  }

  /** Reads while the request in flight wants its body and nothing waits behind it. */
  private updateReading(): void {
    const pause = !this.detached && (this.reqPaused || this.queue.length > 0 || this.pendingError !== null);
    if (pause === this.readPaused) return;
    this.readPaused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /** A request the parser rejected, or a head too slow: answered by `onClientError` (after the response in flight, if any). */
  private clientError(err: ClientError): void {
    if (this.detached || this.pendingError !== null) return;
    const cur = this.current;
    if (cur !== null && this.parsing !== cur.req) {
      // The error is in a later request: the one in flight finishes first; nothing after it is served.
      this.pendingError = err;
      this.updateReading();
      return;
    }
    this.pendingError = null;
    this.queue.length = 0;
    this.detach();
    onClientError(this.stateOf(this.socket), err, this.socket);
  }

  private raisePending(): void {
    const err = this.pendingError!;
    this.pendingError = null;
    this.parsing = null;
    this.clientError(err);
  }

  /** Stops parsing: the socket belongs to the upgrade path, or the connection is closing. */
  private detach(upgrade = false): void {
    if (this.detached) return;
    this.detached = true;
    this.phase = BUSY;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    s.removeListener("data", onData);
    s.removeListener("end", onEnd);
    s.removeListener("drain", onDrain);
    if (this.current === null) {
      s.removeListener("error", onError);
      s.removeListener("close", onClose);
      this.conns.delete(this);
      if (!s.listenerCount("error")) s.on("error", destroySocket);
    }
    // Read on to the peer's EOF (closing), or let the upgrade path take over the bytes.
    if (!upgrade && s.isPaused()) s.resume();
    setImmediate(closeParser, this.parser);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The client shut down its side: a request in flight is abandoned (DC), as with node:http and Envoy. */
  onEnd(): void {
    const err = this.parser.finish();
    if (err !== undefined) return this.clientError(err);
    if (this.idle()) this.socket.end();
    else this.socket.destroy();
  }

  onClose(): void {
    this.conns.delete(this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const cur = this.current;
    this.current = null;
    this.queue.length = 0;
    cur?.connectionClosed();
    if (!this.detached) {
      this.detached = true;
      setImmediate(closeParser, this.parser);
    }
  }

  onDrain(): void {
    this.current?.emit("drain");
  }

  // ------------------------------------------------------------ timeouts

  private arm(phase: number, ms: number): void {
    this.phase = phase;
    if (ms <= 0) {
      this.deadline = Infinity;
      return;
    }
    this.deadline = performance.now() + ms;
    const period = Math.min(...[this.headMs, this.idleMs].filter((x) => x > 0));
    if (this.timer !== undefined && this.period === period) this.timer.refresh();
    else {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = setTimeout(onTimer, period, this);
      this.period = period;
    }
  }

  onTimer(): void {
    this.timer = undefined;
    if (this.phase === BUSY || this.deadline === Infinity || this.detached) return;
    const left = this.deadline - performance.now();
    if (left > 1) {
      this.timer = setTimeout(onTimer, left, this);
      this.period = left;
      return;
    }
    if (this.phase === IDLE) {
      this.socket.destroy();
      return;
    }
    const err: ClientError = new Error("request header timeout");
    err.code = "ERR_HTTP_REQUEST_TIMEOUT";
    this.clientError(err);
  }
}

const kConn = Symbol("weft.h1.connection");
type Tagged = Socket & { [kConn]?: H1Connection };

function onData(this: Tagged, chunk: Buffer): void {
  this[kConn]!.onData(chunk);
}
function onEnd(this: Tagged): void {
  this[kConn]!.onEnd();
}
function onError(this: Tagged): void {
  this.destroy();
}
function onClose(this: Tagged): void {
  this[kConn]!.onClose();
}
function onDrain(this: Tagged): void {
  this[kConn]!.onDrain();
}
function onTimer(c: H1Connection): void {
  c.onTimer();
}
function destroySocket(this: Socket): void {
  this.destroy();
}
function closeParser(p: RequestParser): void {
  p.close();
}

function hasHeader(raw: readonly string[], lower: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === lower.length && raw[i]!.toLowerCase() === lower) return true;
  return false;
}

function headerValue(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === lower.length && raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}
