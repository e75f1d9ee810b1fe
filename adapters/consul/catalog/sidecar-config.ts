/**
 * @module adapters/consul/catalog/sidecar-config
 * The weft proxy config (the `weft proxy --config` file shape) for a weft workload that joins Consul's
 * mesh: an inbound mTLS listener presenting the workload's Consul-form SVID, verifying callers against
 * Consul's roots and enforcing Consul's intentions with the rbac filter (the ordered policy from
 * `watchIntentions`); and one plaintext outbound listener per Consul upstream, whose cluster dials the
 * upstream's Connect endpoints (sidecars or native instances, from the registry) over mTLS and accepts
 * only the upstream's Consul SPIFFE ID. Pure: the host writes the certificate files and applies the config.
 */
import type { AuthzPolicy, Endpoint } from "../../../core/ir/model.ts";
import { formatConsulIdentity } from "../../../core/identity/index.ts";
import type { RegistrySnapshot } from "../../../control/registry/registry.ts";

export interface SidecarFiles {
  /** The workload's SVID and its chain (PEM). */
  certificateChainFile: string;
  privateKeyFile: string;
  /** Consul's roots (and weft's, when they differ), PEM. */
  trustedCaFile: string;
}

export interface ConsulUpstream {
  /** Consul service name. */
  service: string;
  /** Where the workload calls it, `127.0.0.1:<port>`. */
  listen: string;
  endpoints: readonly Endpoint[];
}

export interface SidecarOptions {
  /** The workload's Consul service name. */
  service: string;
  trustDomain: string;
  datacenter: string;
  /** Consul namespace (default `default`). */
  namespace?: string;
  /** The mTLS listener Consul's proxies dial, `127.0.0.1:<port>`. */
  inbound: string;
  /** The workload itself, `127.0.0.1:<port>`. */
  app: string;
  upstreams: readonly ConsulUpstream[];
  files: SidecarFiles;
  /** Consul's intentions as one ordered policy; absent = no authorization beyond mTLS. */
  intentions?: AuthzPolicy;
  accessLog?: boolean;
}

/** The Consul-form SPIFFE ID of a service. */
export const consulServiceId = (trustDomain: string, datacenter: string, service: string, namespace = "default"): string =>
  formatConsulIdentity({ trustDomain, namespace, datacenter, service });

/** The usable endpoints of a Consul service in the registry (Connect endpoints, not unhealthy). */
export function upstreamEndpoints(snapshot: RegistrySnapshot, serviceId: string): Endpoint[] {
  const eps = snapshot.endpoints.filter((e) => e.service === serviceId).flatMap((e) => e.endpoints);
  return eps.filter((e) => e.health !== "unhealthy" && e.labels?.["consul.io/connect"] !== "false");
}

/**
 * @example
 * const config = consulSidecarConfig({ service: "weft-api", trustDomain, datacenter: "dc1", inbound: "127.0.0.1:21500",
 *   app: "127.0.0.1:8080", upstreams: [{ service: "web", listen: "127.0.0.1:9191", endpoints }], files, intentions });
 * await writeFile("sidecar.json", JSON.stringify(config));
 */
export function consulSidecarConfig(o: SidecarOptions): Record<string, unknown> {
  const ns = o.namespace ?? "default";
  const filters: { name: string; config?: unknown }[] = [];
  if (o.intentions) {
    filters.push({ name: "rbac", config: { policies: [], irPolicies: [o.intentions], namespace: ns, service: o.service, trustDomain: o.trustDomain } });
  }
  filters.push({ name: "router", config: {} });
  const listeners: Record<string, unknown>[] = [{
    name: "consul-inbound",
    address: o.inbound,
    direction: "inbound",
    // Consul's built-in proxy is an L4 proxy: the bytes inside its TLS are whatever the app speaks (HTTP/1.1 here).
    tls: { secret: "svid", mode: "STRICT", requireClientCertificate: true, alpn: ["http/1.1"] },
    http: { accessLog: o.accessLog ?? false, filters, virtualHosts: [{ name: "app", domains: ["*"], routes: [{ name: "app", route: { cluster: "local-app" } }] }] },
  }];
  const clusters: Record<string, unknown>[] = [{ name: "local-app", protocol: "http", endpoints: [o.app] }];
  for (const u of o.upstreams) {
    const cluster = `consul-${u.service}`;
    listeners.push({
      name: `upstream-${u.service}`,
      address: u.listen,
      direction: "outbound",
      http: { accessLog: o.accessLog ?? false, virtualHosts: [{ name: u.service, domains: ["*"], routes: [{ name: u.service, route: { cluster } }] }] },
    });
    clusters.push({
      name: cluster,
      protocol: "http",
      tls: { secret: "svid", expectedIdentities: [consulServiceId(o.trustDomain, o.datacenter, u.service, ns)] },
      endpoints: u.endpoints.map((e) => `${e.address.includes(":") ? `[${e.address}]` : e.address}:${e.port}`),
    });
  }
  return {
    secrets: [{ name: "svid", tlsCertificate: { certificateChainFile: o.files.certificateChainFile, privateKeyFile: o.files.privateKeyFile }, validationContext: { trustedCaFile: o.files.trustedCaFile } }],
    listeners,
    clusters,
  };
}
