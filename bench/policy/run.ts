/**
 * @module bench/policy/run
 * `npm run bench:policy`: decisions per second of weft's authorizer beside Casbin (node-casbin) on the
 * same generated RBAC/ABAC policy sets (10, 100, 1,000 rules) and the same seeded request list. Before
 * timing, both engines must agree on every request of the list, or the run fails. Re-executes itself
 * under `taskset -c 1` when available. Writes bench/results/policy-<date>.json and the
 * "## Policy engine" section of docs/performance.md.
 *
 * Flags: --sizes 10,100,1000  --runs 5  --min-ms 1000  --warmup-ms 500  --requests 4096  --seed 1
 *        --engines weft,casbin,casbin-async  --no-pin  --no-write
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { newEnforcer, newModelFromString, type Enforcer } from "casbin";
import { authorizationPolicyFromIstio, compileAuthorizer, type Authorizer } from "../../core/policy/index.ts";
import type { AuthzPolicy } from "../../core/ir/model.ts";
import { measureInterleaved, type Candidate, type MeasureOptions } from "./measure.ts";
import { describeMachine, loads, markdownTable, textTable, writeDocSection, writeJson, type Row } from "./report.ts";
import { CASBIN_MODEL, generateWorkload, type Workload } from "./workload.ts";

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000" },
    runs: { type: "string", default: "5" },
    "min-ms": { type: "string", default: "1000" },
    "warmup-ms": { type: "string", default: "500" },
    requests: { type: "string", default: "4096" },
    seed: { type: "string", default: "1" },
    engines: { type: "string", default: "weft,casbin,casbin-async" },
    "no-pin": { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
  },
});

const PIN_ENV = "WEFT_BENCH_PINNED";
const PIN_CPU = "1";

/** Re-runs this script under `taskset -c 1`; returns false when pinning is off or impossible. */
function reexecPinned(): boolean {
  if (flags["no-pin"] || process.env[PIN_ENV]) return false;
  if (spawnSync("taskset", ["-c", PIN_CPU, "true"]).status !== 0) {
    console.error("taskset unavailable or refused: running unpinned");
    return false;
  }
  const r = spawnSync("taskset", ["-c", PIN_CPU, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, [PIN_ENV]: "1" },
  });
  process.exit(r.status ?? 1);
}

function compileWeft(w: Workload): Authorizer {
  const policies: AuthzPolicy[] = [];
  for (const obj of w.istio) {
    const { value, diagnostics } = authorizationPolicyFromIstio(obj);
    if (!value || diagnostics.some((d) => d.severity === "error")) throw new Error(`generated policy rejected: ${JSON.stringify(diagnostics)}`);
    policies.push(value);
  }
  return compileAuthorizer(policies, { rootNamespace: "istio-system" });
}

async function compileCasbin(w: Workload): Promise<Enforcer> {
  const e = await newEnforcer(newModelFromString(w.casbinModel));
  const added = await e.addPolicies(w.casbinPolicies);
  if (!added || (await e.getPolicy()).length !== w.casbinPolicies.length) throw new Error("casbin: policies not all added");
  return e;
}

interface Agreement {
  requests: number;
  allow: number;
  denyByRule: number;
  denyNoMatch: number;
  mismatches: number;
}

/** Every request must get the same answer from weft, Casbin enforceSync and (a sample) Casbin enforce. */
async function checkAgreement(w: Workload, weft: Authorizer, casbin: Enforcer, rules: number): Promise<Agreement> {
  const a: Agreement = { requests: w.requests.length, allow: 0, denyByRule: 0, denyNoMatch: 0, mismatches: 0 };
  const shown: string[] = [];
  for (let i = 0; i < w.requests.length; i++) {
    const r = w.requests[i]!;
    const d = weft.check(r.weft);
    const c = casbin.enforceSync(...r.casbin);
    const ca = i % 16 === 0 ? await casbin.enforce(...r.casbin) : c;
    if (d.decision === "allow") a.allow++;
    else if (d.action === "DENY") a.denyByRule++;
    else a.denyNoMatch++;
    if ((d.decision === "allow") !== c || c !== ca) {
      a.mismatches++;
      if (shown.length < 10) {
        const [, line] = casbin.enforceExSync(...r.casbin);
        shown.push(`  request ${i} ${JSON.stringify(r.casbin)}: weft ${d.decision} (${d.reason}); casbin sync ${c}, async ${ca} (line ${JSON.stringify(line)})`);
      }
    }
  }
  if (a.mismatches) {
    console.error(`\nEQUIVALENCE FAILURE at ${rules} rules: ${a.mismatches} of ${a.requests} requests decided differently:\n${shown.join("\n")}`);
  }
  return a;
}

const today = (): string => new Date().toISOString().slice(0, 10);

async function main(): Promise<void> {
  const pinned = reexecPinned() || process.env[PIN_ENV] === "1";
  const sizes = flags.sizes.split(",").map(Number);
  const engines = new Set(flags.engines.split(","));
  const opts: MeasureOptions = { runs: Number(flags.runs), minMs: Number(flags["min-ms"]), warmupMs: Number(flags["warmup-ms"]) };
  const requestCount = Number(flags.requests);
  const seed = Number(flags.seed);
  const casbinVersion = (createRequire(import.meta.url)("casbin/package.json") as { version: string }).version;
  const machine = describeMachine(pinned);
  const loadsBefore = loads();
  const startedAt = new Date().toISOString();
  console.log(`policy bench: node ${process.version}, casbin ${casbinVersion}, ${machine.cpuModel}, nproc ${machine.nproc}, cpus allowed ${machine.cpusAllowed}, load ${loadsBefore.join(" ")}`);

  const rows: Row[] = [];
  const agreements: Record<number, Agreement> = {};
  let failed = false;
  for (const n of sizes) {
    const w = generateWorkload(n, requestCount, seed);
    const weft = compileWeft(w);
    const casbin = await compileCasbin(w);
    const agreement = await checkAgreement(w, weft, casbin, n);
    agreements[n] = agreement;
    console.log(`${n} rules (${w.istio.length} AuthorizationPolicies, ${w.casbinPolicies.length} casbin lines): ${agreement.requests} requests agree=${agreement.mismatches === 0}; allow ${agreement.allow}, deny by DENY rule ${agreement.denyByRule}, deny no ALLOW match ${agreement.denyNoMatch}`);
    if (agreement.mismatches) {
      failed = true;
      continue;
    }
    const reqs = w.requests;
    const candidates: Candidate[] = [];
    if (engines.has("weft")) candidates.push({ name: "weft", async: false, decide: (i) => weft.check(reqs[i]!.weft).decision === "allow" });
    if (engines.has("casbin")) candidates.push({ name: "casbin enforceSync", async: false, decide: (i) => casbin.enforceSync(...reqs[i]!.casbin) });
    if (engines.has("casbin-async")) candidates.push({ name: "casbin enforce (async)", async: true, decide: (i) => casbin.enforce(...reqs[i]!.casbin) });
    const timings = await measureInterleaved(candidates, reqs.length, opts);
    const weftUs = timings.get("weft")?.usPerDecision ?? null;
    for (const [engine, t] of timings) {
      rows.push({
        engine, rules: n, decisionsPerSec: t.decisionsPerSec, usPerDecision: t.usPerDecision, cpuUsPerDecision: t.cpuUsPerDecision,
        ratio: engine !== "weft" && weftUs ? t.usPerDecision / weftUs : null, runs: t.runs,
      });
      console.log(`  ${engine}: ${Math.round(t.decisionsPerSec)} decisions/s, ${t.usPerDecision.toFixed(3)} µs/decision, CPU ${t.cpuUsPerDecision.toFixed(3)} µs (runs ${t.runs.map((x) => Math.round(x)).join(", ")})`);
    }
  }
  const loadsAfter = loads();
  if (failed) {
    console.error("\nbench:policy FAILED: the engines disagree, so the timings would compare different semantics. Nothing written.");
    process.exit(1);
  }
  console.log(`\n${textTable(rows)}\n`);
  const w100 = rows.find((r) => r.engine === "weft" && r.rules === 100);
  if (w100) console.log(`target ≤ 2 µs/decision at 100 rules: weft ${w100.usPerDecision.toFixed(3)} µs wall, ${w100.cpuUsPerDecision.toFixed(3)} µs CPU → ${w100.cpuUsPerDecision <= 2 ? "met" : "MISSED"}`);
  console.log(`load average before ${loadsBefore.join(" ")}, after ${loadsAfter.join(" ")}`);
  if (flags["no-write"]) return;

  const date = today();
  const jsonPath = `bench/results/policy-${date}.json`;
  writeJson(jsonPath, {
    benchmark: "policy",
    date,
    startedAt,
    finishedAt: new Date().toISOString(),
    peer: { name: "casbin", package: "casbin", version: casbinVersion, compared: "enforceSync" },
    node: process.version,
    machine,
    loads: { before: loadsBefore, after: loadsAfter },
    method: { ...opts, requests: requestCount, seed, statistic: "median of runs", clock: "performance.now()" },
    model: { casbin: CASBIN_MODEL.trim() },
    agreement: agreements,
    results: rows,
  });
  const machineLine = `${machine.cpuModel}, ${machine.nproc} CPUs (${pinned ? `pinned to CPU ${machine.cpusAllowed} with taskset` : "unpinned"}), Node ${process.version}, casbin ${casbinVersion}; load average ${loadsBefore.join("/")} before, ${loadsAfter.join("/")} after (shared machine)`;
  writeDocSection("docs/performance.md", [
    `Measured ${date} by \`npm run bench:policy\` (raw numbers: \`${jsonPath}\`). ${machineLine}.`,
    "",
    "One workload (`shop`, `app: api`) with N rules spread over AuthorizationPolicies of ≤ 25 rules: ~90% ALLOW rules (principals exact or `ns/x/sa/*`, methods, exact/prefix/`{*}` paths, 10% with a `request.headers[x-tenant]` condition), ~10% DENY rules. Casbin gets the same rules as one line each in a RESTful ABAC model (`keyMatch` on the principal, `keyMatch2` on the path, `regexMatch` on the method, a tenant attribute; effect allow-and-no-deny). Both engines decide the same seeded list of " + requestCount + " requests (55% aimed at an ALLOW rule, 10% at a DENY rule, 5% plaintext, 30% random) and must agree on every one before anything is timed. Each figure is the median of " + opts.runs + " runs of ≥ " + opts.minMs + " ms (`performance.now()`) after a warm-up, the engines' runs interleaved so load changes hit both; \"CPU µs\" is process CPU time (all threads, GC included) per decision, which is what a decision costs when the core is not shared. weft's time includes path normalization and building its explained `Decision`. The ratio is wall-clock Casbin µs / weft µs; it compares Casbin's `enforceSync` (the async `enforce`, slower by its promise and generator overhead, is listed for reference). Casbin's `CachedEnforcer` is not used: with a fixed request list every decision would be a cache hit.",
    "",
    markdownTable(rows),
    "",
    w100 ? `Target (PERFORMANCE.md): ≤ 2 µs per decision at 100 rules on one core — weft ${w100.usPerDecision.toFixed(2)} µs wall on the shared core, ${w100.cpuUsPerDecision.toFixed(2)} µs of CPU: ${w100.cpuUsPerDecision <= 2 ? "met" : "missed"}.` : "",
  ].join("\n"));
  console.log(`wrote ${jsonPath} and docs/performance.md (## Policy engine)`);
}

await main();
