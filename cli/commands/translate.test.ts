/**
 * `weft translate` and the Consul side of `weft authz check`, through `main()` with an in-memory io.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { CliIo } from "../io.ts";
import { main } from "../main.ts";

function memoryIo(files: Record<string, string>) {
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    argv: [],
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readFile: async (p) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p]!;
    },
    exit: () => {},
    isMain: () => false,
    env: () => undefined,
  };
  return { io, out };
}

async function weft(args: string[], files: Record<string, string>) {
  const { io, out } = memoryIo(files);
  const code = await main(args, io);
  return { code, ...out };
}

const intentions = JSON.stringify([
  { Kind: "service-intentions", Name: "api", Sources: [
    { Name: "web", Permissions: [{ Action: "deny", HTTP: { PathPrefix: "/admin" } }, { Action: "allow", HTTP: { PathRegex: "/v[0-9]+/.*", Methods: ["GET"] } }] },
    { Name: "*", Action: "deny" },
  ] },
  { Kind: "service-intentions", Name: "*", Sources: [{ Name: "web", Action: "allow" }] },
]);
const request = (path: string, service = "api") => JSON.stringify({
  destination: { namespace: "default", service },
  source: { principal: "spiffe://1111.consul/ns/default/dc/dc1/svc/web" },
  http: { method: "GET", path },
});
const istio = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: api-readers, namespace: default}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/default/sa/web]}}]
    to: [{operation: {methods: [GET], paths: ["/v1/*"]}}]
  - from: [{source: {ipBlocks: [10.0.0.0/8]}}]
`;

describe("weft authz check with Consul entries", () => {
  const files = { "i.json": intentions, "v1.json": request("/v1/users"), "admin.json": request("/admin/x"), "other.json": request("/v1/x", "billing") };

  it("decides as Consul: precedence, first matching permission, default", async () => {
    const allow = await weft(["authz", "check", "-f", "i.json", "--request", "v1.json", "--consul-default", "deny"], files);
    expect(allow.code).toBe(0);
    expect(JSON.parse(allow.stdout)).toMatchObject({ decision: "allow", policy: "consul/service-intentions", rule: 0, consul: { permission: 1, byDefault: false } });
    const admin = await weft(["authz", "check", "-f", "i.json", "--request", "admin.json"], files);
    expect(JSON.parse(admin.stdout)).toMatchObject({ decision: "deny", action: "DENY", consul: { rule: 0, permission: 0 } });
    const other = await weft(["authz", "check", "-f", "i.json", "--request", "other.json", "--consul-default", "deny"], files);
    expect(JSON.parse(other.stdout)).toMatchObject({ decision: "allow", reason: expect.stringContaining("web → * (precedence 6)") });
  });

  it("honours --consul-trust-domain and rejects a bad --consul-default", async () => {
    const r = await weft(["authz", "check", "-f", "i.json", "--request", "other.json", "--consul-default", "deny", "--consul-trust-domain", "2222.consul"], files);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "deny", consul: { byDefault: true } });
    expect((await weft(["authz", "check", "-f", "i.json", "--request", "v1.json", "--consul-default", "maybe"], files)).code).toBe(2);
  });

  it("reports malformed entries with file:line, Kind/Name and field", async () => {
    const r = await weft(["authz", "check", "-f", "bad.json", "--request", "v1.json"], { ...files, "bad.json": '{"Kind": "service-intentions", "Name": "api",\n "Sources": [{"Name": "web", "Action": "allow", "Permisions": []}]}' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.json:2:63: error: service-intentions/api: Sources[0].Permisions: unknown field "Permisions" (did you mean "Permissions"?)');
  });
});

describe("weft translate", () => {
  it("consul → weft → consul gives back the entries", async () => {
    const ir = await weft(["translate", "--from", "consul", "--to", "weft", "-f", "i.json"], { "i.json": intentions });
    expect(ir.code).toBe(0);
    expect(ir.stderr).toBe("");
    expect(parse(ir.stdout).authorization[0].ordered.rules).toHaveLength(3);
    const back = await weft(["translate", "--from", "weft", "--to", "consul", "-f", "ir.yaml"], { "ir.yaml": ir.stdout });
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toEqual(JSON.parse(intentions));
  });

  it("istio → consul prints the entries and the loss report, failing unless --allow-loss", async () => {
    const r = await weft(["translate", "--from", "istio", "--to", "consul", "-f", "p.yaml"], { "p.yaml": istio });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual([{ Kind: "service-intentions", Name: "api", Sources: [
      { Name: "*", Action: "deny" },
      { Name: "web", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/v1/", Methods: ["GET"] } }, { Action: "deny", HTTP: { PathPrefix: "/" } }] },
    ] }]);
    expect(r.stderr).toContain("lost: AuthorizationPolicy/default/api-readers: spec.rules[1].from[0].source.ipBlocks: Consul intentions cannot match ipBlocks; the rule is left out");
    expect(r.stderr).toContain("weft translate: 1 loss; pass --allow-loss to accept");
    expect((await weft(["translate", "--from", "istio", "--to", "consul", "--allow-loss", "-f", "p.yaml"], { "p.yaml": istio })).code).toBe(0);
  });

  it("consul → istio reports that ordered intentions have no Istio form", async () => {
    const r = await weft(["translate", "--from", "consul", "--to", "istio", "-f", "i.json"], { "i.json": intentions });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/lost: service-intentions: ordered: an ordered first-match policy \(Consul intentions\) has no AuthorizationPolicy form/);
  });

  it("istio → istio carries every converted kind through the IR, not only AuthorizationPolicy", async () => {
    const mixed = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: foo }
spec: { mtls: { mode: STRICT } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: foo }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v1 }
      weight: 90
    - destination: { host: reviews, subset: v2 }
      weight: 10
`;
    const r = await weft(["translate", "--from", "istio", "--to", "istio", "-f", "m.yaml"], { "m.yaml": mixed });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const kinds = r.stdout.split(/^---$/m).map((d) => (parse(d) as { kind: string }).kind).sort();
    expect(kinds).toEqual(["PeerAuthentication", "VirtualService"]);
    const ir = await weft(["translate", "--from", "istio", "--to", "weft", "-f", "m.yaml"], { "m.yaml": mixed });
    expect(Object.keys(parse(ir.stdout) as object).sort()).toEqual(["authorization", "clusters", "peerAuthentication", "virtualHosts"]);
  });

  it("istio → istio through the IR keeps the policy", async () => {
    const r = await weft(["translate", "--from", "istio", "--to", "istio", "-f", "p.yaml"], { "p.yaml": istio });
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual(parse(istio));
  });

  it("rejects bad usage and input of the wrong format", async () => {
    expect((await weft(["translate", "--from", "consul", "-f", "i.json"], { "i.json": intentions })).code).toBe(2);
    const wrong = await weft(["translate", "--from", "istio", "--to", "weft", "-f", "i.json"], { "i.json": intentions });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("error: service-intentions/api: a Consul config entry (use --from consul)");
  });
});
