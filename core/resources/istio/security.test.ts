import { describe, expect, it } from "vitest";
import { errorsOf, lines, validateAll } from "./test-util.ts";

// Examples from istio.io: the "Mutual TLS Migration" and "Authentication Policy" tasks, the
// "JWT Token" task, and the PeerAuthentication / RequestAuthentication reference pages.
const DOCS_EXAMPLES = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: "default"
  namespace: "istio-system"
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: "default"
  namespace: "foo"
spec:
  mtls:
    mode: PERMISSIVE
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  selector:
    matchLabels:
      app: finance
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: "jwt-example"
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: "testing@secure.istio.io"
    jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json"
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  jwtRules:
  - issuer: "issuer-foo"
    jwksUri: https://example.com/.well-known/jwks.json
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    fromParams:
    - "my_token"
    outputClaimToHeaders:
    - header: "x-jwt-claim-foo"
      claim: "foo"
  - issuer: "issuer-bar"
    jwks: '{"keys":[{"e":"AQAB","kid":"DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ","kty":"RSA","n":"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"}]}'
`;

const pa = (spec: string) => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: pa
  namespace: foo
spec:
${spec}`;

const ra = (spec: string) => `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: ra
  namespace: foo
spec:
${spec}`;

describe("PeerAuthentication", () => {
  it("accepts the examples from Istio's documentation", () => {
    expect(lines(errorsOf(DOCS_EXAMPLES))).toEqual([]);
  });

  it("requires a selector for portLevelMtls", () => {
    const errors = errorsOf(pa(`  mtls: {mode: STRICT}
  portLevelMtls:
    8080: {mode: DISABLE}`));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ object: "PeerAuthentication/foo/pa", path: "spec.portLevelMtls" });
    expect(errors[0]!.message).toContain("portLevelMtls requires a selector");
  });

  it("rejects unknown modes and out-of-range ports", () => {
    const errors = errorsOf(pa(`  selector: {matchLabels: {app: a}}
  mtls: {mode: STRICTLY}
  portLevelMtls:
    "0": {mode: DISABLE}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.mtls.mode"]);
    expect(errors[0]!.message).toContain("UNSET, DISABLE, PERMISSIVE, STRICT");
    expect(lines(errorsOf(pa(`  selector: {matchLabels: {app: a}}
  portLevelMtls:
    "0": {mode: DISABLE}`)))).toEqual(['spec.portLevelMtls.0: port "0" must be in range 1..65535']);
  });

  it("accepts an empty spec and a missing spec", () => {
    expect(validateAll(pa("  {}"))).toHaveLength(0);
    expect(validateAll("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: inherit}\n")).toHaveLength(0);
  });
});

describe("RequestAuthentication", () => {
  it("accepts the jwks_uri spelling Istio's CRD also accepts", () => {
    expect(errorsOf(ra(`  jwtRules:
  - issuer: issuer-foo
    jwks_uri: https://example.com/jwks.json`))).toHaveLength(0);
  });

  it("suggests jwksUri for a mistyped field name", () => {
    const errors = errorsOf(ra(`  jwtRules:
  - issuer: issuer-foo
    jwksURI: https://example.com/jwks.json`));
    expect(errors[0]!.path).toBe("spec.jwtRules[0].jwksURI");
    expect(errors[0]!.message).toContain('did you mean "jwksUri"');
  });

  it("rejects jwks together with jwksUri, non-http URIs and broken key sets", () => {
    const errors = errorsOf(ra(`  jwtRules:
  - issuer: a
    jwksUri: https://example.com/jwks.json
    jwks: '{"keys":[]}'
  - issuer: b
    jwksUri: ftp://example.com/jwks.json
  - issuer: c
    jwks: 'not json'
  - jwksUri: https://example.com/jwks.json`));
    expect(errors.map((e) => e.path)).toEqual(["spec.jwtRules[0]", "spec.jwtRules[1].jwksUri", "spec.jwtRules[2].jwks", "spec.jwtRules[3].issuer"]);
    expect(errors[0]!.message).toBe("only one of jwks or jwksUri can be set");
  });

  it("checks token locations, output headers and the fetch timeout", () => {
    const errors = errorsOf(ra(`  jwtRules:
  - issuer: a
    jwksUri: https://example.com/jwks.json
    fromHeaders: [{name: ""}]
    outputClaimToHeaders: [{header: "x jwt", claim: sub}]
    timeout: 5`));
    expect(errors.map((e) => e.path)).toEqual(["spec.jwtRules[0].timeout"]);
    const semantic = errorsOf(ra(`  jwtRules:
  - issuer: a
    jwksUri: https://example.com/jwks.json
    fromHeaders: [{name: ""}]
    outputClaimToHeaders: [{header: "x jwt", claim: sub}]
    timeout: 5s`));
    expect(semantic.map((e) => e.path)).toEqual(["spec.jwtRules[0].fromHeaders[0].name", "spec.jwtRules[0].outputClaimToHeaders[0].header"]);
  });

  it("allows only one of selector and targetRefs, and only supported target kinds", () => {
    const errors = errorsOf(ra(`  selector: {matchLabels: {app: a}}
  targetRefs:
  - kind: Deployment
    name: a`));
    expect(errors.map((e) => e.path)).toEqual(["spec", "spec.targetRefs[0]"]);
    expect(errorsOf(ra(`  targetRefs:
  - kind: Gateway
    group: gateway.networking.k8s.io
    name: waypoint`))).toHaveLength(0);
  });
});
