/**
 * @module edge/conformance/hosts
 * Starts each proxy host for the conformance suite on a free loopback port and collects its access
 * log: the Node host in-process (proxy/node, real sockets), the Deno host as a real `deno` process
 * (npm package `deno`) reading the edge document from a file, and the workerd host as a real `workerd`
 * process (npm package `workerd`) with the bundled worker pulling its config from a feed served here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { startProxy } from "../../proxy/node/test-support.ts";
import { createFeedRoutes, type EdgeTemplate } from "../config/feed-routes.ts";
import { serveOnNode, type NodeListener } from "../node-listener/serve-node.ts";
import { workerdConfig, type WorkerdConfigOptions } from "../workerd/capnp.ts";
import { bundleEdgeWorker, workerdBinary, workerdCompatibilityDate } from "../workerd/build.ts";
import type { EdgeDocument } from "../config/edge-config.ts";
import type { ConfigStore } from "../../control/store/types.ts";
import type { HostName } from "./cases.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningHost {
  name: HostName;
  port: number;
  /** Access-log records so far. */
  accessLog(): Record<string, unknown>[];
  /** Everything the process printed (for failure messages). */
  output(): string;
  close(): Promise<void>;
}

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

export async function startNodeHost(yaml: string): Promise<RunningHost> {
  const p = await startProxy(yaml);
  return { name: "node", port: p.port(), accessLog: () => p.accessLog, output: () => "", close: () => p.close() };
}

export function denoBinary(): string {
  return (createRequire(import.meta.url)("deno/install_api.cjs") as { runInstall(): string }).runInstall();
}

export async function startDenoHost(doc: EdgeDocument, extraArgs: string[] = []): Promise<RunningHost> {
  const dir = await mkdtemp(join(tmpdir(), "weft-edge-deno-"));
  const file = join(dir, "edge.json");
  await writeFile(file, JSON.stringify(doc));
  const p = await startProcess(denoBinary(), ["run", "-A", "--no-lock", join(ROOT, "edge/deno/proxy.ts"), "--config", file, "--listen", "127.0.0.1:0", ...extraArgs], {
    cwd: ROOT, env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, ready: /listening on https?:\/\/[^:]+:(\d+)/,
  });
  return {
    name: "deno", port: Number(p.match[1]), accessLog: () => accessLines(p.out.text), output: () => p.out.text,
    close: async () => {
      await p.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A config feed (the control plane's feed routes) on a Node listener. */
export async function startFeed(templates: Map<string, EdgeTemplate>, token: string, store?: ConfigStore, port = 0): Promise<NodeListener> {
  const app = new Hono().route("/v1/edge", createFeedRoutes({ templates, token, ...(store ? { store } : {}) }));
  return serveOnNode({ host: "127.0.0.1", port, handler: (r) => Promise.resolve(app.fetch(r)) });
}

export interface WorkerdHost extends RunningHost {
  dir: string;
}

/** Bundles the worker, writes the capnp and starts workerd on port 0 (read from the control fd). */
export async function startWorkerdHost(o: Omit<WorkerdConfigOptions, "workerFile" | "compatibilityDate" | "listen">, dir?: string): Promise<WorkerdHost> {
  const work = dir ?? await mkdtemp(join(tmpdir(), "weft-edge-workerd-"));
  await bundleEdgeWorker(join(work, "worker.js"));
  await writeFile(join(work, "edge.capnp"), workerdConfig({ ...o, workerFile: "worker.js", compatibilityDate: workerdCompatibilityDate(), listen: "127.0.0.1:0" }));
  const p = await startProcess(workerdBinary(), ["serve", "edge.capnp", "--control-fd=3"], { cwd: work, ready: /"event":"listen","socket":"http","port":(\d+)/, fd3: true });
  return {
    name: "workerd", dir: work, port: Number(p.match[1]), accessLog: () => accessLines(p.out.text), output: () => p.out.text,
    close: async () => {
      await p.stop();
      if (dir === undefined) await rm(work, { recursive: true, force: true });
    },
  };
}
