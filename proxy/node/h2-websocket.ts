/**
 * @module proxy/node/h2-websocket
 * WebSocket over HTTP/2 (RFC 8441): a downstream extended CONNECT (`:method CONNECT`, `:protocol
 * websocket`) is routed like any request (filters included), then becomes an HTTP/1.1 Upgrade to the
 * upstream — with a fresh `Sec-WebSocket-Key`, since HTTP/2 has none — and, on `101`, the stream
 * is answered `200` and joined byte for byte with the upstream socket (WebSocket frames are the same on
 * both). A refusal is passed back with its status. Logged when the tunnel closes.
 */
import type { Http2ServerRequest } from "node:http2";
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import type { UpstreamHost } from "../cluster/host.ts";
import { onResClose, type Exchange } from "./exchange.ts";
import { upstreamHeaderLines } from "./headers.ts";
import { finish, localReply } from "./request-path.ts";
import { connectUpstreamTls, upstreamTlsSettings } from "./tls-identity.ts";

/** True for an RFC 8441 WebSocket CONNECT. */
export function isH2WebSocket(ex: Exchange): boolean {
  return ex.h2 && ex.method === "CONNECT" && ex.req.headers[":protocol"] === "websocket";
}

const SKIP = ["sec-websocket-key", "sec-websocket-version", "content-length"];

export function tunnelH2WebSocket(ex: Exchange, host: UpstreamHost): void {
  const stream = (ex.req as Http2ServerRequest).stream;
  const cluster = ex.cluster!;
  host.activeRequests++;
  let head = `GET ${ex.upstreamTarget} HTTP/1.1\r\nhost: ${ex.upstreamAuthority}\r\n${upstreamHeaderLines(ex.rawHeaders, SKIP)}`;
  head += `connection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: ${randomBytes(16).toString("base64")}\r\n`;
  if (ex.forwardedFor !== undefined) head += `x-forwarded-for: ${ex.forwardedFor}\r\n`;
  if (!ex.info.forwardedProto) head += `x-forwarded-proto: ${ex.scheme}\r\n`;
  if (ex.requestId !== undefined) head += `x-request-id: ${ex.requestId}\r\n`;
  const tls = upstreamTlsSettings(cluster.config, ex.state.ctx.secrets);
  const up: Socket = tls === undefined ? connect({ host: host.address, port: host.port, noDelay: true }) : connectUpstreamTls(tls, host.address, host.port, "http/1.1");
  let connected = false;
  let buffered: Buffer | null = Buffer.alloc(0);
  const done = () => {
    if (ex.done) return;
    host.activeRequests--;
    finish(ex);
  };
  if (cluster.connectTimeoutMs > 0) up.setTimeout(cluster.connectTimeoutMs, () => { if (!connected) up.destroy(new Error("upstream connect timeout")); });
  up.once(tls === undefined ? "connect" : "secureConnect", () => {
    connected = true;
    up.setTimeout(0);
  });
  up.write(head + "\r\n", "latin1");
  const onHead = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered!, chunk]);
    const end = buffered.indexOf("\r\n\r\n");
    if (end === -1) {
      if (buffered.length > 64 * 1024) up.destroy(new Error("upstream response head too large"));
      return;
    }
    up.off("data", onHead);
    const lines = buffered.subarray(0, end).toString("latin1").split("\r\n");
    const rest = buffered.subarray(end + 4);
    buffered = null;
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      const k = l.slice(0, c).trim().toLowerCase();
      if (k === "sec-websocket-protocol" || k === "sec-websocket-extensions") headers[k] = l.slice(c + 1).trim();
    }
    if (status !== 101) {
      up.destroy();
      host.activeRequests--;
      ex.details = "upgrade_failed";
      localReply(ex, status || 502, status ? "" : "UC", "");
      return;
    }
    // From here the tunnel's own close events end the exchange (a closed stream is not a DC).
    ex.res.removeListener("close", onResClose);
    ex.status = 200;
    ex.headersSent = true;
    ex.details = "via_upstream";
    stream.respond({ ":status": 200, ...headers });
    if (rest.length > 0) stream.write(rest);
    up.pipe(stream);
    stream.pipe(up);
  };
  up.on("data", onHead);
  up.on("error", (err: Error) => {
    if (!ex.headersSent) {
      host.activeRequests--;
      if (!connected) ex.transportFailure = err.message;
      localReply(ex, connected ? 502 : 503, connected ? "UC" : "UF", err.message);
      return;
    }
    ex.addFlag("UC");
    stream.close(2 /* INTERNAL_ERROR */);
  });
  up.on("close", () => {
    if (!stream.destroyed) stream.end();
    done();
  });
  stream.on("error", () => up.destroy());
  stream.on("close", () => {
    if (!up.destroyed) up.end();
    done();
  });
}
