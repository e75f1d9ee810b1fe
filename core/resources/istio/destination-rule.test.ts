import { describe, expect, it } from "vitest";
import { errorsOf, lines, validateAll } from "./test-util.ts";

// Examples from istio.io: the "Circuit Breaking" task, the DestinationRule reference page, and the
// "Egress TLS Origination" and "Locality Load Balancing" tasks.
const DOCS_EXAMPLES = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: LEAST_REQUEST
  subsets:
  - name: testversion
    labels:
      version: v3
    trafficPolicy:
      loadBalancer:
        simple: ROUND_ROBIN
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings-port
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    portLevelSettings:
    - port:
        number: 80
      loadBalancer:
        simple: LEAST_REQUEST
    - port:
        number: 9080
      loadBalancer:
        simple: ROUND_ROBIN
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-redis
spec:
  host: myredissrv.prod.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
        connectTimeout: 30ms
        tcpKeepalive:
          time: 7200s
          interval: 75s
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings-cookie
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          ttl: 0s
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: originate-tls-for-edition-cnn-com
spec:
  host: edition.cnn.com
  trafficPolicy:
    portLevelSettings:
    - port:
        number: 80
      tls:
        mode: SIMPLE
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: helloworld
spec:
  host: helloworld.sample.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        distribute:
        - from: region1/zone1/*
          to:
            "region1/zone1/*": 70
            "region2/zone2/*": 20
            "region3/zone3/*": 10
    outlierDetection:
      consecutive5xxErrors: 100
      interval: 1s
      baseEjectionTime: 1m
`;

const dr = (spec: string) => `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
${spec}`;

describe("DestinationRule", () => {
  it("accepts the examples from Istio's documentation", () => {
    expect(lines(errorsOf(DOCS_EXAMPLES))).toEqual([]);
  });

  it("rejects duplicate and malformed subset names", () => {
    const errors = errorsOf(dr(`  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v1
    labels: {version: v2}
  - name: V_3
    labels: {version: v3}`));
    expect(lines(errors)).toEqual([
      "spec.subsets[1].name: duplicate subset names: v1",
      "spec.subsets[2].name: subset name is invalid: V_3 (must be a DNS-1123 label)",
    ]);
  });

  it("rejects a wrong load balancer name and lists the valid ones", () => {
    const errors = errorsOf(dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: LEAST_CONNS`));
    expect(errors[0]!.path).toBe("spec.trafficPolicy.loadBalancer.simple");
    expect(errors[0]!.message).toContain("LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST");
  });

  it("allows only one of simple and consistentHash", () => {
    const errors = errorsOf(dr(`  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: RANDOM
      consistentHash: {useSourceIp: true}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.trafficPolicy.loadBalancer"]);
  });

  it("checks durations, percentages, Maglev sizes and locality weights", () => {
    const errors = errorsOf(dr(`  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: "30"}
    outlierDetection: {maxEjectionPercent: 150, consecutiveLocalOriginFailures: 3}
    loadBalancer:
      consistentHash:
        httpHeaderName: x-user
        maglev: {tableSize: 1000}
      localityLbSetting:
        distribute:
        - from: us-west/*
          to: {"us-west/*": 60, "us-east/*": 30}`));
    const byPath = new Map(errors.map((e) => [e.path, e.message]));
    expect(byPath.get("spec.trafficPolicy.connectionPool.tcp.connectTimeout")).toContain('invalid duration "30"');
    expect(errors).toHaveLength(1);
    const semantic = errorsOf(dr(`  host: reviews
  trafficPolicy:
    outlierDetection: {maxEjectionPercent: 150, consecutiveLocalOriginFailures: 3}
    loadBalancer:
      consistentHash:
        httpHeaderName: x-user
        maglev: {tableSize: 1000}
      localityLbSetting:
        distribute:
        - from: us-west/*
          to: {"us-west/*": 60, "us-east/*": 30}`));
    expect(lines(semantic)).toEqual([
      "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: outlier detection consecutiveLocalOriginFailures is specified, but splitExternalLocalOriginErrors is not true",
      "spec.trafficPolicy.outlierDetection.maxEjectionPercent: percentage 150 is not in range 0..100",
      "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be a prime number for maglev",
      "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: total locality weight 90 != 100",
    ]);
  });

  it("requires client certificates for MUTUAL unless credentialName is set", () => {
    const errors = errorsOf(dr(`  host: mongo.example.com
  trafficPolicy:
    tls:
      mode: MUTUAL
      caCertificates: /etc/certs/ca.pem`));
    expect(errors.map((e) => e.path)).toEqual(["spec.trafficPolicy.tls.clientCertificate", "spec.trafficPolicy.tls.privateKey"]);
    expect(errorsOf(dr(`  host: mongo.example.com
  trafficPolicy:
    tls: {mode: MUTUAL, credentialName: client-credential}`))).toHaveLength(0);
  });

  it("rejects an empty traffic policy and tunnel with proxyProtocol", () => {
    expect(lines(errorsOf(dr(`  host: reviews
  trafficPolicy: {}`)))).toEqual(["spec.trafficPolicy: traffic policy must have at least one field"]);
    const errors = errorsOf(dr(`  host: reviews
  trafficPolicy:
    tunnel: {protocol: CONNECT, targetHost: egress.example.com, targetPort: 8443}
    proxyProtocol: {version: V2}`));
    expect(errors.map((e) => e.message)).toEqual(["tunnel and proxyProtocol must not be set together"]);
  });

  it("rejects a negative connection limit and a bad port-level port", () => {
    const errors = errorsOf(dr(`  host: reviews
  trafficPolicy:
    connectionPool:
      http: {http2MaxRequests: -1}
    portLevelSettings:
    - port: {number: 0}
      tls: {mode: ISTIO_MUTUAL}`));
    expect(errors.map((e) => e.path).sort()).toEqual([
      "spec.trafficPolicy.connectionPool.http.http2MaxRequests",
      "spec.trafficPolicy.portLevelSettings[0].port.number",
    ]);
  });

  it("warns about deprecated fields without failing", () => {
    const diags = validateAll(dr(`  host: reviews
  trafficPolicy:
    outlierDetection: {consecutiveErrors: 5}`));
    expect(diags.map((d) => d.severity)).toEqual(["warning"]);
  });

  it("keeps a workload-selected rule in its own namespace", () => {
    const errors = errorsOf(dr(`  host: reviews
  workloadSelector:
    matchLabels: {app: ratings}
  exportTo: ["*"]
  trafficPolicy:
    loadBalancer: {simple: RANDOM}`));
    expect(errors.map((e) => e.message)).toEqual(["destination rule with workload selector cannot have exportTo beyond current namespace"]);
  });
});
