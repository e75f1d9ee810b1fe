// HashiCorp Consul built from source through the Go module proxy: a throwaway module in the cache
// requires github.com/hashicorp/consul at the pinned version and `go build`s it. `start()` runs
// `consul agent -dev` on loopback with every port (HTTP, gRPC, gRPC TLS, DNS, Serf LAN/WAN, server RPC)
// chosen free, and waits until it has a leader and its Connect CA has a root.

import { writeFileSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { versions } from "../versions.ts";
import { freePorts, hasReadyMarker, peerDir, runLogged, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";

const version = versions.consul;
const dir = peerDir("consul", version);
const src = join(dir, "src");
export const consulBin = join(dir, "consul");

export interface ConsulPorts {
  http: number;
  grpc: number;
  grpcTls: number;
  dns: number;
  serfLan: number;
  serfWan: number;
  server: number;
}

export interface ConsulHandle extends PeerHandle {
  /** `http://127.0.0.1:<http port>` */
  url: string;
  /** `127.0.0.1:<http port>`, for CONSUL_HTTP_ADDR. */
  httpAddr: string;
  ports: ConsulPorts;
  nodeName: string;
  dataDir: string;
  bin: string;
  process: SpawnedProcess;
}

export interface ConsulStartOptions {
  /** Extra HCL passed with `-hcl` (for example `connect { enabled = true }` tweaks). */
  hcl?: string[];
  extraArgs?: string[];
  /** Ports to reuse (e.g. to restart an agent at the same address); the others are chosen free. */
  ports?: Partial<ConsulPorts>;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return await response.json();
}

const consul: Peer<ConsulHandle, ConsulStartOptions> = {
  name: "consul",
  version,
  description: "HashiCorp Consul agent (dev mode), built from the Go module",
  dir,
  diskHint: "128 MB binary (plus the shared Go module and build caches)",
  async ready() {
    return hasReadyMarker(dir, [consulBin]);
  },
  async install(ctx) {
    const env = { GOFLAGS: "-mod=mod" };
    await ctx.step("write throwaway Go module", async () => {
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, "go.mod"), "module weft.local/peer-consul\n\ngo 1.25\n");
      writeFileSync(join(src, "tools.go"), "//go:build tools\n\npackage tools\n\nimport _ \"github.com/hashicorp/consul\"\n");
    });
    await ctx.step(`go get consul v${version} (api v${versions.consulApi})`, () =>
      runLogged("go", ["get", `github.com/hashicorp/consul@v${version}`, `github.com/hashicorp/consul/api@v${versions.consulApi}`],
        { cwd: src, env, logPath: ctx.log }));
    await ctx.step("go build consul", () =>
      runLogged("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", consulBin, "github.com/hashicorp/consul"],
        { cwd: src, env, logPath: ctx.log }));
    await ctx.step("consul version", async () => {
      await runLogged(consulBin, ["version"], { logPath: ctx.log });
      writeReadyMarker(dir, { bin: consulBin });
    });
  },
  async start(opts = {}) {
    const work = tmpDataDir("consul");
    const dataDir = join(work, "data");
    const [http, grpc, grpcTls, dns, serfLan, serfWan, server] = (await freePorts(7)) as [number, number, number, number, number, number, number];
    const ports: ConsulPorts = { http, grpc, grpcTls, dns, serfLan, serfWan, server, ...opts.ports };
    const nodeName = `weft-interop-${randomBytes(3).toString("hex")}`;
    const args = [
      "agent", "-dev", "-node", nodeName, "-data-dir", dataDir,
      "-bind", "127.0.0.1", "-advertise", "127.0.0.1", "-client", "127.0.0.1",
      "-http-port", String(ports.http), "-grpc-port", String(ports.grpc), "-grpc-tls-port", String(ports.grpcTls), "-dns-port", String(ports.dns),
      "-serf-lan-port", String(ports.serfLan), "-serf-wan-port", String(ports.serfWan), "-server-port", String(ports.server),
      ...(opts.hcl ?? []).flatMap((h) => ["-hcl", h]), ...(opts.extraArgs ?? []),
    ];
    const logPath = join(work, "consul.log");
    const proc = spawnPeer(consulBin, args, { cwd: work, logPath, env: { CONSUL_HTTP_ADDR: `127.0.0.1:${ports.http}` } });
    const url = `http://127.0.0.1:${ports.http}`;
    try {
      await waitFor(async () => {
        const leader = await getJson(`${url}/v1/status/leader`);
        if (typeof leader !== "string" || leader === "") return false;
        const roots = (await getJson(`${url}/v1/connect/ca/roots`)) as { Roots?: unknown[] };
        return (roots.Roots?.length ?? 0) > 0;
      }, { what: `consul agent on ${url} (leader and CA root)`, logPath, process: proc, timeoutMs: 60_000 });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return { url, httpAddr: `127.0.0.1:${ports.http}`, ports, nodeName, dataDir, bin: consulBin, process: proc, logPath, stop: () => proc.stop() };
  },
};

export default consul;
