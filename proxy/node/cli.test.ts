import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type Upstream } from "./test-support.ts";

const weft = fileURLToPath(new URL("../../bin/weft.js", import.meta.url));

function start(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [weft, "proxy", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exit = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return { child, stderr: () => err, exit };
}

describe("weft proxy (CLI)", () => {
  let up: Upstream;
  beforeAll(async () => {
    up = await startUpstream((_req, res) => res.end("from upstream"));
  });
  afterAll(() => up.close());

  it("quick mode proxies to the upstream and drains on SIGTERM", async () => {
    const p = start(["--listen", "127.0.0.1:0", "--upstream", `http://127.0.0.1:${up.port}`, "--admin", "127.0.0.1:0"]);
    await expect.poll(() => p.stderr(), { timeout: 15_000 }).toMatch(/admin on 127\.0\.0\.1:\d+/);
    const port = Number(/listener quick: http on 127\.0\.0\.1:(\d+)/.exec(p.stderr())![1]);
    const adminPort = Number(/admin on 127\.0\.0\.1:(\d+)/.exec(p.stderr())![1]);
    const res = await fetch(`http://127.0.0.1:${port}/anything`);
    expect(await res.text()).toBe("from upstream");
    expect((await fetch(`http://127.0.0.1:${adminPort}/ready`)).status).toBe(200);
    p.child.kill("SIGTERM");
    expect(await p.exit).toBe(0);
    expect(p.stderr()).toContain("SIGTERM: draining");
  });

  it("exits 1 and names file:line, object and field for a bad config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-cli-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "listeners:\n  - name: web\n    address: 127.0.0.1:0\n    http:\n      routeConfig: main\n      codec: http3\n");
    const p = start(["--config", file]);
    expect(await p.exit).toBe(1);
    expect(p.stderr()).toMatch(/bad\.yaml:6:\d+: error: Listener\/web: http\.codec: /);
  });

  it("exits 2 with usage for bad arguments", async () => {
    const p = start(["--listen", "127.0.0.1:0"]);
    expect(await p.exit).toBe(2);
    expect(p.stderr()).toContain("quick mode needs both --listen and --upstream");
  });
});
