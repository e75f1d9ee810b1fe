import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denoBinary, ROOT, startProcess } from "../conformance/processes.ts";

// The `deno task` entries in deno.json, run the way the docs tell a user to: through `deno task`
// (the real `deno` from the npm package) in the repository root. `weft` answers --help; `control`
// starts and serves the edge feed; `proxy` pulls its config from that feed and answers a request.

const env = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
const EDGE_YAML = `listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      virtualHosts:
        - name: all
          domains: ["*"]
          routes: [{ name: hello, directResponse: { status: 200, body: hello-from-task } }]
`;

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function task(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(denoBinary(), ["task", ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe("deno tasks (deno.json)", () => {
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-deno-tasks-"));
    await writeFile(join(dir, "edge.yaml"), EDGE_YAML);
  });
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    await rm(dir, { recursive: true, force: true });
  });

  it("every task names a binary that exists", async () => {
    const tasks = (JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8")) as { tasks: Record<string, string> }).tasks;
    expect(Object.keys(tasks)).toEqual(expect.arrayContaining(["weft", "proxy", "control"]));
    for (const name of ["weft", "proxy", "control"]) expect(tasks[name], name).toMatch(/^\.\/node_modules\/deno\/deno run /);
  });

  it.each([
    ["weft", "usage: weft <command>"],
    ["proxy", "usage: deno task proxy"],
    ["control", "usage: deno task control"],
  ])("deno task %s --help", async (name, usage) => {
    const r = await task([name, "--help"]);
    expect(r.out).toContain(usage);
    expect(r.code, r.out).toBe(0);
  }, 90_000);

  it("deno task control serves the feed; deno task proxy pulls from it and answers", async () => {
    const cp = await startProcess(denoBinary(), ["task", "control", "--data", join(dir, "data"), "--listen", "127.0.0.1:0",
      "--admin-token", "admin-token-123", "--feed-token", "feed-token", "--edge", `edge=${join(dir, "edge.yaml")}`], { cwd: ROOT, env, ready: /control plane on http:\/\/[^:]+:(\d+)/ });
    stops.push(cp.stop);
    const cpPort = Number(cp.match[1]);
    const feed = await get(cpPort, "/v1/edge/config?node=edge", { authorization: "Bearer feed-token" });
    expect(feed.status).toBe(200);
    const proxy = await startProcess(denoBinary(), ["task", "proxy", "--feed", `http://127.0.0.1:${cpPort}/v1/edge/config?node=edge`, "--feed-token", "feed-token",
      "--cache", join(dir, "cache.json"), "--listen", "127.0.0.1:0"], { cwd: ROOT, env, ready: /listening on http:\/\/[^:]+:(\d+)/ });
    stops.push(proxy.stop);
    const res = await get(Number(proxy.match[1]), "/x");
    expect(res).toEqual({ status: 200, body: "hello-from-task" });
    await proxy.stop();
    await cp.stop();
    expect(proxy.child.exitCode !== null || proxy.child.signalCode !== null).toBe(true);
  }, 120_000);
});
