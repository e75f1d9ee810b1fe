/**
 * @module edge/workerd/build
 * The bundling step for the workerd edge proxy (`npm run build:edge`): esbuild bundles
 * `edge/workerd/worker.ts` and everything it imports (engine, plugins, jose, zod, yaml) into one ES
 * module for workerd, and writes a workerd config beside it from flags:
 *
 *   npm run build:edge -- --out dist/edge --listen 127.0.0.1:8787 --feed http://127.0.0.1:15000/v1/edge/config?node=edge \
 *     --feed-token TOKEN [--cache-dir /var/lib/weft-edge] [--access-log] [--listener NAME] [--feed-refresh-ms 10000]
 *   workerd serve dist/edge/edge.capnp
 */
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { workerdConfig } from "./capnp.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Bundles the worker into `outfile` (ESM, browser platform, workerd conditions). */
export async function bundleEdgeWorker(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, "edge", "workerd", "worker.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker"],
    outfile,
    logLevel: "silent",
  });
}

/** The workerd binary from the npm package. */
export function workerdBinary(): string {
  return (createRequire(import.meta.url)("workerd") as { default: string }).default;
}

/** The newest compatibility date the installed workerd supports. */
export function workerdCompatibilityDate(): string {
  const out = execFileSync(workerdBinary(), ["--version"], { encoding: "utf8" });
  const date = /\d{4}-\d{2}-\d{2}/.exec(out)?.[0];
  if (date === undefined) throw new Error(`cannot read a compatibility date from "workerd --version": ${out}`);
  return date;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
}

async function main(argv: string[]): Promise<void> {
  const out = resolve(flag(argv, "out") ?? "dist/edge");
  await mkdir(out, { recursive: true });
  await bundleEdgeWorker(join(out, "worker.js"));
  const cacheDir = flag(argv, "cache-dir");
  const feedToken = flag(argv, "feed-token");
  const listener = flag(argv, "listener");
  const refresh = flag(argv, "feed-refresh-ms");
  const capnp = workerdConfig({
    workerFile: "worker.js",
    compatibilityDate: workerdCompatibilityDate(),
    listen: flag(argv, "listen") ?? "127.0.0.1:8787",
    feedUrl: flag(argv, "feed") ?? "http://127.0.0.1:15000/v1/edge/config?node=edge",
    ...(feedToken ? { feedToken } : {}),
    ...(cacheDir ? { cacheDir: resolve(cacheDir) } : {}),
    ...(listener ? { listener } : {}),
    ...(refresh ? { feedRefreshMs: Number(refresh) } : {}),
    accessLog: argv.includes("--access-log"),
  });
  await writeFile(join(out, "edge.capnp"), capnp);
  console.log(`wrote ${join(out, "worker.js")} and ${join(out, "edge.capnp")}; run: workerd serve ${join(out, "edge.capnp")}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
