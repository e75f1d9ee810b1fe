// Deno, the npm package `deno` (a devDependency): the real runtime that weft's edge host targets.
// `start()` runs `deno <args>` as a long-lived process (a server); `runDeno()` runs a script to completion.

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { peerDir, spawnPeer, tmpDataDir, writeReadyMarker } from "../lib.ts";
import { binaryRuns, npmBinary, npmPackageVersion, npmRebuild } from "../npm-binary.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";

export const denoBin = npmBinary(["deno/deno", "@deno/linux-x64-glibc/deno"]);
const version = npmPackageVersion("deno");

/** Environment for every Deno we start: its module cache in the peer cache, no update check. */
export function denoEnv(): Record<string, string> {
  return { DENO_DIR: join(peerDir("deno", version), "deno-dir"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
}

export interface DenoStartOptions {
  /** Arguments after `deno`, e.g. ["run", "--allow-net", "server.ts"]. */
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface DenoHandle extends PeerHandle {
  process: SpawnedProcess;
}

export interface DenoResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` to completion and returns its exit code and output. */
export async function runDeno(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<DenoResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(denoBin, args, { cwd: opts.cwd, env: { ...process.env, ...denoEnv(), ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const deno: Peer<DenoHandle, DenoStartOptions> = {
  name: "deno",
  version,
  description: "Deno runtime from the npm package `deno`",
  dir: dirname(denoBin),
  diskHint: "92 MB (in node_modules)",
  async ready() {
    return binaryRuns(denoBin);
  },
  async install(ctx) {
    if (!binaryRuns(denoBin)) await ctx.step("npm rebuild deno", () => npmRebuild("deno", ctx.log));
    await ctx.step("deno --version", async () => {
      if (!binaryRuns(denoBin)) throw new Error(`${denoBin} does not run; is the npm package installed (npm ci)?`);
      writeReadyMarker(peerDir("deno", version), { bin: denoBin });
    });
  },
  async start(opts) {
    if (!opts) throw new Error("deno.start needs { args }");
    const logPath = join(tmpDataDir("deno"), "deno.log");
    const proc = spawnPeer(denoBin, opts.args, { cwd: opts.cwd, env: { ...denoEnv(), ...opts.env }, logPath });
    return { process: proc, logPath, stop: () => proc.stop() };
  },
};

export default deno;
