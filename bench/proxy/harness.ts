/**
 * @module bench/proxy/harness
 * The pieces every HTTP proxy benchmark here shares (bench:proxy, bench:runtimes): Debian nginx and wrk
 * (installed with apt-get when missing), an nginx config writer (1 worker, no daemon), starting a
 * process pinned to a core with taskset, waiting for a port, a process's CPU ticks and peak RSS from
 * /proc, one bounded wrk run parsed into req/s, p50/p99 and errors, and the median.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

export function ensureTools(): void {
  const missing = ["nginx", "wrk"].filter((t) => !which(t));
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(", ")} (Debian packages)...`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

export function which(cmd: string): string | undefined {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return undefined;
}

export function nginxConf(dir: string, name: string, server: string, master: boolean): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `worker_processes 1;
master_process ${master ? "on" : "off"};
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.err`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${server}
}
`);
  return file;
}

export function start(core: string, cmd: string, args: string[]): ChildProcess {
  const child = spawn("taskset", ["-c", core, cmd, ...args], { stdio: ["ignore", "ignore", "pipe"], cwd: root });
  child.stderr!.on("data", () => undefined);
  return child;
}

export async function waitPort(port: number, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection(port, "127.0.0.1");
      s.on("connect", () => { s.destroy(); resolve(true); });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

export function toMs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

export interface Sample { rps: number; p50Ms: number; p99Ms: number; requests: number; cpuSecPer1k?: number; errors: number }

/** One wrk run (1 thread) pinned to `core`, against `http://127.0.0.1:<port>/`. */
export function wrk(port: number, seconds: number, o: { connections: number; core: string }): Sample {
  const out = execFileSync("taskset", ["-c", o.core, "wrk", "-t1", `-c${o.connections}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}/`], { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1] ?? "";
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1] ?? "";
  const errs = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = (errs ? Number(errs[1]) : 0) + (sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
  return { rps, p50Ms: toMs(p50), p99Ms: toMs(p99), requests, errors };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
