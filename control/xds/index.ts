/**
 * @module control/xds
 * Weft's xDS server: snapshots, the snapshot cache with its consistency check, the status registry the
 * admin API reads, and the SotW and delta ADS stream handlers as connect-es routes. The Node host is in
 * `control/xds/node/server.ts`; translation from the IR is in `control/xds/translate/`.
 */
export { createSnapshot, hashBytes, SnapshotError, type Snapshot, type SnapshotInput, type SnapshotResource, type TypeChanges } from "./snapshot.ts";
export { checkSnapshot } from "./consistency.ts";
export { createSnapshotCache, nodeIdHash, type ConfigWatcher, type NodeHash, type NodeInfo, type SnapshotCache } from "./cache.ts";
export { createXdsStatus, type NackInfo, type NodeStatus, type TypeStatus, type XdsStatus } from "./status.ts";
export { sotwStream } from "./sotw-stream.ts";
export { deltaStream } from "./delta-stream.ts";
export { createXdsRoutes } from "./ads-service.ts";
export { TypeUrl, ALL_TYPE_URLS, TYPE_SHORT_NAME, type ResourceTypeUrl } from "./resource-types.ts";
export type { StreamEvent, StreamOptions } from "./stream-common.ts";
export { createMeshPublisher, type MeshPublisher, type MeshPublisherOptions } from "./publisher.ts";
export { buildNodeResources, mtlsModeFor, type NodeProfile, type GrpcProfile, type SidecarProfile } from "./translate/mesh-snapshot.ts";
export { authzHttpFilters, authzNetworkFilters, policiesForWorkload, type AuthzOptions, type ExtAuthzProvider } from "./translate/rbac-filters.ts";
export { generatePolicy } from "./translate/rbac.ts";
export { translateCluster, translateLoadAssignment } from "./translate/cluster.ts";
export { translateRoute, translateRouteConfiguration } from "./translate/route.ts";
export { apiListener, inboundListener, outboundListener } from "./translate/listener.ts";
export { svidSecret, bundleSecret, SVID_SECRET, BUNDLE_SECRET } from "./translate/tls.ts";
export { xdsMeshStatus, type NodeExtras } from "./admin-status.ts";
