// Installs missing interop peers with a live progress display; shared by `npm run peers` and
// `npm run test:interop`. Peers install concurrently up to `jobs` at a time, each step is timed, a
// failing peer does not stop the others, and the outcome (with the failure reason) is written to
// `<cache>/install-status.json` so that suites whose peer is missing can say why they were skipped.

import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "./lib.ts";
import { createProgress } from "./progress.ts";
import type { Peer } from "./types.ts";

export interface StepRecord {
  label: string;
  state: "running" | "ok" | "failed";
  startedAt: number;
  seconds?: number;
}

export interface InstallResult {
  name: string;
  version: string;
  /** "cached": already installed; "installed": built now; "failed": could not be installed. */
  outcome: "cached" | "installed" | "failed";
  seconds: number;
  steps: StepRecord[];
  error?: string;
  log: string;
}

export interface EnsureOptions {
  /** Reinstall even when the peer reports ready. */
  force?: boolean;
  /** Concurrent installs (default 2). */
  jobs?: number;
  /** Force plain line-by-line output (default: when not a TTY or CI=true). */
  plain?: boolean;
}

export interface StatusEntry {
  version: string;
  ok: boolean;
  error?: string;
  log?: string;
  at: string;
  seconds?: number;
}

export function statusPath(): string {
  return join(cacheRoot(), "install-status.json");
}

/** The last recorded install outcome per peer name. */
export function readStatus(): Record<string, StatusEntry> {
  try {
    return JSON.parse(readFileSync(statusPath(), "utf8")) as Record<string, StatusEntry>;
  } catch {
    return {};
  }
}

function writeStatus(results: InstallResult[]): void {
  const status = readStatus();
  for (const r of results) {
    if (r.outcome === "cached" && status[r.name]?.ok && status[r.name]?.version === r.version) continue;
    status[r.name] = {
      version: r.version, ok: r.outcome !== "failed", at: new Date().toISOString(), log: r.log,
      ...(r.error ? { error: r.error } : {}), ...(r.outcome === "installed" ? { seconds: r.seconds } : {}),
    };
  }
  mkdirSync(cacheRoot(), { recursive: true });
  writeFileSync(statusPath(), JSON.stringify(status, null, 2) + "\n");
}

function installLog(peer: Peer): string {
  return join(cacheRoot(), "logs", `${peer.name}-${peer.version}-install.log`);
}

/** Installs every peer that is not ready; returns one result per peer, in the given order. */
export async function ensurePeers(peers: Peer[], opts: EnsureOptions = {}): Promise<InstallResult[]> {
  const plain = opts.plain ?? (!process.stdout.isTTY || process.env.CI === "true" || process.env.CI === "1");
  const progress = createProgress(peers.map((p) => ({ name: p.name, version: p.version })), { plain });
  const results: InstallResult[] = peers.map((p) => ({
    name: p.name, version: p.version, outcome: "cached", seconds: 0, steps: [], log: installLog(p),
  }));
  const queue = peers.map((peer, index) => ({ peer, index }));
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { peer, index } = item;
      const result = results[index]!;
      let ready = false;
      try {
        ready = !opts.force && (await peer.ready());
      } catch {
        ready = false;
      }
      if (ready) {
        progress.cached(peer.name);
        continue;
      }
      const started = Date.now();
      progress.start(peer.name, result.log);
      mkdirSync(join(cacheRoot(), "logs"), { recursive: true });
      writeFileSync(result.log, `# install ${peer.name} ${peer.version} at ${new Date().toISOString()}\n`);
      try {
        await peer.install({
          log: result.log,
          step: async (label, fn) => {
            const record: StepRecord = { label, state: "running", startedAt: Date.now() };
            result.steps.push(record);
            progress.step(peer.name, record);
            try {
              await fn();
              record.state = "ok";
            } catch (error) {
              record.state = "failed";
              throw error;
            } finally {
              record.seconds = (Date.now() - record.startedAt) / 1000;
              progress.step(peer.name, record);
            }
          },
        });
        if (!(await peer.ready())) throw new Error("install finished but the peer does not report ready");
        result.outcome = "installed";
      } catch (error) {
        result.outcome = "failed";
        result.error = error instanceof Error ? error.message : String(error);
      }
      result.seconds = (Date.now() - started) / 1000;
      progress.finish(peer.name, result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs ?? 2) }, worker));
  progress.close(results);
  writeStatus(results);
  return results;
}

/** The reason a peer is not ready, from the last install attempt (for skip banners). */
export function notReadyReason(peer: Peer): string {
  const entry = readStatus()[peer.name];
  if (entry && !entry.ok && entry.version === peer.version) {
    const firstLines = (entry.error ?? "unknown error").split("\n").slice(0, 12).join("\n");
    return `install of ${peer.name} ${peer.version} failed: ${firstLines}${entry.log ? `\n(full log: ${entry.log})` : ""}`;
  }
  const marker = existsSync(peer.dir) ? "" : ` (${peer.dir} does not exist)`;
  return `${peer.name} ${peer.version} is not installed${marker}; run \`npm run peers -- --only ${peer.name}\``;
}
