#!/usr/bin/env node
// The `weft` command on Node.js. It runs an esbuild bundle of the CLI (scripts/build-cli.mjs; built by
// `npm ci`, or here on first use) while that bundle matches the sources on disk, and otherwise the
// TypeScript sources through tsx. The bundle saves the loader: about a quarter of the proxy's
// throughput and ~30 MB of memory. WEFT_NO_BUNDLE=1 always uses tsx.
//
// The proxy keeps V8's young generation at its initial size (1 MB semi-spaces, not up to 16 MB): its
// per-request garbage dies young either way, and the smaller nursery saves ~10 MB of resident memory
// (bench:proxy measured no extra CPU per request). WEFT_V8_DEFAULTS=1 leaves V8's defaults.
if (process.argv[2] === "proxy" && process.env.WEFT_V8_DEFAULTS !== "1") {
  const { setFlagsFromString } = await import("node:v8");
  setFlagsFromString("--semi-space-growth-factor=1");
}
if (process.env.WEFT_NO_BUNDLE !== "1") {
  const { buildBundle, freshBundle } = await import("../scripts/build-cli.mjs");
  const entry = freshBundle() ?? (await buildBundle());
  if (entry !== undefined) {
    const { pathToFileURL } = await import("node:url");
    await import(pathToFileURL(entry).href);
  } else await runSources();
} else await runSources();

async function runSources() {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/main.ts");
}
