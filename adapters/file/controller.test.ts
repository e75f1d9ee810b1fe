import { mkdtemp, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../control/registry/registry.ts";
import { createNodeFileHost } from "../../control/node/file-host.ts";
import { startFileSource } from "./controller.ts";

const entry = (name: string, addr: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${name}.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: ${addr}}]
`;

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("file source", () => {
  it("publishes files, follows edits, keeps the last good view on a bad edit, and drops deleted files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-files-"));
    await writeFile(join(dir, "a.yaml"), entry("a", "10.0.0.1"));
    await writeFile(join(dir, "b.yaml"), entry("b", "10.0.0.2"));
    await writeFile(join(dir, "notes.txt"), "ignored");
    const registry = createRegistry();
    const src = await startFileSource({ paths: [dir], registry, host: createNodeFileHost({ debounceMs: 10, pollMs: 200 }) });
    const ids = () => registry.snapshot().services.map((s) => s.id).join(",");
    const addr = () => registry.snapshot().endpoints.find((e) => e.service === "default/a")?.endpoints[0]?.address;
    expect(ids()).toBe("default/a,default/b");

    await writeFile(join(dir, "a.yaml"), entry("a", "10.0.0.9"));
    await until(() => addr() === "10.0.0.9");

    await writeFile(join(dir, "a.yaml"), entry("a", "10.0.0.300").replace("MESH_INTERNAL", "MESH_INSIDE"));
    await until(() => (registry.status().sources[0]?.error ?? "").includes("a.yaml"));
    expect(addr()).toBe("10.0.0.9");
    expect(registry.status().sources[0]!.error).toMatch(/a\.yaml:\d+:\d+: error: ServiceEntry\/default\/a: spec\.location/);

    await rm(join(dir, "b.yaml"));
    await until(() => ids() === "default/a");
    src.stop();
  });
});
