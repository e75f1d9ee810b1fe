/**
 * `weft demo` end to end: the real bin as a child process. `--check` must exit 0 having seen every
 * expectation hold (allowed and denied calls with their deciding policies, the frontend's SPIFFE ID at
 * the callee's sidecar, plaintext refused, a policy change through the admin API); the interactive
 * mode must print its URLs, serve the ingress, and stop cleanly on SIGINT.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin/weft.js");
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
});

function runCheck(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [bin, "demo", "--check"], { cwd: root, timeout: 90_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
    children.add(child);
  });
}

describe("weft demo", () => {
  it("--check drives the mesh and exits 0 with every expectation holding", async () => {
    const r = await runCheck();
    expect(r.stderr).not.toMatch(/FAILED|internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok {3}frontend -> backend is allowed\n\s+GET  frontend -> backend \/items: 200 allowed by ns\[demo\]-policy\[backend-allow-frontend\]-rule\[0\]; backend's sidecar saw peer spiffe:\/\/cluster\.local\/ns\/demo\/sa\/frontend/);
    expect(r.stdout).toMatch(/GET  frontend -> payments \/health: 200 allowed by ns\[demo\]-policy\[payments-allow-health\]-rule\[0\]/);
    expect(r.stdout).toMatch(/POST frontend -> payments \/charge: 403 denied by none; payments's sidecar saw peer spiffe:\/\/cluster\.local\/ns\/demo\/sa\/frontend/);
    expect(r.stdout).toMatch(/GET  payments -> backend \/items: 403 denied by none; backend's sidecar saw peer spiffe:\/\/cluster\.local\/ns\/demo\/sa\/payments/);
    expect(r.stdout).toMatch(/ok {3}plaintext to backend's sidecar is refused/);
    expect(r.stdout).toMatch(/POST frontend -> payments \/charge: 200 allowed by ns\[demo\]-policy\[payments-allow-charge\]-rule\[0\]/);
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.stdout).toMatch(/all 8 expectations hold/);
  }, 120_000);

  it("runs until SIGINT, printing the ingress and admin UI, and serves the ingress meanwhile", async () => {
    const child = spawn(process.execPath, [bin, "demo"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    await new Promise<void>((ready, fail) => {
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ctrl-C stops everything")) ready();
      });
      child.once("exit", (code) => fail(new Error(`weft demo exited early (${code}):\n${out}`)));
    });
    const ingress = /ingress \(frontend\)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(ingress).toBeDefined();
    expect(out).toMatch(/admin UI\s+http:\/\/127\.0\.0\.1:\d+\/ui#token=wat_/);
    const allowed = await fetch(`${ingress}/call/backend/items`);
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ service: "backend", authzPolicy: "allow ns[demo]-policy[backend-allow-frontend]-rule[0]" });
    const denied = await fetch(`${ingress}/call/payments/charge`, { method: "POST" });
    expect(denied.status).toBe(403);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toMatch(/weft demo: stopped/);
  }, 120_000);
});
