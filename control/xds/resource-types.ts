/**
 * @module control/xds/resource-types
 * The five xDS resource types weft serves (LDS, RDS, CDS, EDS, SDS): their type URLs, the generated
 * protobuf-es schema for each, how a resource is named, and the registry that decodes the `Any`s nested
 * inside them (HTTP connection manager, filters, TLS contexts). Runtime-neutral.
 */
import { createRegistry, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { ClusterSchema } from "../../gen/proto/envoy/config/cluster/v3/cluster_pb.ts";
import { ClusterLoadAssignmentSchema } from "../../gen/proto/envoy/config/endpoint/v3/endpoint_pb.ts";
import { ListenerSchema } from "../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { RouteConfigurationSchema } from "../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { SecretSchema } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/secret_pb.ts";
import { file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager } from "../../gen/proto/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.ts";
import { file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy } from "../../gen/proto/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.ts";
import { file_envoy_extensions_filters_network_rbac_v3_rbac } from "../../gen/proto/envoy/extensions/filters/network/rbac/v3/rbac_pb.ts";
import { file_envoy_extensions_filters_http_router_v3_router } from "../../gen/proto/envoy/extensions/filters/http/router/v3/router_pb.ts";
import { file_envoy_extensions_filters_http_rbac_v3_rbac } from "../../gen/proto/envoy/extensions/filters/http/rbac/v3/rbac_pb.ts";
import { file_envoy_extensions_filters_http_fault_v3_fault } from "../../gen/proto/envoy/extensions/filters/http/fault/v3/fault_pb.ts";
import { file_envoy_extensions_filters_http_ext_authz_v3_ext_authz } from "../../gen/proto/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.ts";
import { file_envoy_extensions_filters_http_cors_v3_cors } from "../../gen/proto/envoy/extensions/filters/http/cors/v3/cors_pb.ts";
import { file_envoy_extensions_transport_sockets_tls_v3_tls } from "../../gen/proto/envoy/extensions/transport_sockets/tls/v3/tls_pb.ts";
import { file_envoy_extensions_path_match_uri_template_v3_uri_template_match } from "../../gen/proto/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.ts";
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from "../../gen/proto/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.ts";

export const TYPE_URL_PREFIX = "type.googleapis.com/";

// One list of the five type URLs for both ends of the stream (the proxy's client lists them portably).
import { TypeUrl } from "../../proxy/xds/type-urls.ts";
export { TypeUrl };

export type ResourceTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

export const ALL_TYPE_URLS: readonly ResourceTypeUrl[] = [TypeUrl.cluster, TypeUrl.endpoint, TypeUrl.listener, TypeUrl.route, TypeUrl.secret];

/** Short names for logs and the admin API. */
export const TYPE_SHORT_NAME: Record<ResourceTypeUrl, string> = {
  [TypeUrl.listener]: "LDS",
  [TypeUrl.route]: "RDS",
  [TypeUrl.cluster]: "CDS",
  [TypeUrl.endpoint]: "EDS",
  [TypeUrl.secret]: "SDS",
};

export const TYPE_SCHEMA: Record<ResourceTypeUrl, DescMessage> = {
  [TypeUrl.listener]: ListenerSchema,
  [TypeUrl.route]: RouteConfigurationSchema,
  [TypeUrl.cluster]: ClusterSchema,
  [TypeUrl.endpoint]: ClusterLoadAssignmentSchema,
  [TypeUrl.secret]: SecretSchema,
};

export function isResourceTypeUrl(url: string): url is ResourceTypeUrl {
  return Object.prototype.hasOwnProperty.call(TYPE_SCHEMA, url);
}

/**
 * LDS and CDS are the types where an empty subscription means "everything" (legacy wildcard); for the
 * others a client names what it wants.
 */
export function isWildcardType(url: string): boolean {
  return url === TypeUrl.listener || url === TypeUrl.cluster;
}

/**
 * LDS and CDS are also the types whose state-of-the-world responses must hold every resource the client
 * wants (a missing one means deleted). For the others (RDS, EDS, SDS) a response may carry only the
 * resources that changed; the client keeps the rest (xDS protocol, "Grouping resources into responses").
 */
export function isFullStateType(url: string): boolean {
  return url === TypeUrl.listener || url === TypeUrl.cluster;
}

/** The resource's name as xDS addresses it (`cluster_name` for a load assignment). */
export function resourceName(typeUrl: ResourceTypeUrl, message: Message): string {
  const m = message as unknown as { name?: string; clusterName?: string };
  return (typeUrl === TypeUrl.endpoint ? m.clusterName : m.name) ?? "";
}

/** Every message type that appears inside an `Any` in weft's resources. */
export const nestedRegistry = createRegistry(
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy,
  file_envoy_extensions_filters_network_rbac_v3_rbac,
  file_envoy_extensions_filters_http_router_v3_router,
  file_envoy_extensions_filters_http_rbac_v3_rbac,
  file_envoy_extensions_filters_http_fault_v3_fault,
  file_envoy_extensions_filters_http_ext_authz_v3_ext_authz,
  file_envoy_extensions_filters_http_cors_v3_cors,
  file_envoy_extensions_transport_sockets_tls_v3_tls,
  file_envoy_extensions_path_match_uri_template_v3_uri_template_match,
  file_envoy_extensions_upstreams_http_v3_http_protocol_options,
);

/** Serializes a resource of a known type. */
export function encodeResource(typeUrl: ResourceTypeUrl, message: Message): Uint8Array {
  return toBinary(TYPE_SCHEMA[typeUrl], message);
}
