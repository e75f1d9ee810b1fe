// End to end over real sockets: weft's control plane (store, CA, join tokens, xDS extension) with one
// service, and a weft proxy that joins with a one-time join token, gets its listeners, routes, clusters,
// SVID and bundle over ADS, serves mTLS, enforces an AuthorizationPolicy (Envoy RBAC through
// plugins/envoy-rbac), follows config changes, keeps serving while the control plane is down, and
// resyncs with its SVID (no token) when it returns. A spent join token is refused.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningControlPlane } from "../../control/node/control-plane.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { runXdsProxy, type RunningXdsProxy } from "./xds-run.ts";
import { ADMIN_TOKEN, callMtls, callPlain, createTestMesh, postJson, TD, until, WEB_ID, workloadCredential, type TestMesh } from "./xds-test-support.ts";

describe("weft proxy --xds against weft's control plane", () => {
  let dataDir: string;
  let mesh: TestMesh;
  let cp: RunningControlPlane | undefined;
  let proxy: RunningXdsProxy | undefined;
  let other: RunningXdsProxy | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "weft-xds-e2e-"));
    mesh = await createTestMesh(dataDir);
    cp = await mesh.startControlPlane();
  });

  afterAll(async () => {
    await other?.stop();
    await proxy?.stop();
    await cp?.stop();
    await mesh.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("joins with a token, serves mTLS, follows changes, survives the control plane going away and resyncs", async () => {
    const { inboundPort, servicePort, appPort, logs } = mesh;
    const minted = await postJson(`${cp!.adminUrl}/v1/ca/join-tokens`, ADMIN_TOKEN, { spiffeId: WEB_ID, ttlSeconds: 600 });
    const bundle = cp!.ca.trustBundle().join("");
    proxy = runXdsProxy({
      url: cp!.extensions[0]!.url!, node: { id: "web-1", cluster: "web" }, joinToken: minted.token as string, bootstrapCaPem: bundle,
      filters: httpFilters, admin: { address: "127.0.0.1", port: 0 }, log: (l) => logs.push(`proxy: ${l}`), backoff: { baseMs: 50, maxMs: 400 },
    });
    await proxy.client.firstApplied;
    const st = proxy.client.status();
    expect(st.credential).toBe("svid");
    expect(st.types.listener?.names).toEqual(expect.arrayContaining([`inbound|${appPort}`, `outbound|${servicePort}`]));

    // A workload of the mesh calls the proxy's inbound listener over mTLS.
    const client = await workloadCredential(cp!, `spiffe://${TD}/ns/demo/sa/client`);
    const viaMtls = await until("an mTLS answer", () => callMtls(inboundPort, client));
    expect(viaMtls.status).toBe(200);
    expect(JSON.parse(viaMtls.body)).toEqual({ app: "web", path: "/hello" });
    // PERMISSIVE by default: plaintext is served too; and the outbound listener routes by host.
    expect((await callPlain(inboundPort)).status).toBe(200);
    const out = await callPlain(servicePort, "web.demo.svc.cluster.local");
    expect(out.status).toBe(200);
    expect(JSON.parse(out.body)).toEqual({ app: "web", path: "/plain" });

    // The admin's /xds_status shows the accepted versions.
    const adminPort = proxy.server.adminAddress()!.port;
    const xdsStatus = (await (await fetch(`http://127.0.0.1:${adminPort}/xds_status`)).json()) as { connected: boolean; types: Record<string, { version: string }> };
    expect(xdsStatus.connected).toBe(true);
    expect(xdsStatus.types.listener?.version).toMatch(/./);

    // An AuthorizationPolicy on the control plane becomes Envoy RBAC, enforced by weft's evaluator:
    // only the client's SPIFFE ID may call; plaintext (no principal) is denied.
    await cp!.store.apply([{ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "only-client", namespace: "demo" },
      spec: { selector: { matchLabels: { app: "web" } }, action: "ALLOW", rules: [{ from: [{ source: { principals: [`${TD}/ns/demo/sa/client`] } }] }] } }]);
    const denied = await until("plaintext denied by the policy", async () => {
      const r = await callPlain(inboundPort);
      return r.status === 403 ? r : undefined;
    });
    expect(denied.body).toContain("RBAC: access denied");
    expect((await callMtls(inboundPort, client)).status).toBe(200);

    // Something weft cannot honour (upstream TLS without a client certificate): the proxy NACKs the
    // clusters with the reason, the control plane records it, and the last good clusters keep serving.
    await cp!.store.apply([{ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "web-tls", namespace: "demo" },
      spec: { host: "web.demo.svc.cluster.local", trafficPolicy: { tls: { mode: "SIMPLE" } } } }]);
    const nack = await until("CDS NACKed", () => proxy!.client.status().types.cluster?.lastNack);
    expect(nack.message).toContain(`Cluster/outbound|${servicePort}||web.demo.svc.cluster.local transport_socket.typed_config.common_tls_context`);
    expect(nack.message).toContain("upstream TLS without a client certificate");
    const seenByCp = await until("the NACK reaches the control plane", () => JSON.stringify(cp!.extensions[0]!.mesh!.nodes()).includes("upstream TLS without a client certificate") || undefined);
    expect(seenByCp).toBe(true);
    expect((await callPlain(servicePort, "web.demo.svc.cluster.local")).status).toBe(200);
    await cp!.store.delete([{ group: "networking.istio.io", kind: "DestinationRule", namespace: "demo", name: "web-tls" }]);

    // A config change on the control plane: STRICT mTLS for the namespace; plaintext is now refused.
    await cp!.store.apply([{ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "strict", namespace: "demo" }, spec: { mtls: { mode: "STRICT" } } }]);
    await until("plaintext refused under STRICT", async () => {
      try {
        await callPlain(inboundPort);
        return undefined;
      } catch {
        return true;
      }
    });
    expect((await callMtls(inboundPort, client)).status).toBe(200);

    // The control plane goes away: the proxy keeps serving its last good config.
    const connectsBefore = proxy.client.status().connects;
    await cp!.stop();
    cp = undefined;
    await until("the proxy notices", () => (proxy!.client.status().connected ? undefined : true));
    expect((await callMtls(inboundPort, client)).status).toBe(200);
    expect(proxy.client.status().appliedVersion).toBeDefined();

    // It comes back (same data directory: same CA and store); the proxy reconnects with its SVID and resyncs.
    cp = await mesh.startControlPlane();
    await until("reconnected", () => (proxy!.client.status().connected && proxy!.client.status().connects > connectsBefore ? true : undefined));
    await cp.store.delete([{ group: "security.istio.io", kind: "PeerAuthentication", namespace: "demo", name: "strict" }]);
    const plainAgain = await until("plaintext served again after the change", async () => {
      try {
        return await callPlain(inboundPort);
      } catch {
        return undefined;
      }
    });
    expect(plainAgain.status).toBe(403); // the policy still applies to plaintext callers
    expect(logs.some((l) => l.includes("joined as") && l.includes(WEB_ID))).toBe(true);
  });

  it("refuses a join token that was already used", async () => {
    const minted = await postJson(`${cp!.adminUrl}/v1/ca/join-tokens`, ADMIN_TOKEN, { spiffeId: `spiffe://${TD}/ns/demo/sa/other`, ttlSeconds: 600 });
    const bundle = cp!.ca.trustBundle().join("");
    const first = runXdsProxy({ url: cp!.extensions[0]!.url!, node: { id: "other-1", cluster: "other" }, joinToken: minted.token as string, bootstrapCaPem: bundle, filters: httpFilters, log: () => undefined });
    await until("first join", () => (first.client.status().credential === "svid" ? true : undefined));
    await first.stop();
    other = runXdsProxy({ url: cp!.extensions[0]!.url!, node: { id: "other-2", cluster: "other" }, joinToken: minted.token as string, bootstrapCaPem: bundle, filters: httpFilters, log: () => undefined, backoff: { baseMs: 50, maxMs: 200 } });
    const err = await until("the second use is refused", () => other!.client.status().lastError);
    expect(err).toContain("join token refused");
    expect(other.client.status().credential).toBe("join-token");
  });

  it("refuses a node id bound to another identity", async () => {
    const minted = await postJson(`${cp!.adminUrl}/v1/ca/join-tokens`, ADMIN_TOKEN, { spiffeId: `spiffe://${TD}/ns/demo/sa/intruder`, ttlSeconds: 600 });
    const intruder = runXdsProxy({ url: cp!.extensions[0]!.url!, node: { id: "web-1", cluster: "web" }, joinToken: minted.token as string, bootstrapCaPem: cp!.ca.trustBundle().join(""), filters: httpFilters, log: () => undefined, backoff: { baseMs: 50, maxMs: 200 } });
    try {
      const err = await until("refused", () => {
        const e = intruder.client.status().lastError;
        return e?.includes("belongs to") ? e : undefined;
      });
      expect(err).toContain(`node id web-1 belongs to ${WEB_ID}`);
      expect(intruder.client.status().appliedVersion).toBeUndefined();
    } finally {
      await intruder.stop();
    }
  });
});
