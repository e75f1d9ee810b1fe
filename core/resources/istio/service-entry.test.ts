import { describe, expect, it } from "vitest";
import { errorsOf, lines, validateAll } from "./test-util.ts";

// Examples from istio.io: the "Accessing External Services" task and the ServiceEntry and
// WorkloadEntry reference pages.
const DOCS_EXAMPLES = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin-ext
spec:
  hosts:
  - httpbin.org
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: DNS
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: google
spec:
  hosts:
  - www.google.com
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  location: MESH_EXTERNAL
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-mongocluster
spec:
  hosts:
  - mymongodb.somedomain
  addresses:
  - 192.192.192.192/24
  ports:
  - number: 27018
    name: mongodb
    protocol: MONGO
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 2.2.2.2
  - address: 3.3.3.3
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-wikipedia
spec:
  hosts:
  - "*.wikipedia.org"
  ports:
  - number: 443
    name: https
    protocol: TLS
  resolution: NONE
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-dns
spec:
  hosts:
  - foo.bar.com
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: DNS
  endpoints:
  - address: us.foo.bar.com
    ports:
      http: 8080
  - address: uk.foo.bar.com
    ports:
      http: 9080
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: details-svc
spec:
  hosts:
  - details.bookinfo.com
  location: MESH_INTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
    targetPort: 8080
  resolution: STATIC
  workloadSelector:
    labels:
      app: details-legacy
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-svc
spec:
  serviceAccount: details-legacy
  address: 2.2.2.2
  labels:
    app: details-legacy
    instance-id: vm1
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-svc-dns
spec:
  serviceAccount: details-legacy
  address: vm1.vpc01.corp.net
  labels:
    app: details-legacy
    instance-id: vm1
`;

const se = (spec: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext
  namespace: egress
spec:
${spec}`;

describe("ServiceEntry and WorkloadEntry", () => {
  it("accept the examples from Istio's documentation", () => {
    expect(lines(errorsOf(DOCS_EXAMPLES))).toEqual([]);
  });

  it("rejects endpoints with resolution NONE and CIDRs with DNS", () => {
    expect(lines(errorsOf(se(`  hosts: [db.example.com]
  ports: [{number: 5432, name: tcp-pg, protocol: TCP}]
  endpoints: [{address: 10.0.0.1}]`)))).toEqual(["spec.endpoints: no endpoints should be provided for resolution type NONE"]);
    expect(lines(errorsOf(se(`  hosts: [db.example.com]
  addresses: [10.1.0.0/16]
  ports: [{number: 5432, name: tcp-pg, protocol: TCP}]
  resolution: DNS`)))).toEqual(["spec.addresses: CIDR addresses are allowed only for NONE/STATIC resolution types"]);
  });

  it("requires IP endpoints for STATIC and FQDN hosts for DNS without endpoints", () => {
    expect(lines(errorsOf(se(`  hosts: [db.example.com]
  ports: [{number: 5432, name: tcp-pg, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: db1.example.com}]`)))).toEqual(['spec.endpoints[0].address: endpoint address "db1.example.com" is not a valid IP address']);
    expect(lines(errorsOf(se(`  hosts: ["*.example.com"]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS`)))).toEqual(["spec.hosts[0]: hosts must be FQDN if no endpoints are provided for resolution mode DNS"]);
  });

  it("rejects duplicate ports, undefined endpoint ports and unknown protocols", () => {
    const errors = errorsOf(se(`  hosts: [api.example.com]
  ports:
  - {number: 80, name: http, protocol: HTTP}
  - {number: 80, name: http-alt, protocol: HTTPX}
  resolution: DNS
  endpoints:
  - address: 1.2.3.4
    ports: {grpc: 9000}`));
    const found = lines(errors);
    expect(found).toHaveLength(3);
    expect(found[0]).toBe("spec.ports[1].number: service entry port 80 already defined");
    expect(found[1]).toMatch(/^spec\.ports\[1\]\.protocol: unsupported protocol: HTTPX/);
    expect(found[2]).toBe("spec.endpoints[0].ports.grpc: endpoint port grpc is not defined by the service entry");
  });

  it("rejects enum values in the wrong case and a port above 65535", () => {
    const errors = errorsOf(se(`  hosts: [api.example.com]
  ports: [{number: 65536, name: http, protocol: HTTP}]
  resolution: dns`));
    expect(errors.map((e) => e.path).sort()).toEqual(["spec.ports[0].number", "spec.resolution"]);
    expect(errors.find((e) => e.path === "spec.resolution")!.message).toContain("NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS");
  });

  it("rejects the full wildcard host, several hosts on a TCP port, and selector with endpoints", () => {
    expect(errorsOf(se(`  hosts: ["*"]
  ports: [{number: 80, name: http, protocol: HTTP}]`)).map((e) => e.path)).toEqual(["spec.hosts[0]"]);
    expect(lines(errorsOf(se(`  hosts: [a.example.com, b.example.com]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  resolution: DNS`)))).toEqual(["spec.ports[0]: multiple hosts provided with non-HTTP, non-TLS ports"]);
    expect(errorsOf(se(`  hosts: [a.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: a}}
  endpoints: [{address: 1.1.1.1}]`)).map((e) => e.message)).toEqual(["only one of workloadSelector or endpoints is allowed in a ServiceEntry"]);
  });

  it("rejects a required hosts list that is missing", () => {
    const errors = errorsOf(se(`  ports: [{number: 80, name: http, protocol: HTTP}]`));
    expect(errors).toMatchObject([{ path: "spec.hosts", object: "ServiceEntry/egress/ext" }]);
  });

  it("checks WorkloadEntry addresses and ports", () => {
    const errors = errorsOf(`
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: {name: vm}
spec:
  labels: {app: vm}
---
apiVersion: networking.istio.io/v1alpha3
kind: WorkloadEntry
metadata: {name: uds}
spec:
  address: unix:///var/run/app.sock
  ports: {http: 8080}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: badport}
spec:
  address: 10.0.0.5
  ports: {http: 0}
`);
    expect(lines(errors)).toEqual([
      "spec.address: address is required",
      "spec.ports: unix endpoint unix:///var/run/app.sock must not include ports",
      "spec.ports.http: must be a port number in the range 1..65535",
    ]);
  });

  it("warns, without failing, when a network-only WorkloadEntry has no address", () => {
    const diags = validateAll(`
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: remote}
spec:
  network: network2
`);
    expect(diags.map((d) => d.severity)).toEqual(["warning"]);
  });
});
