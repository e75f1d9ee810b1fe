/**
 * @module proxy/mesh-telemetry
 * The proxy's side of weft's telemetry (adapters/telemetry), for every host: who talks to whom. It
 * builds the `MeshContext` of a request from the proxy's `workload:` section, the listener's traffic
 * direction (inbound → `reporter="destination"`, outbound → `reporter="source"`), the cluster's
 * service metadata (service host, expected SPIFFE identity, endpoint labels) and, inbound, the peer's
 * SPIFFE ID and whether the connection is mTLS. Contexts and their interned `PeerMetrics` are cached
 * per cluster (and per peer principal), so a request pays two small map lookups, not a label build.
 * It also says which per-request work the settings need (trace propagation, a full record for the
 * access log or a span, audit), so hosts skip the rest. Runtime-neutral.
 */
import type { Cluster } from "../core/ir/model.ts";
import { tryClassifyIdentity } from "../core/identity/mesh-forms.ts";
import { createTelemetry, type IstioMetrics, type MeshContext, type PeerMetrics, type Telemetry, type TelemetryHost, type WorkloadInfo } from "../adapters/telemetry/index.ts";
import type { ProxyConfig, ProxyTelemetryConfig, WorkloadConfig } from "./config/types.ts";

/** A mesh context with its metrics (undefined when metrics are off). */
export interface MeshPeer {
  readonly mesh: MeshContext;
  readonly metrics: PeerMetrics | undefined;
}

export interface ProxyTelemetry {
  readonly telemetry: Telemetry;
  readonly config: ProxyTelemetryConfig;
  readonly workload: WorkloadConfig;
  /** Trace headers are read and written (a `tracing:` section with propagation). */
  readonly tracing: boolean;
  /** Header names the proxy replaces on the upstream request when the downstream sent any of them. */
  readonly replacedHeaders: readonly string[];
  /** Access log configured: every request needs a full `RequestRecord`. */
  readonly accessLog: boolean;
  /** Spans are exported (sampled requests need a full record). */
  readonly exporting: boolean;
  readonly audit: boolean;
  /** The context of an inbound request (this workload is the destination). */
  inbound(cluster: Cluster | undefined, principal: string | undefined, mtls: boolean): MeshPeer;
  /** The context of an outbound request (this workload is the source). */
  outbound(cluster: Cluster | undefined): MeshPeer;
}

const NO_CLUSTER: Cluster = { name: "", protocol: "http", lb: { kind: "round-robin" }, endpoints: [], tls: { mode: "disable" } };

/** `outbound|9080|v1|reviews.default.svc.cluster.local` / `inbound|9080||reviews...` → the host part. */
export function serviceOfClusterName(name: string): string | undefined {
  const parts = name.split("|");
  return parts.length === 4 && (parts[0] === "outbound" || parts[0] === "inbound") && parts[3] !== "" ? parts[3] : undefined;
}

/** Service name and namespace from a Kubernetes-style FQDN (`name.ns.svc.cluster.local`). */
function serviceInfo(host: string | undefined): MeshContext["service"] {
  if (host === undefined) return {};
  const parts = host.split(".");
  return { host, name: parts[0], ...(parts.length >= 3 && parts[2] === "svc" ? { namespace: parts[1] } : {}) };
}

/** What a SPIFFE ID says about a workload: its namespace (Istio and Consul forms) and Consul service. */
export function workloadOfPrincipal(principal: string | undefined): WorkloadInfo {
  if (principal === undefined) return {};
  const c = tryClassifyIdentity(principal);
  if (c?.kind === "istio") return { principal, namespace: c.workload.namespace };
  if (c?.kind === "consul") return { principal, namespace: c.consul.namespace, workload: c.consul.service, app: c.consul.service };
  return { principal };
}

function self(w: WorkloadConfig): WorkloadInfo {
  const out: WorkloadInfo = {};
  if (w.name !== undefined) out.workload = w.name;
  if (w.namespace !== undefined) out.namespace = w.namespace;
  if (w.principal !== undefined) out.principal = w.principal;
  if (w.app !== undefined) out.app = w.app;
  if (w.version !== undefined) out.version = w.version;
  if (w.canonicalService !== undefined) out.canonicalService = w.canonicalService;
  if (w.canonicalRevision !== undefined) out.canonicalRevision = w.canonicalRevision;
  if (w.cluster !== undefined) out.cluster = w.cluster;
  if (out.namespace === undefined && w.principal !== undefined) {
    const ns = workloadOfPrincipal(w.principal).namespace;
    if (ns !== undefined) out.namespace = ns;
  }
  return out;
}

/** A label every endpoint of the cluster carries with one value (or the subset's), else undefined. */
function commonLabel(c: Cluster, key: string): string | undefined {
  const fromSubset = c.subset?.labels[key];
  if (fromSubset !== undefined) return fromSubset;
  let v: string | undefined;
  for (const e of c.endpoints) {
    const x = e.labels?.[key];
    if (x === undefined || (v !== undefined && v !== x)) return undefined;
    v = x;
  }
  return v;
}

/** The destination of an outbound request: the cluster's service, identity and endpoint labels. */
export function destinationOfCluster(c: Cluster): { workload: WorkloadInfo; service: MeshContext["service"] } {
  const service = serviceInfo(c.service ?? serviceOfClusterName(c.name));
  const ids = c.tls.mode === "mutual" ? c.tls.expectedIdentities : [];
  const w: WorkloadInfo = ids.length === 1 ? workloadOfPrincipal(ids[0]) : {};
  const app = commonLabel(c, "app") ?? commonLabel(c, "app.kubernetes.io/name");
  const version = commonLabel(c, "version") ?? commonLabel(c, "app.kubernetes.io/version");
  const canonical = commonLabel(c, "service.istio.io/canonical-name");
  const revision = commonLabel(c, "service.istio.io/canonical-revision");
  const workload = commonLabel(c, "weft.io/workload");
  if (app !== undefined) w.app = app;
  if (version !== undefined) w.version = version;
  if (canonical !== undefined) w.canonicalService = canonical;
  if (revision !== undefined) w.canonicalRevision = revision;
  if (workload !== undefined) w.workload = workload;
  if (w.namespace === undefined && service.namespace !== undefined) w.namespace = service.namespace;
  return { workload: w, service };
}

/**
 * Builds the proxy's telemetry from its config, or undefined when the config has no `telemetry:`.
 * @example
 * const t = createProxyTelemetry(config, { write: (l) => out.write(l + "\n"), service: { name: "reviews" } });
 * const p = t?.inbound(cluster.config, conn.principal, true);
 * p?.metrics?.record(false, 200, -1, "", 3.2, 0, 512);
 */
export function createProxyTelemetry(config: ProxyConfig, host: Omit<TelemetryHost, "service" | "otlpUrl" | "b3Style" | "extendedLabels" | "accessLogFormat"> & { metrics?: IstioMetrics }): ProxyTelemetry | undefined {
  const tc = config.telemetry;
  if (tc === undefined) return undefined;
  const workload = config.workload ?? {};
  const me = self(workload);
  const serviceName = tc.serviceName ?? workload.canonicalService ?? workload.app ?? workload.name ?? "weft-proxy";
  const telemetry = createTelemetry(tc.settings, {
    ...host,
    service: { name: serviceName, ...(me.namespace ? { namespace: me.namespace } : {}), ...(me.version ? { version: me.version } : {}) },
    ...(tc.otlpEndpoint ? { otlpUrl: tc.otlpEndpoint } : {}),
    ...(tc.b3Style ? { b3Style: tc.b3Style } : {}),
    extendedLabels: tc.extendedLabels,
    ...(tc.accessLogFormat ? { accessLogFormat: tc.accessLogFormat } : {}),
  });
  const metrics = telemetry.metrics;
  const make = (mesh: MeshContext): MeshPeer => ({ mesh, metrics: metrics?.peer(mesh) });

  const plainIn = new WeakMap<Cluster, MeshPeer>();
  const mtlsIn = new WeakMap<Cluster, Map<string, MeshPeer>>();
  const out = new WeakMap<Cluster, MeshPeer>();
  const localService = serviceInfo(workload.service);

  function inboundMesh(c: Cluster, principal: string | undefined, mtls: boolean): MeshContext {
    const host = c === NO_CLUSTER ? undefined : (c.service ?? serviceOfClusterName(c.name));
    return {
      reporter: "destination",
      source: workloadOfPrincipal(principal),
      destination: me,
      service: host !== undefined ? serviceInfo(host) : localService,
      securityPolicy: mtls ? "mutual_tls" : "none",
    };
  }

  const propagation = telemetry.propagation;
  const replaced: string[] = [];
  if (propagation.includes("w3c")) replaced.push("traceparent", "tracestate");
  if (propagation.includes("b3") || propagation.includes("b3-single")) replaced.push("b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags");
  if (telemetry.auditor) replaced.push(telemetry.auditor.chainHeader);

  return {
    telemetry,
    config: tc,
    workload,
    tracing: propagation.length > 0,
    replacedHeaders: replaced,
    accessLog: telemetry.accessLog !== undefined,
    exporting: telemetry.exporter !== undefined,
    audit: telemetry.auditor !== undefined,
    inbound(cluster, principal, mtls) {
      const c = cluster ?? NO_CLUSTER;
      if (!mtls) {
        let p = plainIn.get(c);
        if (p === undefined) plainIn.set(c, (p = make(inboundMesh(c, undefined, false))));
        return p;
      }
      let byPeer = mtlsIn.get(c);
      if (byPeer === undefined) mtlsIn.set(c, (byPeer = new Map()));
      const key = principal ?? "";
      let p = byPeer.get(key);
      if (p === undefined) {
        // A bounded cache: peers beyond it are still recorded (metrics intern by labels), just not cached.
        p = make(inboundMesh(c, principal, true));
        if (byPeer.size < 1024) byPeer.set(key, p);
      }
      return p;
    },
    outbound(cluster) {
      const c = cluster ?? NO_CLUSTER;
      let p = out.get(c);
      if (p === undefined) {
        const d = c === NO_CLUSTER ? { workload: {}, service: {} } : destinationOfCluster(c);
        out.set(c, (p = make({ reporter: "source", source: me, destination: d.workload, service: d.service, securityPolicy: "unknown" })));
      }
      return p;
    },
  };
}
