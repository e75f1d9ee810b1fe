/**
 * @module control/node/grpc-server
 * One Node host for weft's gRPC services (xDS, ext_authz, ...): an HTTP/2 listener, plaintext or TLS with
 * optional client certificates, mounting connect-es routes with the gRPC protocol only (as Envoy and
 * gRPC clients speak it). Loopback port 0 unless told otherwise; reports the bound address; closing
 * also ends open HTTP/2 sessions so long-lived streams do not hold shutdown.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { withUnaryFastPath, type UnaryMethod } from "./grpc-unary.ts";
import { connectNodeAdapter, type ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

export interface GrpcServerTls {
  certPem: string;
  keyPem: string;
  /** CA bundle to verify client certificates; with `requireClientCert`, clients must present one. */
  caPem?: string | string[];
  requireClientCert?: boolean;
  /** Ask for a client certificate without requiring one (Istio's CA API: a token or an SVID). */
  requestClientCert?: boolean;
}

export interface GrpcServerOptions {
  host?: string;
  port?: number;
  /** Hot unary methods answered without connect-node, by path (see grpc-unary.ts); the rest go to `routes`. */
  unary?: ReadonlyMap<string, UnaryMethod>;
  tls?: GrpcServerTls;
  /** Per-call context values from the Node request (e.g. the TLS peer's certificates). */
  contextValues?: ConnectNodeAdapterOptions["contextValues"];
}

export interface GrpcNodeServer {
  readonly port: number;
  /** `host:port` (IPv6 hosts in brackets), as gRPC targets and xDS bootstraps want it. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * @example
 * const server = await startGrpcServer((router) => router.service(Authorization, impl), { port: 9191 });
 */
export async function startGrpcServer(routes: (router: ConnectRouter) => void, options: GrpcServerOptions = {}): Promise<GrpcNodeServer> {
  const handler = connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false, ...(options.contextValues ? { contextValues: options.contextValues } : {}) });
  const handle = withUnaryFastPath(options.unary ?? new Map(), handler);
  const host = options.host ?? "127.0.0.1";
  const server = options.tls
    ? http2.createSecureServer({
        cert: options.tls.certPem,
        key: options.tls.keyPem,
        ...(options.tls.caPem ? { ca: options.tls.caPem } : {}),
        requestCert: options.tls.requireClientCert === true || options.tls.requestClientCert === true,
        rejectUnauthorized: options.tls.requireClientCert === true,
        allowHTTP1: false,
      }, handle)
    : http2.createServer(handle);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
