// Process and filesystem helpers shared by every interop peer: where the cache lives, free loopback ports,
// polling until a peer is ready (failing with the tail of its log), spawning a peer in its own process
// group so that stopping it ends its children too, running logged install commands, and temporary data
// directories. Every spawned process is registered for cleanup when this process exits, is interrupted
// or dies of an uncaught error, and is tagged with WEFT_PEER_SESSION so a runner can reap leftovers.

import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, openSync, closeSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import type { SpawnedProcess } from "./types.ts";

/** Root of the peer cache: `$WEFT_PEERS_CACHE` or `~/.cache/weft/peers`. */
export function cacheRoot(): string {
  return process.env.WEFT_PEERS_CACHE || join(homedir(), ".cache", "weft", "peers");
}

/** Install directory of one peer version. */
export function peerDir(name: string, version: string): string {
  return join(cacheRoot(), name, version);
}

/** Root of the repository (for node_modules binaries and fixtures). */
export const repoRoot: string = join(dirname(new URL(import.meta.url).pathname), "..", "..");

/** A port that was free on `host` a moment ago (bind to 0, read it, close). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** Several distinct free ports. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** The last `lines` lines of a log file ("" when it does not exist). */
export function logTail(logPath: string | undefined, lines = 40): string {
  if (!logPath || !existsSync(logPath)) return "";
  const text = readFileSync(logPath, "utf8");
  return text.split("\n").slice(-lines - 1).join("\n");
}

export interface WaitOptions {
  timeoutMs?: number;
  /** What we wait for, for the error message ("consul HTTP API"). */
  what: string;
  /** Log whose tail goes into the error. */
  logPath?: string;
  /** Fail at once if this process exits while waiting. */
  process?: SpawnedProcess;
  intervalMs?: number;
}

/** Polls `check` until it returns true; throws with the log's tail on timeout or early exit. */
export async function waitFor(check: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    const exited = opts.process && !opts.process.running();
    if (exited || Date.now() > deadline) {
      const why = exited ? "the process exited" : `timed out after ${timeoutMs} ms`;
      const last = lastError instanceof Error ? `\nlast error: ${lastError.message}` : "";
      const tail = logTail(opts.logPath);
      throw new Error(`waiting for ${opts.what}: ${why}${last}` +
        (opts.logPath ? `\n--- tail of ${opts.logPath} ---\n${tail}` : ""));
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** True when an HTTP GET of `url` answers with a status accepted by `ok` (default 2xx). */
export async function httpOk(url: string, ok: (status: number) => boolean = (s) => s >= 200 && s < 300): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return ok(response.status);
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  logPath: string;
  /** Session tag for `reapSession` (default: this process's `sessionId`). */
  session?: string;
}

const live = new Map<number, SpawnedProcess>();
let hooksInstalled = false;

/** Session tag put into every spawned peer's environment so that a runner can reap leftovers. */
export const sessionId: string = process.env.WEFT_PEER_SESSION ?? `${process.pid}-${Date.now()}`;
process.env.WEFT_PEER_SESSION = sessionId;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const pid of live.keys()) killGroup(pid, "SIGKILL");
    live.clear();
  };
  process.on("exit", killAll);
  process.on("uncaughtExceptionMonitor", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

/**
 * Starts a peer process in its own process group, output (stdout and stderr) appended to `logPath`.
 * `stop()` sends SIGTERM to the group, then SIGKILL after 5 s.
 */
export function spawnPeer(cmd: string, args: string[], opts: SpawnOptions): SpawnedProcess {
  installHooks();
  mkdirSync(dirname(opts.logPath), { recursive: true });
  const fd = openSync(opts.logPath, "a");
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, WEFT_PEER_SESSION: opts.session ?? sessionId },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      done = true;
      if (child.pid) live.delete(child.pid);
      resolve(code ?? signal ?? "unknown");
    });
    child.on("error", (error) => {
      done = true;
      resolve(`spawn error: ${error.message}`);
    });
  });
  const pid = child.pid ?? -1;
  const handle: SpawnedProcess = {
    pid,
    logPath: opts.logPath,
    exited,
    running: () => !done,
    async stop() {
      if (done || pid < 0) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      killGroup(pid, "SIGKILL"); // children that ignored SIGTERM
    },
  };
  if (pid > 0) live.set(pid, handle);
  return handle;
}

/**
 * Runs an install command to completion, appending its output to `logPath`; rejects with the log's tail
 * when it fails. Interrupting this process kills the command too.
 */
export async function runLogged(cmd: string, args: string[], opts: SpawnOptions): Promise<void> {
  mkdirSync(dirname(opts.logPath), { recursive: true });
  const header = createWriteStream(opts.logPath, { flags: "a" });
  await new Promise<void>((r) => header.end(`\n$ ${[cmd, ...args].join(" ")}${opts.cwd ? `   (in ${opts.cwd})` : ""}\n`, r));
  const proc = spawnPeer(cmd, args, opts);
  const result = await proc.exited;
  if (result !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${result})\n--- tail of ${opts.logPath} ---\n${logTail(opts.logPath, 30)}`);
  }
}

/**
 * A fresh temporary directory for one suite's data, under `$WEFT_INTEROP_TMP` when the runner set it
 * (it removes that directory after a clean run) or else under `$TMPDIR/weft-interop`.
 */
export function tmpDataDir(prefix: string): string {
  const base = process.env.WEFT_INTEROP_TMP || join(tmpdir(), "weft-interop");
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}

/** Kills every process whose environment carries `WEFT_PEER_SESSION=<session>` (Linux /proc). */
export function reapSession(session: string): number[] {
  const killed: number[] = [];
  if (!existsSync("/proc")) return killed;
  const needle = `WEFT_PEER_SESSION=${session}\0`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1");
      if (environ.includes(needle)) {
        process.kill(pid, "SIGKILL");
        killed.push(pid);
      }
    } catch {
      // exited or not ours to read
    }
  }
  return killed;
}

/** True when `path` exists. */
export function exists(path: string): boolean {
  return existsSync(path);
}

const markerName = ".weft-ready";

/** Records that `dir` holds a complete install (written as the last install step). */
export function writeReadyMarker(dir: string, info: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, markerName), JSON.stringify({ ...info, installedAt: new Date().toISOString() }) + "\n");
}

/** True when `dir` holds a complete install and every listed file exists. */
export function hasReadyMarker(dir: string, files: string[] = []): boolean {
  return existsSync(join(dir, markerName)) && files.every((f) => existsSync(f));
}

/** Disk use of a directory in bytes (`du -sb`), or undefined when it does not exist. */
export function diskUsage(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const out = spawnSync("du", ["-sb", path], { encoding: "utf8" });
  const bytes = Number(out.stdout.split("\t")[0]);
  return Number.isFinite(bytes) ? bytes : undefined;
}
