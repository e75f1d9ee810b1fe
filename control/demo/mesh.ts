/**
 * @module control/demo/mesh
 * Starts the whole `weft demo` mesh in this process on loopback: the control plane (temporary data
 * directory, admin API and UI, and the HTTP config feed as an extension), the demo's
 * AuthorizationPolicies applied through the admin API, the three services, and one weft sidecar per
 * service that gets its SVID from the CA by join token and its config from the feed (policies
 * included), re-pulled every second so policies applied later take effect. `stop()` undoes it all.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { createFeedClient, type FeedClient } from "../../edge/config/feed-client.ts";
import { createFeedRoutes, type EdgeTemplate } from "../../edge/config/feed-routes.ts";
import { httpFilters } from "../../plugins/registry.ts";
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { createProxyServer, type ProxyServer } from "../../proxy/node/proxy-server.ts";
import { createInMemoryMeshStatus } from "../admin/mesh-status.ts";
import { startAdminServer } from "../node/admin-server.ts";
import { startControlPlane, type RunningControlPlane } from "../node/control-plane.ts";
import { obtainSidecarIdentity, type SidecarIdentity } from "./identity.ts";
import { startFrontend, startLeafService, type DemoService } from "./services.ts";
import {
  authzPolicyHeaderFilter, DEMO_NAMESPACE, DEMO_POLICIES, DEMO_SERVICES, DEMO_TRUST_DOMAIN, sidecarTemplate, spiffeIdOf, type DemoServiceName, type SidecarPorts,
} from "./sidecar-config.ts";

/** One access-log entry of a sidecar (the proxy's JSON line, parsed). */
export type AccessLogEntry = Record<string, unknown> & { listener?: string; path?: string; response_code?: number };

export interface DemoSidecar {
  service: DemoServiceName;
  spiffeId: string;
  ports: SidecarPorts;
  identity: SidecarIdentity;
  proxy: ProxyServer;
  feed: FeedClient;
  accessLog: AccessLogEntry[];
}

export interface DemoMesh {
  controlPlane: RunningControlPlane;
  adminUrl: string;
  adminToken: string;
  feedUrl: string;
  dataDir: string;
  ingressUrl: string;
  sidecars: ReadonlyMap<DemoServiceName, DemoSidecar>;
  /** Pulls every sidecar's config from the feed now (and waits until it is applied). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

export interface DemoMeshOptions {
  /** Operational lines (control plane, proxies, feed). */
  log?(line: string): void;
  /** Every access-log entry of every sidecar, as it happens. */
  onAccessLog?(service: DemoServiceName, entry: AccessLogEntry): void;
  /** How often sidecars re-pull their config (default 1000 ms; 0 = only on `refresh()`). */
  refreshMs?: number;
}

/** Free loopback ports, found by binding port 0 (all at once, so they differ). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import("node:net").Server>((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

const token = (prefix: string) => `${prefix}_${randomBytes(24).toString("base64url")}`;

/**
 * @example
 * const mesh = await startDemoMesh({ log: console.error });
 * console.log(mesh.ingressUrl);
 * await mesh.stop();
 */
export async function startDemoMesh(opts: DemoMeshOptions = {}): Promise<DemoMesh> {
  const log = opts.log ?? (() => undefined);
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log(`shutdown: ${(err as Error).message}`);
      }
    }
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), "weft-demo-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const adminToken = token("wat");
    const feedToken = token("wft");
    const templates = new Map<string, EdgeTemplate>();
    const mesh = createInMemoryMeshStatus();
    let feedUrl = "";

    // 1. The control plane, with the config feed as an extension on its own loopback port.
    const controlPlane = await startControlPlane({
      dataDir: join(dataDir, "control"),
      trustDomain: DEMO_TRUST_DOMAIN,
      admin: { host: "127.0.0.1", port: 0, token: adminToken },
      log: (line) => log(`control: ${line}`),
      extensions: [async (parts) => {
        const app = new Hono().route("/v1/edge", createFeedRoutes({ templates, store: parts.store, token: feedToken }));
        const server = await startAdminServer(app, { host: "127.0.0.1", port: 0 });
        feedUrl = `${server.url}/v1/edge/config`;
        return { name: "config feed", url: feedUrl, mesh, close: () => server.close() };
      }],
    });
    cleanups.push(() => controlPlane.stop());
    const adminUrl = controlPlane.adminUrl;

    // 2. Policies, through the admin API as an operator would apply them.
    const applied = await fetch(`${adminUrl}/v1/resources?file=demo-policies.yaml`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/yaml" },
      body: DEMO_POLICIES,
    });
    if (!applied.ok) throw new Error(`applying the demo policies failed: ${applied.status} ${await applied.text()}`);

    // 3. Ports, the services, identities and sidecar templates.
    const [fIn, fOut, fIng, bIn, bOut, pIn, pOut] = await freePorts(7) as [number, number, number, number, number, number, number];
    const inbound: Record<DemoServiceName, number> = { frontend: fIn, backend: bIn, payments: pIn };
    const outbound: Record<DemoServiceName, number> = { frontend: fOut, backend: bOut, payments: pOut };
    const apps: Record<DemoServiceName, DemoService> = {
      frontend: await startFrontend(() => outbound.frontend),
      backend: await startLeafService("backend"),
      payments: await startLeafService("payments"),
    };
    for (const a of Object.values(apps)) cleanups.push(() => a.close());

    const filters = new Map<string, HttpFilterFactory<unknown>>([...httpFilters, [authzPolicyHeaderFilter.name, authzPolicyHeaderFilter as HttpFilterFactory<unknown>]]);
    const sidecars = new Map<DemoServiceName, DemoSidecar>();
    const pending = new Map<DemoServiceName, () => Promise<void>>();
    for (const service of DEMO_SERVICES) {
      const spiffeId = spiffeIdOf(service);
      const identity = await obtainSidecarIdentity(adminUrl, adminToken, spiffeId, join(dataDir, "sidecars", service));
      const ports: SidecarPorts = { app: apps[service].port, inbound: inbound[service], outbound: outbound[service], ...(service === "frontend" ? { ingress: fIng } : {}) };
      const peers = new Map(DEMO_SERVICES.filter((s) => s !== service).map((s) => [s, inbound[s]] as const));
      templates.set(service, { proxy: sidecarTemplate(service, ports, peers, identity) });

      const accessLog: AccessLogEntry[] = [];
      const proxy = createProxyServer({
        filters,
        log: (line) => log(`${service} sidecar: ${line}`),
        accessLog: (line) => {
          const entry = JSON.parse(line) as AccessLogEntry;
          accessLog.push(entry);
          if (accessLog.length > 1000) accessLog.splice(0, accessLog.length - 1000);
          opts.onAccessLog?.(service, entry);
        },
      });
      cleanups.push(() => proxy.close());
      let applying: Promise<void> = Promise.resolve();
      const connectedSince = Date.now();
      const feed = createFeedClient({
        url: `${feedUrl}?node=${service}`,
        token: feedToken,
        filters,
        refreshMs: 0,
        log: (line) => log(`${service} sidecar: ${line}`),
        apply: (config) => {
          applying = proxy.apply(config).then(() => {
            mesh.set({
              id: `sidecar~127.0.0.1~${service}.${DEMO_NAMESPACE}`, connectedSince, acked: { FEED: config.version },
              certificateExpiry: identity.notAfter, identity: spiffeId, service: `${DEMO_NAMESPACE}/${service}`,
            });
            log(`${service} sidecar: config ${config.version} applied`);
          }, (err: unknown) => log(`${service} sidecar: config rejected, the previous one keeps serving: ${(err as Error).message}`));
        },
      });
      await feed.refresh();
      await applying;
      const st = feed.status();
      if (st.source !== "control-plane" || proxy.snapshot() === undefined) throw new Error(`the ${service} sidecar got no config from the feed: ${st.lastError ?? "not applied"}`);
      sidecars.set(service, { service, spiffeId, ports, identity, proxy, feed, accessLog });
      pending.set(service, () => applying);
    }

    const refresh = async () => {
      await Promise.all([...sidecars.values()].map(async (s) => {
        await s.feed.refresh();
        await pending.get(s.service)?.();
      }));
    };
    const refreshMs = opts.refreshMs ?? 1000;
    if (refreshMs > 0) {
      const timer = setInterval(() => void refresh(), refreshMs);
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }
    return {
      controlPlane, adminUrl, adminToken, feedUrl, dataDir, sidecars, refresh,
      ingressUrl: `http://127.0.0.1:${fIng}`,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
