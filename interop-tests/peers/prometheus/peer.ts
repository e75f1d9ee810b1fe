// Prometheus from the Debian package `prometheus`, pinned to one Debian version. Installing runs
// apt-get as root with a temporary policy-rc.d so that the package's own service is never started;
// `start()` runs a private Prometheus with a temporary config, loopback port and TSDB directory.

import { spawnSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { versions } from "../versions.ts";
import { freePort, hasReadyMarker, httpOk, peerDir, runLogged, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";

const version = versions.prometheus;
const dir = peerDir("prometheus", version);
export const prometheusBin = "/usr/bin/prometheus";
const policyRcd = "/usr/sbin/policy-rc.d";

export interface PrometheusStartOptions {
  /** `scrape_configs` entries, written as YAML. */
  scrapeConfigs?: Record<string, unknown>[];
  /** Global scrape interval (default 1s so suites see data quickly). */
  scrapeInterval?: string;
  /** Accept remote-write pushes on /api/v1/write. */
  remoteWriteReceiver?: boolean;
  extraArgs?: string[];
}

export interface PrometheusHandle extends PeerHandle {
  url: string;
  port: number;
  configPath: string;
  dataDir: string;
  process: SpawnedProcess;
}

function installedVersion(): string | undefined {
  const out = spawnSync("dpkg-query", ["-W", "-f=${Version}", "prometheus"], { encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

const prometheus: Peer<PrometheusHandle, PrometheusStartOptions> = {
  name: "prometheus",
  version,
  description: "Prometheus server, Debian package",
  dir,
  diskHint: "about 110 MB under /usr (Debian package)",
  async ready() {
    return installedVersion() === version && hasReadyMarker(dir, [prometheusBin]);
  },
  async install(ctx) {
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    const available = spawnSync("apt-cache", ["show", `prometheus=${version}`], { stdio: "ignore" }).status === 0;
    if (!available) await ctx.step("apt-get update", () => runLogged("apt-get", ["update"], { env, logPath: ctx.log }));
    if (installedVersion() !== version) {
      await ctx.step(`apt-get install prometheus=${version}`, async () => {
        // policy-rc.d exit 101 = "action forbidden": the package installs without starting its service.
        const ownPolicy = !existsSync(policyRcd);
        if (ownPolicy) writeFileSync(policyRcd, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
        try {
          await runLogged("apt-get", ["install", "-y", "--no-install-recommends", `prometheus=${version}`], { env, logPath: ctx.log });
        } finally {
          if (ownPolicy) rmSync(policyRcd, { force: true });
        }
      });
    }
    await ctx.step("prometheus --version", async () => {
      await runLogged(prometheusBin, ["--version"], { logPath: ctx.log });
      writeReadyMarker(dir, { bin: prometheusBin, debianVersion: installedVersion() });
    });
  },
  async start(opts = {}) {
    const work = tmpDataDir("prometheus");
    const port = await freePort();
    const configPath = join(work, "prometheus.yml");
    const dataDir = join(work, "data");
    const interval = opts.scrapeInterval ?? "1s";
    writeFileSync(configPath, stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: opts.scrapeConfigs ?? [],
    }));
    const logPath = join(work, "prometheus.log");
    const args = [
      `--config.file=${configPath}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${dataDir}`,
      "--web.enable-lifecycle", ...(opts.remoteWriteReceiver ? ["--web.enable-remote-write-receiver"] : []),
      ...(opts.extraArgs ?? []),
    ];
    const proc = spawnPeer(prometheusBin, args, { cwd: work, logPath });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(() => httpOk(`${url}/-/ready`), { what: `prometheus on ${url}`, logPath, process: proc, timeoutMs: 60_000 });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return { url, port, configPath, dataDir, process: proc, logPath, stop: () => proc.stop() };
  },
};

export default prometheus;
