/**
 * @module control/xds/admin-status
 * Adapts the xDS status registry to the admin API's `MeshStatusProvider` (control/admin/mesh-status):
 * connected nodes, the acknowledged version per resource type, and the NACK a node is still standing
 * on (its latest answer for that type was a NACK; once it ACKs a later version the NACK is history and
 * stays visible in `XdsStatus` only). Certificate expiry, identity and service come from the caller,
 * which knows what the CA issued to whom.
 */
import type { MeshStatusProvider, NodeStatus as AdminNodeStatus } from "../admin/mesh-status.ts";
import type { XdsStatus } from "./status.ts";

export interface NodeExtras {
  certificateExpiry?: number;
  identity?: string;
  service?: string;
}

/**
 * @example
 * createAdminApp({ mesh: xdsMeshStatus(status, (id) => ({ certificateExpiry: issued.get(id)?.notAfter })) });
 */
export function xdsMeshStatus(status: XdsStatus, extras: (nodeId: string) => NodeExtras | undefined = () => undefined): MeshStatusProvider {
  return {
    nodes(): AdminNodeStatus[] {
      return status.nodes().filter((n) => n.connected).map((n) => {
        const acked: Record<string, string> = {};
        for (const t of n.types) if (t.ackedVersion !== undefined) acked[t.type] = t.ackedVersion;
        const standing = n.types.filter((t) => t.rejecting && t.lastNack).sort((a, b) => b.lastNack!.time - a.lastNack!.time)[0];
        const x = extras(n.id) ?? {};
        return {
          id: n.id,
          connectedSince: n.connectedAt,
          acked,
          ...(standing ? { lastNack: { type: standing.type, message: standing.lastNack!.message, at: standing.lastNack!.time } } : {}),
          ...(x.certificateExpiry !== undefined ? { certificateExpiry: x.certificateExpiry } : {}),
          ...(x.identity !== undefined ? { identity: x.identity } : {}),
          ...(x.service !== undefined ? { service: x.service } : {}),
        };
      });
    },
  };
}
