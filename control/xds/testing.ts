/**
 * @module control/xds/testing
 * Tiny resource builders for the xDS engine's tests: an EDS cluster, a load assignment, a route
 * configuration and an RDS listener, each the least a consistent snapshot needs.
 */
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Cluster_DiscoveryType, ClusterSchema, type Cluster } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ClusterLoadAssignmentSchema, type ClusterLoadAssignment } from "../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { ListenerSchema, type Listener } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { RouteConfigurationSchema, type RouteConfiguration } from "../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { HttpConnectionManagerSchema } from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";

export function edsCluster(name: string): Cluster {
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: "ads", value: {} } } },
  });
}

export function loadAssignment(cluster: string, ports: number[] = [8080]): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: cluster,
    endpoints: [{
      loadBalancingWeight: 1,
      lbEndpoints: ports.map((port) => ({
        hostIdentifier: { case: "endpoint" as const, value: { address: { address: { case: "socketAddress" as const, value: { address: "127.0.0.1", portSpecifier: { case: "portValue" as const, value: port } } } } } },
      })),
    }],
  });
}

export function routeConfig(name: string, clusters: string[]): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name,
    virtualHosts: [{
      name: "vh",
      domains: ["*"],
      routes: clusters.map((c) => ({
        match: { pathSpecifier: { case: "prefix" as const, value: `/${c}` } },
        action: { case: "route" as const, value: { clusterSpecifier: { case: "cluster" as const, value: c } } },
      })),
    }],
  });
}

export function rdsApiListener(name: string, routeName: string): Listener {
  const hcm = create(HttpConnectionManagerSchema, {
    routeSpecifier: { case: "rds", value: { routeConfigName: routeName, configSource: { configSourceSpecifier: { case: "ads", value: {} } } } },
  });
  return create(ListenerSchema, { name, apiListener: { apiListener: anyPack(HttpConnectionManagerSchema, hcm) } });
}
