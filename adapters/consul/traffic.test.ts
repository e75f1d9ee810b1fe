import { describe, expect, it } from "vitest";
import { consulToIr, irToConsul } from "./conversion.ts";
import { parseEntry } from "./entries.ts";
import type { ConsulEntry } from "./schema.ts";
import { filterLabels } from "./traffic.ts";

const entries = (...raw: unknown[]): ConsulEntry[] => raw.map((r) => {
  const p = parseEntry(r);
  expect(p.diagnostics).toEqual([]);
  return p.entry!;
});

// The examples of Consul's service-router, service-splitter and service-resolver documentation, combined.
const chain = entries(
  { Kind: "service-router", Name: "web", Routes: [
    { Match: { HTTP: { PathPrefix: "/admin" } }, Destination: { Service: "admin", PrefixRewrite: "/", RequestTimeout: "15s", NumRetries: 3, RetryOnConnectFailure: true, RetryOnStatusCodes: [503] } },
    { Match: { HTTP: { Header: [{ Name: "x-debug", Exact: "1" }], QueryParam: [{ Name: "canary", Present: true }], Methods: ["GET"] } }, Destination: { ServiceSubset: "canary", RequestHeaders: { Set: { "x-canary": "yes" } } } },
  ] },
  { Kind: "service-splitter", Name: "web", Splits: [{ Weight: 90, ServiceSubset: "v1" }, { Weight: 10, ServiceSubset: "v2" }] },
  { Kind: "service-resolver", Name: "web", DefaultSubset: "v1", ConnectTimeout: "2s", Subsets: {
    v1: { Filter: "Service.Meta.version == v1" }, v2: { Filter: "Service.Meta.version == \"v2\"" }, canary: { Filter: "\"canary\" in Service.Tags", OnlyPassing: true },
  }, LoadBalancer: { Policy: "least_request", LeastRequestConfig: { ChoiceCount: 3 } } },
  { Kind: "service-resolver", Name: "billing", Redirect: { Service: "payments" } },
  { Kind: "service-resolver", Name: "payments", Failover: { "*": { Datacenters: ["dc2"] } } },
);

describe("discovery chain → IR", () => {
  const { model, losses } = consulToIr(chain);

  it("keeps the router's order, ends with the chain's catch-all, and splits by subset", () => {
    const web = model.virtualHosts.find((v) => v.name === "web")!;
    expect(web.routes.map((r) => r.name)).toEqual(["route-0", "route-1", "default"]);
    const [admin, canary, dflt] = web.routes;
    expect(admin!.match).toEqual([{ path: { prefix: "/admin" } }]);
    expect(admin!.action).toEqual({
      kind: "forward", destinations: [{ cluster: "admin.default", weight: 10_000 }], rewrite: { pathPrefix: "/" }, timeoutMs: 15_000,
      retry: { attempts: 3, retryOn: ["connect-failure", "retriable-status-codes"], retriableStatusCodes: [503] },
    });
    expect(canary!.match).toEqual([{ headers: [{ name: "x-debug", match: { exact: "1" } }], queryParams: [{ name: "canary", match: { present: true } }], methods: ["GET"] }]);
    expect(canary!.requestHeaders).toEqual({ set: { "x-canary": "yes" } });
    expect(canary!.action).toMatchObject({ destinations: [{ cluster: "canary.web.default", weight: 10_000 }] });
    expect(dflt!.action).toMatchObject({ destinations: [{ cluster: "v1.web.default", weight: 9000 }, { cluster: "v2.web.default", weight: 1000 }] });
  });

  it("turns resolver subsets, load balancing and timeouts into clusters, and follows redirects", () => {
    const byName = new Map(model.clusters.map((c) => [c.name, c]));
    expect(byName.get("v2.web.default")).toMatchObject({ subset: { name: "v2", labels: { version: "v2" } }, lb: { kind: "least-request", choiceCount: 3 }, circuitBreakers: { connectTimeoutMs: 2000 } });
    const billing = model.virtualHosts.find((v) => v.name === "billing")!;
    expect(billing.routes[0]!.action).toMatchObject({ destinations: [{ cluster: "payments.default" }] });
  });

  it("reports what the IR cannot carry", () => {
    expect(losses.map((l) => `${l.object} ${l.field}`).sort()).toEqual([
      "service-resolver/payments Failover",
      "service-resolver/web Subsets.canary.Filter",
      "service-resolver/web Subsets.canary.OnlyPassing",
    ]);
  });

  it("reads Service.Meta equality filters as labels", () => {
    expect(filterLabels('Service.Meta.version == v1 and Service.Meta.zone == "a"')).toEqual({ version: "v1", zone: "a" });
    expect(filterLabels("Service.Meta.version != v1")).toBeNull();
  });
});

describe("IR → discovery chain", () => {
  it("round-trips a router, splitter and resolver", () => {
    const simple = entries(
      { Kind: "service-router", Name: "web", Routes: [{ Match: { HTTP: { PathExact: "/login", Methods: ["POST"] } }, Destination: { Service: "auth", RequestTimeout: "5s" } }] },
      { Kind: "service-splitter", Name: "web", Splits: [{ Weight: 75, Service: "web", ServiceSubset: "v1" }, { Weight: 25, Service: "web", ServiceSubset: "v2" }] },
      { Kind: "service-resolver", Name: "web", Subsets: { v1: { Filter: "Service.Meta.version == \"v1\"" }, v2: { Filter: "Service.Meta.version == \"v2\"" } } },
    );
    const { model, losses } = consulToIr(simple);
    expect(losses).toEqual([]);
    const back = irToConsul(model);
    expect(back.losses).toEqual([]);
    expect(back.entries).toEqual(expect.arrayContaining(simple.map((e) => e.entry)));
    const again = consulToIr(back.entries.map((e) => parseEntry(e).entry!));
    expect(again.model).toEqual(model);
  });

  it("gives a splitting route a synthesized service and reports it", () => {
    const { entries: out, losses } = irToConsul({
      virtualHosts: [{ name: "shop", domains: ["shop"], routes: [
        { match: [{ path: { prefix: "/cart" } }], action: { kind: "forward", destinations: [{ cluster: "cart.default", weight: 1 }, { cluster: "cart2.default", weight: 3 }] } },
        { match: [{ path: { prefix: "/" } }], action: { kind: "direct", status: 404 } },
      ] }],
      clusters: [],
    });
    expect(out).toEqual([
      { Kind: "service-defaults", Name: "shop--route-0", Protocol: "http" },
      { Kind: "service-splitter", Name: "shop--route-0", Splits: [{ Weight: 25, Service: "cart" }, { Weight: 75, Service: "cart2" }] },
      { Kind: "service-router", Name: "shop", Routes: [{ Match: { HTTP: { PathPrefix: "/cart" } }, Destination: { Service: "shop--route-0" } }] },
    ]);
    expect(losses.map((l) => `${l.kind ?? "lost"} ${l.field}`)).toEqual(["approximated routes[0].action.destinations", "lost routes[1].action"]);
  });
});
