import { describe, expect, it } from "vitest";
import { httpFilters } from "../../../plugins/registry.ts";
import { loadProxyConfig } from "../../../proxy/config/load.ts";
import { createFilterCatalog } from "../../../proxy/filter.ts";
import { consulAuthzPolicy } from "../conversion.ts";
import { parseEntry } from "../entries.ts";
import type { ConsulEntry } from "../schema.ts";
import { readBack } from "./intentions-watch.ts";
import { consulServiceId, consulSidecarConfig, upstreamEndpoints } from "./sidecar-config.ts";

const TD = "11111111-2222-3333-4444-555555555555.consul";
const files = { certificateChainFile: "/tmp/svid.crt", privateKeyFile: "/tmp/svid.key", trustedCaFile: "/tmp/bundle.pem" };

describe("weft sidecar config for Consul's mesh", () => {
  it("is a valid proxy config: mTLS inbound with rbac on the intentions, mTLS upstreams pinned to the Consul ID", () => {
    const { entry } = parseEntry(readBack({ Kind: "service-intentions", Name: "weft-api", Sources: [{ Name: "web", Action: "deny", LegacyID: "x", Precedence: 9 }] }));
    expect(entry).not.toBeNull();
    const { policy } = consulAuthzPolicy([entry as ConsulEntry], { trustDomain: TD });
    const config = consulSidecarConfig({
      service: "weft-api", trustDomain: TD, datacenter: "dc1", inbound: "127.0.0.1:21500", app: "127.0.0.1:8080",
      upstreams: [{ service: "web", listen: "127.0.0.1:9191", endpoints: [{ address: "127.0.0.1", port: 21000, health: "healthy" }] }],
      files, intentions: policy,
    });
    const loaded = loadProxyConfig(JSON.stringify(config), "sidecar.json", createFilterCatalog(httpFilters));
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
    const clusters = (config.clusters as { name: string; tls?: { expectedIdentities: string[] } }[]);
    expect(clusters.find((c) => c.name === "consul-web")?.tls?.expectedIdentities).toEqual([`spiffe://${TD}/ns/default/dc/dc1/svc/web`]);
  });

  it("picks usable Connect endpoints from the registry", () => {
    const snap = {
      services: [], workloads: [],
      endpoints: [{ service: "consul/web", port: 80, endpoints: [
        { address: "10.0.0.1", port: 21000, health: "healthy" as const, labels: { "consul.io/connect": "true" } },
        { address: "10.0.0.2", port: 21000, health: "unhealthy" as const, labels: { "consul.io/connect": "true" } },
        { address: "10.0.0.3", port: 8080, health: "healthy" as const, labels: { "consul.io/connect": "false" } },
      ] }],
    };
    expect(upstreamEndpoints(snap, "consul/web").map((e) => e.address)).toEqual(["10.0.0.1"]);
    expect(consulServiceId(TD, "dc2", "api", "team")).toBe(`spiffe://${TD}/ns/team/dc/dc2/svc/api`);
  });
});
