/**
 * @module bench/policy/report
 * Output of the policy benchmark: the machine description (CPU model, core count, pinning, load
 * averages), the plain-text table for stdout, the JSON file under bench/results/, and the
 * "## Policy engine" section of docs/performance.md — replaced in place so other sections (the
 * proxy benchmark's) are left as they are.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";

export interface Machine {
  cpuModel: string;
  nproc: number;
  /** CPUs this process may run on (after `taskset`), from /proc/self/status. */
  cpusAllowed: string;
  pinned: boolean;
  memoryGiB: number;
  platform: string;
}

export interface Row {
  engine: string;
  rules: number;
  decisionsPerSec: number;
  usPerDecision: number;
  /** Process CPU µs per decision (all threads, incl. GC). */
  cpuUsPerDecision: number;
  /** casbin µs / weft µs for the same rule count (only on Casbin rows). */
  ratio: number | null;
  runs: number[];
}

export function describeMachine(pinned: boolean): Machine {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  let cpusAllowed = "unknown";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
  } catch { /* not Linux */ }
  try {
    cpusAllowed = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]?.trim() ?? cpusAllowed;
  } catch { /* not Linux */ }
  return {
    cpuModel,
    nproc: cpus().length,
    cpusAllowed,
    pinned,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
  };
}

export const loads = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

const fmtInt = (x: number): string => Math.round(x).toLocaleString("en-US");
const fmtUs = (x: number): string => (x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1));
const fmtRatio = (x: number | null): string => (x === null ? "—" : `${x < 10 ? x.toFixed(1) : Math.round(x)}×`);

function cells(r: Row): string[] {
  return [r.engine, String(r.rules), fmtInt(r.decisionsPerSec), fmtUs(r.usPerDecision), fmtUs(r.cpuUsPerDecision), fmtRatio(r.ratio)];
}

const HEADER = ["engine", "rules", "decisions/s", "µs/decision", "CPU µs/decision", "casbin/weft"];

export function textTable(rows: Row[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(HEADER), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map((r) => line(cells(r)))].join("\n");
}

export function markdownTable(rows: Row[]): string {
  const out = [`| ${HEADER.join(" | ")} |`, "|---|---:|---:|---:|---:|---:|"];
  for (const r of rows) out.push(`| ${cells(r).join(" | ")} |`);
  return out.join("\n");
}

export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
}

const SECTION = "## Policy engine";

/** Replaces (or appends) the "## Policy engine" section, up to the next `## ` heading. */
export function writeDocSection(path: string, body: string): void {
  const section = `${SECTION}\n\n${body.trim()}\n`;
  let text = existsSync(path)
    ? readFileSync(path, "utf8")
    : "# Performance\n\nLatest benchmark results; method and targets in the design notes (PERFORMANCE.md). Every figure is a ratio against a peer measured in the same run.\n";
  const start = text.indexOf(`\n${SECTION}\n`);
  if (start >= 0) {
    const next = text.indexOf("\n## ", start + SECTION.length + 1);
    text = text.slice(0, start + 1) + section + (next >= 0 ? "\n" + text.slice(next + 1) : "");
  } else {
    text = text.replace(/\n*$/, "\n\n") + section;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
