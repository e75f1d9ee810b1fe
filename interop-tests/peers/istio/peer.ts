// Istio's `istioctl` and `pilot-discovery` (istiod) built from the istio.io/istio Go module. The build runs
// in a throwaway module that requires istio.io/istio at the pinned pseudo-version and carries Istio's own
// go.sum, so every dependency is checked against the hashes Istio recorded (a plain `go install pkg@version`
// asks the checksum database, which the proxy here does not answer for Istio's pre-release dependencies).
// `start()` runs istiod with file-based Istio config (`--configDir`) and every port (HTTP debug, plaintext and
// TLS xDS, monitoring, webhook, ControlZ) on a free loopback port. It needs a Kubernetes API server (the
// `kubernetes` peer) for its service registry: at this Istio commit istiod panics without one.

import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { stringify } from "yaml";
import { freePorts, hasReadyMarker, httpOk, peerDir, runLogged, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";

const execFileAsync = promisify(execFile);

/**
 * istio.io/istio at commit b01690e6db7d (master, 2026-04-23; its VERSION file says 1.31, so "1.31-dev").
 * Istio's tags carry no `v`, and the module proxy here answers 403 for every tag query (1.27.3 ... 1.29.0);
 * it serves three pseudo-versions, and this is the only one whose dependencies (istio.io/api
 * v1.30.0-alpha.1.0.20260415171154-7fa57afdea51, go-control-plane, ...) it also serves.
 */
export const istioVersion = "v0.0.0-20260423205519-b01690e6db7d";
const version = istioVersion;
/** Stamped like Istio's own dev builds (`VERSION-dev`), so `istioctl version` and istiod report it. */
const ldflags = ["-s", "-w", "-X istio.io/istio/pkg/version.buildVersion=1.31-dev",
  `-X istio.io/istio/pkg/version.buildGitRevision=${istioVersion.slice(-12)}`].join(" ");
const dir = peerDir("istio", version);
const src = join(dir, "src");
export const istioctlBin = join(dir, "bin", "istioctl");
export const pilotDiscoveryBin = join(dir, "bin", "pilot-discovery");
/** Istio's CRDs (manifests/charts/base/files/crd-all.gen.yaml of the pinned module). */
export const istioCrdsPath = join(dir, "crd-all.gen.yaml");

export interface IstiodStartOptions {
  /**
   * Kubeconfig of the API server istiod reads services and endpoints from (the `kubernetes` peer's
   * `kubeconfigPath`). Required at this Istio commit: with `--registries=` (no Kubernetes) pilot-discovery
   * panics at startup (nil multicluster controller in serviceentry.newController). Istio config is still
   * read from files (`--configDir`), never from the API server.
   */
  kubeconfig?: string;
  /** Istio config (YAML, several documents allowed) written into the watched config directory. */
  config?: string;
  /** MeshConfig fields, merged over a minimal default (root namespace istio-system, trust domain cluster.local). */
  meshConfig?: Record<string, unknown>;
  extraArgs?: string[];
  env?: Record<string, string>;
}

export interface IstiodPorts {
  http: number;
  grpc: number;
  secureGrpc: number;
  monitoring: number;
  https: number;
  ctrlz: number;
}

export interface IstiodHandle extends PeerHandle {
  /** Debug/HTTP server (`/ready`, `/debug/configz`, ...): `http://127.0.0.1:<http port>`. */
  httpUrl: string;
  /** Plaintext xDS: `127.0.0.1:<grpc port>`. */
  grpcAddr: string;
  /** TLS xDS: `127.0.0.1:<secure grpc port>`. */
  secureGrpcAddr: string;
  /** Prometheus metrics: `http://127.0.0.1:<monitoring port>/metrics`. */
  monitoringUrl: string;
  ports: IstiodPorts;
  /** The watched config directory: files written here are picked up by istiod. */
  configDir: string;
  meshConfigPath: string;
  process: SpawnedProcess;
}

export interface ModuleInfo {
  Dir: string;
  GoMod: string;
  Version: string;
}

/** `go mod download -json <module@version>` (fills the module cache); resolves with its JSON answer. */
export async function goModDownload(module: string, cwd: string): Promise<ModuleInfo> {
  try {
    const { stdout } = await execFileAsync("go", ["mod", "download", "-json", module], { cwd, maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as ModuleInfo;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`go mod download ${module} failed: ${e.stdout ?? ""}${e.stderr ?? e.message}`);
  }
}

/** Copies Istio's CRD bundle from the pinned istio.io/istio module (downloading it if needed) to `dest`. */
export async function fetchIstioCrds(cwd: string, dest: string): Promise<void> {
  mkdirSync(cwd, { recursive: true });
  const info = await goModDownload(`istio.io/istio@${istioVersion}`, cwd);
  rmSync(dest, { force: true });
  copyFileSync(join(info.Dir, "manifests", "charts", "base", "files", "crd-all.gen.yaml"), dest);
  chmodSync(dest, 0o644); // the module cache is read-only

}

const istio: Peer<IstiodHandle, IstiodStartOptions> = {
  name: "istio",
  needs: ["kubernetes"],
  version,
  description: "istioctl and istiod (pilot-discovery), built from the istio.io/istio Go module (1.31-dev)",
  dir,
  diskHint: "about 190 MB binaries; about 2 GB Go module cache and 3 GB Go build cache while building",
  async ready() {
    return hasReadyMarker(dir, [istioctlBin, pilotDiscoveryBin, istioCrdsPath]);
  },
  async install(ctx) {
    await ctx.step(`write throwaway Go module (istio.io/istio ${version}, Istio's go.sum)`, async () => {
      mkdirSync(src, { recursive: true });
      const info = await goModDownload(`istio.io/istio@${version}`, src);
      const goLine = /^go (\S+)$/m.exec(readFileSync(info.GoMod, "utf8"))?.[1] ?? "1.25";
      writeFileSync(join(src, "go.mod"), `module weft.local/peer-istio\n\ngo ${goLine}\n\nrequire istio.io/istio ${version}\n`);
      writeFileSync(join(src, "go.sum"), readFileSync(join(info.Dir, "go.sum")));
    });
    await ctx.step("go mod download istio.io/istio", () =>
      runLogged("go", ["mod", "download", "istio.io/istio"], { cwd: src, logPath: ctx.log }));
    await ctx.step("go build istioctl and pilot-discovery", () =>
      runLogged("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", join(dir, "bin") + "/",
        "istio.io/istio/istioctl/cmd/istioctl", "istio.io/istio/pilot/cmd/pilot-discovery"], { cwd: src, logPath: ctx.log }));
    await ctx.step("copy Istio CRDs", () => fetchIstioCrds(src, istioCrdsPath));
    await ctx.step("istioctl version --remote=false", async () => {
      await runLogged(istioctlBin, ["version", "--remote=false"], { logPath: ctx.log });
      await runLogged(pilotDiscoveryBin, ["version"], { logPath: ctx.log });
      writeReadyMarker(dir, { istioctl: istioctlBin, pilotDiscovery: pilotDiscoveryBin });
    });
  },
  async start(opts = {}) {
    if (!opts.kubeconfig) {
      throw new Error("istiod at Istio " + version + " needs a Kubernetes API server: pass { kubeconfig } from the " +
        "kubernetes peer (without one, `pilot-discovery discovery --registries=` panics in serviceentry.newController)");
    }
    const work = tmpDataDir("istiod");
    const configDir = join(work, "config");
    mkdirSync(configDir, { recursive: true });
    if (opts.config) writeFileSync(join(configDir, "config.yaml"), opts.config);
    const meshConfigPath = join(work, "mesh.yaml");
    writeFileSync(meshConfigPath, stringify({ rootNamespace: "istio-system", trustDomain: "cluster.local", ...opts.meshConfig }));
    const [http, grpc, secureGrpc, monitoring, https, ctrlz] = (await freePorts(6)) as [number, number, number, number, number, number];
    const ports: IstiodPorts = { http, grpc, secureGrpc, monitoring, https, ctrlz };
    const logPath = join(work, "istiod.log");
    const args = [
      "discovery", "--registries=Kubernetes", `--kubeconfig=${opts.kubeconfig}`, "--clusterID=Kubernetes",
      `--configDir=${configDir}`, `--meshConfig=${meshConfigPath}`,
      `--networksConfig=${join(work, "mesh-networks.yaml")}`,
      `--httpAddr=127.0.0.1:${http}`, `--grpcAddr=127.0.0.1:${grpc}`, `--secureGRPCAddr=127.0.0.1:${secureGrpc}`,
      `--monitoringAddr=127.0.0.1:${monitoring}`, `--httpsAddr=127.0.0.1:${https}`,
      "--ctrlz_address=127.0.0.1", `--ctrlz_port=${ctrlz}`,
      "--domain=cluster.local", "--keepaliveMaxServerConnectionAge=30m",
      ...(opts.extraArgs ?? []),
    ];
    const proc = spawnPeer(pilotDiscoveryBin, args, {
      cwd: work,
      logPath,
      env: { POD_NAMESPACE: "istio-system", POD_NAME: "istiod-weft-interop", REVISION: "default", ...opts.env },
    });
    const httpUrl = `http://127.0.0.1:${http}`;
    try {
      await waitFor(() => httpOk(`${httpUrl}/ready`), { what: `istiod ${httpUrl}/ready`, logPath, process: proc, timeoutMs: 90_000 });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return {
      httpUrl, grpcAddr: `127.0.0.1:${grpc}`, secureGrpcAddr: `127.0.0.1:${secureGrpc}`,
      monitoringUrl: `http://127.0.0.1:${monitoring}/metrics`, ports, configDir, meshConfigPath,
      process: proc, logPath, stop: () => proc.stop(),
    };
  },
};

export default istio;
