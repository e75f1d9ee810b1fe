/**
 * @module core/resources/istio/destination-rule
 * Istio's DestinationRule (networking.istio.io v1, v1beta1, v1alpha3): schema as in
 * `networking/v1/destination_rule.proto`, and the checks of Istio's ValidateDestinationRule: host,
 * unique DNS-label subset names, traffic policies that set something, tunnel vs proxyProtocol,
 * outlier-detection percentages, connection-pool conflicts, Maglev table sizes, locality load
 * balancing (distribute vs failover, weights adding up to 100), port-level settings, client TLS
 * (MUTUAL needs a certificate and key unless credentialName), exportTo and workload selectors.
 * `connectionPool` is shared with Sidecar.
 *
 * Left out: locality overlap analysis between distribute entries, and warnings Istio gives about
 * deprecated fields other than consecutiveErrors and minimumRingSize.
 */
import { z, type Diagnostic } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { enumOf, nonNegInt32, o, oneOf, percent0to100, port, portSelector, resource, stringList, stringMap, uint32, workloadSelector } from "./common.ts";
import { duration } from "./duration.ts";
import { checkExportTo, checkSelectorLabels, createReport, fqdnProblem, isDns1123Label, isIP, labelsProblems, wildcardDomainProblem, type Path, type Report } from "./rules.ts";

const tcpSettings = strict({
  maxConnections: o(nonNegInt32),
  connectTimeout: o(duration()),
  tcpKeepalive: o(strict({ probes: o(uint32), time: o(duration()), interval: o(duration()) })),
  maxConnectionDuration: o(duration()),
  idleTimeout: o(duration()),
});

const httpSettings = strict({
  http1MaxPendingRequests: o(nonNegInt32),
  http2MaxRequests: o(nonNegInt32),
  maxRequestsPerConnection: o(nonNegInt32),
  maxRetries: o(nonNegInt32),
  idleTimeout: o(duration()),
  h2UpgradePolicy: o(enumOf(["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"])),
  useClientProtocol: o(z.boolean()),
  maxConcurrentStreams: o(nonNegInt32),
});

/** `ConnectionPoolSettings`, also used by Sidecar's inbound connection pools. */
export const connectionPool = strict({ tcp: o(tcpSettings), http: o(httpSettings) });

const consistentHash = strict({
  httpHeaderName: o(z.string()),
  httpCookie: o(strict({
    name: z.string({ error: () => "httpCookie.name is required" }),
    path: o(z.string()),
    ttl: o(duration({ istio: false })),
    attributes: o(z.array(strict({ name: z.string(), value: o(z.string()) }))),
  })),
  useSourceIp: o(z.boolean()),
  httpQueryParameterName: o(z.string()),
  ringHash: o(strict({ minimumRingSize: o(uint32) })),
  maglev: o(strict({ tableSize: o(uint32) })),
  minimumRingSize: o(uint32),
}).superRefine(oneOf(["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"]))
  .superRefine(oneOf(["ringHash", "maglev"]));

const localityLbSetting = strict({
  distribute: o(z.array(strict({ from: o(z.string()), to: o(z.record(z.string(), uint32)) }))),
  failover: o(z.array(strict({ from: o(z.string()), to: o(z.string()) }))),
  failoverPriority: o(stringList),
  enabled: o(z.boolean()),
});

const loadBalancer = strict({
  simple: o(enumOf(["UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"])),
  consistentHash: o(consistentHash),
  localityLbSetting: o(localityLbSetting),
  warmupDurationSecs: o(duration()),
  warmup: o(strict({ duration: duration(), minimumPercent: o(percent0to100), aggression: o(z.number().min(0)) })),
}).superRefine(oneOf(["simple", "consistentHash"]));

const outlierDetection = strict({
  splitExternalLocalOriginErrors: o(z.boolean()),
  consecutiveLocalOriginFailures: o(uint32),
  consecutiveGatewayErrors: o(uint32),
  consecutive5xxErrors: o(uint32),
  interval: o(duration()),
  baseEjectionTime: o(duration()),
  maxEjectionPercent: o(nonNegInt32),
  minHealthPercent: o(nonNegInt32),
  consecutiveErrors: o(nonNegInt32),
});

const clientTls = strict({
  mode: o(enumOf(["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"])),
  clientCertificate: o(z.string()),
  privateKey: o(z.string()),
  caCertificates: o(z.string()),
  credentialName: o(z.string()),
  subjectAltNames: o(stringList),
  sni: o(z.string()),
  insecureSkipVerify: o(z.boolean()),
  caCrl: o(z.string()),
});

const portTrafficPolicy = strict({
  port: o(portSelector),
  loadBalancer: o(loadBalancer),
  connectionPool: o(connectionPool),
  outlierDetection: o(outlierDetection),
  tls: o(clientTls),
});

const trafficPolicy = strict({
  loadBalancer: o(loadBalancer),
  connectionPool: o(connectionPool),
  outlierDetection: o(outlierDetection),
  tls: o(clientTls),
  portLevelSettings: o(z.array(portTrafficPolicy)),
  tunnel: o(strict({ protocol: o(z.string()), targetHost: z.string(), targetPort: port })),
  proxyProtocol: o(strict({ version: o(enumOf(["V1", "V2"])) })),
  retryBudget: o(strict({ percent: o(percent0to100), minRetryConcurrency: o(uint32) })),
});

export const destinationRuleSpec = strict({
  host: z.string({ error: () => "host is required" }),
  trafficPolicy: o(trafficPolicy),
  subsets: o(z.array(strict({ name: z.string({ error: () => "subset name is required" }), labels: o(stringMap), trafficPolicy: o(trafficPolicy) }))),
  exportTo: o(stringList),
  workloadSelector: o(workloadSelector),
});

export const destinationRuleSchema = resource(destinationRuleSpec);
export type DestinationRule = z.infer<typeof destinationRuleSchema>;
type TrafficPolicy = z.infer<typeof trafficPolicy>;
export type ConnectionPool = z.infer<typeof connectionPool>;

/** Istio's validateConnectionPool (shared with Sidecar). */
export function checkConnectionPool(r: Report, path: Path, cp: ConnectionPool | null | undefined): void {
  if (!cp) return;
  if (!cp.http && !cp.tcp) r.error(path, "connection pool must have at least one field (tcp or http)");
  if (cp.http?.h2UpgradePolicy === "UPGRADE" && cp.http.useClientProtocol) r.error([...path, "http"], "useClientProtocol must not be true when h2UpgradePolicy is UPGRADE");
}

function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f * f <= x; f += 2) if (x % f === 0) return false;
  return true;
}

function checkLoadBalancer(r: Report, path: Path, lb: TrafficPolicy["loadBalancer"], hasOutlier: boolean): void {
  if (!lb) return;
  const ch = lb.consistentHash;
  if (ch) {
    if (ch.minimumRingSize) {
      r.warn([...path, "consistentHash", "minimumRingSize"], "consistent hash minimumRingSize is deprecated, use ringHash.minimumRingSize instead");
      if (ch.ringHash || ch.maglev) r.error([...path, "consistentHash"], "only one of minimumRingSize or maglev/ringHash can be specified");
    }
    const size = ch.maglev?.tableSize;
    if (ch.maglev) {
      const mp = [...path, "consistentHash", "maglev", "tableSize"];
      if (!size) r.error(mp, "tableSize must be set for maglev");
      else if (size >= 5000011) r.error(mp, "tableSize must be less than 5000011 for maglev");
      else if (!isPrime(size)) r.error(mp, "tableSize must be a prime number for maglev");
    }
  }
  const loc = lb.localityLbSetting;
  if (!loc) return;
  const lp = [...path, "localityLbSetting"];
  const distribute = loc.distribute ?? [];
  const failover = loc.failover ?? [];
  if (distribute.length > 0 && failover.length > 0) {
    r.error(lp, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  const topology = ["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"];
  if (failover.length > 0) {
    for (const label of loc.failoverPriority ?? []) {
      if (topology.includes(label)) r.error([...lp, "failoverPriority"], `can not simultaneously set 'failover' and topology label '${label}' in 'failoverPriority'`);
    }
  }
  distribute.forEach((d, i) => {
    const weights = Object.values(d.to ?? {});
    if (weights.some((w) => w <= 0 || w > 100)) r.error([...lp, "distribute", i, "to"], "locality weight must be in range [1, 100]");
    else {
      const total = weights.reduce((a, b) => a + b, 0);
      if (total !== 100) r.error([...lp, "distribute", i, "to"], `total locality weight ${total} != 100`);
    }
  });
  if ((failover.length > 0 || (loc.failoverPriority ?? []).length > 0) && !hasOutlier) r.warn(lp, "outlier detection policy must be provided for failover");
  failover.forEach((f, i) => {
    const fp = [...lp, "failover", i];
    if ((f.from ?? "") === (f.to ?? "")) r.error(fp, "locality lb failover settings must specify different regions");
    if ((f.from ?? "").includes("/") || (f.to ?? "").includes("/")) r.error(fp, "locality lb failover only specify region");
    if ((f.from ?? "").includes("*") || (f.to ?? "").includes("*")) r.error(fp, "locality lb failover region should not contain '*' wildcard");
  });
}

function checkOutlier(r: Report, path: Path, od: TrafficPolicy["outlierDetection"]): void {
  if (!od) return;
  if (od.consecutiveErrors) r.warn([...path, "consecutiveErrors"], "outlier detection consecutiveErrors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead");
  if (!od.splitExternalLocalOriginErrors && (od.consecutiveLocalOriginFailures ?? 0) > 0) {
    r.error([...path, "consecutiveLocalOriginFailures"], "outlier detection consecutiveLocalOriginFailures is specified, but splitExternalLocalOriginErrors is not true");
  }
  for (const key of ["maxEjectionPercent", "minHealthPercent"] as const) {
    const v = od[key];
    if (v != null && v > 100) r.error([...path, key], `percentage ${v} is not in range 0..100`);
  }
}

function checkClientTls(r: Report, path: Path, tls: TrafficPolicy["tls"]): void {
  if (!tls) return;
  if (tls.insecureSkipVerify) {
    if (tls.mode === "SIMPLE" && (tls.caCertificates || tls.credentialName || tls.subjectAltNames)) r.error(path, "cannot specify caCertificates or credentialName or subjectAltNames when insecureSkipVerify is set true");
    if (tls.mode === "MUTUAL" && (tls.caCertificates || tls.subjectAltNames)) r.error(path, "cannot specify caCertificates or subjectAltNames when insecureSkipVerify is set true");
  }
  if ((tls.mode === "SIMPLE" || tls.mode === "MUTUAL") && tls.credentialName) {
    if (tls.clientCertificate || tls.caCertificates || tls.privateKey || tls.caCrl) r.error(path, "cannot specify client certificates or CA certificate or CA CRL if credentialName is set");
    return;
  }
  if (tls.mode === "MUTUAL") {
    if (!tls.clientCertificate) r.error([...path, "clientCertificate"], "client certificate required for mutual tls");
    if (!tls.privateKey) r.error([...path, "privateKey"], "private key required for mutual tls");
  }
}

function checkTrafficPolicy(r: Report, path: Path, tp: TrafficPolicy | null | undefined): void {
  if (!tp) return;
  if (!tp.outlierDetection && !tp.connectionPool && !tp.loadBalancer && !tp.tls && !tp.portLevelSettings && !tp.tunnel && !tp.proxyProtocol && !tp.retryBudget) {
    r.error(path, "traffic policy must have at least one field");
    return;
  }
  if (tp.tunnel && tp.proxyProtocol) r.error(path, "tunnel and proxyProtocol must not be set together");
  checkOutlier(r, [...path, "outlierDetection"], tp.outlierDetection);
  checkConnectionPool(r, [...path, "connectionPool"], tp.connectionPool);
  checkLoadBalancer(r, [...path, "loadBalancer"], tp.loadBalancer, Boolean(tp.outlierDetection));
  checkClientTls(r, [...path, "tls"], tp.tls);
  (tp.portLevelSettings ?? []).forEach((pl, i) => {
    const pp = [...path, "portLevelSettings", i];
    if (!pl.port?.number) r.error([...pp, "port"], "portTrafficPolicy must have valid port");
    if (!pl.outlierDetection && !pl.connectionPool && !pl.loadBalancer && !pl.tls) r.error(pp, "port traffic policy must have at least one field");
    checkOutlier(r, [...pp, "outlierDetection"], pl.outlierDetection);
    checkConnectionPool(r, [...pp, "connectionPool"], pl.connectionPool);
    checkLoadBalancer(r, [...pp, "loadBalancer"], pl.loadBalancer, Boolean(pl.outlierDetection));
    checkClientTls(r, [...pp, "tls"], pl.tls);
  });
  const t = tp.tunnel;
  if (t) {
    if (t.protocol && t.protocol !== "CONNECT" && t.protocol !== "POST") r.error([...path, "tunnel", "protocol"], 'tunnel protocol must be "CONNECT" or "POST"');
    if (fqdnProblem(t.targetHost) && !isIP(t.targetHost)) r.error([...path, "tunnel", "targetHost"], `tunnel target host must be valid FQDN or IP address: ${t.targetHost}`);
  }
}

/** Semantic checks for a DestinationRule (see the module comment). */
export function checkDestinationRule(dr: DestinationRule): Diagnostic[] {
  const r = createReport();
  const spec = dr.spec;
  r.problem(["spec", "host"], wildcardDomainProblem(spec.host));
  checkTrafficPolicy(r, ["spec", "trafficPolicy"], spec.trafficPolicy);
  const names = new Set<string>();
  (spec.subsets ?? []).forEach((s, i) => {
    const p = ["spec", "subsets", i];
    if (names.has(s.name)) r.error([...p, "name"], `duplicate subset names: ${s.name}`);
    names.add(s.name);
    if (s.name === "") r.error([...p, "name"], "subset name cannot be empty");
    else if (!isDns1123Label(s.name)) r.error([...p, "name"], `subset name is invalid: ${s.name} (must be a DNS-1123 label)`);
    for (const problem of labelsProblems(s.labels)) r.error([...p, "labels"], problem);
    checkTrafficPolicy(r, [...p, "trafficPolicy"], s.trafficPolicy);
  });
  const ns = dr.metadata.namespace ?? undefined;
  checkExportTo(r, ["spec", "exportTo"], ns, spec.exportTo);
  if (spec.workloadSelector) {
    checkSelectorLabels(r, ["spec", "workloadSelector", "matchLabels"], spec.workloadSelector.matchLabels);
    const exportTo = spec.exportTo ?? [];
    if (exportTo.some((e) => e !== "." && e !== ns)) r.error(["spec", "exportTo"], "destination rule with workload selector cannot have exportTo beyond current namespace");
  }
  return r.diagnostics;
}

export const destinationRuleKind = defineKind({
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  kind: "DestinationRule",
  schema: destinationRuleSchema,
  check: checkDestinationRule,
});
