// `weft control --config FILE` with a `consul:` section, against a real `consul agent -dev`: the bridge
// starts with the control plane, Consul's services reach the registry, a discovery-file service reaches
// Consul's catalog (weft → Consul), Consul's Connect CA is pointed at the control plane's own root
// (`trust.configureCa`), and the bridge's state (indexes, counts, errors) is on the admin API. A bad
// `consul:` section is refused at start with file, line and field.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import consul, { type ConsulHandle } from "../peers/consul/peer.ts";
import { repoRoot } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, consul);
const TOKEN = "consul-bridge-admin-token";

function startControl(args: string[]): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn(process.execPath, [join(repoRoot, "bin/weft.js"), "control", "--admin", "127.0.0.1:0", "--admin-token", TOKEN, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^admin API\s+(http:\/\/\S+)$/m.exec(out);
      if (m && /^UI /m.test(out)) resolve({ child, url: m[1]!, out: () => out });
    });
    child.stderr!.on("data", (d: Buffer) => void (out += d.toString()));
    child.once("exit", (code) => reject(Object.assign(new Error(`weft control exited with ${code}:\n${out}`), { code, out })));
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe.skipIf(!ready)("weft control with a consul: section", () => {
  let agent: ConsulHandle;
  let control: { child: ChildProcess; url: string; out: () => string } | undefined;
  const dir = mkdtempSync(join(tmpdir(), "weft-control-consul-"));

  beforeAll(async () => {
    agent = await consul.start();
  }, 90_000);
  afterAll(async () => {
    control?.child.kill("SIGTERM");
    await agent?.stop();
  });

  it("runs the bridge both ways, configures Consul's CA with weft's root, and shows its state", async () => {
    await fetch(`${agent.url}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ Name: "ledger", ID: "ledger-1", Address: "127.0.0.1", Port: 7001 }) });
    const disc = join(dir, "services");
    mkdirSync(disc);
    writeFileSync(join(disc, "payments.yaml"), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: shop}
spec:
  hosts: [payments.shop.svc.cluster.local]
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 127.0.0.1}]
`);
    const configFile = join(dir, "control.yaml");
    writeFileSync(configFile, `consul:
  address: ${agent.url}
  sync: { toWeft: true, toConsul: true }
  import: { namespace: consul }
  export: { prefix: "weft-", connect: none }
  trust: { configureCa: true }
  wait: 10s
`);
    control = await startControl(["--data", join(dir, "data"), "--discovery", disc, "--config", configFile]);
    expect(control.out()).toMatch(/^consul\s+http:\/\/127\.0\.0\.1:\d+/m);
    const auth = { authorization: `Bearer ${TOKEN}` };

    const services = await until("ledger in the registry", async () => {
      const body = (await (await fetch(`${control!.url}/v1/registry/services`, { headers: auth })).json()) as { services: { id: string; endpoints: { total: number } }[] };
      return body.services.some((s) => s.id === "consul/ledger") ? body.services : undefined;
    });
    expect(services.find((s) => s.id === "consul/ledger")?.endpoints.total).toBe(1);

    const payments = await until("weft-payments in Consul", async () => {
      const es = (await (await fetch(`${agent.url}/v1/health/service/weft-payments`)).json()) as { Service: { Port: number; Meta: Record<string, string> } }[];
      return es.length === 1 ? es[0] : undefined;
    });
    expect(payments.Service).toMatchObject({ Port: 8080, Meta: { "external-source": "weft", "weft-service": "shop/payments" } });

    const bundle = (await (await fetch(`${control.url}/v1/ca/bundle`)).json()) as { roots: string[] };
    const weftRoot = bundle.roots[0]!.replace(/\s/g, "");
    await until("Consul's active root to be weft's", async () => {
      const r = (await (await fetch(`${agent.url}/v1/connect/ca/roots`)).json()) as { ActiveRootID: string; Roots: { ID: string; RootCert: string }[] };
      return r.Roots.find((x) => x.ID === r.ActiveRootID)?.RootCert.replace(/\s/g, "") === weftRoot ? true : undefined;
    });

    const status = await until("the bridge state on the admin API", async () => {
      const body = (await (await fetch(`${control!.url}/v1/registry/sources`, { headers: auth })).json()) as { details: { consul?: Record<string, unknown> } };
      const c = body.details.consul as { state: string; roots: { roots: number }; toWeft: { services: number } } | undefined;
      return c && c.state === "ok" && c.roots.roots >= 2 ? c : undefined;
    });
    expect(status).toMatchObject({ state: "ok", toWeft: { services: 1, catalog: { consecutiveFailures: 0 } }, toConsul: { registered: 1, consecutiveFailures: 0 }, caConfigured: { changed: true } });
    expect((status.toWeft as unknown as { catalog: { index: number } }).catalog.index).toBeGreaterThan(0);
  }, 90_000);

  it("refuses a bad consul: section with file, line and field", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, `consul:\n  address: ${agent.url}\n  sync:\n    toConsul: maybe\n`);
    const err = await startControl(["--data", join(dir, "data2"), "--config", bad]).then(() => null, (e: { code: number; out: string }) => e);
    expect(err?.code).toBe(1);
    expect(err?.out).toContain(`${bad}:4:`);
    expect(err?.out).toContain("consul.sync.toConsul");
  }, 30_000);
});
