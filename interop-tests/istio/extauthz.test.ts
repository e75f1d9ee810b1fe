// `weft istio register-extension` against the real istioctl: the printed CUSTOM AuthorizationPolicy (mesh-wide,
// and scoped by namespace, selector and paths) passes `istioctl validate`, and `istioctl analyze
// --use-kube=false` with the printed MeshConfig fragment as --meshConfigFile reports nothing for it.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/commands/istio.ts";
import type { CliIo } from "../../cli/io.ts";
import istio, { istioctlBin } from "../peers/istio/peer.ts";
import { tmpDataDir } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, istio);

async function print(args: string[]): Promise<string> {
  let out = "";
  const io: CliIo = {
    argv: [], stdout: (t) => void (out += t), stderr: () => undefined, readFile: () => Promise.reject(new Error("none")),
    exit: () => undefined, isMain: () => false, env: () => undefined,
  };
  expect(await run(["register-extension", "--service", "weft-authz.weft-system.svc.cluster.local", "--port", "9191", ...args], io)).toBe(0);
  return out;
}

function istioctl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(istioctlBin, args, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!ready)("istio: weft as ext_authz provider (real istioctl)", () => {
  const work = ready ? tmpDataDir("istio-extauthz") : "";
  const variants: [string, string[]][] = [
    ["mesh-wide", []],
    ["scoped", ["--namespace", "foo", "--selector", "app=httpbin", "--path", "/headers", "--path", "/admin/*", "--policy-name", "httpbin-ext"]],
  ];

  for (const [name, args] of variants) {
    it(`istioctl validate accepts the ${name} CUSTOM policy`, async () => {
      const file = join(work, `${name}.yaml`);
      writeFileSync(file, await print([...args, "-o", "policy"]));
      const { status, out } = istioctl(["validate", "-f", file]);
      expect(out).toContain(`"${file}" is valid`);
      expect(status).toBe(0);
    });
  }

  it("istioctl analyze with the printed MeshConfig reports no message for the policies", async () => {
    const mesh = join(work, "mesh.yaml");
    writeFileSync(mesh, await print(["-o", "mesh"]));
    const files = variants.map(([name]) => join(work, `${name}.yaml`));
    for (const [i, [, args]] of variants.entries()) writeFileSync(files[i]!, await print([...args, "-o", "policy"]));
    const { status, out } = istioctl(["analyze", "--use-kube=false", "--all-namespaces", "--meshConfigFile", mesh, ...files, "-o", "json"]);
    expect(status).toBe(0);
    expect(JSON.parse(out.slice(out.indexOf("["), out.lastIndexOf("]") + 1))).toEqual([]);
  });

  it("istioctl validate still rejects a CUSTOM policy without a provider (the check is live)", () => {
    const file = join(work, "no-provider.yaml");
    writeFileSync(file, "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x, namespace: foo}\nspec:\n  action: CUSTOM\n  rules: [{}]\n");
    const { status } = istioctl(["validate", "-f", file]);
    expect(status).not.toBe(0);
  });
});
