#!/usr/bin/env node
// Runs the portable test suites (core/**, plugins/** and test-support/portable/** *.test.ts, except
// *.node.test.ts) in real Deno and real workerd: esbuild bundles them per runtime with the import
// "vitest" aliased to test-support/portable-vitest.ts; Deno runs the bundle with no permissions and
// prints JSON results, workerd serves it as an ES-module worker (no nodejs_compat) whose fetch handler
// runs the tests. Prints each failure and "<runtime>: N passed, M failed"; exits non-zero on any
// failure, on a runtime that cannot start or bundle, or when a runtime ran zero tests.
//
// Usage: node scripts/runtime-tests.mjs [--runtime=deno|workerd] [--keep] [test files...]
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHIM = join(ROOT, "test-support", "portable-vitest.ts");
const SUITE_DIRS = ["core", "plugins", join("control", "admin"), join("adapters", "telemetry"), join("proxy", "xds"), join("test-support", "portable")];
const RESULT_MARKER = "@@weft-runtime-results@@";
const RUN_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 30_000;
const LOG_TAIL_CHARS = 4_000;
export const RUNTIMES = ["deno", "workerd"];

const require = createRequire(import.meta.url);
const liveChildren = new Set();

/** The portable suites under the repository, as sorted POSIX paths relative to the root. */
export async function collectSuites(root = ROOT) {
  const found = [];
  for (const dir of SUITE_DIRS) {
    const absolute = join(root, dir);
    if (!existsSync(absolute)) continue;
    for (const entry of await readdir(absolute, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      if (!entry.isFile() || !entry.name.endsWith(".test.ts") || entry.name.endsWith(".node.test.ts")) continue;
      if (path.split(sep).includes("node_modules")) continue;
      found.push(relative(root, path).split(sep).join("/"));
    }
  }
  return found.sort();
}

function entrySource(files, runtime) {
  const suites = files.map((file) => `  [${JSON.stringify(file)}, () => import(${JSON.stringify(`./${file}`)})],`);
  const common = `import { reset, run } from ${JSON.stringify(SHIM)};
const suites = [
${suites.join("\n")}
];
async function runAll() {
  const total = { passed: 0, failed: 0, failures: [], files: {} };
  for (const [file, load] of suites) {
    let result;
    try {
      await load();
      result = await run({ prefix: file });
    } catch (error) {
      reset();
      result = { passed: 0, failed: 1, failures: [{ name: file + " (failed to load)", error: String(error && error.stack || error) }] };
    }
    total.files[file] = { passed: result.passed, failed: result.failed };
    total.passed += result.passed;
    total.failed += result.failed;
    total.failures.push(...result.failures);
  }
  return total;
}
`;
  if (runtime === "deno") {
    return `${common}
const result = await runAll();
console.log(${JSON.stringify(RESULT_MARKER)} + JSON.stringify(result));
globalThis.Deno.exit(0);
`;
  }
  return `${common}
let started = false;
export default {
  async fetch(request) {
    if (new URL(request.url).pathname !== "/run") return new Response("ready");
    if (started) return new Response("tests already ran", { status: 409 });
    started = true;
    return Response.json(await runAll());
  },
};
`;
}

const vitestAlias = {
  name: "portable-vitest-alias",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^vitest(\/.*)?$/ }, (args) => args.path === "vitest"
      ? { path: SHIM }
      : { errors: [{ text: `"${args.path}" is not available in portable tests; import from "vitest" only` }] });
  },
};

/** Bundles the suites into one ESM file for `runtime`; throws with esbuild's messages on failure. */
async function bundle(files, runtime, outfile) {
  try {
    await build({
      stdin: { contents: entrySource(files, runtime), resolveDir: ROOT, sourcefile: `${runtime}-entry.mjs`, loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: runtime === "deno" ? ["deno", "worker"] : ["workerd", "worker"],
      sourcemap: runtime === "deno" ? "inline" : false,
      outfile,
      logLevel: "silent",
      plugins: [vitestAlias],
    });
  } catch (error) {
    const messages = (error.errors ?? []).map((message) => {
      const at = message.location ? `${message.location.file}:${message.location.line}: ` : "";
      return `  ${at}${message.text}`;
    });
    throw new Error(`esbuild could not bundle the suites for ${runtime}:\n${messages.join("\n") || error.message}`);
  }
}

function tail(text) {
  return text.length > LOG_TAIL_CHARS ? `…${text.slice(-LOG_TAIL_CHARS)}` : text;
}

function start(command, args, options) {
  const child = spawn(command, args, options);
  liveChildren.add(child);
  child.on("exit", () => liveChildren.delete(child));
  const log = { text: "" };
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", (chunk) => { log.text = tail(log.text + chunk); });
  const exited = new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise((_resolve, reject) => child.on("error", reject));
  spawnError.catch(() => undefined);
  return { child, log, exited, spawnError };
}

async function stop(proc) {
  if (proc.child.pid === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), 5_000);
  await proc.exited;
  clearTimeout(timer);
}

function withDeadline(promise, ms, message) {
  let timer;
  const deadline = new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function denoBinary() {
  return require("deno/install_api.cjs").runInstall();
}

async function runDeno(bundlePath, workDir) {
  const binary = denoBinary();
  const args = ["run", "--no-prompt", "--no-config", "--no-lock", "--no-remote", "--no-npm", bundlePath];
  const env = { ...process.env, DENO_DIR: join(workDir, "deno-dir"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  const stdout = { text: "" };
  const proc = start(binary, args, { cwd: workDir, env, stdio: ["ignore", "pipe", "pipe"] });
  proc.child.stdout.on("data", (chunk) => { stdout.text += chunk; });
  try {
    const { code, signal } = await withDeadline(Promise.race([proc.exited, proc.spawnError]), RUN_TIMEOUT_MS,
      `deno did not finish within ${RUN_TIMEOUT_MS / 1000} s`);
    const line = stdout.text.split("\n").reverse().find((candidate) => candidate.startsWith(RESULT_MARKER));
    if (code !== 0 || line === undefined) {
      throw new Error(`deno exited with ${signal ?? `code ${code}`} before reporting results`);
    }
    return JSON.parse(line.slice(RESULT_MARKER.length));
  } catch (error) {
    error.log = proc.log.text;
    throw error;
  } finally {
    await stop(proc);
  }
}

async function workerdCompatibilityDate(binary) {
  const proc = start(binary, ["--version"], { stdio: ["ignore", "pipe", "pipe"] });
  await Promise.race([proc.exited, proc.spawnError]);
  const date = /\d{4}-\d{2}-\d{2}/.exec(proc.log.text)?.[0];
  if (date === undefined) throw new Error(`could not read a compatibility date from "workerd --version": ${proc.log.text}`);
  return date;
}

function workerdConfig(compatibilityDate, moduleFile) {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .testWorker),
    (name = "internet", network = (allow = [])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const testWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed ${JSON.stringify(moduleFile)}) ],
  compatibilityDate = "${compatibilityDate}",
);
`;
}

/** Resolves with the port workerd reports on its control descriptor once the socket listens. */
function listeningPort(proc) {
  return new Promise((resolve, reject) => {
    let buffered = "";
    proc.child.stdio[3].on("data", (chunk) => {
      buffered += chunk;
      for (const line of buffered.split("\n").slice(0, -1)) {
        try {
          const message = JSON.parse(line);
          if (message.event === "listen" && message.socket === "http") resolve(message.port);
        } catch {
          reject(new Error(`unexpected message on workerd's control descriptor: ${line}`));
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    });
    proc.exited.then(({ code, signal }) => reject(new Error(`workerd exited with ${signal ?? `code ${code}`} while starting`)));
    proc.spawnError.catch(reject);
  });
}

async function waitUntilAnswering(base, proc) {
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`workerd exited with code ${proc.child.exitCode}`);
    try {
      const response = await fetch(`${base}/ping`);
      if ((await response.text()) === "ready") return;
    } catch {
      // not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A GET without fetch's 300 s headers timeout: the worker answers only once every test has run. */
function httpGet(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => resolve({ status: response.statusCode, body }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`workerd did not answer /run within ${timeoutMs / 1000} s`)));
    request.on("error", reject);
    request.end();
  });
}

async function runWorkerd(bundlePath, workDir) {
  const binary = require("workerd").default;
  const date = await workerdCompatibilityDate(binary);
  await writeFile(join(workDir, "config.capnp"), workerdConfig(date, basename(bundlePath)));
  const args = ["serve", "config.capnp", "--socket-addr", "http=127.0.0.1:0", "--control-fd=3", "--verbose"];
  const env = { ...process.env, PWD: workDir };
  const proc = start(binary, args, { cwd: workDir, env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  try {
    const port = await withDeadline(listeningPort(proc), START_TIMEOUT_MS, `workerd did not listen within ${START_TIMEOUT_MS / 1000} s`);
    const base = `http://127.0.0.1:${port}`;
    await withDeadline(waitUntilAnswering(base, proc), START_TIMEOUT_MS, "workerd did not answer /ping");
    const { status, body } = await httpGet(`${base}/run`, RUN_TIMEOUT_MS);
    if (status !== 200) throw new Error(`workerd answered /run with HTTP ${status}: ${body.slice(0, 500)}`);
    return JSON.parse(body);
  } catch (error) {
    error.log = proc.log.text;
    throw error;
  } finally {
    await stop(proc);
  }
}

const runners = { deno: runDeno, workerd: runWorkerd };

/**
 * Bundles and runs `files` in each runtime. Returns one summary per runtime: { runtime, passed,
 * failed, failures, files: { [path]: { passed, failed } }, error? } where `error` says why the
 * runtime could not run.
 */
export async function runRuntimeTests({ files, runtimes = RUNTIMES, keep = false, print = console.log } = {}) {
  const signals = ["SIGINT", "SIGTERM"];
  process.on("exit", killLiveChildren);
  for (const signal of signals) process.on(signal, onSignal);
  try {
    return await runEach(files ?? await collectSuites(), runtimes, keep, print);
  } finally {
    process.off("exit", killLiveChildren);
    for (const signal of signals) process.off(signal, onSignal);
  }
}

async function runEach(suites, runtimes, keep, print) {
  const summaries = [];
  for (const runtime of runtimes) {
    const workDir = await mkdtemp(join(tmpdir(), `weft-${runtime}-`));
    const bundlePath = join(workDir, runtime === "deno" ? "tests.mjs" : "worker.js");
    let summary;
    try {
      if (suites.length === 0) throw new Error("no portable test suites found");
      await bundle(suites, runtime, bundlePath);
      const result = await runners[runtime](bundlePath, workDir);
      summary = { runtime, passed: result.passed, failed: result.failed, failures: result.failures, files: result.files };
      if (summary.passed + summary.failed === 0) summary.error = "zero tests ran";
    } catch (error) {
      summary = { runtime, passed: 0, failed: 0, failures: [], files: {}, error: error.message, log: error.log };
    } finally {
      if (keep) print(`${runtime}: bundle and config kept in ${workDir}`);
      else await rm(workDir, { recursive: true, force: true });
    }
    report(summary, print);
    summaries.push(summary);
  }
  return summaries;
}

function report(summary, print) {
  for (const failure of summary.failures) {
    print(`${summary.runtime} FAIL ${failure.name}`);
    print(`    ${failure.error.split("\n").join("\n    ")}`);
    if (failure.stack) print(`    ${failure.stack.split("\n").join("\n    ")}`);
  }
  if (summary.error !== undefined) {
    print(`${summary.runtime} ERROR ${summary.error}`);
    if (summary.log) print(`--- ${summary.runtime} log (tail) ---\n${summary.log.trimEnd()}\n--- end of ${summary.runtime} log ---`);
  }
  print(`${summary.runtime}: ${summary.passed} passed, ${summary.failed} failed` +
    (summary.error !== undefined ? " (did not run to completion)" : ""));
}

/** True when every runtime ran at least one test and none failed. */
export function allPassed(summaries) {
  return summaries.length > 0 && summaries.every((summary) => summary.error === undefined && summary.failed === 0);
}

function killLiveChildren() {
  for (const child of liveChildren) child.kill("SIGKILL");
}

async function main(argv) {
  const runtimeArg = argv.find((arg) => arg.startsWith("--runtime="));
  const runtimes = runtimeArg ? runtimeArg.slice("--runtime=".length).split(",") : RUNTIMES;
  const unknown = runtimes.filter((runtime) => !RUNTIMES.includes(runtime));
  if (unknown.length > 0) throw new Error(`unknown runtime(s): ${unknown.join(", ")}`);
  const paths = argv.filter((arg) => !arg.startsWith("--"));
  const files = paths.length > 0
    ? paths.map((path) => relative(ROOT, isAbsolute(path) ? path : join(process.cwd(), path)).split(sep).join("/"))
    : undefined;
  const summaries = await runRuntimeTests({ files, runtimes, keep: argv.includes("--keep") });
  return allPassed(summaries) ? 0 : 1;
}

function onSignal() {
  killLiveChildren();
  process.exit(130);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
