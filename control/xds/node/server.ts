/**
 * @module control/xds/node/server
 * Node host for the xDS server: an HTTP/2 listener (plain, or TLS with optional client certificates)
 * that mounts the connect-es ADS/SDS routes with the gRPC protocol. Listens on loopback port 0 unless
 * told otherwise and reports the bound port.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createXdsRoutes } from "../ads-service.ts";
import type { StreamOptions } from "../stream-common.ts";

export interface XdsServerTls {
  certPem: string;
  keyPem: string;
  /** CA bundle to verify client certificates; with `requireClientCert`, clients must present one. */
  caPem?: string | string[];
  requireClientCert?: boolean;
}

export interface XdsNodeServerOptions extends StreamOptions {
  host?: string;
  port?: number;
  tls?: XdsServerTls;
}

export interface XdsNodeServer {
  readonly port: number;
  /** `host:port`, as an xDS bootstrap's `server_uri` wants it. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts the xDS server.
 * @example
 * const server = await startXdsServer({ watcher: cache, status });
 * console.log(`xDS on ${server.address}`);
 */
export async function startXdsServer(options: XdsNodeServerOptions): Promise<XdsNodeServer> {
  const handler = connectNodeAdapter({ routes: createXdsRoutes(options), grpc: true, grpcWeb: false, connect: false });
  const host = options.host ?? "127.0.0.1";
  const server = options.tls
    ? http2.createSecureServer({
        cert: options.tls.certPem,
        key: options.tls.keyPem,
        ...(options.tls.caPem ? { ca: options.tls.caPem } : {}),
        requestCert: options.tls.requireClientCert === true,
        rejectUnauthorized: options.tls.requireClientCert === true,
        allowHTTP1: false,
      }, handler)
    : http2.createServer(handler);
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
    address: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
