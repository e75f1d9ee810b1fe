/**
 * @module adapters/file/conversion
 * Istio ServiceEntry and WorkloadEntry (as files or stored resources) → registry snapshot (IR services,
 * workloads and per-port endpoints). Pure: no I/O. Endpoints come from a ServiceEntry's inline
 * `endpoints` and from the WorkloadEntries its `workloadSelector` selects in the same namespace; an
 * endpoint's port is its named port, else the service port's `targetPort`, else the service port.
 * What the IR cannot carry (DNS resolution of FQDN endpoints, `exportTo`, `subjectAltNames`) is listed
 * in the loss report instead of being dropped silently.
 */
import type { Endpoint, Locality, Protocol, Service, ServicePort, Workload } from "../../core/ir/model.ts";
import type { RegistrySnapshot, ServiceEndpoints } from "../../control/registry/registry.ts";

export interface Loss {
  object: string;
  field: string;
  reason: string;
}

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
  network?: string;
}

interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: { number: number; protocol?: string; name: string; targetPort?: number }[];
  location?: string;
  resolution?: string;
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
  subjectAltNames?: string[];
}

export interface ConversionResult {
  snapshot: RegistrySnapshot;
  losses: Loss[];
}

const PROTOCOLS: Record<string, Protocol> = {
  HTTP: "http", HTTP2: "http2", GRPC: "grpc", "GRPC-WEB": "http", TCP: "tcp", TLS: "tls", HTTPS: "tls",
  MONGO: "tcp", MYSQL: "tcp", REDIS: "tcp", UDP: "tcp",
};

export function protocolOf(p: string | undefined): Protocol {
  return PROTOCOLS[(p ?? "TCP").toUpperCase()] ?? "tcp";
}

export function parseLocality(s: string | undefined): Locality | undefined {
  if (!s) return undefined;
  const [region, zone, subzone] = s.split("/");
  return { ...(region ? { region } : {}), ...(zone ? { zone } : {}), ...(subzone ? { subzone } : {}) };
}

const identityOf = (td: string, ns: string, sa: string | undefined) => `spiffe://${td}/ns/${ns}/sa/${sa || "default"}`;

function matches(labels: Record<string, string> | undefined, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function endpointFor(we: WorkloadEntrySpec, sp: ServicePort & { name?: string }, ns: string, td: string): Endpoint | null {
  if (!we.address || we.address.startsWith("unix://")) return null;
  const port = (sp.name ? we.ports?.[sp.name] : undefined) ?? sp.targetPort ?? sp.port;
  return {
    address: we.address,
    port,
    ...(we.weight ? { weight: we.weight } : {}),
    ...(we.locality ? { locality: parseLocality(we.locality) } : {}),
    health: "healthy",
    ...(we.labels ? { labels: we.labels } : {}),
    identity: identityOf(td, ns, we.serviceAccount),
  };
}

/**
 * Converts resources (other kinds are ignored) for one trust domain.
 * @example
 * const { snapshot, losses } = registryFromIstio(objects, "cluster.local");
 */
export function registryFromIstio(objects: readonly Record<string, unknown>[], trustDomain = "cluster.local"): ConversionResult {
  const losses: Loss[] = [];
  const services: Service[] = [];
  const workloads: Workload[] = [];
  const endpoints: ServiceEndpoints[] = [];
  const workloadEntries: { meta: Meta; spec: WorkloadEntrySpec }[] = [];
  const serviceEntries: { meta: Meta; spec: ServiceEntrySpec }[] = [];
  for (const o of objects) {
    const meta = o.metadata as Meta;
    if (o.kind === "WorkloadEntry") workloadEntries.push({ meta, spec: (o.spec ?? {}) as WorkloadEntrySpec });
    if (o.kind === "ServiceEntry") serviceEntries.push({ meta, spec: (o.spec ?? {}) as ServiceEntrySpec });
  }
  for (const { meta, spec } of workloadEntries) {
    const ns = meta.namespace ?? "default";
    workloads.push({
      id: `${ns}/${meta.name}`,
      name: meta.name,
      namespace: ns,
      labels: spec.labels ?? meta.labels ?? {},
      serviceAccount: spec.serviceAccount || "default",
      identity: identityOf(trustDomain, ns, spec.serviceAccount),
      addresses: spec.address ? [spec.address] : [],
      ...(spec.ports ? { ports: spec.ports } : {}),
      ...(spec.locality ? { locality: parseLocality(spec.locality) } : {}),
      ...(spec.weight ? { weight: spec.weight } : {}),
      origin: { system: "istio", object: `WorkloadEntry/${ns}/${meta.name}` },
    });
  }
  for (const { meta, spec } of serviceEntries) {
    const ns = meta.namespace ?? "default";
    const object = `ServiceEntry/${ns}/${meta.name}`;
    const ports: (ServicePort & { name: string })[] = (spec.ports ?? []).map((p) => ({
      name: p.name, port: p.number, protocol: protocolOf(p.protocol), ...(p.targetPort ? { targetPort: p.targetPort } : {}),
    }));
    const svc: Service = {
      id: `${ns}/${meta.name}`,
      name: meta.name,
      namespace: ns,
      hosts: spec.hosts,
      ports,
      ...(spec.workloadSelector?.labels ? { selector: spec.workloadSelector.labels } : {}),
      ...(meta.labels ? { labels: meta.labels } : {}),
      origin: { system: "istio", object },
    };
    if (spec.subjectAltNames?.length) svc.identities = spec.subjectAltNames;
    services.push(svc);
    if (spec.exportTo?.length) losses.push({ object, field: "spec.exportTo", reason: "visibility scoping is not modelled yet; the service is visible mesh-wide" });
    const dns = spec.resolution === "DNS" || spec.resolution === "DNS_ROUND_ROBIN" || spec.resolution === "DYNAMIC_DNS";
    const sel = spec.workloadSelector?.labels;
    const members: WorkloadEntrySpec[] = [
      ...(spec.endpoints ?? []),
      ...(sel ? workloadEntries.filter((w) => (w.meta.namespace ?? "default") === ns && matches(w.spec.labels ?? w.meta.labels, sel)).map((w) => w.spec) : []),
    ];
    spec.endpoints?.forEach((e, i) => {
      if (e.address?.startsWith("unix://")) losses.push({ object, field: `spec.endpoints[${i}].address`, reason: "unix socket endpoints are not supported by weft's proxy" });
    });
    if (dns && members.length === 0) {
      // DNS resolution of the hosts themselves: the proxy resolves them; endpoints are the hosts.
      for (const p of ports) endpoints.push({ service: svc.id, port: p.port, endpoints: spec.hosts.filter((h) => !h.startsWith("*")).map((h) => ({ address: h, port: p.targetPort ?? p.port, health: "healthy" as const })) });
      continue;
    }
    for (const p of ports) {
      endpoints.push({ service: svc.id, port: p.port, endpoints: members.map((m) => endpointFor(m, p, ns, trustDomain)).filter((e): e is Endpoint => e !== null) });
    }
  }
  return { snapshot: { services, workloads, endpoints }, losses };
}
