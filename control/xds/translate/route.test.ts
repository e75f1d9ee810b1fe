// Table tests: IR routes → Envoy RouteConfiguration (JSON form of the generated messages).
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import type { Route, VirtualHost } from "../../../core/ir/model.ts";
import { RouteSchema } from "../../../gen/proto/envoy/config/route/v3/route_components_pb.ts";
import { RouteConfigurationSchema } from "../../../gen/proto/envoy/config/route/v3/route_pb.ts";
import { nestedRegistry } from "../resource-types.ts";
import { routeFilterNeeds, translateRoute, translateRouteConfiguration } from "./route.ts";

const json = (r: Route, ctx = {}) => translateRoute(r, ctx).map((x) => toJson(RouteSchema, x, { registry: nestedRegistry }));
const fwd = (cluster: string) => ({ kind: "forward" as const, destinations: [{ cluster, weight: 100 }] });

describe("translateRoute", () => {
  const cases: [string, Route, unknown[]][] = [
    ["prefix to one cluster, timeout disabled by default", { match: [{ path: { prefix: "/api" } }], action: fwd("c1") },
      [{ match: { prefix: "/api" }, route: { cluster: "c1", timeout: "0s" } }]],
    ["exact, regex, suffix and template paths; one route per match block",
      { name: "multi", match: [{ path: { exact: "/a" } }, { path: { regex: "^/b/[0-9]+$" } }, { path: { suffix: ".png" } }, { path: { template: "/c/{id}" } }], action: fwd("c1") },
      [
        { name: "multi", match: { path: "/a" }, route: { cluster: "c1", timeout: "0s" } },
        { name: "multi", match: { safeRegex: { regex: "^/b/[0-9]+$" } }, route: { cluster: "c1", timeout: "0s" } },
        { name: "multi", match: { safeRegex: { regex: ".*\\.png" } }, route: { cluster: "c1", timeout: "0s" } },
        { name: "multi", match: { pathMatchPolicy: { name: "envoy.path.match.uri_template.uri_template_matcher", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig", pathTemplate: "/c/{id}" } } }, route: { cluster: "c1", timeout: "0s" } },
      ]],
    ["methods, headers, absent headers, query params, case-insensitive",
      { match: [{ methods: ["GET", "HEAD"], headers: [{ name: "x-v", match: { exact: "2" } }], withoutHeaders: [{ name: "x-debug", match: { present: true } }], queryParams: [{ name: "q", match: { prefix: "a" } }], ignoreUriCase: true }], action: fwd("c1") },
      [{
        match: {
          prefix: "/", caseSensitive: false,
          headers: [
            { name: ":method", stringMatch: { safeRegex: { regex: "^(GET|HEAD)$" } } },
            { name: "x-v", stringMatch: { exact: "2" } },
            { name: "x-debug", presentMatch: true, invertMatch: true },
          ],
          queryParameters: [{ name: "q", stringMatch: { prefix: "a" } }],
        },
        route: { cluster: "c1", timeout: "0s" },
      }]],
    ["weighted clusters, retries, timeout, mirror, rewrites, hash policy",
      {
        match: [], action: {
          kind: "forward", destinations: [{ cluster: "v1", weight: 80 }, { cluster: "v2", weight: 20, headers: { set: { "x-canary": "1" } } }],
          timeoutMs: 1500, retry: { attempts: 3, retryOn: ["5xx", "unavailable"], perTryTimeoutMs: 500, retriableStatusCodes: [503], backoff: { baseMs: 25, maxMs: 250 } },
          mirror: [{ cluster: "shadow", percent: 12.5 }], rewrite: { pathPrefix: "/v2", authority: "new.host" }, hashPolicy: [{ header: "x-user" }, { sourceIp: true }],
        },
      },
      [{
        match: { prefix: "/" },
        route: {
          weightedClusters: { clusters: [{ name: "v1", weight: 80 }, { name: "v2", weight: 20, requestHeadersToAdd: [{ header: { key: "x-canary", value: "1" }, appendAction: "OVERWRITE_IF_EXISTS_OR_ADD" }] }] },
          timeout: "1.500s",
          retryPolicy: { retryOn: "5xx,unavailable", numRetries: 3, perTryTimeout: "0.500s", retriableStatusCodes: [503], retryBackOff: { baseInterval: "0.025s", maxInterval: "0.250s" } },
          requestMirrorPolicies: [{ cluster: "shadow", runtimeFraction: { defaultValue: { numerator: 125000, denominator: "MILLION" } } }],
          prefixRewrite: "/v2",
          hostRewriteLiteral: "new.host",
          hashPolicy: [{ header: { headerName: "x-user" } }, { connectionProperties: { sourceIp: true } }],
        },
      }]],
    ["redirect", { match: [{ path: { exact: "/old" } }], action: { kind: "redirect", status: 308, scheme: "https", host: "example.com", path: "/new" } },
      [{ match: { path: "/old" }, redirect: { schemeRedirect: "https", hostRedirect: "example.com", pathRedirect: "/new", responseCode: "PERMANENT_REDIRECT" } }]],
    ["direct response", { match: [], action: { kind: "direct", status: 418, body: "teapot" } },
      [{ match: { prefix: "/" }, directResponse: { status: 418, body: { inlineString: "teapot" } } }]],
    ["fault and header mutations", {
      match: [], action: fwd("c1"), fault: { delay: { fixedMs: 100, percent: 50 }, abort: { grpcStatus: 14, percent: 10 } },
      requestHeaders: { add: { "x-a": "1" }, remove: ["x-b"] }, responseHeaders: { set: { "x-c": "2" } },
    }, [{
      match: { prefix: "/" }, route: { cluster: "c1", timeout: "0s" },
      typedPerFilterConfig: { "envoy.filters.http.fault": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault",
        delay: { fixedDelay: "0.100s", percentage: { numerator: 500000, denominator: "MILLION" } },
        abort: { grpcStatus: 14, percentage: { numerator: 100000, denominator: "MILLION" } },
      } },
      requestHeadersToAdd: [{ header: { key: "x-a", value: "1" } }], // APPEND_IF_EXISTS_OR_ADD is the default
      requestHeadersToRemove: ["x-b"],
      responseHeadersToAdd: [{ header: { key: "x-c", value: "2" }, appendAction: "OVERWRITE_IF_EXISTS_OR_ADD" }],
    }]],
  ];
  it.each(cases)("%s", (_name, route, want) => {
    expect(json(route)).toEqual(want);
  });

  it("keeps match blocks for the caller's source labels and port only", () => {
    const r: Route = { match: [{ sourceLabels: { app: "web" }, path: { prefix: "/w" } }, { port: 9090, path: { prefix: "/p" } }], action: fwd("c1") };
    expect(json(r, { sourceLabels: { app: "web" }, port: 8080 }).map((x) => (x as { match: unknown }).match)).toEqual([{ prefix: "/w" }]);
    expect(json(r, { sourceLabels: { app: "db" }, port: 9090 }).map((x) => (x as { match: unknown }).match)).toEqual([{ prefix: "/p" }]);
  });
});

describe("translateRouteConfiguration", () => {
  it("keeps virtual hosts and domains, and reports which per-route filters are needed", () => {
    const vhs: VirtualHost[] = [
      { name: "a", domains: ["a.example", "a.example:80"], routes: [{ match: [], action: fwd("ca") }] },
      { name: "b", domains: ["b.example"], routes: [{ match: [], action: fwd("cb"), cors: { allowOrigins: [{ exact: "https://x" }] } }] },
    ];
    const rc = toJson(RouteConfigurationSchema, translateRouteConfiguration("80", vhs), { registry: nestedRegistry }) as { name: string; virtualHosts: { name: string; domains: string[] }[] };
    expect(rc.name).toBe("80");
    expect(rc.virtualHosts.map((v) => [v.name, v.domains])).toEqual([["a", ["a.example", "a.example:80"]], ["b", ["b.example"]]]);
    expect(routeFilterNeeds(vhs)).toEqual({ fault: false, cors: true });
  });
});
