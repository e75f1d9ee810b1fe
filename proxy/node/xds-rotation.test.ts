// SVID rotation over SDS: the control plane hands out short-lived SVIDs and renews them at half-life;
// the proxy's listener presents the new certificate to new connections while a connection opened
// before the rotation keeps working.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningControlPlane } from "../../control/node/control-plane.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { runXdsProxy, type RunningXdsProxy } from "./xds-run.ts";
import { ADMIN_TOKEN, Agent, callMtls, createTestMesh, postJson, TD, until, WEB_ID, workloadCredential, type TestMesh } from "./xds-test-support.ts";

describe("SVID rotation over SDS", () => {
  let dataDir: string;
  let mesh: TestMesh;
  let cp: RunningControlPlane;
  let proxy: RunningXdsProxy | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "weft-xds-rot-"));
    mesh = await createTestMesh(dataDir, { svidTtlMs: 4000 });
    cp = await mesh.startControlPlane();
  });
  afterAll(async () => {
    await proxy?.stop();
    await cp.stop();
    await mesh.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("rotates the served certificate without dropping an open connection", async () => {
    const minted = await postJson(`${cp.adminUrl}/v1/ca/join-tokens`, ADMIN_TOKEN, { spiffeId: WEB_ID });
    proxy = runXdsProxy({ url: cp.extensions[0]!.url!, node: { id: "web-1", cluster: "web" }, joinToken: minted.token as string, bootstrapCaPem: cp.ca.trustBundle().join(""), filters: httpFilters, log: () => undefined });
    await proxy.client.firstApplied;
    const client = await workloadCredential(cp, `spiffe://${TD}/ns/demo/sa/client`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ...client });
    try {
      const first = await until("first answer", () => callMtls(mesh.inboundPort, client, agent));
      expect(first.status).toBe(200);
      const rotated = await until("a new SVID served to new connections", async () => {
        const r = await callMtls(mesh.inboundPort, client);
        return r.serverSerial !== first.serverSerial ? r : undefined;
      });
      expect(rotated.status).toBe(200);
      // The connection opened before the rotation is still the one used, and still answers.
      const again = await callMtls(mesh.inboundPort, client, agent);
      expect(again).toMatchObject({ status: 200, reusedSocket: true, serverSerial: first.serverSerial });
    } finally {
      agent.destroy();
    }
  });
});
