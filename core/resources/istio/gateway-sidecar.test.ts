import { describe, expect, it } from "vitest";
import { errorsOf, lines, validateAll } from "./test-util.ts";

// Examples from istio.io: the Bookinfo gateway, the "Ingress Gateways" and "Secure Gateways" tasks,
// and the Gateway and Sidecar reference pages.
const DOCS_EXAMPLES = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 8080
      name: http
      protocol: HTTP
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: mygateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: httpbin-credential
    hosts:
    - httpbin.example.com
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: my-gateway
  namespace: some-config-namespace
spec:
  selector:
    app: my-gateway-controller
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - uk.bookinfo.com
    - eu.bookinfo.com
    tls:
      httpsRedirect: true
  - port:
      number: 443
      name: https-443
      protocol: HTTPS
    hosts:
    - uk.bookinfo.com
    - eu.bookinfo.com
    tls:
      mode: SIMPLE
      serverCertificate: /etc/certs/servercert.pem
      privateKey: /etc/certs/privatekey.pem
  - port:
      number: 9443
      name: https-9443
      protocol: HTTPS
    hosts:
    - "bookinfo-namespace/*.bookinfo.com"
    tls:
      mode: SIMPLE
      credentialName: bookinfo-secret
  - port:
      number: 2379
      name: mongo
      protocol: MONGO
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: istio-config
spec:
  egress:
  - hosts:
    - "./*"
    - "istio-system/*"
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: ratings
  namespace: prod-us1
spec:
  workloadSelector:
    labels:
      app: ratings
  ingress:
  - port:
      number: 9080
      protocol: HTTP
      name: somename
    defaultEndpoint: unix:///var/run/someuds.sock
  egress:
  - port:
      number: 9080
      protocol: HTTP
      name: egresshttp
    hosts:
    - "prod-us1/*"
  - hosts:
    - "istio-system/*"
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: no-ip-tables
  namespace: prod-us1
spec:
  workloadSelector:
    labels:
      app: productpage
  ingress:
  - port:
      number: 9080
      protocol: HTTP
      name: somename
    defaultEndpoint: 127.0.0.1:8080
    captureMode: NONE
  egress:
  - port:
      number: 3306
      protocol: MYSQL
      name: egressmysql
    captureMode: NONE
    bind: 127.0.0.1
    hosts:
    - "*/mysql.foo.com"
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: istio-system
spec:
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
`;

const gw = (servers: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: edge
spec:
  selector: {istio: ingressgateway}
  servers:
${servers}`;

const sidecar = (spec: string) => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: shop
spec:
${spec}`;

describe("Gateway", () => {
  it("accepts the examples from Istio's documentation", () => {
    expect(lines(errorsOf(DOCS_EXAMPLES))).toEqual([]);
  });

  it("requires TLS settings exactly for HTTPS/TLS servers", () => {
    const errors = errorsOf(gw(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shop-cert}`));
    expect(lines(errors)).toEqual([
      "spec.servers[0].tls: server must have TLS settings for HTTPS/TLS protocols",
      "spec.servers[1].tls: server cannot have TLS settings for plain text HTTP ports",
    ]);
  });

  it("rejects duplicate port names, bad protocols, bad ports and unknown TLS modes", () => {
    const errors = errorsOf(gw(`  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a.example.com]
  - port: {number: 81, name: http, protocol: HTTPX}
    hosts: [b.example.com]
  - port: {number: 0, name: uds, protocol: HTTP}
    hosts: [c.example.com]`));
    expect(errors[1]!.message).toBe("port names in servers must be unique: duplicate name http");
    expect(errors.map((e) => e.path)).toEqual(["spec.servers[1].port.protocol", "spec.servers[1].port.name", "spec.servers[2].port.number"]);
    const mode = errorsOf(gw(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLEST, credentialName: x}`));
    expect(mode.map((e) => e.path)).toEqual(["spec.servers[0].tls.mode"]);
  });

  it("requires certificates for SIMPLE TLS without a credential", () => {
    const errors = errorsOf(gw(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.servers[0].tls.serverCertificate", "spec.servers[0].tls.privateKey"]);
  });

  it("accepts a snake_case TLS field (Istio's proto name) and rejects a misspelt one with a hint", () => {
    expect(errorsOf(gw(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credential_name: shop-cert}`))).toEqual([]);
    const errors = errorsOf(gw(`  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialNme: shop-cert}`));
    expect(errors[0]!.message).toBe('unknown field "credentialNme" (did you mean "credentialName"?)');
    expect(errors[0]!.path).toBe("spec.servers[0].tls.credentialNme");
  });
});

describe("Sidecar", () => {
  it("rejects an empty configuration", () => {
    expect(lines(errorsOf(sidecar("  workloadSelector: {labels: {app: a}}")))).toEqual(["spec: sidecar: empty configuration provided"]);
  });

  it("requires namespace/host egress hosts and the catch-all listener last", () => {
    const errors = errorsOf(sidecar(`  egress:
  - hosts: ["istio-system/*"]
  - port: {number: 9080, protocol: HTTP, name: http}
    hosts: [reviews.default.svc.cluster.local]`));
    expect(lines(errors)).toEqual([
      "spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list",
      "spec.egress[1].hosts[0]: host must be of form namespace/dnsName",
    ]);
  });

  it("checks ingress ports, default endpoints and TLS modes", () => {
    const errors = errorsOf(sidecar(`  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 10.0.0.1:8080
  - port: {number: 9080, protocol: HTTP, name: http2}
    defaultEndpoint: 127.0.0.1:8080
    tls: {mode: ISTIO_MUTUAL}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.ingress[0].defaultEndpoint", "spec.ingress[1].port.number", "spec.ingress[1].tls.mode"]);
  });

  it("allows egressProxy only with ALLOW_ANY", () => {
    const errors = errorsOf(sidecar(`  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
    egressProxy:
      host: egress.example.com
      port: {number: 3128}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.outboundTrafficPolicy.egressProxy"]);
  });

  it("warns about HTTP pool settings on a TCP ingress port", () => {
    const diags = validateAll(sidecar(`  ingress:
  - port: {number: 5432, protocol: TCP, name: pg}
    defaultEndpoint: 127.0.0.1:5432
    connectionPool:
      http: {http1MaxPendingRequests: 10}`));
    expect(diags.map((d) => `${d.severity} ${d.path}`)).toEqual(["warning spec.ingress[0].connectionPool.http"]);
  });
});
