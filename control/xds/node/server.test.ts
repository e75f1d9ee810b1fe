// The xDS server over real gRPC streams on loopback port 0: SotW and delta ADS, ACK and NACK, named and
// wildcard subscriptions, stale nonces, delta removal, reconnect, and TLS.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSnapshotCache, type SnapshotCache } from "../cache.ts";
import { TypeUrl } from "../resource-types.ts";
import { createSnapshot } from "../snapshot.ts";
import { createXdsStatus, type XdsStatus } from "../status.ts";
import type { StreamEvent } from "../stream-common.ts";
import { edsCluster, loadAssignment, rdsApiListener, routeConfig } from "../testing.ts";
import { createAdsClient, deltaRequest, sotwRequest } from "./ads-client.ts";
import { startXdsServer, type XdsNodeServer } from "./server.ts";

const node = { id: "sidecar~127.0.0.1~web-1.default~default.svc.cluster.local", cluster: "web" };

function snap(clusters: string[], label = "", endpointPort = 8080) {
  return createSnapshot({
    [TypeUrl.listener]: [rdsApiListener("web", "web-routes")],
    [TypeUrl.route]: [routeConfig("web-routes", clusters)],
    [TypeUrl.cluster]: clusters.map(edsCluster),
    [TypeUrl.endpoint]: clusters.map((c) => loadAssignment(c, [endpointPort])),
  }, label);
}

let cache: SnapshotCache;
let status: XdsStatus;
let server: XdsNodeServer;
let events: StreamEvent[];

beforeEach(async () => {
  cache = createSnapshotCache();
  status = createXdsStatus();
  events = [];
  server = await startXdsServer({ watcher: cache, status, onEvent: (e) => events.push(e) });
});
afterEach(async () => {
  await server.close();
});

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe("state of the world", () => {
  it("answers a wildcard CDS request, records the ACK, and sends again only after a change", async () => {
    cache.setSnapshot(node.id, snap(["a", "b"], "r1"));
    const s = createAdsClient({ baseUrl: `http://${server.address}` }).sotw();
    s.send(sotwRequest({ node, typeUrl: TypeUrl.cluster }));
    const r1 = await s.next();
    expect(r1.typeUrl).toBe(TypeUrl.cluster);
    expect(r1.resources.map((a) => a.typeUrl)).toEqual([TypeUrl.cluster, TypeUrl.cluster]);
    s.send(sotwRequest({ typeUrl: TypeUrl.cluster, versionInfo: r1.versionInfo, responseNonce: r1.nonce }));
    await until(() => status.node(node.id)?.types[0]?.ackedVersion === r1.versionInfo);
    expect(status.node(node.id)).toMatchObject({ connected: true, streams: 1, protocol: "sotw", key: node.id });

    // An EDS-only change leaves the CDS version alone: no CDS push.
    cache.setSnapshot(node.id, snap(["a", "b"], "r2", 9090));
    cache.setSnapshot(node.id, snap(["a", "b", "c"], "r3"));
    const r2 = await s.next();
    expect(r2.nonce).not.toBe(r1.nonce);
    expect(r2.versionInfo).not.toBe(r1.versionInfo);
    expect(r2.resources).toHaveLength(3);
    expect(s.buffered).toBe(0);
    s.cancel();
    await until(() => status.node(node.id)?.connected === false);
  });

  it("keeps a NACK with its message, does not resend the refused version, and pushes the next one", async () => {
    cache.setSnapshot(node.id, snap(["a"]));
    const s = createAdsClient({ baseUrl: `http://${server.address}` }).sotw();
    s.send(sotwRequest({ node, typeUrl: TypeUrl.cluster }));
    const r1 = await s.next();
    s.send(sotwRequest({ typeUrl: TypeUrl.cluster, versionInfo: r1.versionInfo, responseNonce: r1.nonce }));
    cache.setSnapshot(node.id, snap(["a", "b"]));
    const r2 = await s.next();
    s.send(sotwRequest({
      typeUrl: TypeUrl.cluster, versionInfo: r1.versionInfo, responseNonce: r2.nonce,
      errorDetail: { code: 3, message: "cluster b: unsupported lb_policy" },
    }));
    await until(() => status.nacking().length === 1);
    const t = status.node(node.id)!.types.find((x) => x.type === "CDS")!;
    expect(t.lastNack).toMatchObject({ version: r2.versionInfo, nonce: r2.nonce, message: "cluster b: unsupported lb_policy", code: 3 });
    expect(t.ackedVersion).toBe(r1.versionInfo);
    expect(t.rejecting).toBe(true);
    expect(events.some((e) => e.kind === "nack")).toBe(true);

    cache.setSnapshot(node.id, snap(["a", "c"]));
    const r3 = await s.next();
    expect(r3.resources).toHaveLength(2);
    s.send(sotwRequest({ typeUrl: TypeUrl.cluster, versionInfo: r3.versionInfo, responseNonce: r3.nonce }));
    await until(() => status.nacking().length === 0);
    const after = status.node(node.id)!.types.find((x) => x.type === "CDS")!;
    expect(after.lastNack?.message).toBe("cluster b: unsupported lb_policy");
    expect(after.ackedVersion).toBe(r3.versionInfo);
    s.cancel();
  });

  it("serves named EDS subscriptions, answers new names at once (only them), and ignores stale nonces", async () => {
    cache.setSnapshot(node.id, snap(["a", "b", "c"]));
    const s = createAdsClient({ baseUrl: `http://${server.address}` }).sotw();
    s.send(sotwRequest({ node, typeUrl: TypeUrl.endpoint, resourceNames: ["a"] }));
    const r1 = await s.next();
    expect(r1.resources).toHaveLength(1);
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, versionInfo: r1.versionInfo, responseNonce: r1.nonce, resourceNames: ["a", "b"] }));
    const r2 = await s.next();
    // EDS is not a full-state type: the response carries only the newly subscribed name.
    expect(r2.resources).toHaveLength(1);
    expect(events.filter((e) => e.kind === "send").at(-1)).toMatchObject({ names: ["b"] });
    expect(r2.versionInfo).toBe(r1.versionInfo);
    // A request answering the old nonce is stale: ignored, even with new names.
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, responseNonce: r1.nonce, resourceNames: ["c"] }));
    await until(() => events.some((e) => e.kind === "stale"));
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, versionInfo: r2.versionInfo, responseNonce: r2.nonce, resourceNames: ["a", "b"] }));
    cache.setSnapshot(node.id, snap(["a", "b", "c"], "", 7070));
    const r3 = await s.next();
    expect(r3.resources).toHaveLength(2);
    expect(status.node(node.id)!.types.find((t) => t.type === "EDS")!.subscribed).toEqual(["a", "b"]);
    s.cancel();
  });

  it("sends only changed load assignments, keeps CDS full, and resends what was unsubscribed and subscribed again", async () => {
    const s0 = snap(["a", "b", "c"]);
    cache.setSnapshot(node.id, s0);
    const s = createAdsClient({ baseUrl: `http://${server.address}` }).sotw();
    const sends = () => events.filter((e): e is Extract<StreamEvent, { kind: "send" }> => e.kind === "send");
    s.send(sotwRequest({ node, typeUrl: TypeUrl.cluster }));
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, resourceNames: ["a", "b", "c"] }));
    const cds = await s.next();
    const eds = await s.next();
    expect(cds.resources).toHaveLength(3);
    expect(eds.resources).toHaveLength(3);
    s.send(sotwRequest({ typeUrl: TypeUrl.cluster, versionInfo: cds.versionInfo, responseNonce: cds.nonce }));
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, versionInfo: eds.versionInfo, responseNonce: eds.nonce, resourceNames: ["a", "b", "c"] }));
    await until(() => status.node(node.id)!.types.every((t) => t.ackedVersion !== undefined));
    // One load assignment changes, derived from the previous snapshot (the incremental path).
    const s1 = createSnapshot({
      [TypeUrl.listener]: [rdsApiListener("web", "web-routes")],
      [TypeUrl.route]: [routeConfig("web-routes", ["a", "b", "c"])],
      [TypeUrl.cluster]: ["a", "b", "c"].map(edsCluster),
      [TypeUrl.endpoint]: [loadAssignment("a"), loadAssignment("b", [9999]), loadAssignment("c")],
    }, "r2", s0);
    cache.setSnapshot(node.id, s1);
    const r1 = await s.next();
    expect(r1.typeUrl).toBe(TypeUrl.endpoint);
    expect(r1.versionInfo).toBe(s1.version(TypeUrl.endpoint));
    expect(sends().at(-1)!.names).toEqual(["b"]);
    expect(s.buffered).toBe(0); // CDS did not change: nothing sent for it
    // Drop "c", then ask for it again: the client forgot it, so it is sent again.
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, versionInfo: r1.versionInfo, responseNonce: r1.nonce, resourceNames: ["a", "b"] }));
    await until(() => status.node(node.id)!.types.find((t) => t.type === "EDS")!.subscribed.length === 2);
    s.send(sotwRequest({ typeUrl: TypeUrl.endpoint, versionInfo: r1.versionInfo, responseNonce: r1.nonce, resourceNames: ["a", "b", "c"] }));
    await s.next();
    expect(sends().at(-1)!.names).toEqual(["c"]);
    s.cancel();
  });

  it("waits for a snapshot before answering, and on reconnect with the current version stays quiet", async () => {
    const client = createAdsClient({ baseUrl: `http://${server.address}` });
    const s = client.sotw();
    s.send(sotwRequest({ node, typeUrl: TypeUrl.listener }));
    await until(() => cache.watchCount(node.id) === 1);
    expect(s.buffered).toBe(0);
    cache.setSnapshot(node.id, snap(["a"]));
    const r1 = await s.next();
    expect(r1.resources).toHaveLength(1);
    s.cancel();
    await until(() => cache.watchCount(node.id) === 0);

    const again = client.sotw();
    // The nonce is from the previous stream: not stale here, just an initial request with a version.
    again.send(sotwRequest({ node, typeUrl: TypeUrl.listener, versionInfo: r1.versionInfo, responseNonce: r1.nonce }));
    again.send(sotwRequest({ typeUrl: TypeUrl.cluster }));
    const r2 = await again.next();
    expect(r2.typeUrl).toBe(TypeUrl.cluster); // LDS unchanged since the client's version: not resent
    expect(again.buffered).toBe(0);
    again.send(sotwRequest({ typeUrl: TypeUrl.cluster, versionInfo: r2.versionInfo, responseNonce: r2.nonce }));
    cache.setSnapshot(node.id, snap(["a", "b"]));
    const r3 = await again.next();
    expect([r3.typeUrl, r3.resources.length]).toEqual([TypeUrl.cluster, 2]);
    // The LDS request that carried the old stream's nonce is a live watch: a listener change reaches it.
    cache.setSnapshot(node.id, createSnapshot({
      [TypeUrl.listener]: [rdsApiListener("web", "web-routes"), rdsApiListener("api", "web-routes")],
      [TypeUrl.route]: [routeConfig("web-routes", ["a"])],
      [TypeUrl.cluster]: [edsCluster("a")],
      [TypeUrl.endpoint]: [loadAssignment("a")],
    }));
    const r4 = await again.next();
    expect([r4.typeUrl, r4.resources.length]).toEqual([TypeUrl.listener, 2]);
    again.cancel();
  });

  it("refuses a stream whose first request has no node", async () => {
    const s = createAdsClient({ baseUrl: `http://${server.address}` }).sotw();
    s.send(sotwRequest({ typeUrl: TypeUrl.cluster }));
    await expect(s.next()).rejects.toThrow(/must carry node.id/);
  });
});

describe("delta", () => {
  it("sends only changes, removes deleted resources, and honours unsubscribe and initial versions", async () => {
    cache.setSnapshot(node.id, snap(["a", "b"]));
    const client = createAdsClient({ baseUrl: `http://${server.address}` });
    const s = client.delta();
    s.send(deltaRequest({ node, typeUrl: TypeUrl.cluster }));
    const r1 = await s.next();
    expect(r1.resources.map((r) => r.name).sort()).toEqual(["a", "b"]);
    s.send(deltaRequest({ typeUrl: TypeUrl.cluster, responseNonce: r1.nonce }));
    await until(() => status.node(node.id)?.types.find((t) => t.type === "CDS")?.ackedVersion === r1.systemVersionInfo);

    cache.setSnapshot(node.id, snap(["a", "c"]));
    const r2 = await s.next();
    expect(r2.resources.map((r) => r.name)).toEqual(["c"]);
    expect(r2.removedResources).toEqual(["b"]);

    s.send(deltaRequest({ typeUrl: TypeUrl.endpoint, resourceNamesSubscribe: ["a", "c"] }));
    const r3 = await s.next();
    expect(r3.typeUrl).toBe(TypeUrl.endpoint);
    expect(r3.resources.map((r) => r.name).sort()).toEqual(["a", "c"]);
    s.send(deltaRequest({ typeUrl: TypeUrl.endpoint, responseNonce: r3.nonce, resourceNamesUnsubscribe: ["c"] }));
    await until(() => status.node(node.id)?.types.find((t) => t.type === "EDS")?.subscribed.join() === "a");
    cache.setSnapshot(node.id, snap(["a", "c"], "", 6060));
    const r4 = await s.next();
    expect(r4.resources.map((r) => r.name)).toEqual(["a"]);

    s.send(deltaRequest({ typeUrl: TypeUrl.cluster, responseNonce: r2.nonce, errorDetail: { code: 13, message: "bad cluster c" } }));
    await until(() => status.nacking().length === 1);
    expect(status.node(node.id)!.types.find((t) => t.type === "CDS")!.lastNack).toMatchObject({ message: "bad cluster c", version: r2.systemVersionInfo });
    s.cancel();

    // Reconnect: the client says what it has; only what differs comes back.
    const again = client.delta();
    const have = Object.fromEntries(r1.resources.filter((r) => r.name === "a").map((r) => [r.name, r.version]));
    again.send(deltaRequest({ node, typeUrl: TypeUrl.cluster, initialResourceVersions: { ...have, b: "stale" } }));
    const r5 = await again.next();
    expect(r5.resources.map((r) => r.name)).toEqual(["c"]);
    expect(r5.removedResources).toEqual(["b"]);
    again.cancel();
  });

  it("answers the first request for a type even when there is nothing to send", async () => {
    cache.setSnapshot(node.id, snap(["a"]));
    const s = createAdsClient({ baseUrl: `http://${server.address}` }).delta();
    s.send(deltaRequest({ node, typeUrl: TypeUrl.secret, resourceNamesSubscribe: ["default"] }));
    const r = await s.next();
    expect(r.typeUrl).toBe(TypeUrl.secret);
    expect(r.resources).toEqual([]);
    s.cancel();
  });
});
