/**
 * @module adapters/consul/catalog/conversion
 * Pure conversions between Consul's catalog and weft's registry, both ways. In: health entries
 * (`/v1/health/service/:name`, `/v1/health/connect/:name`) → IR services and endpoints with health, marked
 * as coming from Consul (label and origin) so the other direction never writes them back; instances that
 * weft registered (service meta `external-source=weft`) are left out, so the two directions cannot loop.
 * Out: registry services and endpoints → agent service registrations (`/v1/agent/service/register`) with a
 * TTL check and a Connect registration, carrying the weft mark.
 */
import type { Endpoint, HealthStatus, Service } from "../../../core/ir/model.ts";
import { formatConsulIdentity } from "../../../core/identity/index.ts";
import type { RegistrySnapshot } from "../../../control/registry/registry.ts";

/** Service meta key Consul uses for "who registered this" (also used by consul-k8s). */
export const EXTERNAL_SOURCE = "external-source";
export const WEFT_MARK = "weft";
/** Tag on everything weft registers, for people reading the catalog. */
export const WEFT_TAG = "weft-managed";
/** Label on registry services and endpoints that came from Consul. */
export const FROM_CONSUL_LABEL = "weft.io/source";

export interface ConsulCheck {
  CheckID: string;
  Status: string;
  ServiceID?: string;
  Name?: string;
}

export interface ConsulHealthEntry {
  Node: { Node: string; Address: string; Datacenter?: string };
  Service: {
    ID: string;
    Service: string;
    Kind?: string;
    Address?: string;
    Port: number;
    Tags?: string[] | null;
    Meta?: Record<string, string> | null;
    Namespace?: string;
    Partition?: string;
    Proxy?: { DestinationServiceName?: string } | null;
    Connect?: { Native?: boolean } | null;
  };
  Checks?: ConsulCheck[] | null;
}

export interface InboundOptions {
  /** Weft namespace for Consul services (default `default`). */
  namespace: string;
  /** Consul datacenter, for identities and host names (default: each entry's node datacenter, else dc1). */
  datacenter?: string;
  /** Consul's trust domain (`<cluster-id>.consul`), when known: endpoints then carry SPIFFE IDs. */
  trustDomain?: string;
  /** Port the IR service is given (Consul instances each have their own; default 80). */
  servicePort?: number;
}

/** One Consul service as the bridge last saw it. */
export interface ObservedService {
  name: string;
  /** Entries from `/v1/health/service/:name`. */
  instances: ConsulHealthEntry[];
  /** Entries from `/v1/health/connect/:name`, when the service is mesh-capable. */
  connect?: ConsulHealthEntry[];
}

export const isWeftManaged = (e: ConsulHealthEntry): boolean => e.Service.Meta?.[EXTERNAL_SOURCE] === WEFT_MARK;
export const isProxy = (e: ConsulHealthEntry): boolean => (e.Service.Kind ?? "") !== "";

/** Consul's view of an instance's health: any critical check (node or service) makes it unhealthy. */
export function healthOf(checks: readonly ConsulCheck[] | null | undefined): HealthStatus {
  let status: HealthStatus = "healthy";
  for (const c of checks ?? []) {
    if (c.Status === "critical") return c.CheckID === "_node_maintenance" || c.CheckID.startsWith("_service_maintenance") ? "draining" : "unhealthy";
    if (c.Status !== "passing" && c.Status !== "warning") status = "unknown";
  }
  return status;
}

function endpointOf(e: ConsulHealthEntry, service: string, mesh: boolean, o: InboundOptions): Endpoint {
  const dc = o.datacenter ?? e.Node.Datacenter ?? "dc1";
  const labels: Record<string, string> = {
    [FROM_CONSUL_LABEL]: "consul",
    "consul.io/node": e.Node.Node,
    "consul.io/service-id": e.Service.ID,
    "consul.io/connect": mesh ? "true" : "false",
  };
  const ep: Endpoint = { address: e.Service.Address || e.Node.Address, port: e.Service.Port, health: healthOf(e.Checks), labels };
  if (mesh && o.trustDomain) {
    ep.identity = formatConsulIdentity({ trustDomain: o.trustDomain, namespace: e.Service.Namespace || "default", datacenter: dc, service, ...(e.Service.Partition && e.Service.Partition !== "default" ? { partition: e.Service.Partition } : {}) });
  }
  return ep;
}

/**
 * Observed Consul services → one registry snapshot. Proxies and weft's own registrations are left out;
 * a mesh-capable service gets its Connect endpoints (sidecars or native instances, mTLS), another its
 * plain instances. A service whose every instance is weft's is left out entirely.
 */
export function catalogToRegistry(observed: Iterable<ObservedService>, o: InboundOptions): RegistrySnapshot {
  const services: Service[] = [];
  const endpoints: RegistrySnapshot["endpoints"] = [];
  const port = o.servicePort ?? 80;
  for (const s of observed) {
    const plain = s.instances.filter((e) => !isProxy(e) && !isWeftManaged(e));
    const mesh = (s.connect ?? []).filter((e) => !isWeftManaged(e));
    if (plain.length === 0 && mesh.length === 0) continue;
    const id = `${o.namespace}/${s.name}`;
    const dc = o.datacenter ?? plain[0]?.Node.Datacenter ?? mesh[0]?.Node.Datacenter ?? "dc1";
    const svc: Service = {
      id, name: s.name, namespace: o.namespace,
      hosts: [`${s.name}.service.consul`, `${s.name}.service.${dc}.consul`],
      ports: [{ port, protocol: "http" }],
      labels: { [FROM_CONSUL_LABEL]: "consul" },
      resolution: "static",
      origin: { system: "consul", object: `service/${s.name}` },
    };
    if (o.trustDomain && s.connect !== undefined) svc.identities = [formatConsulIdentity({ trustDomain: o.trustDomain, namespace: "default", datacenter: dc, service: s.name })];
    services.push(svc);
    const eps = s.connect !== undefined ? mesh.map((e) => endpointOf(e, s.name, true, o)) : plain.map((e) => endpointOf(e, s.name, false, o));
    eps.sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
    endpoints.push({ service: id, port, endpoints: eps });
  }
  services.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { services, workloads: [], endpoints };
}

/** The names of services that are mesh-capable: destinations of proxies, and services with native instances. */
export function meshCapable(observed: Iterable<ObservedService>): Set<string> {
  const out = new Set<string>();
  for (const s of observed) {
    for (const e of s.instances) {
      if (isWeftManaged(e)) continue;
      if (e.Service.Kind === "connect-proxy" && e.Service.Proxy?.DestinationServiceName) out.add(e.Service.Proxy.DestinationServiceName);
      if (!isProxy(e) && e.Service.Connect?.Native) out.add(s.name);
    }
  }
  return out;
}

// ---------------------------------------------------------------- weft → Consul

export interface OutboundOptions {
  /** Consul service name for a weft service (default: its name, with `prefix`). */
  prefix?: string;
  /** TTL of the health check (default 30 s); the bridge refreshes it at a third of that. */
  ttlMs?: number;
  /** Consul removes a registration whose check stayed critical this long (default 5 min): a weft that dies leaves no ghosts. */
  deregisterAfterMs?: number;
  /**
   * How weft endpoints join Consul's mesh: `native` (the endpoint is a weft proxy that speaks Consul
   * mTLS itself) or `none` (plain instances).
   */
  connect: "native" | "none";
}

export interface AgentRegistration {
  ID: string;
  Name: string;
  Address: string;
  Port: number;
  Tags: string[];
  Meta: Record<string, string>;
  Connect?: { Native: boolean };
  Check: { CheckID: string; Name: string; TTL: string; Status: "passing" | "critical"; DeregisterCriticalServiceAfter: string };
}

const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "-");

/** The Consul service ID of one weft endpoint; stable, so re-registration replaces rather than duplicates. */
export function registrationId(serviceId: string, address: string, port: number): string {
  return `weft-${safe(serviceId.replace("/", "."))}-${safe(address)}-${port}`;
}

/** True for registry services that came from Consul: never written back. */
export const cameFromConsul = (s: Service): boolean => s.origin?.system === "consul" || s.labels?.[FROM_CONSUL_LABEL] === "consul";

/**
 * Registry snapshot → the agent registrations weft wants in Consul (weft-owned services only), keyed by ID.
 * `select` chooses which weft services to export (namespace and prefix filters).
 */
export function registryToCatalog(snapshot: RegistrySnapshot, o: OutboundOptions, select: (s: Service) => boolean = () => true): Map<string, AgentRegistration> {
  const out = new Map<string, AgentRegistration>();
  const ttl = o.ttlMs ?? 30_000;
  const byId = new Map(snapshot.services.map((s) => [s.id, s]));
  for (const se of snapshot.endpoints) {
    const svc = byId.get(se.service);
    if (!svc || cameFromConsul(svc) || !select(svc)) continue;
    const name = `${o.prefix ?? ""}${svc.name}`;
    for (const e of se.endpoints) {
      if (e.labels?.[FROM_CONSUL_LABEL] === "consul") continue;
      const id = registrationId(svc.id, e.address, e.port);
      out.set(id, {
        ID: id, Name: name, Address: e.address, Port: e.port,
        Tags: [WEFT_TAG],
        Meta: { [EXTERNAL_SOURCE]: WEFT_MARK, "weft-service": svc.id, ...(e.identity ? { "weft-identity": e.identity } : {}) },
        ...(o.connect === "native" ? { Connect: { Native: true } } : {}),
        Check: {
          CheckID: `${id}:ttl`, Name: "weft endpoint health", TTL: seconds(ttl),
          Status: e.health === "healthy" || e.health === "unknown" ? "passing" : "critical",
          DeregisterCriticalServiceAfter: seconds(o.deregisterAfterMs ?? 300_000),
        },
      });
    }
  }
  return out;
}

/** Two registrations are the same for Consul's purposes (so no re-register is needed). */
export function sameRegistration(a: AgentRegistration, b: AgentRegistration): boolean {
  return a.Name === b.Name && a.Address === b.Address && a.Port === b.Port && JSON.stringify(a.Meta) === JSON.stringify(b.Meta) &&
    JSON.stringify(a.Connect ?? null) === JSON.stringify(b.Connect ?? null) && a.Check.TTL === b.Check.TTL;
}
