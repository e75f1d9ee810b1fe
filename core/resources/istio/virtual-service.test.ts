import { describe, expect, it } from "vitest";
import { errorsOf, lines, validateAll } from "./test-util.ts";

// Examples from istio.io: tasks "Request Routing", "Traffic Shifting", "Fault Injection",
// "Mirroring", "Request Timeouts" and the VirtualService reference page.
const DOCS_EXAMPLES = `
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
      weight: 50
    - destination:
        host: reviews
        subset: v3
      weight: 50
---
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
---
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
---
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
  - route:
    - destination:
        host: ratings
        subset: v1
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: gateway-error,connect-failure,refused-stream
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts:
  - "*"
  gateways:
  - bookinfo-gateway
  http:
  - match:
    - uri:
        exact: /productpage
    - uri:
        prefix: /static
    - uri:
        exact: /login
    - uri:
        exact: /logout
    - uri:
        prefix: /api/v1/products
    route:
    - destination:
        host: productpage
        port:
          number: 9080
---
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
  - match:
    - uri:
        exact: /v1/getProductRatings
    redirect:
      uri: /v1/bookRatings
      authority: newratings.default.svc.cluster.local
  - route:
    - destination:
        host: ratings.prod.svc.cluster.local
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
---
apiVersion: networking.istio.io/v1beta1
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
  tcp:
  - match:
    - port: 27017
    route:
    - destination:
        host: mongo.backup.svc.cluster.local
        port:
          number: 5555
`;

const base = (http: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
  - reviews
  http:
${http}`;

describe("VirtualService", () => {
  it("accepts the examples from Istio's documentation", () => {
    expect(lines(errorsOf(DOCS_EXAMPLES))).toEqual([]);
  });

  it("accepts Go durations such as 100ms and 1h30m, as Istio's decoder does", () => {
    const text = base(`  - route:
    - destination: {host: reviews}
    timeout: 100ms
    retries: {attempts: 2, perTryTimeout: 1h30m}`);
    expect(errorsOf(text)).toHaveLength(0);
  });

  it("names a mistyped field with its path and suggests the intended one", () => {
    const errors = errorsOf(base(`  - route:
    - destination:
        host: reviews
        subet: v1`));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ object: "VirtualService/default/reviews", path: "spec.http[0].route[0].destination.subet", file: "test.yaml" });
    expect(errors[0]!.message).toContain('did you mean "subset"');
  });

  it("accepts proto (snake_case) field names as Istio's jsonpb decoder does, and still checks their values", () => {
    expect(errorsOf(base(`  - route:
    - destination: {host: reviews}
    retries:
      attempts: 3
      per_try_timeout: 2s`))).toEqual([]);
    const errors = errorsOf(base(`  - route:
    - destination: {host: reviews}
    retries:
      attempts: 3
      per_try_timeout: 2 seconds`));
    expect(errors[0]!.path).toBe("spec.http[0].retries.perTryTimeout");
  });

  it("suggests the field for a typo that is not a proto name", () => {
    const errors = errorsOf(base(`  - route:
    - destination: {host: reviews}
    retries:
      attempts: 3
      perTryTimout: 2s`));
    expect(errors[0]!.message).toBe('unknown field "perTryTimout" (did you mean "perTryTimeout"?)');
  });

  it("rejects durations without a unit, below 1ms, or finer than ms", () => {
    for (const bad of ["10", "1.5", "0s", "500us", "1.0005s", "ten seconds"]) {
      const errors = errorsOf(base(`  - route:
    - destination: {host: reviews}
    timeout: "${bad}"`));
      expect(errors.map((e) => e.path)).toEqual(["spec.http[0].timeout"]);
    }
    const numeric = errorsOf(base(`  - route:
    - destination: {host: reviews}
    timeout: 10`));
    expect(numeric[0]!.message).toMatch(/expected a duration string/);
  });

  it("rejects a string match with two kinds or none", () => {
    const two = errorsOf(base(`  - match:
    - uri: {exact: /a, prefix: /b}
    route:
    - destination: {host: reviews}`));
    expect(two.map((e) => e.path)).toEqual(["spec.http[0].match[0].uri"]);
    expect(two[0]!.message).toContain("only one of exact, prefix, regex");
    const none = errorsOf(base(`  - match:
    - uri: {}
    route:
    - destination: {host: reviews}`));
    expect(none[0]!.message).toContain("exactly one of exact, prefix, regex");
  });

  it("accepts a header presence match ({})", () => {
    expect(errorsOf(base(`  - match:
    - headers:
        x-canary: {}
    route:
    - destination: {host: reviews}`))).toHaveLength(0);
  });

  it("rejects bad ports and enum values", () => {
    const errors = errorsOf(base(`  - match:
    - port: 70000
    redirect:
      derivePort: FROM_PROTOCOL
    route:
    - destination: {host: reviews}`));
    const paths = errors.map((e) => e.path);
    expect(paths).toContain("spec.http[0].match[0].port");
    expect(paths).toContain("spec.http[0].redirect.derivePort");
    expect(errors.find((e) => e.path === "spec.http[0].redirect.derivePort")!.message).toContain("FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT");
  });

  it("rejects weights that add up to zero and warns when they do not add up to 100", () => {
    const zero = errorsOf(base(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 0
    - destination: {host: reviews, subset: v2}
      weight: 0`));
    expect(zero.map((e) => e.message)).toEqual(["total destination weight = 0"]);
    const odd = validateAll(base(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 30
    - destination: {host: reviews, subset: v2}
      weight: 30`));
    expect(odd).toHaveLength(1);
    expect(odd[0]).toMatchObject({ severity: "warning", path: "spec.http[0].route" });
    const negative = errorsOf(base(`  - route:
    - destination: {host: reviews}
      weight: -10`));
    expect(negative[0]!.path).toBe("spec.http[0].route[0].weight");
  });

  it("rejects a rule with both route and redirect, and a rule with neither", () => {
    const both = errorsOf(base(`  - redirect: {uri: /new}
    route:
    - destination: {host: reviews}`));
    expect(both.map((e) => e.message)).toContain("HTTP route cannot contain both route and redirect");
    const neither = errorsOf(base(`  - timeout: 5s`));
    expect(neither.map((e) => e.message)).toEqual(["HTTP route, redirect or directResponse is required"]);
  });

  it("checks retries, fault percentages, redirect codes and regexes", () => {
    const errors = errorsOf(base(`  - match:
    - uri: {regex: "/api/(?=v1)"}
    route:
    - destination: {host: reviews}
    retries: {attempts: 0, perTryTimeout: 1s, retryOn: "5xx,bogus"}
    fault:
      abort: {httpStatus: 700, percentage: {value: 101}}
  - match:
    - uri: {prefix: /old}
    redirect: {uri: /new, redirectCode: 200}`));
    const messages = lines(errors);
    expect(messages).toContain("spec.http[0].retries: http retry policy configured when attempts are set to 0 (disabled)");
    expect(messages).toContain('spec.http[0].retries.retryOn: "bogus" is not a valid retryOn policy');
    expect(messages).toContain("spec.http[0].fault.abort.httpStatus: HTTP status 700 is not in range 200-599");
    expect(messages).toContain("spec.http[0].fault.abort.percentage.value: percentage 101 is neither 0.0, nor in range [0.0001, 100.0]");
    expect(messages).toContain("spec.http[1].redirect.redirectCode: 200 is not a valid redirect code, must be 3xx");
    expect(messages.some((m) => m.startsWith("spec.http[0].match[0].uri.regex:") && m.includes("RE2"))).toBe(true);
  });

  it("rejects a * host bound to the mesh, duplicate hosts and bad gateway names", () => {
    const errors = errorsOf(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad}
spec:
  hosts: ["*"]
  http:
  - route:
    - destination: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: dup}
spec:
  hosts: [reviews.default.svc.cluster.local, "*.default.svc.cluster.local"]
  gateways: [istio-system/Bad_Gateway]
  http:
  - route:
    - destination: {host: reviews}
`);
    expect(lines(errors)).toEqual([
      "spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway",
      'spec.gateways[0]: invalid value for gateway name: "Bad_Gateway"',
      "spec.hosts[1]: duplicate hosts in virtual service: reviews.default.svc.cluster.local & *.default.svc.cluster.local",
    ]);
  });

  it("requires TLS routes' SNI hosts to fall under the virtual service hosts", () => {
    const errors = errorsOf(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: sni}
spec:
  hosts: ["*.bookinfo.com"]
  gateways: [mygateway]
  tls:
  - match:
    - sniHosts: [login.example.com]
    route:
    - destination: {host: login.prod.svc.cluster.local}
`);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe("spec.tls[0].match[0].sniHosts[0]");
  });

  it("accepts the deprecated mirror_percent spelling with a warning", () => {
    const diags = validateAll(base(`  - route:
    - destination: {host: reviews}
    mirror: {host: reviews, subset: v2}
    mirror_percent: 50`));
    expect(diags.map((d) => d.severity)).toEqual(["warning"]);
  });
});
