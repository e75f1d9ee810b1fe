// Smoke test for the Deno peer: the real Deno runs a TypeScript script that uses Web crypto, and serves
// HTTP with Deno.serve on a free loopback port.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import deno, { runDeno, type DenoHandle } from "../peers/deno/peer.ts";
import { freePort, httpOk, tmpDataDir, waitFor } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, deno);

describe.skipIf(!ready)("deno smoke", () => {
  const work = tmpDataDir("deno-smoke");
  let server: DenoHandle | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("runs a TypeScript script", async () => {
    const script = join(work, "digest.ts");
    writeFileSync(script, `const data: Uint8Array = new TextEncoder().encode("weft");
const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
console.log(JSON.stringify({ runtime: typeof Deno.version.deno, hex: [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("") }));
`);
    const result = await runDeno(["run", "--no-prompt", script]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const { createHash } = await import("node:crypto");
    const expected = createHash("sha256").update("weft").digest("hex").slice(0, 8);
    expect(JSON.parse(result.stdout)).toEqual({ runtime: "string", hex: expected });
  });

  it("serves HTTP with Deno.serve", async () => {
    const port = await freePort();
    const script = join(work, "server.ts");
    writeFileSync(script, `Deno.serve({ hostname: "127.0.0.1", port: ${port} }, (req: Request) =>
  Response.json({ path: new URL(req.url).pathname, runtime: "deno" }));
`);
    server = await deno.start({ args: ["run", "--no-prompt", `--allow-net=127.0.0.1:${port}`, script] });
    await waitFor(() => httpOk(`http://127.0.0.1:${port}/`), { what: "Deno.serve", logPath: server.logPath, process: server.process });
    const response = await fetch(`http://127.0.0.1:${port}/weft/hello`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ path: "/weft/hello", runtime: "deno" });
  });
});
