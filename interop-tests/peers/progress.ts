// The live progress display for peer installs: a task list with one row per peer, the steps of the
// peers being installed (✓ done, ✗ failed, … running) and elapsed times. In a terminal it redraws in
// place; otherwise (a pipe, or CI=true) it prints one plain line per event so logs stay readable.

import type { InstallResult, StepRecord } from "./install.ts";

type RowState = "waiting" | "cached" | "running" | "installed" | "failed";

interface Row {
  name: string;
  version: string;
  state: RowState;
  startedAt?: number;
  seconds?: number;
  steps: StepRecord[];
  log?: string;
  error?: string;
}

export interface Progress {
  cached(name: string): void;
  start(name: string, log: string): void;
  step(name: string, record: StepRecord): void;
  finish(name: string, result: InstallResult): void;
  close(results: InstallResult[]): void;
}

/** Seconds as `12.3s` or `4m05s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

const mark: Record<RowState, string> = { waiting: "·", cached: "✓", running: "…", installed: "✓", failed: "✗" };
const stepMark = { running: "…", ok: "✓", failed: "✗" } as const;

export function createProgress(peers: { name: string; version: string }[], opts: { plain: boolean }): Progress {
  const rows = new Map<string, Row>(peers.map((p) => [p.name, { ...p, state: "waiting", steps: [] }]));
  const out = process.stdout;
  const started = Date.now();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;

  const line = (text: string): void => {
    out.write(text + "\n");
  };
  const elapsed = (row: Row): string =>
    row.seconds !== undefined ? formatSeconds(row.seconds) : row.startedAt ? formatSeconds((Date.now() - row.startedAt) / 1000) : "";

  const render = (): string[] => {
    const lines = [`Interop peers — ${formatSeconds((Date.now() - started) / 1000)} elapsed`];
    for (const row of rows.values()) {
      const label = `${row.name} ${row.version}`.padEnd(34);
      const status = row.state === "running" ? (row.steps.at(-1)?.label ?? "starting") : row.state;
      lines.push(` ${mark[row.state]} ${label} ${status.slice(0, 40).padEnd(40)} ${elapsed(row)}`);
      if (row.state === "running" || row.state === "failed") {
        for (const s of row.steps) {
          const t = s.seconds !== undefined ? s.seconds : (Date.now() - s.startedAt) / 1000;
          lines.push(`     ${stepMark[s.state]} ${s.label} (${formatSeconds(t)})`);
        }
      }
    }
    return lines;
  };

  const redraw = (): void => {
    const lines = render();
    let text = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const l of lines) text += `\x1b[2K${l}\n`;
    // clear rows left over from a longer previous frame
    for (let i = lines.length; i < drawn; i++) text += "\x1b[2K\n";
    const extra = Math.max(0, drawn - lines.length);
    if (extra > 0) text += `\x1b[${extra}A`;
    out.write(text);
    drawn = lines.length;
  };

  if (!opts.plain) {
    redraw();
    timer = setInterval(redraw, 250);
    timer.unref();
  }

  const update = (name: string, change: (row: Row) => void, plainText?: (row: Row) => string): void => {
    const row = rows.get(name);
    if (!row) return;
    change(row);
    if (opts.plain) {
      if (plainText) line(plainText(row));
    } else {
      redraw();
    }
  };

  return {
    cached: (name) => update(name, (r) => (r.state = "cached"), (r) => `✓ ${r.name} ${r.version}: already installed`),
    start: (name, log) =>
      update(name, (r) => {
        r.state = "running";
        r.startedAt = Date.now();
        r.log = log;
      }, (r) => `… ${r.name} ${r.version}: installing (log: ${log})`),
    step: (name, record) =>
      update(name, (r) => {
        if (!r.steps.includes(record)) r.steps.push(record);
      }, (r) => record.state === "running"
        ? `  … ${r.name}: ${record.label}`
        : `  ${stepMark[record.state]} ${r.name}: ${record.label} (${formatSeconds(record.seconds ?? 0)})`),
    finish: (name, result) =>
      update(name, (r) => {
        r.state = result.outcome === "failed" ? "failed" : "installed";
        r.seconds = result.seconds;
        if (result.error) r.error = result.error;
      }, (r) => r.state === "failed"
        ? `✗ ${r.name} ${r.version}: FAILED after ${formatSeconds(r.seconds ?? 0)}`
        : `✓ ${r.name} ${r.version}: installed in ${formatSeconds(r.seconds ?? 0)}`),
    close: (results) => {
      if (timer) clearInterval(timer);
      if (!opts.plain) redraw();
      for (const r of results.filter((x) => x.outcome === "failed")) {
        line(`\n✗ ${r.name} ${r.version} could not be installed (log: ${r.log}):\n${r.error ?? ""}`);
      }
      const installed = results.filter((r) => r.outcome === "installed").length;
      const cached = results.filter((r) => r.outcome === "cached").length;
      const failed = results.filter((r) => r.outcome === "failed").length;
      line(`peers: ${installed} installed, ${cached} already installed, ${failed} failed ` +
        `(${formatSeconds((Date.now() - started) / 1000)})`);
    },
  };
}
