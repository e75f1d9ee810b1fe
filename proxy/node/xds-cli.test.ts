// `weft control --xds` and `weft proxy --xds --join-token` as processes: the proxy joins with the token,
// verifies the control plane with the bundle file, gets its config and SVID, shows /xds_status, and
// drains on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const weft = fileURLToPath(new URL("../../bin/weft.js", import.meta.url));
const ADMIN_TOKEN = "cli-admin-token";

function start(args: string[]): { child: ChildProcess; out: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [weft, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return { child, out: () => text, exit };
}

describe("weft proxy --xds (CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-xds-cli-"));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("joins a control plane with a join token and serves what it is given", async () => {
    const cp = start(["control", "--data", join(dir, "cp"), "--admin", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN, "--xds", "127.0.0.1:0"]);
    children.push(cp.child);
    await expect.poll(() => cp.out(), { timeout: 20_000 }).toMatch(/admin API\s+http:\/\/\S+/);
    const adminUrl = /admin API\s+(http:\/\/\S+)/.exec(cp.out())![1]!;
    const xdsUrl = /xDS\s+(https:\/\/\S+)/.exec(cp.out())![1]!;
    const minted = await (await fetch(`${adminUrl}/v1/ca/join-tokens`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ spiffeId: "spiffe://cluster.local/ns/demo/sa/cli" }) })).json() as { token: string };
    const bundleFile = join(dir, "bundle.pem");
    writeFileSync(bundleFile, await (await fetch(`${adminUrl}/v1/ca/bundle?format=pem`)).text());

    const missingCa = start(["proxy", "--xds", xdsUrl, "--join-token", minted.token]);
    expect(await missingCa.exit).toBe(2);
    expect(missingCa.out()).toContain("--xds-ca FILE is needed");

    const proxy = start(["proxy", "--xds", xdsUrl, "--join-token", minted.token, "--xds-ca", bundleFile, "--node-id", "cli-1", "--admin", "127.0.0.1:0"]);
    children.push(proxy.child);
    await expect.poll(() => proxy.out(), { timeout: 20_000 }).toMatch(/admin on 127\.0\.0\.1:\d+/);
    await expect.poll(() => proxy.out(), { timeout: 20_000 }).toContain("SVID received");
    const adminPort = Number(/admin on 127\.0\.0\.1:(\d+)/.exec(proxy.out())![1]);
    const status = await (await fetch(`http://127.0.0.1:${adminPort}/xds_status`)).json() as { connected: boolean; credential: string; node: { id: string } };
    expect(status).toMatchObject({ connected: true, credential: "svid", node: { id: "cli-1" } });
    const certs = await (await fetch(`http://127.0.0.1:${adminPort}/certs`)).json() as { certificates: { name: string; certificate?: { subjectAltName?: string } }[] };
    expect(certs.certificates.find((c) => c.name === "default")?.certificate?.subjectAltName).toBe("URI:spiffe://cluster.local/ns/demo/sa/cli");
    proxy.child.kill("SIGTERM");
    expect(await proxy.exit).toBe(0);
    cp.child.kill("SIGTERM");
    expect(await cp.exit).toBe(0);
  });
});
