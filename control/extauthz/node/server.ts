/**
 * @module control/extauthz/node/server
 * Node host for the ext_authz server: an HTTP/2 listener (plaintext, or TLS with optional client
 * certificates) mounting the Authorization service with the gRPC protocol only, as Envoy's `grpc_service`
 * speaks it. Loopback port 0 unless told otherwise; reports the bound port.
 */
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createExtAuthzRoutes, type ExtAuthzOptions } from "../service.ts";

export interface ExtAuthzServerTls {
  certPem: string;
  keyPem: string;
  /** CA bundle to verify client certificates; with `requireClientCert`, clients must present one. */
  caPem?: string | string[];
  requireClientCert?: boolean;
}

export interface ExtAuthzServerOptions extends ExtAuthzOptions {
  host?: string;
  port?: number;
  tls?: ExtAuthzServerTls;
}

export interface ExtAuthzNodeServer {
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Starts the ext_authz gRPC server.
 * @example
 * const server = await startExtAuthzServer({ policies: createStaticPolicySource(policies), port: 9191, host: "0.0.0.0" });
 */
export async function startExtAuthzServer(options: ExtAuthzServerOptions): Promise<ExtAuthzNodeServer> {
  const handler = connectNodeAdapter({ routes: createExtAuthzRoutes(options), grpc: true, grpcWeb: false, connect: false });
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
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
