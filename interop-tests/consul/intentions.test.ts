// Decision parity with a real Consul agent: corpora of service-intentions are written into `consul agent
// -dev` (PUT /v1/config), and for every source/destination pair weft's decision for an L4 connection equals
// the agent's `/v1/connect/intentions/check` — with the default intention policy allow (dev mode, ACLs off)
// and deny (ACLs on with `default_policy = "deny"`, checked with a token that may only read services: the
// check endpoint takes its default from the caller's ACLs; Consul 1.22's servers do not apply the agent's
// `default_intention_policy` to it). Malformed entries are rejected by both, and entries read back from
// Consul (`consul config read` JSON) convert to the same decisions.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consulAuthzPolicy } from "../../adapters/consul/conversion.ts";
import { parseEntry } from "../../adapters/consul/entries.ts";
import type { ConsulEntry, IntentionPermission, ServiceIntentionsEntry, SourceIntention } from "../../adapters/consul/schema.ts";
import { compileAuthorizer } from "../../core/policy/engine.ts";
import consul, { type ConsulHandle } from "../peers/consul/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, consul);

const SERVICES = ["web", "api", "db", "billing", "cache"];

const MANAGEMENT = "9d1f5c33-7c3e-4b8e-9f61-0e7a5a1f0001";
let token: string | undefined;

async function call(agent: ConsulHandle, method: string, path: string, body?: unknown, as = token): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = as ? { "X-Consul-Token": as } : {};
  const r = await fetch(`${agent.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, text: await r.text() };
}

async function writeEntry(agent: ConsulHandle, e: unknown): Promise<void> {
  const r = await call(agent, "PUT", "/v1/config", e);
  expect(r.status, `PUT /v1/config ${JSON.stringify(e)}: ${r.text}`).toBe(200);
  expect(r.text.trim()).toBe("true");
}

async function clearIntentions(agent: ConsulHandle): Promise<void> {
  const r = await call(agent, "GET", "/v1/config/service-intentions");
  for (const e of JSON.parse(r.text) as { Name: string }[]) {
    const d = await call(agent, "DELETE", `/v1/config/service-intentions/${encodeURIComponent(e.Name)}`);
    expect(d.status, d.text).toBe(200);
  }
}

let checkToken: string | undefined;

async function consulAllows(agent: ConsulHandle, source: string, destination: string): Promise<boolean> {
  const r = await call(agent, "GET", `/v1/connect/intentions/check?source=${source}&destination=${destination}`, undefined, checkToken);
  expect(r.status, r.text).toBe(200);
  return (JSON.parse(r.text) as { Allowed: boolean }).Allowed;
}

async function trustDomain(agent: ConsulHandle): Promise<string> {
  return (JSON.parse((await call(agent, "GET", "/v1/connect/ca/roots")).text) as { TrustDomain: string }).TrustDomain;
}

// ---------------------------------------------------------------- corpora

const action = fc.constantFrom("allow", "deny");
const permission: fc.Arbitrary<IntentionPermission> = fc.record({
  Action: action,
  HTTP: fc.oneof(
    fc.constantFrom("/", "/admin", "/v1").map((p) => ({ PathPrefix: p })),
    fc.constant(null).map(() => ({ PathRegex: "/v[0-9]+/.*", Methods: ["GET"] })),
    fc.constant(null).map(() => ({ Header: [{ Name: "x-role", Exact: "admin", Invert: true }] })),
  ),
});
const source = (l7: boolean) => fc.record({ name: fc.constantFrom(...SERVICES, "*"), action, perms: fc.array(permission, { minLength: 1, maxLength: 3 }), useL7: fc.boolean() })
  .map(({ name, action: a, perms, useL7 }): SourceIntention => (l7 && useL7 ? { Name: name, Permissions: perms } : { Name: name, Action: a }));
const entry = fc.constantFrom(...SERVICES, "*").chain((name) => fc.uniqueArray(source(name !== "*"), { minLength: 1, maxLength: 4, selector: (s) => s.Name })
  .map((Sources): ServiceIntentionsEntry => ({ Kind: "service-intentions", Name: name, Sources })));
const corpora: ServiceIntentionsEntry[][] = [
  // Precedence: exact beats `*` on either side, destination exactness first.
  [
    { Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow" }, { Name: "*", Action: "deny" }] },
    { Kind: "service-intentions", Name: "*", Sources: [{ Name: "web", Action: "deny" }, { Name: "db", Action: "allow" }, { Name: "*", Action: "allow" }] },
  ],
  // L7 intentions: the L4 check treats them as deny, whatever their permissions.
  [
    { Kind: "service-intentions", Name: "billing", Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/" } }] }, { Name: "*", Action: "allow" }] },
    { Kind: "service-intentions", Name: "*", Sources: [{ Name: "*", Action: "deny" }] },
  ],
  ...fc.sample(fc.uniqueArray(entry, { minLength: 1, maxLength: 5, selector: (e) => e.Name }), { numRuns: 8, seed: 20261122 }),
];

function weftAuthorizer(entries: ConsulEntry[], defaultAction: "allow" | "deny", td: string) {
  const { policy, losses } = consulAuthzPolicy(entries, { defaultAction, trustDomain: td });
  expect(losses).toEqual([]);
  return compileAuthorizer([policy]);
}

for (const defaultAction of ["allow", "deny"] as const) {
  describe.skipIf(!ready)(`consul intentions parity (default ${defaultAction})`, () => {
    let agent: ConsulHandle;
    let td: string;
    beforeAll(async () => {
      if (defaultAction === "deny") {
        agent = await consul.start({ hcl: [`acl { enabled = true\n default_policy = "deny"\n tokens { initial_management = "${MANAGEMENT}" } }`] });
        token = MANAGEMENT;
        const policy = await call(agent, "PUT", "/v1/acl/policy", { Name: "read-services", Rules: 'service_prefix "" { policy = "read" }' });
        expect(policy.status, policy.text).toBe(200);
        const t = await call(agent, "PUT", "/v1/acl/token", { Policies: [{ ID: (JSON.parse(policy.text) as { ID: string }).ID }] });
        expect(t.status, t.text).toBe(200);
        checkToken = (JSON.parse(t.text) as { SecretID: string }).SecretID;
      } else {
        agent = await consul.start();
        token = checkToken = undefined;
      }
      td = await trustDomain(agent);
      // L7 permissions need an HTTP protocol for their destination (Consul checks this on write).
      await writeEntry(agent, { Kind: "proxy-defaults", Name: "global", Config: { protocol: "http" } });
    });
    afterAll(async () => {
      await agent?.stop();
    });

    it("weft decides every source → destination connection as /v1/connect/intentions/check does", async () => {
      let compared = 0;
      for (const corpus of corpora) {
        await clearIntentions(agent);
        for (const e of corpus) await writeEntry(agent, e);
        // Convert what Consul stored (as `consul config read` prints it), not only what was written.
        const stored: ConsulEntry[] = [];
        for (const e of corpus) {
          const r = await call(agent, "GET", `/v1/config/service-intentions/${encodeURIComponent(e.Name)}`);
          const parsed = parseEntry(JSON.parse(r.text));
          expect(parsed.diagnostics).toEqual([]);
          stored.push(parsed.entry!);
        }
        const fromWritten = weftAuthorizer(corpus.map((entry) => ({ kind: "service-intentions", entry })), defaultAction, td);
        const fromStored = weftAuthorizer(stored, defaultAction, td);
        for (const src of SERVICES) {
          for (const dst of SERVICES) {
            const request = { destination: { namespace: "default", service: dst }, source: { principal: `spiffe://${td}/ns/default/dc/dc1/svc/${src}` } };
            const expected = (await consulAllows(agent, src, dst)) ? "allow" : "deny";
            const where = `${src} → ${dst} with ${JSON.stringify(corpus)}`;
            expect(fromWritten.check(request).decision, where).toBe(expected);
            expect(fromStored.check(request).decision, where).toBe(expected);
            compared++;
          }
        }
      }
      expect(compared).toBe(corpora.length * SERVICES.length * SERVICES.length);
    });

    it("rejects the malformed entries Consul rejects, naming the entry and field", async () => {
      await clearIntentions(agent);
      const bad: [unknown, RegExp][] = [
        [{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/" } }] }] }, /Sources\[0\]\.Action/],
        [{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: { PathExact: "x" } }] }] }, /PathExact/],
        [{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "we*", Action: "allow" }] }, /Sources\[0\]\.Name/],
        [{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow" }, { Name: "web", Action: "deny" }] }, /Sources\[1\]/],
        [{ Kind: "service-intentions", Name: "*", Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/" } }] }] }, /Sources\[0\]\.Permissions/],
        [{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "permit" }] }, /Sources\[0\]\.Action/],
        [{ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow", Permisions: [] }] }, /Permisions/],
        [{ Kind: "service-intentions", Name: "api", Sources: [] }, /Sources/],
      ];
      for (const [e, field] of bad) {
        const consulSays = await call(agent, "PUT", "/v1/config", e);
        expect(consulSays.status, `Consul accepted ${JSON.stringify(e)}`).not.toBe(200);
        const weftSays = parseEntry(e);
        expect(weftSays.entry, JSON.stringify(e)).toBeNull();
        const error = weftSays.diagnostics.find((d) => d.severity === "error");
        expect(error?.object).toBe(`service-intentions/${(e as { Name: string }).Name}`);
        expect(`${error?.path ?? ""} ${error?.message ?? ""}`).toMatch(field);
      }
    });

    it("accepts snake_case and lower-case keys as Consul does", async () => {
      await clearIntentions(agent);
      const e = { kind: "service-intentions", name: "api", sources: [{ name: "web", permissions: [{ action: "allow", http: { path_prefix: "/v1", methods: ["get"] } }] }] };
      await writeEntry(agent, e);
      const stored = JSON.parse((await call(agent, "GET", "/v1/config/service-intentions/api")).text) as ServiceIntentionsEntry;
      const mine = parseEntry(e);
      expect(mine.diagnostics).toEqual([]);
      const perm = (mine.entry!.entry as ServiceIntentionsEntry).Sources![0]!.Permissions![0]!;
      expect(perm.HTTP?.PathPrefix).toBe(stored.Sources![0]!.Permissions![0]!.HTTP!.PathPrefix);
      expect(stored.Sources![0]!.Permissions![0]!.HTTP!.Methods).toEqual(["GET"]);
    });
  });
}
