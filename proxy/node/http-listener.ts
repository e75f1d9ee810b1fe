/**
 * @module proxy/node/http-listener
 * An HTTP listener on Node: HTTP/1.1 on raw sockets with llhttp (`h1-server.ts`: keep-alive,
 * pipelining handled in order, 100-continue answered by the proxy, 431 for oversized heads; node:http
 * instead when WEFT_HTTP1_SERVER=node) and node:http2 for h2c with prior knowledge. With codec `auto`
 * one port serves both: the first bytes of a connection are compared with
 * the HTTP/2 preface and the socket is handed to the matching server. With TLS (`tls-listener.ts`) the
 * first byte tells a TLS handshake from plaintext (PERMISSIVE serves both on one port), the SNI picks
 * the filter chain and ALPN the codec. `Upgrade` requests (WebSocket) are tunnelled. The listener's
 * state (snapshot and listener runtime) is swapped on reload; requests read it once when they start.
 */
import { createServer as createH1Server, type IncomingMessage, type Server as H1Server, type ServerResponse } from "node:http";
import { createServer as createH2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { handleRequest, onClientError, type HttpListenerState } from "./exchange.ts";
import { createH1Server as createRawH1Server, type H1Server as RawH1Server } from "./h1-server.ts";
import { handleUpgrade } from "./upgrade.ts";
import { kConnection, type WithConnection } from "./tls-identity.ts";
import { acceptsPlaintext, createTlsFront, hasTls, type TlsFront } from "./tls-listener.ts";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** `node` serves HTTP/1.1 with node:http (the previous implementation), for comparison and as a fallback. */
const NODE_HTTP1 = process.env.WEFT_HTTP1_SERVER === "node";

export interface HttpListener {
  state: HttpListenerState;
  readonly codec: string;
  address(): AddressInfo;
  /** Applies connection settings from a new listener config. */
  update(state: HttpListenerState): void;
  /** Stops accepting; idle keep-alive connections close now, HTTP/2 sessions get GOAWAY. */
  stopAccepting(): Promise<void>;
  /** Closes every remaining connection. */
  destroy(): void;
}

export async function startHttpListener(initial: HttpListenerState): Promise<HttpListener> {
  const cfg = initial.listener.config;
  const codec = initial.listener.http.codec;
  const sessions = new Set<ServerHttp2Session>();
  const sniffing = new Set<Socket>();
  let h1: H1Server | undefined;
  let raw: RawH1Server | undefined;
  let h2: Http2Server | undefined;
  let tlsFront: TlsFront | undefined;
  // Per-chain states for connections matched to an SNI chain, rebuilt when the state changes.
  let chainStates = new Map<string, HttpListenerState>();
  const stateFor = (socket: WithConnection): HttpListenerState => {
    const chain = socket[kConnection]?.chain;
    if (chain === undefined || chain === handle.state.listener.chain) return handle.state;
    let st = chainStates.get(chain);
    if (st === undefined) {
      const view = handle.state.listener.chains.find((c) => c.chain === chain);
      if (view === undefined) return handle.state;
      st = { ...handle.state, listener: view };
      chainStates.set(chain, st);
    }
    return st;
  };

  const handle: HttpListener = {
    state: initial,
    codec,
    address: () => front.address() as AddressInfo,
    update(state) {
      handle.state = state;
      chainStates = new Map();
      if (h1) applyH1Settings(h1, state);
      tlsFront?.update();
    },
    stopAccepting() {
      // Resolves once the port is released; open connections are the caller's to wait for or destroy.
      const closed = new Promise<void>((resolve) => {
        front.close(() => resolve());
        setImmediate(resolve);
      });
      h1?.closeIdleConnections();
      raw?.closeIdle();
      for (const s of sessions) s.close();
      for (const s of sniffing) s.destroy(); // connected but no request yet
      return closed;
    },
    destroy() {
      tlsFront?.destroy();
      h1?.closeAllConnections();
      raw?.closeAll();
      for (const s of sessions) s.destroy();
      for (const s of sniffing) s.destroy();
    },
  };

  if (codec !== "http2" && !NODE_HTTP1) raw = createRawH1Server((socket) => stateFor(socket as WithConnection));
  else if (codec !== "http2") {
    h1 = createH1Server({
      noDelay: true,
      maxHeaderSize: initial.listener.http.maxRequestHeadersBytes,
      requestTimeout: 0,
      // How often node:http checks the header timeout (its default, 30 s, would let slow clients linger).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, initial.listener.http.requestHeadersTimeoutMs / 2)),
    },
      (req: IncomingMessage, res: ServerResponse) => handleRequest(stateFor(req.socket as WithConnection), req, res, false));
    applyH1Settings(h1, initial);
    h1.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => handleUpgrade(stateFor(socket as WithConnection), req, socket, head));
    h1.on("clientError", (err: Error & { code?: string }, socket: Socket) => onClientError(stateFor(socket as WithConnection), err, socket));
  }
  if (codec !== "http1" || hasTls(initial.listener)) {
    h2 = createH2Server({ settings: { maxHeaderListSize: initial.listener.http.maxRequestHeadersBytes, enableConnectProtocol: true } },
      (req: Http2ServerRequest, res: Http2ServerResponse) => handleRequest(stateFor(req.socket as WithConnection), req, res, true));
    // node:http2's compat layer hands CONNECT (RFC 8441 WebSocket) to 'connect', not 'request'.
    h2.on("connect", (req: Http2ServerRequest, res: Http2ServerResponse) => handleRequest(stateFor(req.socket as WithConnection), req, res, true));
    h2.on("session", (s: ServerHttp2Session) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
      if (handle.state.ctx.draining) s.close();
    });
  }

  const toH1 = (socket: Socket) => {
    if (raw !== undefined) raw.serve(socket);
    else {
      h1!.emit("connection", socket);
      socket.resume();
    }
  };
  /** A plaintext connection (or a TLS one after its handshake): to HTTP/1.1, HTTP/2, or the preface sniffer. */
  const serve = (socket: Socket, alpn: string | false | null | undefined) => {
    if (alpn === "h2" || (codec === "http2" && h2)) h2!.emit("connection", socket);
    else if (alpn === "http/1.1" || codec === "http1" || !h2) toH1(socket);
    else {
      sniffing.add(socket);
      sniff(socket, toH1, h2, sniffing);
      socket.resume();
    }
  };

  let front: NetServer;
  if (hasTls(initial.listener)) {
    tlsFront = createTlsFront(() => handle.state, (socket: TLSSocket) => serve(socket, socket.alpnProtocol));
    front = createNetServer({ noDelay: true }, (socket) => {
      sniffing.add(socket);
      const onError = () => socket.destroy();
      const onClose = () => sniffing.delete(socket);
      socket.on("error", onError);
      socket.on("close", onClose);
      socket.once("data", (first: Buffer) => {
        sniffing.delete(socket);
        socket.off("error", onError);
        socket.off("close", onClose);
        socket.pause();
        socket.unshift(first);
        // A TLS connection starts with a handshake record (content type 22).
        if (first[0] === 0x16) tlsFront!.accept(socket);
        else if (acceptsPlaintext(handle.state.listener)) serve(socket, undefined);
        else socket.destroy(); // STRICT: plaintext is refused
      });
    });
  } else if (codec === "http1" && raw !== undefined) front = createNetServer({ noDelay: true }, (socket) => raw!.serve(socket));
  else if (codec === "http1") front = h1!;
  else if (codec === "http2") front = h2!;
  else {
    front = createNetServer({ noDelay: true }, (socket) => {
      sniffing.add(socket);
      sniff(socket, toH1, h2!, sniffing);
    });
  }
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(cfg.port, cfg.address, () => {
      front.off("error", reject);
      resolve();
    });
  });
  // node:http tracks connections (for header/request timeouts and closeIdleConnections) from its
  // 'listening' event; when the sniffer listens on its behalf, start that tracking by hand.
  if (h1 && front !== h1) h1.emit("listening");
  return handle;
}

function applyH1Settings(h1: H1Server, state: HttpListenerState): void {
  const http = state.listener.http;
  h1.headersTimeout = http.requestHeadersTimeoutMs;
  h1.keepAliveTimeout = http.idleTimeoutMs;
}

/** Reads until the bytes either match the HTTP/2 preface or differ from it, then hands the socket over. */
function sniff(socket: Socket, toH1: (socket: Socket) => void, h2: Http2Server, sniffing: Set<Socket>): void {
  let seen: Buffer | undefined;
  const onData = (chunk: Buffer) => {
    const buf = seen ? Buffer.concat([seen, chunk]) : chunk;
    const n = Math.min(buf.length, PREFACE.length);
    const isPrefix = buf.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isPrefix && n < PREFACE.length) {
      seen = buf;
      return;
    }
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("close", onClose);
    sniffing.delete(socket);
    socket.pause();
    socket.unshift(buf);
    if (isPrefix) {
      // http2 takes the bytes already buffered in the socket and then reads the handle itself;
      // resuming here would let the JS stream steal (and drop) what follows.
      h2.emit("connection", socket);
    } else toH1(socket);
  };
  const onError = () => socket.destroy();
  const onClose = () => sniffing.delete(socket);
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("close", onClose);
}
