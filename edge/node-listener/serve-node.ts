/**
 * @module edge/node-listener/serve-node
 * Serves a fetch-style handler on `node:http` or `node:https` — on Node, and on Deno through its Node
 * compatibility layer, which (unlike `Deno.serve`/`Deno.listenTls` in Deno 2.9) can request and verify
 * client certificates. With `tls.clientCa` the listener requires a client certificate from that CA and
 * passes the peer's SPIFFE ID (URI SAN) to the handler as the principal. Bodies stream both ways with
 * backpressure; a client that goes away cancels the response body (the proxy logs `DC`).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { DownstreamInfo } from "../fetch-host/exchange.ts";

export interface NodeListenerOptions {
  host: string;
  port: number;
  handler(request: Request, info: DownstreamInfo): Promise<Response>;
  /** PEM texts. With `clientCa`, clients must present a certificate issued under it. */
  tls?: { cert: string; key: string; clientCa?: string };
}

export interface NodeListener {
  port: number;
  close(): Promise<void>;
}

/** The first `spiffe://` URI SAN of a peer certificate's `subjectaltname` text. */
export function spiffeIdFromSan(san: string | undefined): string | undefined {
  for (const part of (san ?? "").split(/,\s*/)) if (part.startsWith("URI:spiffe://")) return part.slice(4);
  return undefined;
}

function toRequest(req: IncomingMessage, scheme: string): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!raw[i]!.startsWith(":")) headers.append(raw[i]!, raw[i + 1]!);
  const url = `${scheme}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && (req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined);
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(url, init);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const head: string[] = [];
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie") head.push(k, v);
  });
  for (const c of response.headers.getSetCookie()) head.push("set-cookie", c);
  res.writeHead(response.status, head);
  const body = response.body;
  if (body === null) {
    res.end();
    return;
  }
  const reader = body.getReader();
  res.on("close", () => {
    if (!res.writableFinished) void reader.cancel(new Error("client went away")).catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

/**
 * @example
 * const l = await serveOnNode({ host: "127.0.0.1", port: 0, handler: (r, i) => proxy.handle(r, i), tls: { cert, key, clientCa } });
 */
export async function serveOnNode(o: NodeListenerOptions): Promise<NodeListener> {
  const scheme = o.tls ? "https" : "http";
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const info: DownstreamInfo = { remoteAddress: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""), scheme, protocol: `HTTP/${req.httpVersion}`, ...(socket.localPort !== undefined ? { localAddress: (socket.localAddress ?? "").replace(/^::ffff:/, ""), localPort: socket.localPort } : {}) };
    if (o.tls?.clientCa !== undefined && socket.authorized) {
      const principal = spiffeIdFromSan(socket.getPeerCertificate().subjectaltname);
      if (principal !== undefined) info.principal = principal;
    }
    o.handler(toRequest(req, scheme), info).then((response) => send(res, response), () => {
      res.writeHead(500).end();
    });
  };
  const server: Server = o.tls
    ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key, ...(o.tls.clientCa !== undefined ? { ca: o.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}
