/**
 * @module proxy/node/admin
 * The admin listener, with Envoy's paths: `/ready` (200 LIVE, 503 DRAINING), `/config_dump` (the
 * active config as JSON), `/clusters` (hosts with health flags, weight and requests in flight, one
 * line per fact as Envoy prints them), `/certs` (each secret's certificate: SANs, serial, validity) and
 * `/stats/prometheus` (weft's own `weft_*` stats, then Istio's standard `istio_*` metrics when the
 * config has a `telemetry:` section). Bind it to loopback.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Snapshot } from "../snapshot.ts";
import type { StatsRegistry } from "../stats.ts";
import type { SecretStore } from "./tls-secrets.ts";
import type { NodeTelemetry } from "./telemetry.ts";

export interface AdminSource {
  snapshot(): Snapshot | undefined;
  stats: StatsRegistry;
  secrets?: SecretStore;
  draining(): boolean;
  /** Istio's standard metrics, served after weft's own on `/stats/prometheus`. */
  telemetry?(): NodeTelemetry | undefined;
  /** More JSON pages by path (e.g. `/xds_status` from the xDS client). */
  pages?: Readonly<Record<string, () => unknown>>;
}

export interface AdminServer {
  address(): AddressInfo;
  close(): Promise<void>;
}

export async function startAdmin(address: string, port: number, src: AdminSource): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      res.end(body);
    };
    const snap = src.snapshot();
    switch (path) {
      case "/ready":
        if (src.draining()) return send(503, "DRAINING\n");
        return snap ? send(200, "LIVE\n") : send(503, "PRE_INITIALIZING\n");
      case "/config_dump":
        return send(200, JSON.stringify(snap?.config ?? null, null, 2) + "\n", "application/json");
      case "/clusters": {
        const lines: string[] = [];
        for (const c of snap?.clusters.all() ?? []) {
          lines.push(`${c.name}::default_priority::max_connections::${c.maxConnections}`);
          lines.push(`${c.name}::default_priority::max_pending_requests::${c.maxPendingRequests}`);
          for (const h of c.hosts) {
            const p = `${c.name}::${h.key}`;
            lines.push(`${p}::health_flags::${h.healthFlags}`, `${p}::weight::${h.weight}`, `${p}::rq_active::${h.activeRequests}`);
          }
        }
        return send(200, lines.join("\n") + "\n");
      }
      case "/certs":
        return send(200, JSON.stringify({ certificates: src.secrets?.describe() ?? [] }, null, 2) + "\n", "application/json");
      case "/stats/prometheus":
        return send(200, src.stats.renderPrometheus() + (src.telemetry?.()?.render() ?? ""), "text/plain; version=0.0.4; charset=utf-8");
      case "/":
        return send(200, "/ready\n/config_dump\n/clusters\n/certs\n/stats/prometheus\n");
      default: {
        const page = path === undefined ? undefined : src.pages?.[path];
        if (page) return send(200, JSON.stringify(page(), null, 2) + "\n", "application/json");
        return send(404, "not found\n");
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    address: () => server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
