// workerd, Cloudflare's open-source Workers runtime, from the npm package `workerd` (a devDependency).
// `start()` writes a Cap'n Proto config for one ES-module worker listening on a free loopback port,
// runs `workerd serve`, and waits until the socket answers HTTP.

import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { freePort, httpOk, peerDir, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import { binaryRuns, npmBinary, npmPackageVersion, npmRebuild } from "../npm-binary.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";

export const workerdBin = npmBinary(["@cloudflare/workerd-linux-64/bin/workerd", "workerd/bin/workerd"]);
const version = npmPackageVersion("workerd");

export interface WorkerdStartOptions {
  /** ES modules by file name; the first is the main module unless `mainModule` says otherwise. */
  modules: Record<string, string>;
  mainModule?: string;
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  /** Extra `bindings = [...]` entries, written verbatim into the worker's config. */
  bindings?: string[];
}

export interface WorkerdHandle extends PeerHandle {
  url: string;
  port: number;
  process: SpawnedProcess;
  configPath: string;
}

/** The Cap'n Proto config for one worker served on `port`. */
export function workerdConfig(opts: WorkerdStartOptions, port: number): string {
  const names = Object.keys(opts.modules);
  const main = opts.mainModule ?? names[0];
  if (!main) throw new Error("workerd.start needs at least one module");
  const ordered = [main, ...names.filter((n) => n !== main)];
  const modules = ordered.map((n) => `(name = ${JSON.stringify(n)}, esModule = embed ${JSON.stringify(n)})`).join(",\n    ");
  const flags = (opts.compatibilityFlags ?? []).map((f) => JSON.stringify(f)).join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [
    ${modules}
  ],
  compatibilityDate = ${JSON.stringify(opts.compatibilityDate ?? "2025-09-01")},
  compatibilityFlags = [${flags}],
  bindings = [${(opts.bindings ?? []).join(", ")}],
);
`;
}

const workerd: Peer<WorkerdHandle, WorkerdStartOptions> = {
  name: "workerd",
  version,
  description: "Cloudflare workerd from the npm package `workerd`",
  dir: dirname(workerdBin),
  diskHint: "155 MB (in node_modules)",
  async ready() {
    return binaryRuns(workerdBin);
  },
  async install(ctx) {
    if (!binaryRuns(workerdBin)) await ctx.step("npm rebuild workerd", () => npmRebuild("workerd", ctx.log));
    await ctx.step("workerd --version", async () => {
      if (!binaryRuns(workerdBin)) throw new Error(`${workerdBin} does not run; is the npm package installed (npm ci)?`);
      writeReadyMarker(peerDir("workerd", version), { bin: workerdBin });
    });
  },
  async start(opts) {
    if (!opts) throw new Error("workerd.start needs { modules }");
    const dir = tmpDataDir("workerd");
    for (const [name, source] of Object.entries(opts.modules)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), source);
    }
    const port = await freePort();
    const configPath = join(dir, "config.capnp");
    writeFileSync(configPath, workerdConfig(opts, port));
    const logPath = join(dir, "workerd.log");
    const proc = spawnPeer(workerdBin, ["serve", configPath, "--verbose"], { cwd: dir, logPath });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(() => httpOk(url, () => true), { what: `workerd on ${url}`, logPath, process: proc, timeoutMs: 30_000 });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return { url, port, process: proc, configPath, logPath, stop: () => proc.stop() };
  },
};

export default workerd;
