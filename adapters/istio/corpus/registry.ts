/**
 * @module adapters/istio/corpus/registry
 * Istio's own examples (service entry, workload entry) as its documentation prints them: the reference pages
 * (generated from the istio/api proto comments) and the tasks and Bookinfo samples they use. Data for the
 * round-trip tests (`../roundtrip.test.ts`, `interop-tests/istio/roundtrip.test.ts`); `losses` lists the
 * fields a case is expected to report as lost.
 */
import type { CorpusCase } from "./case.ts";

export const registryCorpus: CorpusCase[] = [
  {
    name: "ServiceEntry reference: external-svc-https",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-https
spec:
  hosts:
  - api.dropboxapi.com
  - www.googleapis.com
  - api.facebook.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: TLS
  resolution: DNS
`,
  },
  {
    name: "ServiceEntry reference: external-svc-mongocluster",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-mongocluster
spec:
  hosts:
  - mymongodb.somedomain # not used
  addresses:
  - 192.192.192.192/24 # VIPs
  ports:
  - number: 27018
    name: mongodb
    protocol: MONGO
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 2.2.2.2
  - address: 3.3.3.3
`,
  },
  {
    name: "ServiceEntry reference: mtls-mongocluster",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: mtls-mongocluster
spec:
  host: mymongodb.somedomain
  trafficPolicy:
    tls:
      mode: MUTUAL
      clientCertificate: /etc/certs/myclientcert.pem
      privateKey: /etc/certs/client_private_key.pem
      caCertificates: /etc/certs/rootcacerts.pem
`,
  },
  {
    name: "ServiceEntry reference: external-svc-redirect",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-redirect
spec:
  hosts:
  - wikipedia.org
  - "*.wikipedia.org"
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: TLS
  resolution: NONE
`,
  },
  {
    name: "ServiceEntry reference: tls-routing",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: tls-routing
spec:
  hosts:
  - wikipedia.org
  - "*.wikipedia.org"
  tls:
  - match:
    - sniHosts:
      - wikipedia.org
      - "*.wikipedia.org"
    route:
    - destination:
        host: internal-egress-firewall.ns1.svc.cluster.local
`,
  },
  {
    name: "ServiceEntry reference: external-svc-httpbin",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-httpbin
  namespace: egress
spec:
  hosts:
  - example.com
  exportTo:
  - "."
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: DNS
`,
  },
  {
    name: "ServiceEntry reference: istio-egressgateway",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    losses: [""],
    yaml: `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
 name: istio-egressgateway
 namespace: istio-system
spec:
 selector:
   istio: egressgateway
 servers:
 - port:
     number: 80
     name: http
     protocol: HTTP
   hosts:
   - "*"
`,
  },
  {
    name: "ServiceEntry reference: gateway-routing",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: gateway-routing
  namespace: egress
spec:
  hosts:
  - example.com
  exportTo:
  - "*"
  gateways:
  - mesh
  - istio-egressgateway
  http:
  - match:
    - port: 80
      gateways:
      - mesh
    route:
    - destination:
        host: istio-egressgateway.istio-system.svc.cluster.local
  - match:
    - port: 80
      gateways:
      - istio-egressgateway
    route:
    - destination:
        host: example.com
`,
  },
  {
    name: "ServiceEntry reference: external-svc-wildcard-example",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-wildcard-example
spec:
  hosts:
  - "*.bar.com"
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: NONE
`,
  },
  {
    name: "ServiceEntry reference: unix-domain-socket-example",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    losses: ["spec.endpoints[0].address"],
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: unix-domain-socket-example
spec:
  hosts:
  - "example.unix.local"
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: STATIC
  endpoints:
  - address: unix:///var/run/example/socket
`,
  },
  {
    name: "ServiceEntry reference: external-svc-dns",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
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
  - address: in.foo.bar.com
    ports:
      http: 7080
`,
  },
  {
    name: "ServiceEntry reference: httpbin",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin
  namespace: httpbin-ns
spec:
  hosts:
  - example.com
  location: MESH_INTERNAL
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: STATIC
  endpoints:
  - address: 2.2.2.2
  - address: 3.3.3.3
  subjectAltNames:
  - "spiffe://cluster.local/ns/httpbin-ns/sa/httpbin-service-account"
`,
  },
  {
    name: "ServiceEntry reference: details-vm-1",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-vm-1
spec:
  serviceAccount: details
  address: 2.2.2.2
  labels:
    app: details
    instance-id: vm1
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-vm-2
spec:
  serviceAccount: details
  address: 3.3.3.3
  labels:
    app: details
    instance-id: vm2
`,
  },
  {
    name: "ServiceEntry reference: details-svc",
    source: "https://istio.io/latest/docs/reference/config/networking/service-entry/",
    yaml: `
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
  resolution: STATIC
  workloadSelector:
    labels:
      app: details
`,
  },
  {
    name: "WorkloadEntry reference: details-svc",
    source: "https://istio.io/latest/docs/reference/config/networking/workload-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-svc
spec:
  # use of the service account indicates that the workload has a
  # sidecar proxy bootstrapped with this service account. Pods with
  # sidecars will automatically communicate with the workload using
  # istio mutual TLS.
  serviceAccount: details-legacy
  address: 2.2.2.2
  labels:
    app: details-legacy
    instance-id: vm1
`,
  },
  {
    name: "WorkloadEntry reference: details-svc",
    source: "https://istio.io/latest/docs/reference/config/networking/workload-entry/",
    yaml: `
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
`,
  },
  {
    name: "WorkloadEntry reference: details-svc",
    source: "https://istio.io/latest/docs/reference/config/networking/workload-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: details-svc
spec:
  # use of the service account indicates that the workload has a
  # sidecar proxy bootstrapped with this service account. Pods with
  # sidecars will automatically communicate with the workload using
  # istio mutual TLS.
  serviceAccount: details-legacy
  address: vm1.vpc01.corp.net
  labels:
    app: details-legacy
    instance-id: vm1
`,
  },
  {
    name: "WorkloadEntry reference: details-svc",
    source: "https://istio.io/latest/docs/reference/config/networking/workload-entry/",
    yaml: `
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
  resolution: DNS
  workloadSelector:
    labels:
      app: details-legacy
`,
  },
  {
    name: "WorkloadEntry reference: foo-workloads-cluster-2",
    source: "https://istio.io/latest/docs/reference/config/networking/workload-entry/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: foo-workloads-cluster-2
spec:
  serviceAccount: foo
  network: cluster-2-network
  labels:
    app: foo
`,
  },
];
