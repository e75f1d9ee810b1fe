// The Kubernetes API server with its etcd, both built from the Go module proxy: `kube-apiserver` from the
// k8s.io/kubernetes module in a throwaway module whose go.mod replaces every `k8s.io/<staging>` module by
// its published v0.X.Y version (kubernetes' own go.mod points them at ./staging, which a dependent module
// cannot use), and `etcd` from go.etcd.io/etcd/server/v3 at the version kubernetes' go.mod requires. `start()` runs a private etcd and API server on
// free loopback ports with a temporary data directory, a generated service-account key and a static admin
// bearer token, and writes a kubeconfig for clients.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { stringify } from "yaml";
import { freePorts, hasReadyMarker, httpOk, peerDir, runLogged, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";
import { fetchIstioCrds, goModDownload } from "../istio/peer.ts";

/** k8s.io/kubernetes release built from the Go module proxy. */
export const kubernetesVersion = "v1.36.3";
/** The published staging modules (k8s.io/api, client-go, ...) of that release. */
export const stagingVersion = "v0.36.3";
const version = kubernetesVersion;
const dir = peerDir("kubernetes", version);
const src = join(dir, "src");
export const kubeApiserverBin = join(dir, "kube-apiserver");
/**
 * go.etcd.io/etcd/server/v3, the version k8s.io/kubernetes v1.36.3's go.mod requires. Debian bookworm's
 * etcd-server (3.4.23) does not do: watches without a resourceVersion fail with "Timeout: Too large
 * resource version" because kube-apiserver 1.36 waits for etcd progress notifications that 3.4.23 lacks.
 */
export const etcdVersion = "v3.6.8";
export const etcdBin = join(dir, "etcd");
const etcdSrc = join(dir, "src-etcd");
/** Istio's CRDs (crd-all.gen.yaml of the pinned Istio module), copied here at install time. */
export const istioCrdsPath = join(dir, "istio-crds.yaml");

/** Version stamping as Kubernetes' own build does it (hack/lib/version.sh), so `/version` reports the release. */
const ldflags = (() => {
  const [major, minor] = version.slice(1).split(".") as [string, string];
  const vars = { gitVersion: version, gitMajor: major, gitMinor: minor, gitTreeState: "clean" };
  const pkgs = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"];
  return ["-s", "-w", ...pkgs.flatMap((pkg) => Object.entries(vars).map(([k, v]) => `-X ${pkg}.${k}=${v}`))].join(" ");
})();

export interface KubernetesStartOptions {
  /** `--authorization-mode` (default "RBAC"; the admin token is in system:masters either way). */
  authorizationMode?: string;
  extraApiserverArgs?: string[];
}

export interface KubernetesHandle extends PeerHandle {
  /** `https://127.0.0.1:<secure port>` */
  url: string;
  /** A kubeconfig (context "weft-interop") with the CA and the admin token. */
  kubeconfigPath: string;
  /** Bearer token of user "weft-admin" in group system:masters. */
  token: string;
  /** PEM bundle that verifies the API server's self-signed serving certificate. */
  caPath: string;
  caPem: string;
  /** `http://127.0.0.1:<client port>` */
  etcdUrl: string;
  dataDir: string;
  apiserverLogPath: string;
  etcdLogPath: string;
  apiserver: SpawnedProcess;
  etcd: SpawnedProcess;
}

/** The `replace` block for every staging module named in kubernetes' own go.mod. */
function stagingReplaces(kubernetesGoMod: string): string {
  const block = /^replace \(\n([\s\S]*?)\n\)/m.exec(kubernetesGoMod)?.[1] ?? "";
  const modules = [...block.matchAll(/^\s*(k8s\.io\/[\w.-]+) => \.\/staging\//gm)].map((m) => m[1]);
  if (modules.length < 10) throw new Error(`found only ${modules.length} staging replaces in k8s.io/kubernetes go.mod`);
  return `replace (\n${modules.map((m) => `\t${m} => ${m} ${stagingVersion}`).join("\n")}\n)\n`;
}

/** HTTPS GET against the API server, verifying it with `ca`; resolves with status and body. */
export function kubeGet(url: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 3_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const kubernetes: Peer<KubernetesHandle, KubernetesStartOptions> = {
  name: "kubernetes",
  version,
  description: `kube-apiserver (k8s.io/kubernetes Go module) with etcd ${etcdVersion} (Go module)`,
  dir,
  diskHint: "about 106 MB kube-apiserver + 27 MB etcd; about 1 GB Go module cache and 2 GB Go build cache while building",
  async ready() {
    return hasReadyMarker(dir, [kubeApiserverBin, etcdBin, istioCrdsPath]);
  },
  async install(ctx) {
    await ctx.step(`write throwaway Go module (k8s.io/kubernetes ${version}, staging ${stagingVersion})`, async () => {
      mkdirSync(src, { recursive: true });
      const info = await goModDownload(`k8s.io/kubernetes@${version}`, src);
      const goMod = readFileSync(info.GoMod, "utf8");
      const goLine = /^go (\S+)$/m.exec(goMod)?.[1] ?? "1.25";
      writeFileSync(join(src, "go.mod"),
        `module weft.local/peer-kube-apiserver\n\ngo ${goLine}\n\nrequire k8s.io/kubernetes ${version}\n\n${stagingReplaces(goMod)}`);
    });
    await ctx.step("go get k8s.io/kubernetes/cmd/kube-apiserver", () =>
      runLogged("go", ["get", `k8s.io/kubernetes/cmd/kube-apiserver@${version}`], { cwd: src, logPath: ctx.log }));
    await ctx.step("go build kube-apiserver", () =>
      runLogged("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", kubeApiserverBin, "k8s.io/kubernetes/cmd/kube-apiserver"],
        { cwd: src, logPath: ctx.log }));
    await ctx.step(`write throwaway Go module (go.etcd.io/etcd/server/v3 ${etcdVersion})`, async () => {
      mkdirSync(etcdSrc, { recursive: true });
      writeFileSync(join(etcdSrc, "go.mod"), "module weft.local/peer-etcd\n\ngo 1.24\n");
    });
    await ctx.step(`go get go.etcd.io/etcd/server/v3@${etcdVersion}`, () =>
      runLogged("go", ["get", `go.etcd.io/etcd/server/v3@${etcdVersion}`], { cwd: etcdSrc, logPath: ctx.log }));
    await ctx.step("go build etcd", () =>
      runLogged("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", etcdBin, "go.etcd.io/etcd/server/v3"],
        { cwd: etcdSrc, logPath: ctx.log }));
    await ctx.step("copy Istio CRDs from the istio.io/istio module", () => fetchIstioCrds(src, istioCrdsPath));
    await ctx.step("kube-apiserver --version, etcd --version", async () => {
      await runLogged(kubeApiserverBin, ["--version"], { logPath: ctx.log });
      await runLogged(etcdBin, ["--version"], { logPath: ctx.log });
      writeReadyMarker(dir, { bin: kubeApiserverBin, etcd: etcdBin, etcdVersion });
    });
  },
  async start(opts = {}) {
    const work = tmpDataDir("kubernetes");
    const [etcdClient, etcdPeer, securePort] = (await freePorts(3)) as [number, number, number];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcdLogPath = join(work, "etcd.log");
    const etcd = spawnPeer(etcdBin, [
      "--name", "weft", "--data-dir", join(work, "etcd"),
      "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
      "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
      "--initial-cluster", `weft=http://127.0.0.1:${etcdPeer}`, "--initial-cluster-state", "new",
      "--log-outputs", "stderr",
    ], { cwd: work, logPath: etcdLogPath });
    const stopAll: (() => Promise<void>)[] = [() => etcd.stop()];
    const stop = async (): Promise<void> => {
      for (const s of [...stopAll].reverse()) await s();
    };
    try {
      await waitFor(() => httpOk(`${etcdUrl}/health`), { what: `etcd on ${etcdUrl}`, logPath: etcdLogPath, process: etcd, timeoutMs: 30_000 });

      const token = randomBytes(24).toString("hex");
      const tokenFile = join(work, "tokens.csv");
      writeFileSync(tokenFile, `${token},weft-admin,weft-admin,"system:masters"\n`, { mode: 0o600 });
      const saKey = join(work, "sa.key");
      const saPub = join(work, "sa.pub");
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      writeFileSync(saKey, privateKey.export({ type: "sec1", format: "pem" }), { mode: 0o600 });
      writeFileSync(saPub, publicKey.export({ type: "spki", format: "pem" }));
      const certDir = join(work, "certs");
      const url = `https://127.0.0.1:${securePort}`;
      const apiserverLogPath = join(work, "kube-apiserver.log");
      const apiserver = spawnPeer(kubeApiserverBin, [
        `--etcd-servers=${etcdUrl}`,
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${securePort}`,
        `--cert-dir=${certDir}`,
        `--token-auth-file=${tokenFile}`,
        `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-cluster-ip-range=10.96.0.0/24",
        `--authorization-mode=${opts.authorizationMode ?? "RBAC"}`,
        "--anonymous-auth=false",
        // The "kubernetes" Service's endpoint would be 127.0.0.1, which Endpoints refuse: do not maintain it.
        "--endpoint-reconciler-type=none",
        ...(opts.extraApiserverArgs ?? []),
      ], { cwd: work, logPath: apiserverLogPath });
      stopAll.push(() => apiserver.stop());

      const caPath = join(certDir, "apiserver.crt");
      await waitFor(async () => {
        if (!existsSync(caPath)) return false;
        const res = await kubeGet(`${url}/readyz`, token, readFileSync(caPath, "utf8"));
        return res.status === 200 && res.body.trim() === "ok";
      }, { what: `kube-apiserver /readyz on ${url}`, logPath: apiserverLogPath, process: apiserver, timeoutMs: 120_000 });
      const caPem = readFileSync(caPath, "utf8");

      const kubeconfigPath = join(work, "kubeconfig.yaml");
      writeFileSync(kubeconfigPath, stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "weft-interop", cluster: { server: url, "certificate-authority": caPath } }],
        users: [{ name: "weft-admin", user: { token } }],
        contexts: [{ name: "weft-interop", context: { cluster: "weft-interop", user: "weft-admin" } }],
        "current-context": "weft-interop",
      }), { mode: 0o600 });

      return {
        url, kubeconfigPath, token, caPath, caPem, etcdUrl, dataDir: work,
        logPath: apiserverLogPath, apiserverLogPath, etcdLogPath, apiserver, etcd, stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  },
};

export default kubernetes;
