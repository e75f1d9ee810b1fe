/**
 * @module adapters/istio/services
 * Istio ServiceEntry and WorkloadEntry ↔ IR services, workloads and per-port endpoints. The way in is the
 * file adapter's `registryFromIstio` (one implementation of Istio's endpoint rules), with what the
 * registry view leaves out added back onto the IR service: addresses, location, resolution, `exportTo`
 * and the exact protocol name. The way out rebuilds a ServiceEntry from a service and its endpoints (an
 * endpoint's named port only where it differs from the service's target port) and a WorkloadEntry from
 * a workload.
 */
import type { Endpoint, Service, Workload } from "../../core/ir/model.ts";
import type { ServiceEntry, WorkloadEntry } from "../../core/resources/istio/service-entry.ts";
import type { ServiceEndpoints } from "../../control/registry/registry.ts";
import { registryFromIstio } from "../file/conversion.ts";
import type { Loss } from "./loss.ts";
import { compact, nameOf, protocolFromIstio, protocolToIstio, safeName, type IstioOptions } from "./names.ts";

type Obj = Record<string, unknown>;

export interface RegistryPart {
  services: Service[];
  workloads: Workload[];
  endpoints: ServiceEndpoints[];
}

const RESOLUTION: Record<string, NonNullable<Service["resolution"]>> = {
  NONE: "none", STATIC: "static", DNS: "dns", DNS_ROUND_ROBIN: "dns-round-robin", DYNAMIC_DNS: "dynamic-dns",
};

/**
 * ServiceEntries and WorkloadEntries (schema-valid; other kinds ignored) → IR registry objects.
 * @example
 * const { value, losses } = serviceEntriesToIr([se, we1, we2]);
 */
export function serviceEntriesToIr(objects: readonly (ServiceEntry | WorkloadEntry)[], options: IstioOptions = {}): { value: RegistryPart; losses: Loss[] } {
  const defaultNs = options.defaultNamespace ?? "default";
  const withNs = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? defaultNs } }));
  const { snapshot, losses: registryLosses } = registryFromIstio(withNs as unknown as Record<string, unknown>[], options.trustDomain ?? "cluster.local");
  const losses: Loss[] = [...registryLosses];
  const carried = new Set<string>();
  for (const svc of snapshot.services) {
    const se = withNs.find((o) => o.kind === "ServiceEntry" && `${o.metadata.namespace}/${o.metadata.name}` === svc.id) as ServiceEntry | undefined;
    if (!se) continue;
    const spec = se.spec;
    const object = `ServiceEntry/${svc.id}`;
    if (spec.addresses?.length) svc.addresses = [...spec.addresses];
    if (spec.location === "MESH_EXTERNAL") svc.external = true;
    svc.resolution = RESOLUTION[spec.resolution ?? "NONE"];
    if (spec.exportTo?.length) {
      svc.exportTo = [...spec.exportTo];
      carried.add(`${object}|spec.exportTo`);
    }
    svc.ports = svc.ports.map((p, i) => {
      const src = spec.ports?.[i];
      if (!src?.protocol) {
        losses.push({ object, field: `spec.ports[${i}].protocol`, reason: "no protocol: Istio detects it per connection; weft treats the port as TCP", kind: "approximated" });
        return p;
      }
      const { protocolName } = protocolFromIstio(src.protocol);
      return protocolName ? { ...p, protocolName } : p;
    });
    svc.origin = { system: "istio", object };
  }
  for (const ep of snapshot.endpoints) {
    const se = withNs.find((o) => o.kind === "ServiceEntry" && `${o.metadata.namespace}/${o.metadata.name}` === ep.service) as ServiceEntry | undefined;
    const inline = se?.spec.endpoints ?? [];
    for (const e of ep.endpoints) {
      const src = inline.find((s) => s.address === e.address);
      if (src?.network) e.network = src.network;
    }
  }
  for (const w of snapshot.workloads) {
    const we = withNs.find((o) => o.kind === "WorkloadEntry" && `${o.metadata.namespace}/${o.metadata.name}` === w.id) as WorkloadEntry | undefined;
    if (we?.spec.network) w.network = we.spec.network;
  }
  return { value: snapshot, losses: losses.filter((l) => !carried.has(`${l.object}|${l.field}`)) };
}

const saOf = (identity: string | undefined) => /\/sa\/([^/]+)$/.exec(identity ?? "")?.[1];

function localityString(l: Endpoint["locality"]): string | undefined {
  if (!l) return undefined;
  const parts = [l.region ?? "", l.zone ?? "", l.subzone ?? ""];
  while (parts.length && parts[parts.length - 1] === "") parts.pop();
  return parts.length ? parts.join("/") : undefined;
}

/** Rebuilds inline endpoints (one per address) from per-port endpoint lists. */
function inlineEndpoints(svc: Service, eps: ServiceEndpoints[]): Obj[] {
  const byAddress = new Map<string, { e: Endpoint; ports: Record<string, number> }>();
  for (const p of svc.ports) {
    const list = eps.find((x) => x.port === p.port)?.endpoints ?? [];
    for (const e of list) {
      const entry = byAddress.get(e.address) ?? { e, ports: {} };
      if (p.name && e.port !== (p.targetPort ?? p.port)) entry.ports[p.name] = e.port;
      byAddress.set(e.address, entry);
    }
  }
  return [...byAddress.values()].map(({ e, ports }) => {
    const sa = saOf(e.identity);
    return compact({
      address: e.address,
      ports: Object.keys(ports).length ? ports : undefined,
      labels: e.labels && Object.keys(e.labels).length ? e.labels : undefined,
      network: e.network,
      locality: localityString(e.locality),
      weight: e.weight,
      serviceAccount: sa && sa !== "default" ? sa : undefined,
    });
  });
}

/** IR service (+ its endpoints) → ServiceEntry. */
export function serviceToIstio(svc: Service, endpoints: ServiceEndpoints[], options: IstioOptions = {}): { value: Obj; losses: Loss[] } {
  const losses: Loss[] = [];
  const object = svc.origin?.object ?? `Service/${svc.id}`;
  const { namespace, name } = nameOf(svc.id, svc.origin, "ServiceEntry", options.defaultNamespace);
  const resolution = (Object.entries(RESOLUTION).find(([, v]) => v === (svc.resolution ?? (endpoints.some((e) => e.endpoints.length) ? "static" : "none")))?.[0]) ?? "NONE";
  const mine = endpoints.filter((e) => e.service === svc.id);
  let inline: Obj[] | undefined;
  const dnsHostsOnly = (resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && mine.every((e) => e.endpoints.every((x) => svc.hosts.includes(x.address)));
  if (!svc.selector && !dnsHostsOnly && resolution !== "NONE") inline = inlineEndpoints(svc, mine);
  if (resolution === "NONE" && mine.some((e) => e.endpoints.length)) losses.push({ object, field: "endpoints", reason: "a service without resolution cannot list endpoints in Istio; they are left out" });
  svc.ports.forEach((p, i) => {
    if (!p.name) losses.push({ object, field: `ports[${i}].name`, reason: `Istio needs port names; "${p.protocol}-${p.port}" is used`, kind: "approximated" });
  });
  const spec = compact({
    hosts: svc.hosts,
    addresses: svc.addresses?.length ? svc.addresses : undefined,
    ports: svc.ports.map((p) => compact({ number: p.port, protocol: protocolToIstio(p.protocol, p.protocolName), name: p.name ?? `${p.protocol}-${p.port}`, targetPort: p.targetPort })),
    location: svc.external ? "MESH_EXTERNAL" : "MESH_INTERNAL",
    resolution,
    endpoints: inline?.length ? inline : undefined,
    workloadSelector: svc.selector && Object.keys(svc.selector).length ? { labels: svc.selector } : undefined,
    exportTo: svc.exportTo?.length ? svc.exportTo : undefined,
    subjectAltNames: svc.identities?.length ? svc.identities : undefined,
  });
  return {
    value: { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: compact({ name: safeName(name), namespace, labels: svc.labels && Object.keys(svc.labels).length ? svc.labels : undefined }), spec },
    losses,
  };
}

/** IR workload → WorkloadEntry. */
export function workloadToIstio(w: Workload, options: IstioOptions = {}): { value: Obj; losses: Loss[] } {
  const losses: Loss[] = [];
  const object = w.origin?.object ?? `Workload/${w.id}`;
  const { namespace, name } = nameOf(w.id, w.origin, "WorkloadEntry", options.defaultNamespace);
  if (w.addresses.length > 1) losses.push({ object, field: "addresses", reason: "a WorkloadEntry has one address; the first is kept" });
  const sa = saOf(w.identity) ?? w.serviceAccount;
  const spec = compact({
    address: w.addresses[0],
    ports: w.ports && Object.keys(w.ports).length ? w.ports : undefined,
    labels: Object.keys(w.labels).length ? w.labels : undefined,
    network: w.network,
    locality: localityString(w.locality),
    weight: w.weight,
    serviceAccount: sa && sa !== "default" ? sa : undefined,
  });
  return { value: { apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry", metadata: { name: safeName(name), namespace }, spec }, losses };
}
