// `weft istio register-extension`: the printed CUSTOM AuthorizationPolicy passes weft's own validator and
// routes checks to the named provider in the engine; the MeshConfig entry carries the provider; bad
// flags exit 2. (The real istioctl checks the same output in interop-tests/istio/extauthz.test.ts.)
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { authorizerFromYaml } from "../../core/policy/index.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { loadResources } from "../../core/resources/load.ts";
import type { CliIo } from "../io.ts";
import { run } from "./istio.ts";

async function weftIstio(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const io: CliIo = {
    argv: [], stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t),
    readFile: () => Promise.reject(new Error("no files")), exit: () => undefined, isMain: () => false, env: () => undefined,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const BASE = ["register-extension", "--name", "weft", "--service", "weft-authz.weft-system.svc.cluster.local", "--port", "9191"];

describe("weft istio register-extension", () => {
  it("prints the extensionProviders entry and a CUSTOM policy that weft's validator accepts", async () => {
    const { code, stdout } = await weftIstio(BASE);
    expect(code).toBe(0);
    const docs = parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs).toHaveLength(2);
    expect(docs[0]).toEqual({
      extensionProviders: [{ name: "weft", envoyExtAuthzGrpc: { service: "weft-authz.weft-system.svc.cluster.local", port: 9191, timeout: "0.5s", failOpen: false } }],
    });
    const policyText = stdout.slice(stdout.indexOf("---\n") + 4);
    const r = loadResources(policyText, allKinds, { file: "policy.yaml" });
    expect(r.diagnostics).toEqual([]);
    expect(r.resources.map((x) => x.object)).toEqual([{
      apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "weft-ext-authz", namespace: "istio-system" },
      spec: { action: "CUSTOM", provider: { name: "weft" }, rules: [{}] },
    }]);
    // Mesh-wide: every workload's requests go to the provider.
    const d = authorizerFromYaml(policyText).check({ destination: { namespace: "shop", labels: { app: "x" } }, http: { method: "GET", path: "/" } }, { customDecision: "deny" });
    expect(d).toMatchObject({ decision: "deny", custom: "weft", customPolicy: "istio-system/weft-ext-authz" });
  });

  it("scopes the policy with --namespace, --selector and --path and passes the error options", async () => {
    const { code, stdout } = await weftIstio([...BASE, "--namespace", "foo", "--selector", "app=httpbin", "--path", "/headers", "--path", "/admin/*",
      "--fail-open", "--status-on-error", "503", "--timeout", "200ms", "-o", "policy"]);
    expect(code).toBe(0);
    const r = loadResources(stdout, allKinds, { file: "p.yaml" });
    expect(r.diagnostics).toEqual([]);
    const authz = authorizerFromYaml(stdout);
    const req = (labels: Record<string, string>, path: string) => ({ destination: { namespace: "foo", labels }, http: { method: "GET", path } });
    expect(authz.check(req({ app: "httpbin" }, "/admin/x")).custom).toBe("weft");
    expect(authz.check(req({ app: "httpbin" }, "/other")).custom).toBeNull();
    expect(authz.check(req({ app: "web" }, "/headers")).custom).toBeNull();
    const mesh = await weftIstio([...BASE, "--fail-open", "--status-on-error", "503", "--timeout", "200ms", "-o", "mesh"]);
    expect(parseAllDocuments(mesh.stdout)[0]!.toJS()).toMatchObject({
      extensionProviders: [{ envoyExtAuthzGrpc: { failOpen: true, statusOnError: "503", timeout: "200ms" } }],
    });
  });

  it("rejects bad usage with exit 2", async () => {
    for (const args of [
      ["register-extension"],
      [...BASE, "--port", "70000"],
      [...BASE, "--selector", "app"],
      [...BASE, "--timeout", "soon"],
      [...BASE, "-o", "xml"],
      ["nope"],
    ]) {
      const r = await weftIstio(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/weft istio/);
    }
  });
});
