// Builds interop-tests/istio/ca-client (a small Go program around Istio's own CA client: the Citadel
// client, the service-account token plugin and the SDS secret manager that generates the key and CSR,
// as pilot-agent uses them) against the same istio.io/istio pseudo-version as the `istio` peer, reusing
// that peer's Go module and build caches. Like the peer, it builds with Istio's own go.sum, so every
// dependency is checked against the hashes Istio recorded. The binary is cached per Istio version and
// source hash under the peers cache (`istio-ca-client/<version>-<hash>/`), so a second run does not build.
// Istio's `pilot-agent` is built the same way beside it: run with DISABLE_ENVOY=true (Istio's proxyless
// mode) it fetches and rotates the workload certificate from CA_ADDR and writes it to OUTPUT_CERTS.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { istioVersion, goModDownload } from "../peers/istio/peer.ts";
import { peerDir, runLogged } from "../peers/lib.ts";

const srcDir = join(dirname(fileURLToPath(import.meta.url)), "ca-client");

/** The `require istio.io/istio` version in ca-client/go.mod (the suite checks it equals the peer's). */
export function caClientIstioVersion(): string | undefined {
  return /^require istio\.io\/istio (\S+)$/m.exec(readFileSync(join(srcDir, "go.mod"), "utf8"))?.[1];
}

/** Paths of the built `istio-ca-client` and `pilot-agent`, building them first when not cached. */
export async function buildIstioCaClient(): Promise<{ caClient: string; pilotAgent: string }> {
  const hash = createHash("sha256").update(readFileSync(join(srcDir, "main.go"))).update(readFileSync(join(srcDir, "go.mod"))).digest("hex").slice(0, 12);
  const dir = peerDir("istio-ca-client", `${istioVersion}-${hash}`);
  const bin = join(dir, "istio-ca-client");
  const pilotAgent = join(dir, "pilot-agent");
  if (existsSync(bin) && existsSync(pilotAgent)) return { caClient: bin, pilotAgent };
  mkdirSync(dir, { recursive: true });
  const info = await goModDownload(`istio.io/istio@${istioVersion}`, dir);
  // The module file lives in the cache dir (go.mod from the repo, Istio's go.sum), so the build never
  // writes into the work tree; -mod=mod lets go add the indirect requirements from the module cache.
  const modfile = join(dir, "go.mod");
  writeFileSync(modfile, readFileSync(join(srcDir, "go.mod")));
  writeFileSync(join(dir, "go.sum"), readFileSync(join(info.Dir, "go.sum")));
  const logPath = join(dir, "build.log");
  await runLogged("go", ["mod", "download", `-modfile=${modfile}`, "istio.io/istio"], { cwd: srcDir, logPath });
  await runLogged("go", ["build", "-mod=mod", `-modfile=${modfile}`, "-trimpath", "-o", bin, "."], { cwd: srcDir, logPath });
  await runLogged("go", ["build", "-mod=mod", `-modfile=${modfile}`, "-trimpath", "-o", pilotAgent, "istio.io/istio/pilot/cmd/pilot-agent"], { cwd: srcDir, logPath });
  return { caClient: bin, pilotAgent };
}
