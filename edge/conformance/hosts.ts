/**
 * @module edge/conformance/hosts
 * Starts each proxy host for the conformance suites on a free loopback port and collects its access
 * log: the Node host in-process (proxy/node, real sockets), the fetch-host core in-process on
 * `node:http`, the Deno host as a real `deno` process
 * (npm package `deno`) reading the edge document from a file, and the workerd host as a real `workerd`
 * process (npm package `workerd`) with the bundled worker pulling its config from a feed served here.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { startProxy } from "../../proxy/node/test-support.ts";
import { createFeedRoutes, type EdgeTemplate } from "../config/feed-routes.ts";
import { serveOnNode, type NodeListener } from "../node-listener/serve-node.ts";
import { workerdConfig, type WorkerdConfigOptions } from "../workerd/capnp.ts";
import { bundleEdgeWorker, workerdBinary, workerdCompatibilityDate } from "../workerd/build.ts";
import { describeDiagnostics, loadEdgeDocument, type EdgeDocument } from "../config/edge-config.ts";
import { createFetchProxy } from "../fetch-host/fetch-proxy.ts";
import { httpFilters } from "../../plugins/registry.ts";
import type { ConfigStore } from "../../control/store/types.ts";
import type { HostName } from "./cases.ts";
import { accessLines, denoBinary, ROOT, startProcess } from "./processes.ts";

export { accessLines, denoBinary, ROOT, startProcess } from "./processes.ts";

export interface RunningHost {
  name: HostName;
  port: number;
  /** Access-log records so far. */
  accessLog(): Record<string, unknown>[];
  /** Everything the process printed (for failure messages). */
  output(): string;
  close(): Promise<void>;
}

export async function startNodeHost(yaml: string): Promise<RunningHost> {
  const p = await startProxy(yaml);
  return { name: "node", port: p.port(), accessLog: () => p.accessLog, output: () => "", close: () => p.close() };
}

/** The fetch-host core (the code the Deno and workerd hosts run) in this process, on `node:http`. */
export async function startFetchHostOnNode(doc: EdgeDocument, listener?: string): Promise<RunningHost> {
  const r = loadEdgeDocument(doc, "hostile", httpFilters);
  if (!r.ok) throw new Error(describeDiagnostics(r.diagnostics));
  const records: Record<string, unknown>[] = [];
  const logs: string[] = [];
  const proxy = createFetchProxy({
    filters: httpFilters, ...(listener ? { listener } : {}),
    accessLog: (record) => records.push(record as unknown as Record<string, unknown>),
    log: (line) => logs.push(line),
  });
  proxy.apply(r.config);
  const l = await serveOnNode({ host: "127.0.0.1", port: 0, handler: (req, info) => proxy.handle(req, info) });
  return { name: "fetch-node", port: l.port, accessLog: () => records, output: () => logs.join("\n"), close: () => l.close() };
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
