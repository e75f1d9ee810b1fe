// Traffic between Consul's mesh and weft's, over mTLS, in both directions, against the real Consul agent
// and Consul's own built-in proxy (`consul connect proxy -sidecar-for web`): weft → web through Consul's
// proxy, and web's proxy upstream → weft-api through a weft proxy. Each side verifies the other's SPIFFE ID
// (weft refuses a certificate that is not the one it expects; weft's access log records web's Consul ID;
// Consul's proxy checks weft's certificate against Consul's roots — weft's root, via the CA configuration —
// and asks the agent to authorize `svc/weft-api`). Then `consul intention create -deny` in both directions
// stops the traffic both ways: Consul's proxy refuses weft's connections, and weft's rbac filter, fed
// Consul's intentions by the bridge, answers 403. Deleting the intentions lets traffic to weft through again.

import { readFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import consul from "../peers/consul/peer.ts";
import { requirePeers } from "../peers/suite.ts";
import { startMeshFixture, type MeshFixture } from "./mesh-fixture.ts";

const { ready } = await requirePeers(import.meta.url, consul);

/** One request on a fresh connection (no keep-alive), so each one is a new mTLS connection downstream. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: "close" }, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** The status the next request gets, or 0 when the connection failed. */
const statusOf = (url: string) => get(url).then((r) => r.status, () => 0);

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe.skipIf(!ready)("consul mesh ↔ weft mesh over mTLS", () => {
  let f: MeshFixture;
  beforeAll(async () => {
    f = await startMeshFixture();
  }, 150_000);
  afterAll(async () => {
    await f?.stop();
  });

  it("weft → Consul: weft's proxy reaches web through Consul's proxy, verifying web's SPIFFE ID", async () => {
    await until("weft → web", async () => (await statusOf(f.weftToWeb)) === 200);
    const r = await get(`${f.weftToWeb}/hello`);
    expect(r).toEqual({ status: 200, body: "web says hi (GET /hello)" });
    // The same endpoint under a cluster that expects svc/db: weft refuses web's certificate.
    const wrong = await get(f.weftToWrongId);
    expect(wrong.status).toBe(503);
  });

  it("Consul → weft: Consul's proxy upstream reaches weft-api through weft's proxy, which sees web's identity", async () => {
    await until("web → weft-api", async () => (await statusOf(f.webToWeft)) === 200);
    const r = await get(`${f.webToWeft}/from-consul`);
    expect(r).toEqual({ status: 200, body: "weft-api says hi (GET /from-consul)" });
    const webId = `spiffe://${f.trustDomain}/ns/default/dc/dc1/svc/web`;
    const line = f.accessLog.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.path === "/from-consul");
    expect(line?.downstream_peer_uri_san).toBe(webId);
  });

  it("a deny intention written in Consul stops the traffic in both directions, and weft lifts it when it is deleted", async () => {
    await f.consulCli(["intention", "create", "-deny", "web", "weft-api"]);
    await f.consulCli(["intention", "create", "-deny", "weft-api", "web"]);
    // weft enforces web → weft-api itself (rbac, from Consul's intentions): 403 through Consul's proxy.
    await until("web → weft-api denied by weft", async () => (await statusOf(f.webToWeft)) === 403);
    const denied = await get(f.webToWeft);
    expect(denied.body).toBe("RBAC: access denied");
    // Consul's proxy enforces weft-api → web: it rejects weft's certificate after the handshake (TLS 1.3:
    // weft sees the alert as a reset, 502 UC; with TLS 1.2 it would be a connect failure, 503 UF).
    await until("weft → web denied by Consul's proxy", async () => [502, 503].includes(await statusOf(f.weftToWeb)));
    expect(readFileSync(f.consulProxyLog, "utf8")).toMatch(/authz call denied: service=web reason="Matched L4 intention: default\/weft-api => default\/web/);
    expect(f.bridge.intentions()?.entries).toBe(2);

    await f.consulCli(["intention", "delete", "web", "weft-api"]);
    await f.consulCli(["intention", "delete", "weft-api", "web"]);
    // Weft follows the deletion. (Consul's built-in proxy usually does too, but under load its agent's
    // authorization answer was seen to stay stale for over a minute — see docs/consul.md — so it is not
    // asserted here.)
    await until("web → weft-api allowed again", async () => (await statusOf(f.webToWeft)) === 200);
  });
});
