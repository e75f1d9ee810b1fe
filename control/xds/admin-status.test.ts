// The xDS status as the admin API sees it: connected nodes, acked versions, the NACK a node stands on.
import { describe, expect, it } from "vitest";
import { xdsMeshStatus } from "./admin-status.ts";
import { TypeUrl } from "./resource-types.ts";
import { createXdsStatus } from "./status.ts";

describe("xdsMeshStatus", () => {
  it("maps connected nodes, acked versions and a standing NACK; a later ACK clears it", () => {
    let now = 1000;
    const status = createXdsStatus({ now: () => now });
    status.connect(1, { id: "web-1", cluster: "web" }, "web-1", "sotw");
    status.connect(2, { id: "gone", cluster: "x" }, "gone", "delta");
    status.disconnect(2);
    status.sent(1, TypeUrl.cluster, "v1");
    status.acked(1, TypeUrl.cluster, "v1");
    now = 2000;
    status.sent(1, TypeUrl.cluster, "v2");
    status.nacked(1, TypeUrl.cluster, { version: "v2", nonce: "2", message: "bad lb", code: 3, time: now });
    const mesh = xdsMeshStatus(status, (id) => (id === "web-1" ? { certificateExpiry: 9000, identity: "spiffe://cluster.local/ns/default/sa/web" } : undefined));
    expect(mesh.nodes()).toEqual([{
      id: "web-1", connectedSince: 1000, acked: { CDS: "v1" },
      lastNack: { type: "CDS", message: "bad lb", at: 2000 },
      certificateExpiry: 9000, identity: "spiffe://cluster.local/ns/default/sa/web",
    }]);
    status.sent(1, TypeUrl.cluster, "v3");
    status.acked(1, TypeUrl.cluster, "v3");
    expect(mesh.nodes()[0]!.lastNack).toBeUndefined();
    expect(status.node("web-1")!.types[0]!.lastNack?.message).toBe("bad lb");
  });
});
