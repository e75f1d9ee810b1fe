/**
 * @module adapters/kubernetes/conversion
 * Kubernetes Services, EndpointSlices (discovery.k8s.io/v1), Pods and Nodes → registry snapshot (IR
 * services, workloads and per-port endpoints). Pure: no I/O. A Service answers on
 * `<name>.<namespace>.svc.<clusterDomain>`; a port's protocol comes from `appProtocol`, else from the
 * port name's prefix (`http-web`, `grpc`), Istio's conventions. Endpoints come from the Service's
 * EndpointSlices, matched by port name; health from the endpoint's ready/serving/terminating conditions;
 * locality from the endpoint's zone and its Node's topology labels; identity from the Pod's service
 * account (`spiffe://<td>/ns/<ns>/sa/<sa>`). What the IR cannot carry (UDP/SCTP ports, topology hints,
 * undeclared protocols Istio would sniff) is listed as a loss, never dropped silently.
 */
import type { Endpoint, HealthStatus, Locality, Protocol, Service, ServicePort, Workload } from "../../core/ir/model.ts";
import type { RegistrySnapshot, ServiceEndpoints } from "../../control/registry/registry.ts";
import type { KubeObject } from "./api.ts";

export interface Loss {
  object: string;
  field: string;
  reason: string;
}

export interface KubernetesObjects {
  services: readonly KubeObject[];
  endpointSlices: readonly KubeObject[];
  pods: readonly KubeObject[];
  nodes?: readonly KubeObject[];
}

export interface ConversionOptions {
  /** SPIFFE trust domain of pod identities (default `cluster.local`). */
  trustDomain?: string;
  /** DNS suffix of service names (default `cluster.local`). */
  clusterDomain?: string;
}

export interface ConversionResult {
  snapshot: RegistrySnapshot;
  losses: Loss[];
}

interface K8sServicePort { name?: string; port: number; targetPort?: number | string; protocol?: string; appProtocol?: string }
interface K8sService { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: K8sServicePort[]; selector?: Record<string, string>; externalName?: string }
interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  targetRef?: { kind?: string; name?: string; namespace?: string };
  nodeName?: string;
  zone?: string;
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
}
interface SlicePort { name?: string | null; port?: number | null; protocol?: string; appProtocol?: string }
interface PodSpec { serviceAccountName?: string; serviceAccount?: string; nodeName?: string; containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[] }
interface PodStatus { phase?: string; podIP?: string; podIPs?: { ip: string }[] }

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const ZONE_LABELS = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];
const REGION_LABELS = ["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"];
const SUBZONE_LABEL = "topology.istio.io/subzone";
const NETWORK_LABEL = "topology.istio.io/network";

/** Istio protocol names (port-name prefixes and appProtocol values) → IR protocol, with the name kept when it says more. */
const NAMED: Record<string, { protocol: Protocol; keep?: string }> = {
  http: { protocol: "http" }, http2: { protocol: "http2" }, grpc: { protocol: "grpc" }, "grpc-web": { protocol: "http", keep: "GRPC-WEB" },
  https: { protocol: "tls", keep: "HTTPS" }, tls: { protocol: "tls" }, tcp: { protocol: "tcp" },
  mongo: { protocol: "tcp", keep: "MONGO" }, mysql: { protocol: "tcp", keep: "MYSQL" }, redis: { protocol: "tcp", keep: "REDIS" },
  h2c: { protocol: "http2" }, "kubernetes.io/h2c": { protocol: "http2" }, "kubernetes.io/ws": { protocol: "websocket" },
  "kubernetes.io/wss": { protocol: "tls", keep: "HTTPS" },
};

/**
 * The protocol of a service port: `appProtocol` first, then the name's prefix before `-` (Istio's
 * convention); `undefined` when neither declares one (Istio would sniff the traffic).
 * @example portProtocol({ name: "http-web", port: 80 }) // { protocol: "http" }
 */
export function portProtocol(p: { name?: string | null; appProtocol?: string }): { protocol: Protocol; protocolName?: string } | undefined {
  const candidates: string[] = [];
  if (p.appProtocol) candidates.push(p.appProtocol.toLowerCase());
  if (p.name) {
    const name = p.name.toLowerCase();
    candidates.push(name.startsWith("grpc-web") ? "grpc-web" : name.split("-")[0]!);
  }
  for (const c of candidates) {
    const hit = NAMED[c];
    if (hit) return { protocol: hit.protocol, ...(hit.keep ? { protocolName: hit.keep } : {}) };
  }
  return undefined;
}

/**
 * Endpoint health from EndpointSlice conditions. `ready` unset counts as ready and `serving` unset as
 * `ready` (the API's rules); a terminating endpoint that still serves is draining.
 */
export function endpointHealth(c: SliceEndpoint["conditions"] = {}): HealthStatus {
  const ready = c.ready ?? true;
  const serving = c.serving ?? ready;
  if (c.terminating) return serving ? "draining" : "unhealthy";
  return ready ? "healthy" : "unhealthy";
}

const meta = (o: KubeObject) => ({ name: o.metadata?.name ?? "", namespace: o.metadata?.namespace || "default", labels: o.metadata?.labels });
const identityOf = (td: string, ns: string, sa: string | undefined) => `spiffe://${td}/ns/${ns}/sa/${sa || "default"}`;
const firstLabel = (labels: Record<string, string> | undefined, keys: string[]) => keys.map((k) => labels?.[k]).find((v) => v);
const RANK: Record<HealthStatus, number> = { healthy: 3, draining: 2, unknown: 1, unhealthy: 0 };

function localityOf(zone: string | undefined, node: KubeObject | undefined): Locality | undefined {
  const labels = node?.metadata?.labels;
  const region = firstLabel(labels, REGION_LABELS);
  const z = zone || firstLabel(labels, ZONE_LABELS);
  const subzone = labels?.[SUBZONE_LABEL];
  if (!region && !z && !subzone) return undefined;
  return { ...(region ? { region } : {}), ...(z ? { zone: z } : {}), ...(subzone ? { subzone } : {}) };
}

function podIps(status: PodStatus | undefined): string[] {
  const ips = (status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
  if (ips.length === 0 && status?.podIP) ips.push(status.podIP);
  return ips;
}

function convertService(o: KubeObject, clusterDomain: string, losses: Loss[]): Service {
  const { name, namespace, labels } = meta(o);
  const spec = (o.spec ?? {}) as K8sService;
  const object = `Service/${namespace}/${name}`;
  const ports: ServicePort[] = [];
  (spec.ports ?? []).forEach((p, i) => {
    const proto = (p.protocol ?? "TCP").toUpperCase();
    if (proto !== "TCP") {
      losses.push({ object, field: `spec.ports[${i}].protocol`, reason: `${proto} ports are not proxied by weft; port ${p.port} is left out` });
      return;
    }
    const detected = portProtocol(p);
    if (!detected) losses.push({ object, field: `spec.ports[${i}]`, reason: `no protocol declared (name "${p.name ?? ""}", no appProtocol); Istio would sniff it, weft treats port ${p.port} as TCP` });
    ports.push({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
      protocol: detected?.protocol ?? "tcp",
      ...(detected?.protocolName ? { protocolName: detected.protocolName } : {}),
      ...(typeof p.targetPort === "number" && p.targetPort !== p.port ? { targetPort: p.targetPort } : {}),
    });
  });
  const external = spec.type === "ExternalName";
  const addresses = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((a) => a && a !== "None");
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    hosts: [`${name}.${namespace}.svc.${clusterDomain}`],
    ports,
    ...(spec.selector && Object.keys(spec.selector).length ? { selector: spec.selector } : {}),
    ...(labels && Object.keys(labels).length ? { labels } : {}),
    ...(addresses.length ? { addresses } : {}),
    ...(external ? { external: true, resolution: "dns" as const } : { resolution: "static" as const }),
    origin: { system: "kubernetes", object },
  };
}

function convertPod(o: KubeObject, td: string, nodes: Map<string, KubeObject>): Workload | null {
  const { name, namespace, labels } = meta(o);
  const spec = (o.spec ?? {}) as PodSpec;
  const status = (o.status ?? {}) as PodStatus;
  if (status.phase === "Succeeded" || status.phase === "Failed") return null;
  const sa = spec.serviceAccountName || spec.serviceAccount || "default";
  const ports: Record<string, number> = {};
  for (const c of spec.containers ?? []) for (const p of c.ports ?? []) if (p.name) ports[p.name] = p.containerPort;
  const locality = localityOf(undefined, spec.nodeName ? nodes.get(spec.nodeName) : undefined);
  const network = labels?.[NETWORK_LABEL];
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    labels: labels ?? {},
    serviceAccount: sa,
    identity: identityOf(td, namespace, sa),
    addresses: podIps(status),
    ...(Object.keys(ports).length ? { ports } : {}),
    ...(locality ? { locality } : {}),
    ...(network ? { network } : {}),
    origin: { system: "kubernetes", object: `Pod/${namespace}/${name}` },
  };
}

/**
 * Converts one consistent view of a cluster (or of some namespaces).
 * @example
 * const { snapshot, losses } = registryFromKubernetes({ services, endpointSlices, pods, nodes }, { trustDomain: "cluster.local" });
 */
export function registryFromKubernetes(objects: KubernetesObjects, options: ConversionOptions = {}): ConversionResult {
  const td = options.trustDomain ?? "cluster.local";
  const clusterDomain = options.clusterDomain ?? "cluster.local";
  const losses: Loss[] = [];
  const nodes = new Map((objects.nodes ?? []).map((n) => [n.metadata?.name ?? "", n]));
  const pods = new Map(objects.pods.map((p) => [`${meta(p).namespace}/${meta(p).name}`, p]));
  const slicesByService = new Map<string, KubeObject[]>();
  for (const s of objects.endpointSlices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${meta(s).namespace}/${svc}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), s]);
    const eps = (s.endpoints ?? []) as SliceEndpoint[];
    const hinted = eps.findIndex((e) => e.hints?.forZones?.length || e.hints?.forNodes?.length);
    if (hinted >= 0) losses.push({ object: `EndpointSlice/${meta(s).namespace}/${meta(s).name}`, field: `endpoints[${hinted}].hints`, reason: "topology-aware routing hints are not modelled; weft prefers endpoints by locality instead" });
  }

  const services: Service[] = [];
  const endpoints: ServiceEndpoints[] = [];
  for (const o of objects.services) {
    const svc = convertService(o, clusterDomain, losses);
    services.push(svc);
    const spec = (o.spec ?? {}) as K8sService;
    if (spec.type === "ExternalName") {
      for (const p of svc.ports) endpoints.push({ service: svc.id, port: p.port, endpoints: spec.externalName ? [{ address: spec.externalName, port: p.targetPort ?? p.port, health: "healthy" }] : [] });
      continue;
    }
    const slices = slicesByService.get(svc.id) ?? [];
    for (const sp of svc.ports) {
      const byAddr = new Map<string, Endpoint>();
      for (const slice of slices) {
        const port = ((slice.ports ?? []) as SlicePort[]).find((p) => (p.name ?? "") === (sp.name ?? "") && (p.protocol ?? "TCP") === "TCP");
        if (!port || typeof port.port !== "number") continue;
        for (const e of (slice.endpoints ?? []) as SliceEndpoint[]) {
          const address = e.addresses?.[0];
          if (!address) continue;
          const pod = e.targetRef?.kind === "Pod" && e.targetRef.name ? pods.get(`${e.targetRef.namespace || svc.namespace}/${e.targetRef.name}`) : undefined;
          const podSpec = (pod?.spec ?? {}) as PodSpec;
          const nodeName = e.nodeName ?? podSpec.nodeName;
          const locality = localityOf(e.zone, nodeName ? nodes.get(nodeName) : undefined);
          const labels = pod?.metadata?.labels;
          const network = labels?.[NETWORK_LABEL];
          const ep: Endpoint = {
            address,
            port: port.port,
            health: endpointHealth(e.conditions),
            ...(locality ? { locality } : {}),
            ...(labels && Object.keys(labels).length ? { labels } : {}),
            ...(pod ? { identity: identityOf(td, svc.namespace, podSpec.serviceAccountName || podSpec.serviceAccount) } : {}),
            ...(network ? { network } : {}),
          };
          // The same endpoint can sit in two slices while the controller moves it: keep the healthiest.
          const k = `${address}:${port.port}`;
          const prev = byAddr.get(k);
          if (!prev || RANK[ep.health] > RANK[prev.health]) byAddr.set(k, ep);
        }
      }
      endpoints.push({ service: svc.id, port: sp.port, endpoints: [...byAddr.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port)) });
    }
  }

  const workloads = objects.pods.map((p) => convertPod(p, td, nodes)).filter((w): w is Workload => w !== null);
  services.sort((a, b) => (a.id < b.id ? -1 : 1));
  workloads.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { snapshot: { services, workloads, endpoints }, losses };
}
