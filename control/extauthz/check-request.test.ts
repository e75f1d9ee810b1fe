// CheckRequest → AuthzRequest mapping and Decision → CheckResponse, over requests shaped as Envoy sends them.
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CheckRequestSchema } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";
import { authorizerFromYaml } from "../../core/policy/index.ts";
import { checkRequestToAuthz, parseLabels, workloadFromSpiffe } from "./check-request.ts";
import { decisionToCheckResponse, failClosedResponse, POLICY_HEADER } from "./check-response.ts";
import { createStaticPolicySource } from "./policy-source.ts";
import { createCheckHandler } from "./service.ts";
import { envoyCheckRequest } from "./testing.ts";

const SLEEP = "spiffe://cluster.local/ns/sleep/sa/sleep";
const HTTPBIN = "spiffe://cluster.local/ns/foo/sa/httpbin";

describe("checkRequestToAuthz", () => {
  it("maps peers, HTTP attributes, SNI and context extensions", () => {
    const { request, workloadFrom } = checkRequestToAuthz(envoyCheckRequest({
      source: { ip: "10.0.0.5", port: 40000, principal: SLEEP },
      destination: { ip: "10.0.0.9", port: 8000, principal: HTTPBIN },
      method: "POST", path: "/status/200?x=1", host: "httpbin.foo:8000",
      headers: { "x-tenant": "a,b" }, sni: "outbound_.8000_._.httpbin.foo.svc.cluster.local",
      contextExtensions: { namespace: "foo", labels: "app=httpbin, version=v1" },
    }));
    expect(workloadFrom).toBe("context_extensions");
    expect(request.destination).toEqual({ namespace: "foo", labels: { app: "httpbin", version: "v1" }, port: 8000, ip: "10.0.0.9" });
    expect(request.source).toEqual({ principal: SLEEP, ip: "10.0.0.5" });
    expect(request.http).toMatchObject({ method: "POST", path: "/status/200?x=1", host: "httpbin.foo:8000" });
    expect(request.http!.headers).toMatchObject({ "x-tenant": "a,b", ":path": "/status/200?x=1", "x-request-id": expect.any(String) });
    expect(request.sni).toBe("outbound_.8000_._.httpbin.foo.svc.cluster.local");
    expect(request.auth).toBeUndefined();
  });

  it("takes the namespace from the destination SPIFFE ID (Istio and Consul forms) when nothing else says", () => {
    expect(checkRequestToAuthz(envoyCheckRequest({ destination: { principal: HTTPBIN } }))).toMatchObject({
      workloadFrom: "principal", request: { destination: { namespace: "foo" } },
    });
    expect(workloadFromSpiffe("spiffe://1111.consul/ns/default/dc/dc1/svc/api")).toEqual({ namespace: "default", service: "api" });
    expect(workloadFromSpiffe("spiffe://1111.consul/ap/team/ns/billing/dc/dc1/svc/pay")).toEqual({ namespace: "billing", service: "pay" });
    expect(workloadFromSpiffe("spiffe://td/other")).toBeUndefined();
    expect(checkRequestToAuthz(envoyCheckRequest()).workloadFrom).toBe("unknown");
  });

  it("asks the address resolver before the principal and lets context extensions win", () => {
    const seen: [string, number | undefined][] = [];
    const resolveWorkload = (ip: string, port: number | undefined) => {
      seen.push([ip, port]);
      return { namespace: "bar", labels: { app: "web" } };
    };
    const r = checkRequestToAuthz(envoyCheckRequest({ destination: { ip: "10.1.1.1", port: 9080, principal: HTTPBIN } }), { resolveWorkload });
    expect(seen).toEqual([["10.1.1.1", 9080]]);
    expect(r.workloadFrom).toBe("address");
    expect(r.request.destination).toMatchObject({ namespace: "bar", labels: { app: "web" } });
    const r2 = checkRequestToAuthz(envoyCheckRequest({ contextExtensions: { namespace: "ctx" } }), { resolveWorkload });
    expect(r2.request.destination).toMatchObject({ namespace: "ctx", labels: { app: "web" } });
  });

  it("reads multi-valued headers from header_map and appends a separate query", () => {
    const req = create(CheckRequestSchema, {
      attributes: {
        contextExtensions: { namespace: "foo" },
        request: { http: {
          method: "GET", path: "/a", query: "b=1", host: "h",
          headerMap: { headers: [
            { key: "X-Role", value: "admin" }, { key: "x-role", rawValue: new TextEncoder().encode("dev") }, { key: "Accept", value: "*/*" },
          ] },
        } },
      },
    });
    const { request } = checkRequestToAuthz(req);
    expect(request.http).toEqual({ method: "GET", path: "/a?b=1", host: "h", headers: { "x-role": ["admin", "dev"], accept: "*/*" } });
    expect(request.source).toBeUndefined();
  });

  it("reads a JWT payload from jwt_authn filter metadata", () => {
    const { request } = checkRequestToAuthz(envoyCheckRequest({
      contextExtensions: { namespace: "foo" },
      jwtPayload: { iss: "https://issuer.example", sub: "alice", aud: ["api", 7], azp: "web", groups: ["dev"] },
    }));
    expect(request.auth).toEqual({
      principal: "https://issuer.example/alice", audiences: ["api"], presenter: "web",
      claims: { iss: "https://issuer.example", sub: "alice", aud: ["api", 7], azp: "web", groups: ["dev"] },
    });
  });

  it("maps a TCP check (no request.http) to TCP attributes", () => {
    const req = create(CheckRequestSchema, { attributes: { contextExtensions: { namespace: "foo" }, destination: { address: { address: { case: "socketAddress", value: { address: "10.0.0.1", portSpecifier: { case: "portValue", value: 5432 } } } } } } });
    expect(checkRequestToAuthz(req).request).toEqual({ destination: { namespace: "foo", port: 5432, ip: "10.0.0.1" } });
  });

  it("parses labels as k=v lists or JSON and rejects junk", () => {
    expect(parseLabels('{"app":"a","v":1}')).toEqual({ app: "a", v: "1" });
    expect(parseLabels("")).toEqual({});
    expect(() => parseLabels("app")).toThrow(/key=value/);
    fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9.-]{0,8}$/), fc.stringMatching(/^[a-z0-9.-]{0,8}$/)), (labels) => {
      const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
      expect(parseLabels(text)).toEqual(labels);
    }));
  });
});

describe("decisionToCheckResponse", () => {
  const authz = authorizerFromYaml(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: httpbin-get, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/sleep/sa/sleep"]}}]
    to: [{operation: {methods: ["GET"], paths: ["/headers", "/status/*"]}}]
`);
  const check = createCheckHandler({ policies: { authorizer: () => authz, close: () => undefined } });
  const base = { destination: { principal: HTTPBIN }, contextExtensions: { labels: "app=httpbin" } };

  it("allows with status 0, ok_response header and metadata", () => {
    const res = check(envoyCheckRequest({ ...base, source: { principal: SLEEP }, path: "/status/418?q=1" }));
    expect(res.status?.code).toBe(0);
    expect(res.httpResponse.case).toBe("okResponse");
    const ok = res.httpResponse.value as { headers: { header?: { key: string; value: string }; appendAction: number }[] };
    expect(ok.headers.map((h) => [h.header?.key, h.header?.value, h.appendAction])).toEqual([[POLICY_HEADER, "foo/httpbin-get", 2]]);
    expect(res.dynamicMetadata).toMatchObject({ "weft.decision": "allow", "weft.policy": "foo/httpbin-get", "weft.rule": 0, "weft.workload_from": "principal" });
  });

  it("denies with status 7 and a 403 denied_response naming the policy", () => {
    const res = check(envoyCheckRequest({ ...base, source: { principal: SLEEP }, method: "DELETE", path: "/headers" }));
    expect(res.status?.code).toBe(7);
    expect(res.httpResponse.case).toBe("deniedResponse");
    const denied = res.httpResponse.value as { status?: { code: number }; body: string; headers: { header?: { key: string; value: string } }[] };
    expect(denied.status?.code).toBe(403);
    expect(denied.body).toContain("access denied");
    expect(denied.headers.find((h) => h.header?.key === POLICY_HEADER)?.header?.value).toBe("none");
    expect(res.dynamicMetadata).toMatchObject({ "weft.decision": "deny" });
    // Plaintext caller (no principal): denied by the same policy set.
    expect(check(envoyCheckRequest({ ...base, path: "/headers" })).status?.code).toBe(7);
  });

  it("fails closed when the workload is unknown or the labels extension is malformed", () => {
    const unknown = check(envoyCheckRequest({ source: { principal: SLEEP }, path: "/headers" }));
    expect(unknown.status?.code).toBe(7);
    expect(unknown.status?.message).toMatch(/destination workload unknown/);
    const bad = check(envoyCheckRequest({ ...base, contextExtensions: { namespace: "foo", labels: "oops" } }));
    expect(bad.status?.code).toBe(7);
    expect(bad.status?.message).toMatch(/cannot read the CheckRequest/);
    expect(failClosedResponse("x").dynamicMetadata).toMatchObject({ "weft.reason": "x", "weft.workload_from": "unknown" });
  });

  it("a workload with no policy is allowed with policy none", () => {
    const res = decisionToCheckResponse(createStaticPolicySource([]).authorizer().check({ destination: { namespace: "x" }, http: { method: "GET", path: "/" } }));
    expect(res.status?.code).toBe(0);
    expect(res.dynamicMetadata).toMatchObject({ "weft.policy": "none" });
  });
});
