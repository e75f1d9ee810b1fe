/**
 * @module control/node/admin-server
 * Serves the runtime-neutral admin app on Node through `@hono/node-server`: listens on a host and port
 * (0 picks a free one), reports the bound URL, and closes gracefully (stops accepting, lets in-flight
 * requests finish, then drops idle keep-alive connections).
 */
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Hono } from "hono";

export interface AdminServer {
  /** `http://host:port` as bound (IPv6 hosts in brackets). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * @example
 * const server = await startAdminServer(createAdminApp(opts), { host: "127.0.0.1", port: 15000 });
 * console.log(`${server.url}/ui`);
 */
export function startAdminServer(app: Hono, opts: { host: string; port: number }): Promise<AdminServer> {
  return new Promise((resolve, reject) => {
    // overrideGlobalObjects: false keeps the process-wide Request/Response untouched for the other parts (xDS, proxy).
    const server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, overrideGlobalObjects: false }) as Server;
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    const onError = (err: Error) => reject(new Error(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`));
    server.once("error", onError);
    server.once("listening", () => {
      server.off("error", onError);
      const { port } = server.address() as AddressInfo;
      const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
