/**
 * @module adapters/istio/corpus/networking
 * Istio's own examples (virtual service, destination rule) as its documentation prints them: the reference pages
 * (generated from the istio/api proto comments) and the tasks and Bookinfo samples they use. Data for the
 * round-trip tests (`../roundtrip.test.ts`, `interop-tests/istio/roundtrip.test.ts`); `losses` lists the
 * fields a case is expected to report as lost.
 */
import type { CorpusCase } from "./case.ts";

export const networkingCorpus: CorpusCase[] = [
  {
    name: "VirtualService reference: reviews-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route
spec:
  hosts:
  - reviews.prod.svc.cluster.local
  http:
  - name: "reviews-v2-routes"
    match:
    - uri:
        prefix: "/wpcatalog"
    - uri:
        prefix: "/consumercatalog"
    rewrite:
      uri: "/newcatalog"
    route:
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v2
  - name: "reviews-v1-route"
    route:
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v1
`,
  },
  {
    name: "VirtualService reference: reviews-destination",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-destination
spec:
  host: reviews.prod.svc.cluster.local
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`,
  },
  {
    name: "VirtualService reference: reviews-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route
  namespace: foo
spec:
  hosts:
  - reviews # interpreted as reviews.foo.svc.cluster.local
  http:
  - match:
    - uri:
        prefix: "/wpcatalog"
    - uri:
        prefix: "/consumercatalog"
    rewrite:
      uri: "/newcatalog"
    route:
    - destination:
        host: reviews # interpreted as reviews.foo.svc.cluster.local
        subset: v2
  - route:
    - destination:
        host: reviews # interpreted as reviews.foo.svc.cluster.local
        subset: v1
`,
  },
  {
    name: "VirtualService reference: reviews-destination",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-destination
  namespace: foo
spec:
  host: reviews # interpreted as reviews.foo.svc.cluster.local
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`,
  },
  {
    name: "VirtualService reference: my-productpage-rule",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: my-productpage-rule
  namespace: istio-system
spec:
  hosts:
  - productpage.prod.svc.cluster.local # ignores rule namespace
  http:
  - timeout: 5s
    route:
    - destination:
        host: productpage.prod.svc.cluster.local
`,
  },
  {
    name: "VirtualService reference: external-svc-wikipedia",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-svc-wikipedia
spec:
  hosts:
  - wikipedia.org
  location: MESH_EXTERNAL
  ports:
  - number: 80
    name: example-http
    protocol: HTTP
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: my-wiki-rule
spec:
  hosts:
  - wikipedia.org
  http:
  - timeout: 5s
    route:
    - destination:
        host: wikipedia.org
`,
  },
  {
    name: "VirtualService reference: bookinfo",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts:
  - "bookinfo.com"
  gateways:
  - mygateway
  http:
  - match:
    - uri:
        prefix: "/productpage"
    delegate:
       name: productpage
       namespace: nsA
  - match:
    - uri:
        prefix: "/reviews"
    delegate:
        name: reviews
        namespace: nsB
`,
  },
  {
    name: "VirtualService reference: productpage",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productpage
  namespace: nsA
spec:
  http:
  - match:
     - uri:
        prefix: "/productpage/v1/"
    route:
    - destination:
        host: productpage-v1.nsA.svc.cluster.local
  - route:
    - destination:
        host: productpage.nsA.svc.cluster.local
`,
  },
  {
    name: "VirtualService reference: reviews",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: nsB
spec:
  http:
  - route:
    - destination:
        host: reviews.nsB.svc.cluster.local
`,
  },
  {
    name: "VirtualService reference: reviews-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route
spec:
  hosts:
  - reviews.prod.svc.cluster.local
  http:
  - headers:
      request:
        set:
          test: "true"
    route:
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v2
      weight: 25
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v1
      headers:
        response:
          remove:
          - foo
      weight: 75
`,
  },
  {
    name: "VirtualService reference: bookinfo-sni",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo-sni
spec:
  hosts:
  - "*.bookinfo.com"
  gateways:
  - mygateway
  tls:
  - match:
    - port: 443
      sniHosts:
      - login.bookinfo.com
    route:
    - destination:
        host: login.prod.svc.cluster.local
  - match:
    - port: 443
      sniHosts:
      - reviews.bookinfo.com
    route:
    - destination:
        host: reviews.prod.svc.cluster.local
`,
  },
  {
    name: "VirtualService reference: bookinfo-mongo",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo-mongo
spec:
  hosts:
  - mongo.prod.svc.cluster.local
  tcp:
  - match:
    - port: 27017
    route:
    - destination:
        host: mongo.backup.svc.cluster.local
        port:
          number: 5555
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - match:
    - headers:
        end-user:
          exact: jason
      uri:
        prefix: "/ratings/v2/"
      ignoreUriCase: true
    route:
    - destination:
        host: ratings.prod.svc.cluster.local
`,
  },
  {
    name: "VirtualService reference: reviews-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route
spec:
  hosts:
  - reviews.prod.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v2
      weight: 25
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v1
      weight: 75
`,
  },
  {
    name: "VirtualService reference: reviews-destination",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-destination
spec:
  host: reviews.prod.svc.cluster.local
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`,
  },
  {
    name: "VirtualService reference: reviews-route-two-domains",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route-two-domains
spec:
  hosts:
  - reviews.com
  http:
  - route:
    - destination:
        host: dev.reviews.com
      weight: 25
    - destination:
        host: reviews.com
      weight: 75
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - match:
    - uri:
        exact: /v1/getProductRatings
    redirect:
      uri: /v1/bookRatings
      authority: newratings.default.svc.cluster.local
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - match:
    - uri:
        exact: /v1/getProductRatings
    directResponse:
      status: 503
      body:
        string: "unknown error"
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - match:
    - uri:
        exact: /v1/getProductRatings
    directResponse:
      status: 503
      body:
        bytes: "dW5rbm93biBlcnJvcg==" # "unknown error" in base64
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - match:
    - uri:
        exact: /v1/getProductRatings
    directResponse:
      status: 503
      body:
        string: "{\\"error\\": \\"unknown error\\"}"
    headers:
      response:
        set:
          content-type: "text/plain"
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - match:
    - uri:
        prefix: /ratings
    rewrite:
      uri: /v1/bookRatings
    route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: gateway-error,connect-failure,refused-stream
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
    corsPolicy:
      allowOrigins:
      - exact: https://example.com
      allowMethods:
      - POST
      - GET
      allowCredentials: false
      allowHeaders:
      - X-Foo-Bar
      maxAge: "24h"
`,
  },
  {
    name: "VirtualService reference: reviews-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route
spec:
  hosts:
  - reviews.prod.svc.cluster.local
  http:
  - match:
    - sourceLabels:
        env: prod
    route:
    - destination:
        host: reviews.prod.svc.cluster.local
        subset: v1
    fault:
      delay:
        percentage:
          value: 0.1
        fixedDelay: 5s
`,
  },
  {
    name: "VirtualService reference: ratings-route",
    source: "https://istio.io/latest/docs/reference/config/networking/virtual-service/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings-route
spec:
  hosts:
  - ratings.prod.svc.cluster.local
  http:
  - route:
    - destination:
        host: ratings.prod.svc.cluster.local
        subset: v1
    fault:
      abort:
        percentage:
          value: 0.1
        httpStatus: 400
`,
  },
  {
    name: "DestinationRule reference: bookinfo-ratings",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: LEAST_REQUEST
`,
  },
  {
    name: "DestinationRule reference: bookinfo-ratings",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
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
`,
  },
  {
    name: "DestinationRule reference: bookinfo-ratings-port",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings-port
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy: # Apply to all ports
    portLevelSettings:
    - port:
        number: 80
      loadBalancer:
        simple: LEAST_REQUEST
    - port:
        number: 9080
      loadBalancer:
        simple: ROUND_ROBIN
`,
  },
  {
    name: "DestinationRule reference: configure-client-mtls-dr-with-workloadselector",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    losses: ["spec.workloadSelector"],
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: configure-client-mtls-dr-with-workloadselector
spec:
  host: example.com
  workloadSelector:
    matchLabels:
      app: ratings
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
    portLevelSettings:
    - port:
        number: 31443
      tls:
        credentialName: client-credential
        mode: MUTUAL
`,
  },
  {
    name: "DestinationRule reference: bookinfo-ratings",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
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
`,
  },
  {
    name: "DestinationRule reference: bookinfo-ratings",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
`,
  },
  {
    name: "DestinationRule reference: bookinfo-ratings",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: bookinfo-ratings
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          ttl: 0s
`,
  },
  {
    name: "DestinationRule reference: bookinfo-redis",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
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
`,
  },
  {
    name: "DestinationRule reference: reviews-cb-policy",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-cb-policy
spec:
  host: reviews.prod.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        http2MaxRequests: 1000
        maxRequestsPerConnection: 10
    outlierDetection:
      consecutive5xxErrors: 7
      interval: 5m
      baseEjectionTime: 15m
`,
  },
  {
    name: "DestinationRule reference: db-mtls",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: db-mtls
spec:
  host: mydbserver.prod.svc.cluster.local
  trafficPolicy:
    tls:
      mode: MUTUAL
      clientCertificate: /etc/certs/myclientcert.pem
      privateKey: /etc/certs/client_private_key.pem
      caCertificates: /etc/certs/rootcacerts.pem
`,
  },
  {
    name: "DestinationRule reference: tls-foo",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: tls-foo
spec:
  host: "*.foo.com"
  trafficPolicy:
    tls:
      mode: SIMPLE
`,
  },
  {
    name: "DestinationRule reference: ratings-istio-mtls",
    source: "https://istio.io/latest/docs/reference/config/networking/destination-rule/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings-istio-mtls
spec:
  host: ratings.prod.svc.cluster.local
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
`,
  },
  {
    name: "Bookinfo sample destination-rule-all-mtls: productpage",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/destination-rule-all-mtls.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: productpage
spec:
  host: productpage
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v2-mysql
    labels:
      version: v2-mysql
  - name: v2-mysql-vm
    labels:
      version: v2-mysql-vm
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
`,
  },
  {
    name: "Bookinfo sample destination-rule-all: productpage",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/destination-rule-all.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: productpage
spec:
  host: productpage
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v2-mysql
    labels:
      version: v2-mysql
  - name: v2-mysql-vm
    labels:
      version: v2-mysql-vm
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
`,
  },
  {
    name: "Bookinfo sample destination-rule-reviews: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/destination-rule-reviews.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: RANDOM
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
`,
  },
  {
    name: "Bookinfo sample egress-rule-google-apis: googleapis",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/egress-rule-google-apis.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: googleapis
spec:
  hosts:
  - www.googleapis.com
  ports:
  - number: 80
    name: http
    protocol: HTTP
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: rewrite-port-for-googleapis
spec:
  hosts:
  - www.googleapis.com
  http:
  - match:
    - port: 80
    route:
    - destination:
        host: www.googleapis.com
        port:
          number: 443
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: originate-tls-for-googleapis
spec:
  host: www.googleapis.com
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
    portLevelSettings:
    - port:
        number: 443
      tls:
        mode: SIMPLE # initiates HTTPS when accessing www.googleapis.com
`,
  },
  {
    name: "Bookinfo sample fault-injection-details-v1: details",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/fault-injection-details-v1.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: details
spec:
  hosts:
  - details
  http:
  - fault:
      abort:
        httpStatus: 555
        percentage:
          value: 100
    route:
    - destination:
        host: details
        subset: v1
  - route:
    - destination:
        host: details
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  subsets:
  - name: v1
    labels:
      version: v1
`,
  },
  {
    name: "Bookinfo sample virtual-service-all-v1: productpage",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-all-v1.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productpage
spec:
  hosts:
  - productpage
  http:
  - route:
    - destination:
        host: productpage
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: details
spec:
  hosts:
  - details
  http:
  - route:
    - destination:
        host: details
        subset: v1
---
`,
  },
  {
    name: "Bookinfo sample virtual-service-details-v2: details",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-details-v2.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: details
spec:
  hosts:
  - details
  http:
  - route:
    - destination:
        host: details
        subset: v2
`,
  },
  {
    name: "Bookinfo sample virtual-service-ratings-db: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-ratings-db.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v3
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v2
---
`,
  },
  {
    name: "Bookinfo sample virtual-service-ratings-mysql-vm: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-ratings-mysql-vm.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v3
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v2-mysql-vm
---
`,
  },
  {
    name: "Bookinfo sample virtual-service-ratings-test-abort: ratings",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-ratings-test-abort.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      abort:
        percentage:
          value: 100.0
        httpStatus: 500
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`,
  },
  {
    name: "Bookinfo sample virtual-service-ratings-test-delay: ratings",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-ratings-test-delay.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      delay:
        percentage:
          value: 100.0
        fixedDelay: 7s
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`,
  },
  {
    name: "Bookinfo sample virtual-service-reviews-50-v3: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-reviews-50-v3.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v3
      weight: 50
`,
  },
  {
    name: "Bookinfo sample virtual-service-reviews-80-20: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-reviews-80-20.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
`,
  },
  {
    name: "Bookinfo sample virtual-service-reviews-jason-v2-v3: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-reviews-jason-v2-v3.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v3
`,
  },
  {
    name: "Bookinfo sample virtual-service-reviews-v2-v3: reviews",
    source: "https://istio.io/latest/docs/examples/bookinfo/ (samples/bookinfo/networking/virtual-service-reviews-v2-v3.yaml)",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
      weight: 50
    - destination:
        host: reviews
        subset: v3
      weight: 50
`,
  },
  {
    name: "Circuit breaking task: httpbin",
    source: "https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/",
    yaml: `
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
`,
  },
  {
    name: "Request timeouts task: reviews",
    source: "https://istio.io/latest/docs/tasks/traffic-management/request-timeouts/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
    timeout: 0.5s
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - fault:
      delay:
        percentage:
          value: 100
        fixedDelay: 2s
    route:
    - destination:
        host: ratings
        subset: v1
`,
  },
  {
    name: "Mirroring task: httpbin",
    source: "https://istio.io/latest/docs/tasks/traffic-management/mirroring/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
        subset: v1
      weight: 100
    mirror:
      host: httpbin
      subset: v2
    mirrorPercentage:
      value: 100.0
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`,
  },
  {
    name: "Egress TLS origination task: edition-cnn-com",
    source: "https://istio.io/latest/docs/tasks/traffic-management/egress/egress-tls-origination/",
    yaml: `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: edition-cnn-com
spec:
  hosts:
  - edition.cnn.com
  ports:
  - number: 80
    name: http-port
    protocol: HTTP
    targetPort: 443
  - number: 443
    name: https-port
    protocol: HTTPS
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: edition-cnn-com
spec:
  host: edition.cnn.com
  trafficPolicy:
    portLevelSettings:
    - port:
        number: 80
      tls:
        mode: SIMPLE
`,
  },
];
