/**
 * @module adapters/istio/clusters
 * Istio DestinationRule → IR clusters, one per (subset, port) the rule distinguishes, each holding the
 * *effective* policy as Istio's `MergeSubsetTrafficPolicy` computes it: a subset's `connectionPool`,
 * `loadBalancer`, `outlierDetection` and `tls` replace the rule's; port-level settings replace all four
 * (omitted ones fall back to defaults, not to the rule's). Names follow Istio, with an empty port for
 * "every other port": `outbound||v1|reviews.bookinfo.svc.cluster.local`. Defaults are explicit: no load
 * balancer is LEAST_REQUEST, outlier detection fills Envoy's values (5 consecutive 5xx, 10s interval, 30s
 * ejection, 10%, panic threshold 0), no `tls` is Istio's auto mTLS, `ISTIO_MUTUAL` verifies the
 * service's workload identities and sends the cluster name as SNI.
 */
import type { CircuitBreakers, Cluster, ConnectionSettings, HashPolicy, LoadBalancer, OutlierDetection, UpstreamTls } from "../../core/ir/model.ts";
import type { DestinationRule } from "../../core/resources/istio/destination-rule.ts";
import { createLossSink, type Loss, type LossSink } from "./loss.ts";
import { clusterName, fqdn, ms, objectRef, type IstioOptions } from "./names.ts";

type TrafficPolicy = NonNullable<DestinationRule["spec"]["trafficPolicy"]>;
type Lb = NonNullable<TrafficPolicy["loadBalancer"]>;
type Pool = NonNullable<TrafficPolicy["connectionPool"]>;
type Outlier = NonNullable<TrafficPolicy["outlierDetection"]>;
type Tls = NonNullable<TrafficPolicy["tls"]>;

/** The four fields a port-level setting replaces, plus the rule-level extras. */
interface Effective {
  loadBalancer?: Lb | null;
  connectionPool?: Pool | null;
  outlierDetection?: Outlier | null;
  tls?: Tls | null;
}

export const ISTIO_OUTLIER_DEFAULTS = { consecutive5xx: 5, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 };
export const ISTIO_RING_SIZE = 1024;
export const ISTIO_MAGLEV_TABLE = 65537;

export function lbToIr(lb: Lb | null | undefined, at: string, loss: LossSink): { lb: LoadBalancer; hashPolicy?: HashPolicy[] } {
  if (lb?.localityLbSetting) loss.lost(`${at}.localityLbSetting`, "locality-weighted distribution and failover are not carried by the IR yet");
  if (lb?.warmupDurationSecs || lb?.warmup) loss.lost(`${at}.warmup`, "slow-start warmup is not carried by the IR");
  const ch = lb?.consistentHash;
  if (ch) {
    const hashPolicy: HashPolicy[] = [];
    if (ch.httpHeaderName) hashPolicy.push({ header: ch.httpHeaderName });
    if (ch.httpCookie) {
      hashPolicy.push({ cookie: ch.httpCookie.name, ...(ch.httpCookie.ttl ? { ttlMs: ms(ch.httpCookie.ttl)! } : {}), ...(ch.httpCookie.path ? { path: ch.httpCookie.path } : {}) });
      if (ch.httpCookie.attributes?.length) loss.lost(`${at}.consistentHash.httpCookie.attributes`, "cookie attributes are not carried by the IR");
    }
    if (ch.useSourceIp) hashPolicy.push({ sourceIp: true });
    if (ch.httpQueryParameterName) hashPolicy.push({ queryParam: ch.httpQueryParameterName });
    const out: LoadBalancer = ch.maglev ? { kind: "maglev", tableSize: ch.maglev.tableSize ?? ISTIO_MAGLEV_TABLE } : { kind: "ring-hash", minRingSize: ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? ISTIO_RING_SIZE };
    return { lb: out, hashPolicy };
  }
  switch (lb?.simple) {
    case "ROUND_ROBIN": return { lb: { kind: "round-robin" } };
    case "RANDOM": return { lb: { kind: "random" } };
    case "PASSTHROUGH":
      loss.lost(`${at}.simple`, "PASSTHROUGH (forward to the original destination address) is not carried by the IR; least-request is used");
      return { lb: { kind: "least-request" } };
    default: return { lb: { kind: "least-request" } };
  }
}

function poolToIr(p: Pool | null | undefined): { circuitBreakers?: CircuitBreakers; connection?: ConnectionSettings } {
  if (!p) return {};
  const cb: CircuitBreakers = {};
  const cs: ConnectionSettings = {};
  const t = p.tcp;
  const h = p.http;
  if (t?.maxConnections) cb.maxConnections = t.maxConnections;
  if (t?.connectTimeout) cb.connectTimeoutMs = ms(t.connectTimeout)!;
  if (t?.idleTimeout) cs.tcpIdleTimeoutMs = ms(t.idleTimeout)!;
  if (t?.maxConnectionDuration) cs.maxConnectionDurationMs = ms(t.maxConnectionDuration)!;
  if (t?.tcpKeepalive) {
    const k = t.tcpKeepalive;
    cs.tcpKeepalive = { ...(k.probes ? { probes: k.probes } : {}), ...(k.time ? { timeMs: ms(k.time)! } : {}), ...(k.interval ? { intervalMs: ms(k.interval)! } : {}) };
  }
  if (h?.http1MaxPendingRequests) cb.maxPendingRequests = h.http1MaxPendingRequests;
  if (h?.http2MaxRequests) cb.maxRequests = h.http2MaxRequests;
  if (h?.maxRequestsPerConnection) cb.maxRequestsPerConnection = h.maxRequestsPerConnection;
  if (h?.maxRetries) cb.maxRetries = h.maxRetries;
  if (h?.idleTimeout) cs.idleTimeoutMs = ms(h.idleTimeout)!;
  if (h?.h2UpgradePolicy === "UPGRADE") cs.h2Upgrade = "upgrade";
  if (h?.h2UpgradePolicy === "DO_NOT_UPGRADE") cs.h2Upgrade = "do-not-upgrade";
  if (h?.useClientProtocol) cs.useClientProtocol = true;
  if (h?.maxConcurrentStreams) cs.maxConcurrentStreams = h.maxConcurrentStreams;
  return { ...(Object.keys(cb).length ? { circuitBreakers: cb } : {}), ...(Object.keys(cs).length ? { connection: cs } : {}) };
}

export function outlierToIr(o: Outlier | null | undefined, at: string, loss: LossSink): OutlierDetection | undefined {
  if (!o) return undefined;
  if (o.consecutiveErrors) loss.lost(`${at}.consecutiveErrors`, "deprecated and ignored by Istio; use consecutive5xxErrors or consecutiveGatewayErrors");
  const out: OutlierDetection = {
    consecutive5xx: o.consecutive5xxErrors ?? ISTIO_OUTLIER_DEFAULTS.consecutive5xx,
    intervalMs: ms(o.interval) ?? ISTIO_OUTLIER_DEFAULTS.intervalMs,
    baseEjectionMs: ms(o.baseEjectionTime) ?? ISTIO_OUTLIER_DEFAULTS.baseEjectionMs,
    maxEjectionPercent: o.maxEjectionPercent || ISTIO_OUTLIER_DEFAULTS.maxEjectionPercent,
    minHealthPercent: o.minHealthPercent ?? ISTIO_OUTLIER_DEFAULTS.minHealthPercent,
  };
  if (o.consecutiveGatewayErrors !== undefined && o.consecutiveGatewayErrors !== null) out.consecutiveGatewayErrors = o.consecutiveGatewayErrors;
  if (o.splitExternalLocalOriginErrors) {
    out.splitExternalLocalOriginErrors = true;
    if (o.consecutiveLocalOriginFailures) out.consecutiveLocalOriginFailures = o.consecutiveLocalOriginFailures;
  }
  return out;
}

/** Identities of a service's workloads, for ISTIO_MUTUAL without `subjectAltNames`. */
export type IdentityLookup = (host: string) => string[] | undefined;

export function tlsToIr(tls: Tls | null | undefined, name: string, host: string, identities: IdentityLookup | undefined): UpstreamTls {
  const derived = () => identities?.(host) ?? [];
  if (!tls || tls.mode === undefined || tls.mode === null) {
    return { mode: "mutual", expectedIdentities: derived(), identitySource: "service", sni: name, auto: true };
  }
  switch (tls.mode) {
    case "DISABLE": return { mode: "disable" };
    case "SIMPLE": return {
      mode: "simple",
      ...(tls.sni ? { sni: tls.sni } : {}),
      ...(tls.caCertificates ? { caCertificates: tls.caCertificates } : {}),
      ...(tls.credentialName ? { credentialName: tls.credentialName } : {}),
      ...(tls.subjectAltNames?.length ? { subjectAltNames: [...tls.subjectAltNames] } : {}),
      ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      ...(tls.caCrl ? { caCrl: tls.caCrl } : {}),
    };
    case "MUTUAL": return {
      mode: "mutual",
      expectedIdentities: [...(tls.subjectAltNames ?? [])],
      identitySource: "explicit",
      ...(tls.sni ? { sni: tls.sni } : {}),
      files: {
        ...(tls.clientCertificate ? { clientCertificate: tls.clientCertificate } : {}),
        ...(tls.privateKey ? { privateKey: tls.privateKey } : {}),
        ...(tls.caCertificates ? { caCertificates: tls.caCertificates } : {}),
        ...(tls.credentialName ? { credentialName: tls.credentialName } : {}),
        ...(tls.caCrl ? { caCrl: tls.caCrl } : {}),
      },
      ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    };
    case "ISTIO_MUTUAL": {
      const explicit = tls.subjectAltNames !== undefined && tls.subjectAltNames !== null;
      return {
        mode: "mutual",
        expectedIdentities: explicit ? [...tls.subjectAltNames!] : derived(),
        identitySource: explicit ? "explicit" : "service",
        sni: tls.sni || name,
        ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      };
    }
  }
}

const silent: LossSink = createLossSink("", []);

function clusterOf(name: string, host: string, subset: { name: string; labels: Record<string, string> } | undefined, eff: Effective, options: DestinationRuleOptions, object: string): Cluster {
  const { lb, hashPolicy } = lbToIr(eff.loadBalancer, "", silent);
  const pool = poolToIr(eff.connectionPool);
  const outlier = outlierToIr(eff.outlierDetection, "", silent);
  return {
    name,
    service: options.serviceOf?.(host) ?? host,
    ...(subset ? { subset } : {}),
    protocol: options.protocolOf?.(host) ?? "http",
    lb,
    endpoints: [],
    ...pool,
    ...(outlier ? { outlierDetection: outlier } : {}),
    tls: tlsToIr(eff.tls, name, host, options.identities),
    ...(hashPolicy ? { hashPolicy } : {}),
    origin: { system: "istio", object },
  };
}

/** Reports what a traffic policy (and its port-level entries) says that the IR cannot hold, once per source field. */
function scanLosses(tp: TrafficPolicy | null | undefined, at: string, loss: LossSink): void {
  if (!tp) return;
  if (tp.tunnel) loss.lost(`${at}.tunnel`, "HTTP CONNECT/POST tunnelling to the upstream is not carried by the IR");
  if (tp.proxyProtocol) loss.lost(`${at}.proxyProtocol`, "sending the PROXY protocol header upstream is not carried by the IR");
  if (tp.retryBudget) loss.lost(`${at}.retryBudget`, "the IR carries retry budgets on routes (RetryPolicy.budget), not on clusters");
  const fields = (f: Effective, here: string) => {
    lbToIr(f.loadBalancer, `${here}.loadBalancer`, loss);
    outlierToIr(f.outlierDetection, `${here}.outlierDetection`, loss);
  };
  fields(tp, at);
  tp.portLevelSettings?.forEach((p, i) => fields(p, `${at}.portLevelSettings[${i}]`));
}

export interface DestinationRuleOptions extends IstioOptions {
  identities?: IdentityLookup;
  /** IR service id for a host (default: the host). */
  serviceOf?: (host: string) => string | undefined;
  protocolOf?: (host: string) => Cluster["protocol"] | undefined;
}

/** `GetPortLevelTrafficPolicy`: the port's entry replaces the four fields entirely. */
function portLevel(tp: TrafficPolicy | null | undefined, port: number): Effective | undefined {
  const p = tp?.portLevelSettings?.find((x) => x.port?.number === port);
  return p ? { loadBalancer: p.loadBalancer, connectionPool: p.connectionPool, outlierDetection: p.outlierDetection, tls: p.tls } : undefined;
}

function fieldsOf(tp: TrafficPolicy | null | undefined): Effective {
  return { loadBalancer: tp?.loadBalancer, connectionPool: tp?.connectionPool, outlierDetection: tp?.outlierDetection, tls: tp?.tls };
}

/** Istio's MergeSubsetTrafficPolicy for one port (undefined = the service's other ports). */
function merged(rule: TrafficPolicy | null | undefined, subset: TrafficPolicy | null | undefined, port: number | undefined): Effective {
  const original = (port !== undefined ? portLevel(rule, port) : undefined) ?? fieldsOf(rule);
  if (!subset) return original;
  const subsetPort = port !== undefined ? portLevel(subset, port) : undefined;
  const s = subsetPort ?? fieldsOf(subset);
  const out = { ...original };
  for (const k of ["connectionPool", "outlierDetection", "loadBalancer", "tls"] as const) if (s[k] || subsetPort) (out as Record<string, unknown>)[k] = s[k];
  return out;
}

/**
 * One schema-valid DestinationRule → its IR clusters (see the module comment).
 * @example
 * const { value: clusters, losses } = destinationRuleToIr(parsed, { identities: (h) => registry.identitiesOf(h) });
 */
export function destinationRuleToIr(dr: DestinationRule, options: DestinationRuleOptions = {}): { value: Cluster[]; losses: Loss[] } {
  const ns = dr.metadata.namespace ?? options.defaultNamespace ?? "default";
  const object = objectRef("DestinationRule", ns, dr.metadata.name);
  const loss = createLossSink(object);
  const spec = dr.spec;
  const host = fqdn(spec.host, ns, options.domain);
  const rule = spec.trafficPolicy;
  scanLosses(rule, "spec.trafficPolicy", loss);
  if (spec.workloadSelector) loss.lost("spec.workloadSelector", "a DestinationRule that applies only to selected client workloads is not carried by the IR; it applies to every client");
  const out: Cluster[] = [];
  const rulePorts = (rule?.portLevelSettings ?? []).map((p) => p.port?.number).filter((p): p is number => !!p);
  const make = (subset: { name: string; labels: Record<string, string> } | undefined, port: number | undefined, eff: Effective) => {
    const c = clusterOf(clusterName(host, port, subset?.name), host, subset, eff, options, object);
    if (spec.exportTo?.length) c.exportTo = [...spec.exportTo];
    out.push(c);
  };
  make(undefined, undefined, fieldsOf(rule));
  for (const port of rulePorts) make(undefined, port, merged(rule, undefined, port));
  (spec.subsets ?? []).forEach((s, i) => {
    const subset = { name: s.name, labels: { ...(s.labels ?? {}) } };
    scanLosses(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`, loss);
    make(subset, undefined, merged(rule, s.trafficPolicy, undefined));
    const subsetPorts = (s.trafficPolicy?.portLevelSettings ?? []).map((p) => p.port?.number).filter((p): p is number => !!p);
    for (const port of [...new Set([...rulePorts, ...subsetPorts])].sort((a, b) => a - b)) make(subset, port, merged(rule, s.trafficPolicy, port));
  });
  return { value: out, losses: loss.losses };
}
