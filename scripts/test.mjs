#!/usr/bin/env node
// What `npm test` runs: type-check, lint, every unit test under vitest in Node (counted through
// vitest's JSON reporter), then the portable suites in real Deno and workerd (runtime-tests.mjs).
// Every stage runs even when an earlier one fails, so one run shows all problems; the last line is
// exactly "N passed, M failed" over vitest + deno + workerd, and the exit code is non-zero if any
// stage failed.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { collectSuites, runRuntimeTests } from "./runtime-tests.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: "inherit" });
    child.on("error", (error) => {
      console.error(`could not start ${command}: ${error.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => resolve(signal ? 1 : code));
  });
}

function heading(text) {
  console.log(`\n=== ${text} ===`);
}

/** Counts vitest's results; a file that failed to load, or a failing exit without failed tests, counts as a failure. */
function countVitest(report, exitCode, portableFiles) {
  const counts = { passed: 0, failed: 0, skipped: 0, portable: new Map(), problems: [] };
  for (const file of report?.testResults ?? []) {
    const path = relative(ROOT, file.name).split(sep).join("/");
    const portable = portableFiles.has(path);
    let failedHere = 0;
    let passedHere = 0;
    for (const test of file.assertionResults) {
      if (test.status === "passed") passedHere += 1;
      else if (test.status === "failed") failedHere += 1;
      else counts.skipped += 1;
    }
    counts.passed += passedHere;
    if (file.status === "failed" && failedHere === 0) {
      failedHere = 1;
      counts.problems.push(`${path} failed to run: ${String(file.message).split("\n")[0]}`);
    }
    counts.failed += failedHere;
    if (portable) counts.portable.set(path, { passed: passedHere, failed: failedHere });
  }
  if (report === undefined) {
    counts.failed += 1;
    counts.problems.push("vitest wrote no JSON report");
  } else if (exitCode !== 0 && counts.failed === 0) {
    counts.failed += 1;
    counts.problems.push(`vitest exited with code ${exitCode} although no test failed (unhandled errors?)`);
  }
  if (report !== undefined && counts.passed + counts.failed === 0) {
    counts.failed += 1;
    counts.problems.push("vitest ran zero tests");
  }
  return counts;
}

/**
 * Files where vitest and a runtime both had no failures yet ran different numbers of tests: a test
 * was lost on one side (a registration the shim mishandled, say), which must not pass silently.
 */
function countMismatches(vitestFiles, summary) {
  const mismatches = [];
  for (const [path, counts] of vitestFiles) {
    const other = summary.files[path] ?? { passed: 0, failed: 0 };
    if (counts.failed > 0 || other.failed > 0) continue;
    if (counts.passed !== other.passed) mismatches.push(`${path}: vitest ran ${counts.passed} tests, ${summary.runtime} ran ${other.passed}`);
  }
  return mismatches;
}

async function runVitest(portableFiles) {
  const dir = await mkdtemp(join(tmpdir(), "weft-vitest-"));
  const jsonFile = join(dir, "results.json");
  try {
    const vitest = join(ROOT, "node_modules", "vitest", "vitest.mjs");
    const exitCode = await run(process.execPath,
      [vitest, "run", "--reporter=default", "--reporter=json", `--outputFile.json=${jsonFile}`]);
    let report;
    try {
      report = JSON.parse(await readFile(jsonFile, "utf8"));
    } catch {
      report = undefined;
    }
    return countVitest(report, exitCode, portableFiles);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const stages = [];
  heading("lockfile (node scripts/complete-lock.mjs --check)");
  stages.push({ name: "lockfile", ok: (await run(process.execPath, ["scripts/complete-lock.mjs", "--check"])) === 0 });
  heading("typecheck (npm run typecheck)");
  stages.push({ name: "typecheck", ok: (await run(NPM, ["run", "--silent", "typecheck"])) === 0 });
  heading("lint (npm run lint)");
  stages.push({ name: "lint", ok: (await run(NPM, ["run", "--silent", "lint"])) === 0 });

  const portableFiles = await collectSuites();
  heading("unit tests in Node (vitest run)");
  const vitest = await runVitest(new Set(portableFiles));
  for (const problem of vitest.problems) console.log(`vitest ERROR ${problem}`);
  stages.push({ name: "vitest", ok: vitest.failed === 0, line: `vitest: ${vitest.passed} passed, ${vitest.failed} failed` +
    (vitest.skipped > 0 ? ` (${vitest.skipped} skipped or todo)` : "") });

  heading(`portable suites in Deno and workerd (${portableFiles.length} files)`);
  const summaries = await runRuntimeTests({ files: portableFiles });
  let passed = vitest.passed;
  let failed = vitest.failed;
  for (const summary of summaries) {
    passed += summary.passed;
    // A runtime that could not run counts as one failure, so the totals never read "0 failed" for it.
    failed += summary.failed + (summary.error === undefined ? 0 : 1);
    const mismatches = summary.error === undefined ? countMismatches(vitest.portable, summary) : [];
    for (const mismatch of mismatches) console.log(`${summary.runtime} MISMATCH ${mismatch}`);
    failed += mismatches.length;
    const note = mismatches.length > 0 ? ` (${mismatches.length} file(s) ran a different number of tests than in vitest)` : "";
    stages.push({
      name: summary.runtime,
      ok: summary.error === undefined && summary.failed === 0 && note === "",
      line: `${summary.runtime}: ${summary.passed} passed, ${summary.failed} failed` +
        (summary.error === undefined ? "" : ` (could not run: ${summary.error.split("\n")[0]})`) + note,
    });
  }

  heading("summary");
  for (const stage of stages) console.log(stage.line ?? `${stage.name}: ${stage.ok ? "ok" : "FAILED"}`);
  const failedStages = stages.filter((stage) => !stage.ok).map((stage) => stage.name);
  if (failedStages.length > 0) console.log(`FAILED: ${failedStages.join(", ")}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failedStages.length === 0 && failed === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (error) => {
  console.error(error);
  process.exitCode = 1;
});
