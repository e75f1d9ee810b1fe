// `npm run test:interop`: installs missing peers (the same code as `npm run peers`), runs the interop
// suites with vitest one file at a time, reaps any peer process a suite left behind, and prints a final
// summary: skipped suites with the reason (loudly), then `N passed, M failed`.
//   npm run test:interop                         all suites
//   npm run test:interop -- interop-tests/consul one suite (vitest file filter; only its peers are installed)
//   npm run test:interop -- --no-install         do not install; suites of missing peers are skipped
// WEFT_INTEROP_STRICT=1 turns skipped suites into a failing exit code.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensurePeers } from "./peers/install.ts";
import { reapSession, repoRoot, sessionId, tmpDataDir } from "./peers/lib.ts";
import { peers, withNeeds } from "./peers/registry.ts";

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string }[] }[];
}

interface SkipRecord {
  suite: string;
  peers: string[];
  reason: string;
}

const args = process.argv.slice(2);
const noInstall = args.includes("--no-install");
const vitestArgs = args.filter((a) => a !== "--no-install");
const filters = vitestArgs.filter((a) => !a.startsWith("-"));

// With file filters, install only the peers those suites are named after (all peers when none match).
// A suite's peers bring the peers they need (istio → kubernetes).
const wanted = withNeeds(peers.filter((p) => filters.some((f) => f.includes(p.name))).map((p) => p.name));
const toInstall = filters.length > 0 && wanted.length > 0 ? wanted : peers;

if (!noInstall) {
  const results = await ensurePeers(toInstall);
  const failed = results.filter((r) => r.outcome === "failed");
  if (failed.length > 0) {
    console.log(`\n!!! ${failed.length} peer(s) could not be installed: ${failed.map((f) => f.name).join(", ")}; ` +
      "their suites will be SKIPPED.\n");
  }
}

const work = tmpDataDir("run");
const peerData = join(work, "peers");
mkdirSync(peerData);
const reportPath = join(work, "report.json");
const skipPath = join(work, "skips.jsonl");
const vitest = join(repoRoot, "node_modules", "vitest", "vitest.mjs");

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [vitest, "run", "--config", "interop-tests/vitest.config.ts",
    "--reporter=default", "--reporter=json", `--outputFile.json=${reportPath}`, ...vitestArgs], {
    cwd: repoRoot,
    stdio: "inherit",
    env: { ...process.env, WEFT_INTEROP_SKIPS: skipPath, WEFT_PEER_SESSION: sessionId, WEFT_INTEROP_TMP: peerData },
  });
  child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});

const reaped = reapSession(sessionId);
if (reaped.length > 0) console.log(`reaped ${reaped.length} leftover peer process(es): ${reaped.join(", ")}`);

const report: JsonReport | undefined = existsSync(reportPath)
  ? (JSON.parse(readFileSync(reportPath, "utf8")) as JsonReport) : undefined;
const skips: SkipRecord[] = existsSync(skipPath)
  ? readFileSync(skipPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as SkipRecord) : [];

const bar = "=".repeat(78);
console.log(`\n${bar}\nInterop summary`);
if (report) {
  for (const file of report.testResults) {
    const rel = file.name.startsWith(repoRoot) ? file.name.slice(repoRoot.length + 1) : file.name;
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const a of file.assertionResults) {
      if (a.status === "passed") counts.passed++;
      else if (a.status === "failed") counts.failed++;
      else counts.skipped++;
    }
    const failedFile = file.status === "failed" && counts.failed === 0;
    const skipped = skips.some((s) => s.suite === rel);
    const verdict = skipped ? "SKIPPED" : counts.failed > 0 || failedFile ? "FAILED" : "ok";
    console.log(`  ${verdict.padEnd(8)} ${rel}  (${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped)`);
    if (failedFile && file.message) console.log(`           ${file.message.split("\n")[0]}`);
  }
}
if (skips.length > 0) {
  console.log(`\n!!! ${skips.length} suite(s) SKIPPED because a peer is missing — this is NOT a pass:`);
  for (const s of skips) console.log(`  SKIPPED ${s.suite} [${s.peers.join(", ")}]\n    ${s.reason.split("\n").join("\n    ")}`);
}
const passed = report?.numPassedTests ?? 0;
const failed = (report?.numFailedTests ?? 0) + (report?.testResults.filter((f) => f.status === "failed" &&
  f.assertionResults.every((a) => a.status !== "failed")).length ?? 0);
const skippedTests = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
console.log(bar);
console.log(`${passed} passed, ${failed} failed${skippedTests ? `, ${skippedTests} skipped` : ""}` +
  (report ? "" : " (vitest wrote no report)"));

const strict = process.env.WEFT_INTEROP_STRICT === "1";
process.exitCode = code !== 0 || failed > 0 || !report || (strict && skips.length > 0) ? 1 : 0;
if (process.exitCode === 0) rmSync(work, { recursive: true, force: true });
else console.log(`peer logs and data directories kept in ${peerData}`);
