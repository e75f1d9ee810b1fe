import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Cluster, Route, VirtualHost } from "../../core/ir/model.ts";
import { irToIstio, istioToIr } from "./conversion.ts";
import { canonicalIstio } from "./equivalence.ts";
import { roundTripYaml } from "./roundtrip.ts";
import { meshTelemetrySettings } from "./telemetry.ts";

const ir = (yaml: string) => roundTripYaml(yaml, { file: "test.yaml" });
const forward = (r: Route) => {
  if (r.action.kind !== "forward") throw new Error(`expected forward, got ${r.action.kind}`);
  return r.action;
};

describe("VirtualService → IR", () => {
  const rt = ir(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: bookinfo }
spec:
  hosts: [reviews]
  http:
  - match:
    - uri: { prefix: /api }
      ignoreUriCase: true
      port: 9080
      sourceLabels: { app: productpage }
      headers: { end-user: { exact: jason }, x-debug: {} }
      withoutHeaders: { x-canary: { exact: "no" } }
      queryParams: { v: { regex: "[0-9]+" } }
    route:
    - destination: { host: reviews, subset: v2, port: { number: 9080 } }
      weight: 75
    - destination: { host: reviews.other.svc.cluster.local, subset: v3 }
      weight: 25
    retries: { attempts: 3, retryOn: "gateway-error,503", perTryTimeout: 2s }
    mirrors:
    - destination: { host: reviews, subset: shadow }
      percentage: { value: 5 }
    fault:
      abort: { grpcStatus: UNAVAILABLE, percentage: { value: 10 } }
  - delegate: { name: reviews-team, namespace: team }
  - route:
    - destination: { host: reviews, subset: v1 }
`);
  const vh = rt.model.virtualHosts[0]!;

  it("qualifies hosts and names clusters outbound|<port>|<subset>|<host>", () => {
    expect(vh.domains).toEqual(["reviews.bookinfo.svc.cluster.local"]);
    expect(forward(vh.routes[0]!).destinations).toEqual([
      { cluster: "outbound|9080|v2|reviews.bookinfo.svc.cluster.local", weight: 75 },
      { cluster: "outbound||v3|reviews.other.svc.cluster.local", weight: 25 },
    ]);
  });

  it("carries every match field, presence as present", () => {
    expect(vh.routes[0]!.match).toEqual([{
      path: { prefix: "/api" }, ignoreUriCase: true, port: 9080, sourceLabels: { app: "productpage" },
      headers: [{ name: "end-user", match: { exact: "jason" } }, { name: "x-debug", match: { present: true } }],
      withoutHeaders: [{ name: "x-canary", match: { exact: "no" } }],
      queryParams: [{ name: "v", match: { regex: "[0-9]+" } }],
    }]);
  });

  it("splits status codes out of retryOn and keeps Istio's other retry defaults", () => {
    expect(forward(vh.routes[0]!).retry).toEqual({ attempts: 3, retryOn: ["gateway-error", "retriable-status-codes"], retriableStatusCodes: [503], perTryTimeoutMs: 2000, ignorePreviousHosts: true });
  });

  it("makes Istio's defaults explicit: no timeout, default retries, catch-all match", () => {
    const last = forward(vh.routes[2]!);
    expect(vh.routes[2]!.match).toEqual([{}]);
    expect(last.timeoutMs).toBe(0);
    expect(last.retry).toEqual({ attempts: 2, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"], ignorePreviousHosts: true });
    expect(last.destinations).toEqual([{ cluster: "outbound||v1|reviews.bookinfo.svc.cluster.local", weight: 100 }]);
  });

  it("carries mirrors with their percentage, gRPC aborts by code, and delegates", () => {
    expect(forward(vh.routes[0]!).mirror).toEqual([{ cluster: "outbound||shadow|reviews.bookinfo.svc.cluster.local", percent: 5 }]);
    expect(vh.routes[0]!.fault).toEqual({ abort: { grpcStatus: 14, percent: 10 } });
    expect(vh.routes[1]!.delegate).toEqual({ name: "reviews-team", namespace: "team" });
    expect(forward(vh.routes[1]!).destinations).toEqual([]);
  });

  it("comes back equivalent and without loss", () => {
    expect(rt.losses).toEqual([]);
    expect(canonicalIstio(rt.emitted[0]!)).toEqual(canonicalIstio(rt.originals[0]!));
    expect((rt.emitted[0] as { spec: { http: unknown[] } }).spec.http[1]).toEqual({ delegate: { name: "reviews-team", namespace: "team" } });
  });

  it("reports what the IR cannot hold, with object and field", () => {
    const lossy = ir(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r, namespace: ns }
spec:
  hosts: [r]
  http:
  - match: [{ method: { prefix: G }, statPrefix: s }]
    route: [{ destination: { host: r } }]
`);
    expect(lossy.losses.map((l) => `${l.object} ${l.field}`)).toEqual([
      "VirtualService/ns/r spec.http[0].match[0].method",
      "VirtualService/ns/r spec.http[0].match[0].statPrefix",
    ]);
  });
});

describe("DestinationRule → IR clusters", () => {
  const rt = ir(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: bookinfo }
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints:
  - { address: 10.0.0.1, serviceAccount: reviews, labels: { version: v1 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: bookinfo }
spec:
  host: reviews
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 100, connectTimeout: 30ms }, http: { http2MaxRequests: 1000 } }
    loadBalancer: { consistentHash: { httpHeaderName: x-user } }
    outlierDetection: { consecutive5xxErrors: 7 }
    tls: { mode: ISTIO_MUTUAL }
    portLevelSettings:
    - port: { number: 9443 }
      loadBalancer: { simple: RANDOM }
  subsets:
  - name: v1
    labels: { version: v1 }
    trafficPolicy: { loadBalancer: { consistentHash: { maglev: { tableSize: 65537 }, useSourceIp: true } } }
`);
  const byName = new Map(rt.model.clusters.map((c) => [c.name, c] as [string, Cluster]));

  it("makes one cluster per (subset, port), named by Istio's convention", () => {
    expect([...byName.keys()]).toEqual([
      "outbound|||reviews.bookinfo.svc.cluster.local",
      "outbound|9443||reviews.bookinfo.svc.cluster.local",
      "outbound||v1|reviews.bookinfo.svc.cluster.local",
      "outbound|9443|v1|reviews.bookinfo.svc.cluster.local",
    ]);
  });

  it("maps consistent hashing, circuit breakers and outlier detection with Istio's defaults", () => {
    const base = byName.get("outbound|||reviews.bookinfo.svc.cluster.local")!;
    expect(base.lb).toEqual({ kind: "ring-hash", minRingSize: 1024 });
    expect(base.hashPolicy).toEqual([{ header: "x-user" }]);
    expect(base.circuitBreakers).toEqual({ maxConnections: 100, connectTimeoutMs: 30, maxRequests: 1000 });
    expect(base.outlierDetection).toEqual({ consecutive5xx: 7, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 });
  });

  it("verifies ISTIO_MUTUAL peers against the service's workload identities, with the cluster name as SNI", () => {
    expect(byName.get("outbound|||reviews.bookinfo.svc.cluster.local")!.tls).toEqual({
      mode: "mutual", expectedIdentities: ["spiffe://cluster.local/ns/bookinfo/sa/reviews"], identitySource: "service", sni: "outbound|||reviews.bookinfo.svc.cluster.local",
    });
  });

  it("merges like Istio: a subset's field replaces the rule's, port-level settings replace all four", () => {
    const v1 = byName.get("outbound||v1|reviews.bookinfo.svc.cluster.local")!;
    expect(v1.lb).toEqual({ kind: "maglev", tableSize: 65537 });
    expect(v1.hashPolicy).toEqual([{ sourceIp: true }]);
    expect(v1.circuitBreakers?.maxConnections).toBe(100);
    expect(v1.subset).toEqual({ name: "v1", labels: { version: "v1" } });
    const port = byName.get("outbound|9443||reviews.bookinfo.svc.cluster.local")!;
    expect(port.lb).toEqual({ kind: "random" });
    expect(port.circuitBreakers).toBeUndefined();
    expect(port.tls).toMatchObject({ mode: "mutual", auto: true });
    expect(byName.get("outbound|9443|v1|reviews.bookinfo.svc.cluster.local")!.lb).toEqual({ kind: "maglev", tableSize: 65537 });
  });

  it("comes back as an equivalent DestinationRule", () => {
    expect(rt.losses).toEqual([]);
    const dr = rt.pairs.find((p) => p.original.kind === "DestinationRule")!;
    expect(canonicalIstio(dr.emitted!)).toEqual(canonicalIstio(dr.original));
  });

  it("reports locality settings, tunnels and client selectors as losses", () => {
    const lossy = ir(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: d, namespace: ns }
spec:
  host: d
  workloadSelector: { matchLabels: { app: a } }
  trafficPolicy:
    loadBalancer: { localityLbSetting: { enabled: true } }
    outlierDetection: { consecutive5xxErrors: 1 }
    tunnel: { targetHost: t.example.com, targetPort: 443 }
`);
    expect(lossy.losses.map((l) => l.field)).toEqual(["spec.trafficPolicy.tunnel", "spec.trafficPolicy.loadBalancer.localityLbSetting", "spec.workloadSelector"]);
  });
});

describe("security and telemetry", () => {
  it("makes JWT token locations explicit and leaves the defaults out again", () => {
    const rt = ir(`
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: foo }
spec:
  jwtRules: [{ issuer: "issuer-foo", jwks_uri: "https://example.com/jwks.json", timeout: 5s }]
`);
    expect(rt.model.requestAuthentication[0]!.jwtRules[0]).toEqual({
      issuer: "issuer-foo", jwksUri: "https://example.com/jwks.json", timeoutMs: 5000,
      fromHeaders: [{ name: "Authorization", prefix: "Bearer " }], fromParams: ["access_token"],
    });
    expect((rt.emitted[0] as { spec: { jwtRules: unknown[] } }).spec.jwtRules[0]).toEqual({ issuer: "issuer-foo", jwksUri: "https://example.com/jwks.json", timeout: "5s" });
  });

  it("keeps port-level mTLS and the AuthorizationPolicy dry-run annotation", () => {
    const rt = ir(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: p, namespace: foo }
spec: { selector: { matchLabels: { app: a } }, mtls: { mode: STRICT }, portLevelMtls: { "8080": { mode: DISABLE } } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: a, namespace: foo, annotations: { "istio.io/dry-run": "true" } }
spec: { action: DENY, rules: [{ to: [{ operation: { ports: ["8080"] } }] }] }
`);
    expect(rt.model.peerAuthentication[0]).toMatchObject({ mode: "STRICT", portLevel: { 8080: "DISABLE" } });
    expect(rt.model.authorization[0]!.dryRun).toBe(true);
    for (const p of rt.pairs) expect(canonicalIstio(p.emitted!)).toEqual(canonicalIstio(p.original));
  });

  it("carries Telemetry access-log filters and gives mesh-wide settings from a root policy", () => {
    const rt = ir(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 10 }]
  accessLogging: [{ providers: [{ name: envoy }], filter: { expression: "response.code >= 400" } }]
  metrics: [{ overrides: [{ match: { metric: REQUEST_COUNT }, tagOverrides: { request_protocol: { operation: REMOVE } } }] }]
`);
    const p = rt.model.telemetryPolicies[0]!;
    expect(p.accessLogging).toEqual([{ providers: ["envoy"], filter: "response.code >= 400" }]);
    const mesh = meshTelemetrySettings(p);
    expect(mesh.losses).toEqual([]);
    expect(mesh.value).toEqual({
      metrics: { enabled: true, overrides: [{ name: "REQUEST_COUNT", tags: { request_protocol: null } }] },
      tracing: { provider: "otel", samplingPercent: 10, propagation: ["w3c", "b3"] },
      accessLog: { enabled: true, filter: "response.code >= 400" },
    });
  });

  it("carries tracing.disableContextPropagation both ways and stops propagation in the mesh-wide settings", () => {
    const rt = ir(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: egress, namespace: istio-system }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 5, disableContextPropagation: true }]
`);
    const p = rt.model.telemetryPolicies[0]!;
    expect(p.tracing?.[0]?.disableContextPropagation).toBe(true);
    expect(meshTelemetrySettings(p).value.tracing).toEqual({ provider: "otel", samplingPercent: 5, propagation: [] });
    for (const pair of rt.pairs) expect(canonicalIstio(pair.emitted!)).toEqual(canonicalIstio(pair.original));
  });
});

describe("bad input", () => {
  it("names file:line, object and field, and leaves the object out", () => {
    const rt = ir(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bad, namespace: ns }
spec:
  hosts: [bad]
  http:
  - route: [{ destination: { host: bad } }]
    retries: { attempts: 2, perTryTimeot: 1s }
`);
    expect(rt.model.virtualHosts).toEqual([]);
    const d = rt.diagnostics.find((x) => x.severity === "error")!;
    expect(d).toMatchObject({ object: "VirtualService/ns/bad", path: "spec.http[0].retries.perTryTimeot", file: "test.yaml", line: 8 });
  });

  it("reports kinds it does not convert as losses, not silence", () => {
    const { losses } = istioToIr([parse(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: ns }
spec: { selector: { istio: ingressgateway }, servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }] }`)]);
    expect(losses).toEqual([{ object: "Gateway/ns/gw", field: "", reason: expect.stringContaining("not converted") }]);
  });
});

describe("IR → Istio losses", () => {
  it("reports IR meanings Istio cannot say", () => {
    const vh: VirtualHost = {
      name: "ns/web", domains: ["web.ns.svc.cluster.local"],
      routes: [
        { match: [{ path: { template: "/a/{*}" } }], action: { kind: "forward", destinations: [{ cluster: "web-backend", weight: 100 }], hashPolicy: [{ header: "x" }] } },
        { match: [{}], action: { kind: "redirect", status: 302, prefix: "/new" } },
      ],
    };
    const { objects, losses } = irToIstio({
      virtualHosts: [vh],
      authorization: [{ id: "ns/o", name: "o", namespace: "ns", action: "ALLOW", selector: { namespace: "ns" }, rules: null, ordered: { rules: [], defaultAction: "DENY" } }],
    });
    expect(losses.map((l) => l.field)).toEqual(["routes[0].match[0].path", "routes[0].action.destinations[0].cluster", "routes[0].action.hashPolicy", "routes[1].action.prefix", "ordered"]);
    expect(objects.map((o) => o.kind)).toEqual(["VirtualService"]);
  });
});

describe("equivalence", () => {
  const vs = (route: string) => parse(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [r]
  http:
  - ${route}`) as Record<string, unknown>;

  it("treats written-out defaults and omitted ones alike", () => {
    expect(canonicalIstio(vs(`route: [{ destination: { host: r }, weight: 100 }]
    retries: { attempts: 2, retryOn: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes" }
    timeout: 0s`))).toEqual(canonicalIstio(vs("route: [{ destination: { host: r.default.svc.cluster.local } }]")));
  });

  it("tells apart objects that mean different things", () => {
    const base = canonicalIstio(vs("route: [{ destination: { host: r, subset: a }, weight: 60 }, { destination: { host: r, subset: b }, weight: 40 }]"));
    expect(canonicalIstio(vs("route: [{ destination: { host: r, subset: a }, weight: 40 }, { destination: { host: r, subset: b }, weight: 60 }]"))).not.toEqual(base);
    expect(canonicalIstio(vs(`route: [{ destination: { host: r, subset: a }, weight: 60 }, { destination: { host: r, subset: b }, weight: 40 }]
    timeout: 1s`))).not.toEqual(base);
  });
});
