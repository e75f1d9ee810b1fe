// Helpers for peers shipped as npm packages with a native binary (deno, workerd): find the package's
// version and binary in node_modules, check that the binary runs, and repair a missing binary by
// re-running the package's install script with `npm rebuild`.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, runLogged } from "./lib.ts";

/** Version of an installed npm package ("missing" when it is not installed). */
export function npmPackageVersion(pkg: string): string {
  try {
    const json = JSON.parse(readFileSync(join(repoRoot, "node_modules", pkg, "package.json"), "utf8")) as { version: string };
    return json.version;
  } catch {
    return "missing";
  }
}

/** The first of `candidates` (paths relative to node_modules) that exists, else the first. */
export function npmBinary(candidates: string[]): string {
  const paths = candidates.map((c) => join(repoRoot, "node_modules", c));
  return paths.find((p) => existsSync(p)) ?? paths[0]!;
}

/** True when `bin --version` (or the given args) exits 0. */
export function binaryRuns(bin: string, args = ["--version"]): boolean {
  if (!existsSync(bin)) return false;
  return spawnSync(bin, args, { stdio: "ignore", timeout: 20_000 }).status === 0;
}

/** Re-runs the npm package's install script (fetches its platform binary) when the binary is missing. */
export async function npmRebuild(pkg: string, log: string): Promise<void> {
  await runLogged("npm", ["rebuild", pkg, "--foreground-scripts"], { cwd: repoRoot, logPath: log });
}
