// Smoke test for the Consul peer: a real `consul agent -dev` built from the Go module registers a
// service, reports it healthy through the health API, and serves its Connect CA roots.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import consul, { type ConsulHandle } from "../peers/consul/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, consul);

interface HealthEntry {
  Node: { Node: string };
  Service: { ID: string; Service: string; Port: number; Address: string; Tags: string[] };
  Checks: { Status: string; ServiceName: string }[];
}

describe.skipIf(!ready)("consul smoke", () => {
  let agent: ConsulHandle;
  beforeAll(async () => {
    agent = await consul.start();
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it("registers a service and reads it back from /v1/health/service", async () => {
    const registration = {
      ID: "echo-1", Name: "echo", Address: "127.0.0.1", Port: 18080, Tags: ["weft", "smoke"],
      Check: { CheckID: "echo-ttl", Name: "echo ttl", TTL: "30s", Status: "passing" },
    };
    const put = await fetch(`${agent.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify(registration) });
    expect(put.status, await put.text()).toBe(200);

    const response = await fetch(`${agent.url}/v1/health/service/echo?passing=true`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-consul-index")).toMatch(/^\d+$/);
    const entries = (await response.json()) as HealthEntry[];
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry?.Node.Node).toBe(agent.nodeName);
    expect(entry?.Service).toMatchObject({ ID: "echo-1", Service: "echo", Port: 18080, Address: "127.0.0.1" });
    expect(entry?.Service.Tags).toEqual(["weft", "smoke"]);
    expect(entry?.Checks.find((c) => c.ServiceName === "echo")?.Status).toBe("passing");
  });

  it("serves the Connect CA roots with a consul trust domain", async () => {
    const response = await fetch(`${agent.url}/v1/connect/ca/roots`);
    expect(response.status).toBe(200);
    const roots = (await response.json()) as { ActiveRootID: string; TrustDomain: string; Roots: { ID: string; Active: boolean; RootCert: string }[] };
    expect(roots.TrustDomain).toMatch(/^[0-9a-f-]{36}\.consul$/);
    const active = roots.Roots.find((r) => r.ID === roots.ActiveRootID);
    expect(active?.Active).toBe(true);
    expect(active?.RootCert).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });
});
