import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { createFeedRoutes } from "../config/feed-routes.ts";
import { ROOT, startProcess } from "../conformance/processes.ts";
import { serveOnNode, type NodeListener } from "../node-listener/serve-node.ts";
import { workerdBinary } from "./build.ts";

// The deployment steps docs/runtimes.md gives for workerd, as written: `npm run build:edge` (this
// file's CLI) writes the bundle and edge.capnp, and `workerd serve edge.capnp` (the npm workerd)
// serves the edge proxy with the config it pulls from the feed.

const TOKEN = "build-feed-token";
const TEMPLATE = `listeners:
  - name: edge
    address: 127.0.0.1:0
    http:
      virtualHosts: [{ name: all, domains: ["*"], routes: [{ name: hello, directResponse: { status: 200, body: hello-from-build } }] }]
`;

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("npm run build:edge, then workerd serve", () => {
  let dir: string;
  let feed: NodeListener;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "weft-build-edge-"));
    feed = await serveOnNode({ host: "127.0.0.1", port: 0, handler: (r) => Promise.resolve(new Hono().route("/v1/edge", createFeedRoutes({ templates: new Map([["edge", { proxy: TEMPLATE }]]), token: TOKEN })).fetch(r)) });
  });
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    await feed?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes worker.js and edge.capnp that workerd serves", async () => {
    const out = join(dir, "dist");
    await mkdir(join(dir, "cache"));
    const built = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--import", "tsx", join(ROOT, "edge/workerd/build.ts"), "--out", out, "--listen", "127.0.0.1:0",
        "--feed", `http://127.0.0.1:${feed.port}/v1/edge/config?node=edge`, "--feed-token", TOKEN, "--cache-dir", join(dir, "cache"), "--access-log"],
      { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    expect(built).toContain("edge.capnp");
    const capnp = await readFile(join(out, "edge.capnp"), "utf8");
    expect(capnp).toContain(`"WEFT_FEED_URL", text = "http://127.0.0.1:${feed.port}/v1/edge/config?node=edge"`);
    const w = await startProcess(workerdBinary(), ["serve", join(out, "edge.capnp"), "--control-fd=3"], { cwd: dir, ready: /"event":"listen","socket":"http","port":(\d+)/, fd3: true });
    stops.push(w.stop);
    const port = Number(w.match[1]);
    const res = await get(port, "/anything");
    expect(res).toMatchObject({ status: 200, body: "hello-from-build" });
    const ready = await get(port, "/__weft/ready");
    expect(ready.status).toBe(200);
    expect(ready.headers["x-weft-config-source"]).toBe("control-plane");
  }, 120_000);
});
