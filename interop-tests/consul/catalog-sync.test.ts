// Catalog sync both ways against a real `consul agent -dev`: Consul services (with TTL checks) arrive in
// weft's registry with their health; weft services leave the registry for Consul's catalog as Connect-native
// registrations marked `external-source=weft`; adds, removals and health flaps on either side converge;
// neither side's objects come back to it (no loops). Midway the agent is stopped — the registry keeps its
// last good view and the bridge reports the failure — and started again on the same ports (a dev agent
// forgets everything and its indexes start over): the bridge resets its indexes, re-registers weft's
// services and converges again.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsulBridge, type ConsulBridge } from "../../adapters/consul/catalog/bridge.ts";
import { parseConsulBridgeConfig } from "../../adapters/consul/catalog/config.ts";
import { createRegistry, type Registry, type RegistrySnapshot } from "../../control/registry/registry.ts";
import type { HealthStatus } from "../../core/ir/model.ts";
import consul, { type ConsulHandle } from "../peers/consul/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, consul);

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function put(agent: ConsulHandle, path: string, body?: unknown): Promise<void> {
  const r = await fetch(`${agent.url}${path}`, { method: "PUT", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  expect(r.status, `${path}: ${await r.text()}`).toBe(200);
}

async function registerBilling(agent: ConsulHandle, n: number, status: "passing" | "critical" = "passing"): Promise<void> {
  await put(agent, "/v1/agent/service/register", {
    ID: `billing-${n}`, Name: "billing", Address: "127.0.0.1", Port: 9000 + n,
    Check: { CheckID: `billing-${n}-ttl`, Name: "ttl", TTL: "10m", Status: status },
  });
}

interface Entry { Service: { ID: string; Port: number; Meta: Record<string, string> | null; Connect?: { Native?: boolean } }; Checks: { Status: string; ServiceID: string }[] }
async function consulInstances(agent: ConsulHandle, name: string): Promise<Entry[]> {
  const r = await fetch(`${agent.url}/v1/health/service/${name}`);
  return (await r.json()) as Entry[];
}
const serviceStatus = (e: Entry) => e.Checks.find((c) => c.ServiceID === e.Service.ID)?.Status;

function weftSnapshot(eps: [number, HealthStatus][]): RegistrySnapshot {
  return {
    services: [{ id: "shop/api", name: "api", namespace: "shop", hosts: ["api.shop"], ports: [{ port: 80, protocol: "http" }] }],
    workloads: [],
    endpoints: [{ service: "shop/api", port: 80, endpoints: eps.map(([port, health]) => ({ address: "127.0.0.1", port, health })) }],
  };
}

const billing = (registry: Registry) => {
  const eps = registry.snapshot().endpoints.find((e) => e.service === "consul/billing")?.endpoints ?? [];
  return Object.fromEntries(eps.map((e) => [e.port, e.health]));
};

describe.skipIf(!ready)("consul catalog sync, both ways", () => {
  let agent: ConsulHandle;
  let bridge: ConsulBridge;
  const registry = createRegistry();

  beforeAll(async () => {
    agent = await consul.start();
    const { config, diagnostics } = parseConsulBridgeConfig({
      address: agent.url, sync: { toWeft: true, toConsul: true },
      import: { namespace: "consul" }, export: { prefix: "weft-", ttl: "3s", deregisterCriticalAfter: "1m" },
      wait: "5s", minInterval: 20,
    });
    expect(diagnostics).toEqual([]);
    registry.setSource("weft", weftSnapshot([[15001, "healthy"], [15002, "unhealthy"]]));
    bridge = startConsulBridge({ config: config!, registry, watch: { backoff: { baseMs: 100, maxMs: 1_000 } } });
  }, 90_000);
  afterAll(async () => {
    await bridge?.stop();
    await agent?.stop();
  });

  it("imports Consul services with health and exports weft services, without loops", async () => {
    await registerBilling(agent, 1);
    await registerBilling(agent, 2, "critical");
    await until("billing in the registry", () => JSON.stringify(billing(registry)) === JSON.stringify({ 9001: "healthy", 9002: "unhealthy" }));
    const exported = await until("weft-api in Consul", async () => {
      const es = await consulInstances(agent, "weft-api");
      return es.length === 2 && es.every((e) => serviceStatus(e) === (e.Service.Port === 15001 ? "passing" : "critical")) ? es : undefined;
    });
    expect(exported.every((e) => e.Service.Meta?.["external-source"] === "weft" && e.Service.Connect?.Native === true)).toBe(true);
    // No loops: weft's registrations never come back into the registry, Consul's never go out.
    await bridge.ready();
    expect(registry.snapshot().services.map((s) => s.id).sort()).toEqual(["consul/billing", "shop/api"]);
    const agentServices = (await (await fetch(`${agent.url}/v1/agent/services`)).json()) as Record<string, { Service: string }>;
    expect(Object.values(agentServices).map((s) => s.Service).sort()).toEqual(["billing", "billing", "weft-api", "weft-api"]);
  }, 60_000);

  it("follows health flaps, adds and removals on both sides", async () => {
    await put(agent, "/v1/agent/check/fail/billing-1-ttl");
    await until("billing-1 unhealthy", () => billing(registry)[9001] === "unhealthy");
    await put(agent, "/v1/agent/check/pass/billing-1-ttl");
    await put(agent, "/v1/agent/check/pass/billing-2-ttl");
    await until("billing healthy again", () => billing(registry)[9001] === "healthy" && billing(registry)[9002] === "healthy");
    await registerBilling(agent, 3);
    await put(agent, "/v1/agent/service/deregister/billing-2");
    await until("billing 1 and 3", () => JSON.stringify(Object.keys(billing(registry))) === JSON.stringify(["9001", "9003"]));

    registry.setSource("weft", weftSnapshot([[15002, "healthy"], [15003, "healthy"]]));
    await until("weft-api 15002 passing and 15003 added, 15001 gone", async () => {
      const es = await consulInstances(agent, "weft-api");
      return JSON.stringify(es.map((e) => [e.Service.Port, serviceStatus(e)]).sort()) === JSON.stringify([[15002, "passing"], [15003, "passing"]]);
    });
  }, 60_000);

  it("keeps the last good view while the agent is down, reports it, and converges after the restart", async () => {
    const ports = agent.ports;
    await agent.stop();
    const down = await until("the bridge to report the failure", () => {
      const s = bridge.status();
      return s.state === "degraded" && (s.toWeft?.failingWatches ?? 0) > 0 ? s : undefined;
    });
    expect(down.toWeft?.lastError).toMatch(/fetch failed|ECONNREFUSED|other side closed|terminated/i);
    expect(Object.keys(billing(registry))).toEqual(["9001", "9003"]);
    expect(registry.status().sources.find((s) => s.name === "consul")?.error).toMatch(/keeping the last good view/);

    // Changes made while Consul is away are applied once it is back.
    registry.setSource("weft", weftSnapshot([[15003, "healthy"]]));
    agent = await consul.start({ ports });
    await registerBilling(agent, 7);
    await until("registry: only billing-7 from the new agent", () => JSON.stringify(Object.keys(billing(registry))) === JSON.stringify(["9007"]));
    await until("Consul: weft-api re-registered after the restart", async () => {
      const es = await consulInstances(agent, "weft-api");
      return es.length === 1 && es[0]!.Service.Port === 15003 && serviceStatus(es[0]!) === "passing";
    });
    const up = await until("the bridge to recover", () => (bridge.status().state === "ok" ? bridge.status() : undefined));
    expect(up.toWeft?.catalog).toMatchObject({ consecutiveFailures: 0 });
    expect((up.toWeft!.catalog as { resets: number }).resets).toBeGreaterThan(0);
    expect(registry.status().sources.find((s) => s.name === "consul")?.error).toBeUndefined();
  }, 90_000);
});
