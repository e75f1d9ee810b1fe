import { describe, expect, it } from "vitest";
import type { Route, VirtualHost } from "../../core/ir/model.ts";
import { createRouteTable, type RouteRequest } from "./route-table.ts";

const fwd = (cluster: string, name: string, match: Route["match"] = [{}]): Route => ({ name, match, action: { kind: "forward", destinations: [{ cluster, weight: 1 }] } });

function req(authority: string, headers: Record<string, string> = {}, method = "GET"): RouteRequest {
  return { method, authority, scheme: "http", header: (n) => headers[n] };
}

describe("virtual host selection", () => {
  const vhs: VirtualHost[] = [
    { name: "exact", domains: ["api.example.com"], routes: [fwd("a", "exact")] },
    { name: "with-port", domains: ["api.example.com:8443"], routes: [fwd("a", "with-port")] },
    { name: "suffix-long", domains: ["*.svc.example.com"], routes: [fwd("a", "suffix-long")] },
    { name: "suffix", domains: ["*.example.com"], routes: [fwd("a", "suffix")] },
    { name: "prefix", domains: ["api.*"], routes: [fwd("a", "prefix")] },
    { name: "any", domains: ["*"], routes: [fwd("a", "any")] },
  ];
  const t = createRouteTable({ name: "rc", virtualHosts: vhs });
  it.each([
    ["api.example.com", "exact"],
    ["API.Example.com", "exact"],
    ["api.example.com:8080", "exact"],
    ["api.example.com:8443", "with-port"],
    ["web.svc.example.com", "suffix-long"],
    ["web.example.com", "suffix"],
    ["api.other.org", "prefix"],
    ["elsewhere.org", "any"],
    ["", "any"],
  ])("%s → %s", (authority, want) => {
    expect(t.virtualHost(authority)?.name).toBe(want);
    // cached lookups agree with the first one
    expect(t.virtualHost(authority)?.name).toBe(want);
  });

  it("has no virtual host when nothing matches and there is no *", () => {
    const t2 = createRouteTable({ name: "rc", virtualHosts: [{ name: "x", domains: ["x.org"], routes: [fwd("a", "r")] }] });
    expect(t2.route(req("y.org"), "/")).toBeUndefined();
  });
});

describe("route matching", () => {
  const routes: Route[] = [
    fwd("a", "exact", [{ path: { exact: "/healthz" } }]),
    fwd("a", "exact-ic", [{ path: { exact: "/CaseLess", ignoreCase: true } }]),
    fwd("a", "template", [{ path: { template: "/users/{*}/orders/{**}" } }]),
    fwd("a", "regex", [{ path: { regex: "/v[0-9]+/items" } }]),
    fwd("a", "method", [{ path: { prefix: "/write" }, methods: ["POST", "PUT"] }]),
    fwd("a", "header", [{ path: { prefix: "/ab" }, headers: [{ name: "x-group", match: { exact: "beta" } }] }]),
    fwd("a", "without-header", [{ path: { prefix: "/ab" }, withoutHeaders: [{ name: "x-group", match: { present: true } }] }]),
    fwd("a", "query", [{ path: { prefix: "/q" }, queryParams: [{ name: "debug", match: { exact: "1" } }] }]),
    fwd("a", "or", [{ path: { prefix: "/one" } }, { path: { prefix: "/two" } }]),
    fwd("a", "cookie", [{ path: { prefix: "/c" }, headers: [{ name: "cookie", match: { regex: "(?:.*;\\s*)?user=jason(?:;.*)?" } }] }]),
    fwd("a", "prefix", [{ path: { prefix: "/api" } }]),
  ];
  const t = createRouteTable({ name: "rc", virtualHosts: [{ name: "v", domains: ["*"], routes }] });
  const name = (path: string, headers: Record<string, string> = {}, method = "GET") => t.route(req("h", headers, method), path)?.name;

  it("matches exact paths without the query", () => {
    expect(name("/healthz")).toBe("exact");
    expect(name("/healthz?x=1")).toBe("exact");
    expect(name("/healthz/")).toBeUndefined();
    expect(name("/caseless")).toBe("exact-ic");
  });
  it("matches {*} and {**} templates", () => {
    expect(name("/users/42/orders/7/lines")).toBe("template");
    expect(name("/users/42/orders")).toBe("template");
    expect(name("/users//orders/1")).toBeUndefined();
    expect(name("/users/4/2/orders/1")).toBeUndefined();
  });
  it("anchors regexes to the whole path", () => {
    expect(name("/v12/items")).toBe("regex");
    expect(name("/v12/items/x")).toBeUndefined();
  });
  it("matches methods, headers, absent headers, query parameters and cookies", () => {
    expect(name("/write", {}, "POST")).toBe("method");
    expect(name("/write", {}, "GET")).toBeUndefined();
    expect(name("/ab", { "x-group": "beta" })).toBe("header");
    expect(name("/ab", { "x-group": "alpha" })).toBeUndefined();
    expect(name("/ab")).toBe("without-header");
    expect(name("/q?a=2&debug=1")).toBe("query");
    expect(name("/q?debug=0")).toBeUndefined();
    expect(name("/c", { cookie: "a=b; user=jason; z=1" })).toBe("cookie");
    expect(name("/c", { cookie: "user=jasonx" })).toBeUndefined();
  });
  it("ORs the matches of one route and takes the first route that matches", () => {
    expect(name("/two/x")).toBe("or");
    expect(name("/api/x")).toBe("prefix");
  });
});

describe("route actions", () => {
  it("rewrites a matched prefix and keeps the query", () => {
    const t = createRouteTable({ name: "rc", virtualHosts: [{ name: "v", domains: ["*"], routes: [
      { match: [{ path: { prefix: "/api/" } }], action: { kind: "forward", destinations: [{ cluster: "a", weight: 1 }], rewrite: { pathPrefix: "/v2/" } } },
      { match: [{ path: { prefix: "/re" } }], action: { kind: "forward", destinations: [{ cluster: "a", weight: 1 }], rewrite: { uriRegex: { pattern: "^/re/(\\w+)/(\\w+)$", substitution: "/\\2/\\1" } } } },
    ] }] });
    const r = t.route(req("h"), "/api/users?id=1")!;
    expect(r.rewritePath("/api/users?id=1")).toBe("/v2/users?id=1");
    const r2 = t.route(req("h"), "/re/a/b")!;
    expect(r2.rewritePath("/re/a/b?z")).toBe("/b/a?z");
  });

  it("splits traffic by weight with the injected randomness", () => {
    const t = createRouteTable({ name: "rc", virtualHosts: [{ name: "v", domains: ["*"], routes: [
      { match: [{}], action: { kind: "forward", destinations: [{ cluster: "stable", weight: 90 }, { cluster: "canary", weight: 10 }] } },
    ] }] });
    const r = t.route(req("h"), "/")!;
    expect(r.pickCluster(() => 0.0)).toBe("stable");
    expect(r.pickCluster(() => 0.899)).toBe("stable");
    expect(r.pickCluster(() => 0.9)).toBe("canary");
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let canary = 0;
    for (let i = 0; i < 10_000; i++) if (r.pickCluster(rnd) === "canary") canary++;
    expect(canary).toBeGreaterThan(800);
    expect(canary).toBeLessThan(1200);
  });

  it("builds redirect locations", () => {
    const t = createRouteTable({ name: "rc", virtualHosts: [{ name: "v", domains: ["*"], routes: [
      { match: [{ path: { prefix: "/old/" } }], action: { kind: "redirect", status: 301, prefix: "/new/" } },
      { match: [{ path: { prefix: "/secure" } }], action: { kind: "redirect", status: 308, scheme: "https" } },
      { match: [{ path: { prefix: "/x" } }], action: { kind: "redirect", status: 302, host: "other.org", path: "/y" } },
    ] }] });
    const loc = (target: string) => t.route(req("web.local:8080"), target)!.redirectLocation(req("web.local:8080"), target);
    expect(loc("/old/page?a=1")).toBe("http://web.local:8080/new/page?a=1");
    expect(loc("/secure/z")).toBe("https://web.local/secure/z");
    expect(loc("/x?q")).toBe("http://other.org/y?q");
  });
});
