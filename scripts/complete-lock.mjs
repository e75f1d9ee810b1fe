#!/usr/bin/env node
// Completes package-lock.json with the other platforms' optional binary packages (deno, workerd, buf).
// The registry reachable from this workplace does not serve the macOS/Windows/ARM builds of some of them,
// so `npm install` here cannot record them, and `npm ci` then refuses the lock as out of sync. A lock made
// on a machine with the full registry holds exactly these entries: optional, with os/cpu, so npm skips
// them on other platforms without fetching them. Run after `npm install` changes the lock:
//   node scripts/complete-lock.mjs            (writes)
//   node scripts/complete-lock.mjs --check    (exit 1 if anything is missing)
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const pkgs = lock.packages;

/** os and cpu from the platform package's name (the conventions of deno, workerd and buf). */
function platformOf(name) {
  const n = name.split("/").pop();
  const os = /darwin/.test(n) ? "darwin" : /win(32|dows)/.test(n) ? "win32" : /linux/.test(n) ? "linux" : null;
  const cpu = /arm64|aarch64/.test(n) ? "arm64" : /armv7/.test(n) ? "arm" : /x64|-64$|x86_64/.test(n) ? "x64" : null;
  return { os, cpu };
}

const missing = [];
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = path ? `${path}/node_modules/${dep}` : `node_modules/${dep}`;
    if (pkgs[nested] || pkgs[`node_modules/${dep}`]) continue;
    const { os, cpu } = platformOf(dep);
    if (!os || !cpu) {
      console.error(`complete-lock: cannot tell the platform of ${dep} (optional dependency of ${path || "the root"}); add it by hand`);
      process.exitCode = 1;
      continue;
    }
    missing.push(dep);
    pkgs[`node_modules/${dep}`] = { version, cpu: [cpu], license: entry.license, optional: true, os: [os] };
  }
}

if (process.argv.includes("--check")) {
  if (missing.length) {
    console.error(`package-lock.json lacks ${missing.length} optional platform packages (${missing.join(", ")}); run: node scripts/complete-lock.mjs`);
    process.exit(1);
  }
} else if (missing.length) {
  lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
  writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
  console.log(`complete-lock: added ${missing.join(", ")}`);
}
