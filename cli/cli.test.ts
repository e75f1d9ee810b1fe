/**
 * The `weft` CLI end to end: the real bin on Node, and the same entry under real Deno (npm package
 * `deno`) with byte-identical output.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const denoBin = join(root, "node_modules", ".bin", "deno");

async function weft(args: string[], runtime: "node" | "deno" = "node"): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, pre] = runtime === "node" ? [process.execPath, [join(root, "bin/weft.js")]] : [denoBin, ["run", "--quiet", "-A", join(root, "cli/main.ts")]];
  try {
    const { stdout, stderr } = await run(cmd, [...pre, ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const check = (req: string) => ["authz", "check", "-f", "examples/authz/policies.yaml", "--request", req];

describe("weft authz check", () => {
  it("answers Istio's HTTP authorization task as Istio does", async () => {
    const allow = await weft(check("examples/authz/request-get.json"));
    expect(allow.code).toBe(0);
    expect(JSON.parse(allow.stdout)).toMatchObject({ decision: "allow", policy: "default/details-viewer", audit: false, custom: null });
    const deny = await weft(check("examples/authz/request-admin.json"));
    expect(JSON.parse(deny.stdout)).toMatchObject({ decision: "deny", policy: "istio-system/deny-admin", normalizedPath: "/admin/users" });
  });

  it("honours --root-namespace and --custom-deny", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-cli-"));
    writeFileSync(join(dir, "p.yaml"), `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: corp}
spec:
  action: CUSTOM
  provider: {name: opa}
  rules: [{to: [{operation: {paths: ["/x"]}}]}]
`);
    writeFileSync(join(dir, "r.json"), JSON.stringify({ destination: { namespace: "foo" }, http: { method: "GET", path: "/x" } }));
    const args = ["authz", "check", "-f", join(dir, "p.yaml"), "--request", join(dir, "r.json")];
    expect(JSON.parse((await weft(args)).stdout)).toMatchObject({ decision: "allow", custom: null });
    expect(JSON.parse((await weft([...args, "--root-namespace", "corp"])).stdout)).toMatchObject({ decision: "allow", custom: "opa" });
    expect(JSON.parse((await weft([...args, "--root-namespace", "corp", "--custom-deny"])).stdout)).toMatchObject({ decision: "deny", policy: "corp/ext", custom: "opa" });
  });

  it("rejects a malformed request naming the field, without a stack trace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-cli-"));
    writeFileSync(join(dir, "r.json"), JSON.stringify({ destination: { namespace: "foo", port: "80" }, htttp: {} }));
    const r = await weft(["authz", "check", "-f", "examples/authz/policies.yaml", "--request", join(dir, "r.json")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/destination\.port/);
    expect(r.stderr).toMatch(/htttp/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("reports usage errors with exit 2", async () => {
    expect((await weft(["authz", "check", "--request"])).code).toBe(2);
    expect((await weft(["nope"])).code).toBe(2);
  });
});

describe("weft validate", () => {
  it("names file:line, object and field; --strict turns warnings into errors", async () => {
    const r = await weft(["validate", "-f", "examples/authz/bad.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("examples/authz/bad.yaml:11:20: error: AuthorizationPolicy/default/typo: spec.rules[0].from[0].source.ipBlocks[0]: bad CIDR range 10.0.0.0/33");
    expect(r.stdout).toMatch(/bad\.yaml:16:12: warning: .*unknown attribute request\.header\[x-user\]/);
    const strict = await weft(["validate", "--strict", "-o", "json", "-f", "examples/authz/bad.yaml"]);
    expect(JSON.parse(strict.stdout)).toMatchObject({ valid: false, errors: 2, warnings: 0 });
  });
  it("accepts the examples and reports unreadable files and unknown kinds", async () => {
    expect((await weft(["validate", "-f", "examples/authz/policies.yaml"])).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "weft-cli-"));
    writeFileSync(join(dir, "k.yaml"), "apiVersion: security.istio.io/v1\nkind: AuthorisationPolicy\nmetadata: {name: x}\nspec: {}\n");
    const r = await weft(["validate", "-f", join(dir, "k.yaml"), join(dir, "missing.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/k\.yaml:2:\d+: error: AuthorisationPolicy\/x: kind: unknown kind AuthorisationPolicy/);
    expect(r.stderr).toMatch(/missing\.yaml: error: cannot read file/);
  });
});

describe("the same CLI under real Deno", () => {
  it("prints identical output for the same commands", async () => {
    for (const args of [check("examples/authz/request-get.json"), check("examples/authz/request-admin.json"), ["validate", "-f", "examples/authz/bad.yaml"]]) {
      const [n, d] = await Promise.all([weft(args, "node"), weft(args, "deno")]);
      expect(d.stderr).toBe(n.stderr);
      expect(d.stdout).toBe(n.stdout);
      expect(d.code).toBe(n.code);
    }
  }, 60_000);
});
