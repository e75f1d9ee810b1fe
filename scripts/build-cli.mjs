#!/usr/bin/env node
// Bundles the `weft` CLI (cli/main.ts and everything it imports from this repository) into plain
// JavaScript with esbuild, so bin/weft.js can run it without the tsx loader (which costs about a
// quarter of the proxy's throughput and ~30 MB of memory). npm packages stay external (resolved from
// node_modules at run time as usual); subcommands stay lazily loaded (code splitting). The bundle lives
// in node_modules/.cache/weft-cli/<hash>/, and current.json there names it together with the size and
// mtime of every source file that went into it: bin/weft.js uses the bundle only while all of them are
// unchanged, and otherwise rebuilds it (or falls back to tsx when esbuild is missing or the build fails).
//   node scripts/build-cli.mjs      (build now; run by `npm ci` / `npm install` as part of postinstall)
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, "node_modules", ".cache", "weft-cli");
const CURRENT = join(CACHE, "current.json");
const LOCK = join(CACHE, "build.lock");
/** A lock older than this is a crashed build's. */
const STALE_LOCK_MS = 60_000;
/**
 * Old bundle directories are removed once they are this old: a running process may still load chunks
 * from its bundle lazily (a subcommand, an optional sink), so only a day-old one goes.
 */
const OLD_BUNDLE_MS = 24 * 3600_000;

/** The entry file of a bundle that matches the sources on disk, or undefined. */
export function freshBundle() {
  let current;
  try {
    current = JSON.parse(readFileSync(CURRENT, "utf8"));
  } catch {
    return undefined;
  }
  if (current.node !== process.version) return undefined;
  for (const [file, [size, mtimeMs]] of Object.entries(current.inputs)) {
    let st;
    try {
      st = statSync(join(ROOT, file));
    } catch {
      return undefined;
    }
    if (st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
  }
  const entry = join(CACHE, current.dir, "main.mjs");
  return existsSync(entry) ? entry : undefined;
}

/**
 * Builds the bundle; resolves to its entry file, or undefined when esbuild is not installed, another
 * process is building right now, or the build failed (the caller then runs the sources through tsx).
 */
export async function buildBundle({ quiet = true } = {}) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    if (!quiet) console.log("build-cli: esbuild is not installed; bin/weft.js will run the sources through tsx");
    return undefined;
  }
  mkdirSync(CACHE, { recursive: true });
  if (!takeLock()) return undefined;
  const tmp = join(CACHE, `tmp-${process.pid}-${Date.now()}`);
  try {
    // Stat the sources before building: an edit during the build then makes the bundle stale, not wrong.
    const before = new Map();
    const result = await esbuild.build({
      absWorkingDir: ROOT, // metafile paths are relative to it (the caller's cwd may be anywhere)
      entryPoints: { main: join(ROOT, "cli/main.ts") },
      bundle: true, splitting: true, format: "esm", platform: "node", target: `node${process.versions.node.split(".")[0]}`,
      packages: "external", outdir: tmp, outExtension: { ".js": ".mjs" }, chunkNames: "chunk-[hash]",
      metafile: true, logLevel: "silent", legalComments: "none", sourcemap: "linked",
      plugins: [{ name: "stat-inputs", setup(b) { b.onLoad({ filter: /.*/ }, (args) => { statInto(before, args.path); return undefined; }); } }],
    });
    const inputs = {};
    for (const file of Object.keys(result.metafile.inputs)) {
      const abs = resolve(ROOT, file);
      const st = before.get(abs) ?? statSync(abs);
      inputs[file] = [st.size, st.mtimeMs];
    }
    const hash = createHash("sha256").update(JSON.stringify(inputs)).update(process.version).digest("hex").slice(0, 16);
    const dir = `b-${hash}`;
    if (existsSync(join(CACHE, dir))) rmSync(tmp, { recursive: true, force: true });
    else renameSync(tmp, join(CACHE, dir));
    const pointer = `${CURRENT}.${process.pid}`;
    writeFileSync(pointer, JSON.stringify({ dir, node: process.version, built: new Date().toISOString(), inputs }));
    renameSync(pointer, CURRENT);
    removeOldBundles(dir);
    if (!quiet) console.log(`build-cli: bundled ${Object.keys(inputs).length} files into ${join(CACHE, dir)}`);
    return join(CACHE, dir, "main.mjs");
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!quiet) console.log(`build-cli: bundling failed (${err.message.split("\n")[0]}); bin/weft.js will run the sources through tsx`);
    return undefined;
  } finally {
    // esbuild keeps a service process for later builds; a CLI that bundled itself has no later builds.
    await esbuild.stop?.();
    try {
      unlinkSync(LOCK);
    } catch { /* already gone */ }
  }
}

function statInto(map, path) {
  try {
    map.set(path, statSync(path));
  } catch { /* a virtual module */ }
}

function takeLock() {
  for (let i = 0; i < 2; i++) {
    try {
      closeSync(openSync(LOCK, "wx"));
      return true;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs < STALE_LOCK_MS) return false;
        unlinkSync(LOCK);
      } catch { /* raced with its owner */ }
    }
  }
  return false;
}

function removeOldBundles(keep) {
  for (const name of readdirSync(CACHE)) {
    if (name === keep || !(name.startsWith("b-") || name.startsWith("tmp-"))) continue;
    const path = join(CACHE, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > OLD_BUNDLE_MS) rmSync(path, { recursive: true, force: true });
    } catch { /* removed by another process */ }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Never fails an install: without a bundle, bin/weft.js runs the sources through tsx.
  await buildBundle({ quiet: false });
}
