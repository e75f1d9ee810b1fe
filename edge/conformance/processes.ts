/**
 * @module edge/conformance/processes
 * Child processes for the real-runtime suites: start a process on loopback, collect its output, wait
 * for its "ready" line (the port it chose), stop it; the `deno` binary from the npm package; and the
 * JSON access-log lines a host printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs a child process, collecting output; resolves the first stdout match of `ready`. */
export function startProcess(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; ready: RegExp; fd3?: boolean; timeoutMs?: number }): Promise<{ child: ChildProcess; match: RegExpExecArray; out: { text: string }; stop(): Promise<void> }> {
  const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe", ...(opts.fd3 ? ["pipe" as const] : [])] });
  const out = { text: "" };
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} did not become ready in time:\n${out.text.slice(-3000)}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      out.text += chunk.toString("utf8");
      const m = opts.ready.exec(out.text);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, out, stop });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    if (opts.fd3) (child.stdio[3] as NodeJS.ReadableStream).on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${out.text.slice(-3000)}`));
    });
  });
}

/** JSON access-log lines in a process's output. */
export function accessLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    const i = line.indexOf('{"start_time"');
    if (i === -1) continue;
    try {
      out.push(JSON.parse(line.slice(i)) as Record<string, unknown>);
    } catch {
      // a partial line; the next read completes it
    }
  }
  return out;
}

export function denoBinary(): string {
  return (createRequire(import.meta.url)("deno/install_api.cjs") as { runInstall(): string }).runInstall();
}
