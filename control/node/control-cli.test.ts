/**
 * `weft control` end to end: the real bin as a child process on a free port; resources applied over
 * HTTP survive a restart (durability), the CA keeps its root, discovery files reach the registry, and
 * SIGTERM shuts down cleanly.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { POLICY_YAML, SERVICE_ENTRY_YAML } from "../admin/test-fixtures.ts";

const root = resolve(import.meta.dirname, "../..");
const TOKEN = "e2e-admin-token-abcdef";
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
});

interface Started {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Starts `weft control` and resolves once it has printed its admin URL. */
function startControl(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [join(root, "bin/weft.js"), "control", "--admin", "127.0.0.1:0", ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  let err = "";
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^admin API\s+(http:\/\/\S+)$/m.exec(out);
      if (m && /^UI /m.test(out)) resolveStart({ child, url: m[1]!, stdout: () => out, exited });
    });
    child.stderr!.on("data", (d: Buffer) => void (err += d.toString()));
    void exited.then((code) => reject(new Error(`weft control exited with ${code} before starting:\n${out}\n${err}`)));
  });
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill("SIGTERM");
  const code = await s.exited;
  children.delete(s.child);
  return code;
}

describe("weft control", () => {
  it("keeps applied resources and its CA root across a restart, and serves discovery files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-control-"));
    const data = join(dir, "data");
    const disc = join(dir, "services");
    mkdirSync(disc);
    writeFileSync(join(disc, "payments.yaml"), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: shop}
spec:
  hosts: [payments.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 10.1.0.5}]
`);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const first = await startControl(["--data", data, "--discovery", disc, "--admin-token", TOKEN]);
    expect(first.stdout()).toMatch(/root generated/);
    expect(first.stdout()).not.toContain(TOKEN);
    const applied = await fetch(`${first.url}/v1/resources`, { method: "POST", headers: { ...auth, "content-type": "application/yaml" }, body: `${POLICY_YAML}---\n${SERVICE_ENTRY_YAML}` });
    expect(applied.status).toBe(200);
    expect((await applied.json()).revision).toBe(1);
    const huge = await fetch(`${first.url}/v1/resources`, { method: "POST", headers: { ...auth, "content-type": "application/yaml" }, body: "#".repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    const broken = await fetch(`${first.url}/v1/resources`, { method: "POST", headers: { ...auth, "content-type": "application/yaml" }, body: "kind: [\n" });
    expect(broken.status).toBe(400);
    const services = await (await fetch(`${first.url}/v1/registry/services`, { headers: auth })).json();
    expect(services.services.map((s: { id: string }) => s.id)).toEqual(["default/backend", "shop/payments"]); // from the store and from the file
    const bundle1 = await (await fetch(`${first.url}/v1/ca/bundle`)).json();
    expect(await stop(first)).toBe(0);

    const second = await startControl(["--data", data], { WEFT_ADMIN_TOKEN: TOKEN });
    expect(second.stdout()).toMatch(/root restored/);
    expect(second.stdout()).toMatch(/revision 1\)/);
    const got = await fetch(`${second.url}/v1/resources/AuthorizationPolicy/default/allow-frontend`, { headers: auth });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ revision: 1, object: { spec: { action: "ALLOW", selector: { matchLabels: { app: "backend" } } } } });
    expect(await (await fetch(`${second.url}/v1/ca/bundle`)).json()).toEqual(bundle1);
    const after = await (await fetch(`${second.url}/v1/registry/services`, { headers: auth })).json();
    expect(after.services.map((s: { id: string }) => s.id)).toEqual(["default/backend"]); // no --discovery this time
    expect((await fetch(`${second.url}/v1/resources`)).status).toBe(401);
    expect(await stop(second)).toBe(0);
  }, 60_000);

  it("generates and prints an admin token once when none is given, and refuses a locked data dir", async () => {
    const data = join(mkdtempSync(join(tmpdir(), "weft-control-")), "data");
    const env = { WEFT_ADMIN_TOKEN: "" };
    const s = await startControl(["--data", data], env);
    const token = /^admin token\s+(\S+)/m.exec(s.stdout())?.[1];
    expect(token).toMatch(/^wat_[A-Za-z0-9_-]{43}$/);
    expect(s.stdout()).toContain(`${s.url}/ui#token=${token}`);
    expect((await fetch(`${s.url}/v1/mesh/nodes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await expect(startControl(["--data", data], env)).rejects.toThrow(/in use by process/);
    expect(await stop(s)).toBe(0);
  }, 60_000);

  it("reports usage errors with exit 2 and a port in use with exit 1", async () => {
    const run = async (args: string[]) => {
      try {
        await promisify(execFile)(process.execPath, [join(root, "bin/weft.js"), "control", ...args], { cwd: root });
        return { code: 0, stderr: "" };
      } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
      }
    };
    const data = join(mkdtempSync(join(tmpdir(), "weft-control-")), "data");
    expect(await run(["--admin", "nonsense"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--admin: expected HOST:PORT/) });
    expect(await run(["--ca-cert", "x.pem"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--ca-cert and --ca-key go together/) });
    expect(await run(["--admin-token", "short"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/at least 8/) });
    expect(await run(["--bogus"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option --bogus/) });
    const s = await startControl(["--data", data, "--admin-token", TOKEN]);
    const port = new URL(s.url).port;
    const busy = await run(["--data", join(data, "other"), "--admin", `127.0.0.1:${port}`, "--admin-token", TOKEN]);
    expect(busy).toMatchObject({ code: 1, stderr: expect.stringMatching(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`)) });
    expect(await stop(s)).toBe(0);
  }, 60_000);
});
