/**
 * @module proxy/xds/type-urls
 * The xDS resource types weft consumes, their type URLs and short names, and the order a proxy
 * subscribes in (listeners and clusters first, then what they reference).
 */
export const TypeUrl = {
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  secret: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
} as const;

export type ResourceType = keyof typeof TypeUrl;

export const RESOURCE_TYPES: readonly ResourceType[] = ["listener", "cluster", "route", "endpoint", "secret"];

export const KIND_OF: Record<ResourceType, string> = {
  listener: "Listener",
  route: "RouteConfiguration",
  cluster: "Cluster",
  endpoint: "ClusterLoadAssignment",
  secret: "Secret",
};

export function typeOfUrl(url: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => TypeUrl[t] === url);
}
