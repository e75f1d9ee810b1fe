/**
 * @module adapters/istio/clusters-emit
 * IR clusters → Istio DestinationRules, the inverse of `clusters.ts`. Clusters are grouped by host (and
 * by the DestinationRule they came from); the portless, subsetless cluster gives the rule's
 * `trafficPolicy`, port clusters give `portLevelSettings`, subset clusters give `subsets` whose
 * `trafficPolicy` holds only what differs from the rule (Istio merges field by field), and a subset's
 * port clusters give its port-level settings where Istio's merge would not already produce them.
 * Defaults (LEAST_REQUEST, Envoy's outlier values, auto mTLS, the cluster name as SNI) are left out.
 */
import type { Cluster, HashPolicy, OutlierDetection, UpstreamTls } from "../../core/ir/model.ts";
import { ISTIO_MAGLEV_TABLE, ISTIO_OUTLIER_DEFAULTS, ISTIO_RING_SIZE } from "./clusters.ts";
import { createLossSink, type Loss, type LossSink } from "./loss.ts";
import { compact, goDuration, nameOf, parseClusterName, safeName, type ClusterKey, type IstioOptions } from "./names.ts";

type Obj = Record<string, unknown>;
const FIELDS = ["loadBalancer", "connectionPool", "outlierDetection", "tls"] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], Obj>>;

function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${k}:${canon((v as Obj)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}
const same = (a: unknown, b: unknown) => canon(a) === canon(b);

function hashToIstio(h: HashPolicy[] | undefined, at: string, loss: LossSink): Obj {
  const out: Obj = {};
  if (h && h.length > 1) loss.lost(`${at}.hashPolicy`, "Istio hashes on one key; only the first is kept");
  const first = h?.[0];
  if (!first) return out;
  if ("header" in first) out.httpHeaderName = first.header;
  else if ("cookie" in first) out.httpCookie = compact({ name: first.cookie, path: first.path, ttl: first.ttlMs !== undefined ? goDuration(first.ttlMs) : undefined });
  else if ("sourceIp" in first) out.useSourceIp = true;
  else out.httpQueryParameterName = first.queryParam;
  return out;
}

function lbToIstio(c: Cluster, at: string, loss: LossSink): Obj | undefined {
  switch (c.lb.kind) {
    case "least-request":
      if (c.lb.choiceCount !== undefined && c.lb.choiceCount !== 2) loss.lost(`${at}.lb.choiceCount`, "Istio does not set the least-request choice count");
      return undefined;
    case "round-robin": return { simple: "ROUND_ROBIN" };
    case "random": return { simple: "RANDOM" };
    case "ring-hash": {
      const size = c.lb.minRingSize ?? ISTIO_RING_SIZE;
      return { consistentHash: { ...hashToIstio(c.hashPolicy, at, loss), ...(size !== ISTIO_RING_SIZE ? { ringHash: { minimumRingSize: size } } : {}) } };
    }
    case "maglev":
      return { consistentHash: { ...hashToIstio(c.hashPolicy, at, loss), maglev: { tableSize: c.lb.tableSize ?? ISTIO_MAGLEV_TABLE } } };
  }
}

function poolToIstio(c: Cluster): Obj | undefined {
  const b = c.circuitBreakers ?? {};
  const s = c.connection ?? {};
  const k = s.tcpKeepalive;
  const tcp = compact({
    maxConnections: b.maxConnections,
    connectTimeout: b.connectTimeoutMs !== undefined ? goDuration(b.connectTimeoutMs) : undefined,
    idleTimeout: s.tcpIdleTimeoutMs !== undefined ? goDuration(s.tcpIdleTimeoutMs) : undefined,
    maxConnectionDuration: s.maxConnectionDurationMs !== undefined ? goDuration(s.maxConnectionDurationMs) : undefined,
    tcpKeepalive: k ? compact({ probes: k.probes, time: k.timeMs !== undefined ? goDuration(k.timeMs) : undefined, interval: k.intervalMs !== undefined ? goDuration(k.intervalMs) : undefined }) : undefined,
  });
  const http = compact({
    http1MaxPendingRequests: b.maxPendingRequests,
    http2MaxRequests: b.maxRequests,
    maxRequestsPerConnection: b.maxRequestsPerConnection,
    maxRetries: b.maxRetries,
    idleTimeout: s.idleTimeoutMs !== undefined ? goDuration(s.idleTimeoutMs) : undefined,
    h2UpgradePolicy: s.h2Upgrade === "upgrade" ? "UPGRADE" : s.h2Upgrade === "do-not-upgrade" ? "DO_NOT_UPGRADE" : undefined,
    useClientProtocol: s.useClientProtocol || undefined,
    maxConcurrentStreams: s.maxConcurrentStreams,
  });
  const out = compact({ tcp: Object.keys(tcp).length ? tcp : undefined, http: Object.keys(http).length ? http : undefined });
  return Object.keys(out).length ? out : undefined;
}

function outlierToIstio(o: OutlierDetection | undefined): Obj | undefined {
  if (!o) return undefined;
  const d = ISTIO_OUTLIER_DEFAULTS;
  const out = compact({
    consecutive5xxErrors: o.consecutive5xx !== undefined && o.consecutive5xx !== d.consecutive5xx ? o.consecutive5xx : undefined,
    consecutiveGatewayErrors: o.consecutiveGatewayErrors,
    interval: o.intervalMs !== d.intervalMs ? goDuration(o.intervalMs) : undefined,
    baseEjectionTime: o.baseEjectionMs !== d.baseEjectionMs ? goDuration(o.baseEjectionMs) : undefined,
    maxEjectionPercent: o.maxEjectionPercent !== d.maxEjectionPercent ? o.maxEjectionPercent : undefined,
    minHealthPercent: o.minHealthPercent ? o.minHealthPercent : undefined,
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors || undefined,
    consecutiveLocalOriginFailures: o.consecutiveLocalOriginFailures,
  });
  // Outlier detection with every value at its default is still on: say so with the default 5xx count.
  return Object.keys(out).length ? out : { consecutive5xxErrors: d.consecutive5xx };
}

function tlsToIstio(t: UpstreamTls, name: string, at: string, loss: LossSink): Obj | undefined {
  if (t.mode === "disable") return { mode: "DISABLE" };
  if (t.mode === "simple") {
    if (t.caPem) loss.lost(`${at}.caPem`, "Istio reads CA certificates from files (caCertificates) or secrets (credentialName), not inline PEM");
    return compact({ mode: "SIMPLE", sni: t.sni, caCertificates: t.caCertificates, credentialName: t.credentialName, subjectAltNames: t.subjectAltNames, insecureSkipVerify: t.insecureSkipVerify, caCrl: t.caCrl });
  }
  if (t.alpn?.length) loss.lost(`${at}.alpn`, "Istio chooses ALPN itself");
  if (t.files) {
    return compact({ mode: "MUTUAL", ...t.files, sni: t.sni, subjectAltNames: t.expectedIdentities.length ? t.expectedIdentities : undefined, insecureSkipVerify: t.insecureSkipVerify });
  }
  if (t.auto) return undefined;
  return compact({
    mode: "ISTIO_MUTUAL",
    sni: t.sni && t.sni !== name ? t.sni : undefined,
    subjectAltNames: t.identitySource === "service" ? undefined : t.expectedIdentities,
    insecureSkipVerify: t.insecureSkipVerify,
  });
}

function fieldsOf(c: Cluster, loss: LossSink): Fields {
  const at = `Cluster ${c.name}`;
  if (c.healthChecks?.length) loss.lost(`${at}.healthChecks`, "Istio has no active health checks in DestinationRules");
  if (c.endpoints.length) loss.lost(`${at}.endpoints`, "endpoints are not part of a DestinationRule; emit them as ServiceEntries");
  return compact({ loadBalancer: lbToIstio(c, at, loss), connectionPool: poolToIstio(c), outlierDetection: outlierToIstio(c.outlierDetection), tls: tlsToIstio(c.tls, c.name, `${at}.tls`, loss) });
}

/** A traffic policy (or port entry) must set something; an all-defaults one says LEAST_REQUEST explicitly. */
function nonEmpty(f: Fields): Fields {
  return Object.keys(f).length ? f : { loadBalancer: { simple: "LEAST_REQUEST" } };
}

/** What a subset's policy must say so that Istio's merge over `base` yields `want`. */
function overrides(base: Fields, want: Fields, at: string, loss: LossSink): Fields {
  const out: Fields = {};
  for (const k of FIELDS) {
    if (same(base[k], want[k])) continue;
    if (want[k]) out[k] = want[k];
    else if (k === "loadBalancer") out[k] = { simple: "LEAST_REQUEST" };
    else if (k === "outlierDetection") {
      out[k] = { consecutive5xxErrors: 0 };
      loss.approximated(`${at}.outlierDetection`, "a subset cannot remove the rule's outlier detection; it is disabled with consecutive5xxErrors: 0");
    } else loss.lost(`${at}.${k}`, `a subset cannot reset the rule's ${k} to Istio's default`);
  }
  return out;
}

function policy(f: Fields, ports: { port: number; fields: Fields }[]): Obj | undefined {
  const out: Obj = { ...f };
  if (ports.length) out.portLevelSettings = ports.map((p) => ({ port: { number: p.port }, ...nonEmpty(p.fields) }));
  return Object.keys(out).length ? out : undefined;
}

const hostNamespace = (host: string) => /^[^.]+\.([^.]+)\.svc\./.exec(host)?.[1];

/**
 * IR clusters → DestinationRules, one per host (or per origin rule).
 * @example
 * const { value: rules, losses } = clustersToIstio(model.clusters);
 */
export function clustersToIstio(clusters: readonly Cluster[], options: IstioOptions = {}): { value: Obj[]; losses: Loss[] } {
  const losses: Loss[] = [];
  const groups = new Map<string, { host: string; items: { c: Cluster; key: ClusterKey }[] }>();
  for (const c of clusters) {
    const key = parseClusterName(c.name);
    if (!key) {
      losses.push({ object: c.origin?.object ?? `Cluster/${c.name}`, field: "name", reason: "the cluster does not follow Istio's outbound|<port>|<subset>|<host> naming, so no DestinationRule host can be derived; it is left out" });
      continue;
    }
    const group = c.origin?.object?.startsWith("DestinationRule/") ? c.origin.object : `host:${key.host}`;
    const g = groups.get(group) ?? { host: key.host, items: [] };
    g.items.push({ c, key });
    groups.set(group, g);
  }
  const out: Obj[] = [];
  for (const [group, { host, items }] of groups) {
    const fallbackNs = hostNamespace(host) ?? options.defaultNamespace ?? "default";
    const { namespace, name } = group.startsWith("DestinationRule/") ? nameOf("", items[0]!.c.origin, "DestinationRule") : { namespace: fallbackNs, name: safeName(host) };
    const loss = createLossSink(group.startsWith("DestinationRule/") ? group : `DestinationRule/${namespace}/${name}`, losses);
    const baseCluster = items.find((i) => i.key.port === undefined && i.key.subset === undefined);
    const base = baseCluster ? fieldsOf(baseCluster.c, loss) : {};
    const portFields = new Map<number, Fields>();
    for (const i of items) if (i.key.port !== undefined && i.key.subset === undefined) portFields.set(i.key.port, fieldsOf(i.c, loss));
    const rulePorts = [...portFields].sort((a, b) => a[0] - b[0]).map(([port, fields]) => ({ port, fields }));
    const subsetNames = [...new Set(items.filter((i) => i.key.subset !== undefined).map((i) => i.key.subset!))];
    const subsets = subsetNames.map((sn) => {
      const mine = items.filter((i) => i.key.subset === sn);
      const top = mine.find((i) => i.key.port === undefined);
      const at = `subsets.${sn}`;
      const topFields = overrides(base, top ? fieldsOf(top.c, loss) : base, at, loss);
      const ports: { port: number; fields: Fields }[] = [];
      for (const i of mine.filter((x) => x.key.port !== undefined).sort((a, b) => a.key.port! - b.key.port!)) {
        const original = portFields.get(i.key.port!) ?? base;
        const expected: Fields = { ...original };
        for (const k of FIELDS) if (topFields[k]) expected[k] = topFields[k];
        const want = fieldsOf(i.c, loss);
        if (!same(expected, want)) ports.push({ port: i.key.port!, fields: want });
      }
      const labels = (top ?? mine[0]!).c.subset?.labels;
      return compact({ name: sn, labels: labels && Object.keys(labels).length ? labels : undefined, trafficPolicy: policy(topFields, ports) });
    });
    const exportTo = (baseCluster ?? items[0]!).c.exportTo;
    const spec = compact({
      host,
      trafficPolicy: policy(base, rulePorts),
      subsets: subsets.length ? subsets : undefined,
      exportTo: exportTo?.length ? exportTo : undefined,
    });
    out.push({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name, namespace }, spec });
  }
  return { value: out, losses };
}
