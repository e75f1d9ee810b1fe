import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createIdentityMapper, identityMappingConfigSchema, validateIdentityMappingConfig } from "./equivalence.ts";
import { ValidationError } from "../schema/index.ts";
import { SpiffeIdError } from "./spiffe.ts";

const WEB = "spiffe://cluster.local/ns/default/sa/web";
const CONSUL_WEB = "spiffe://1234.consul/ns/default/dc/dc1/svc/web";

describe("trust-domain aliases", () => {
  const ids = createIdentityMapper({ trustDomain: "new.example.com", trustDomainAliases: ["old.example.com", "cluster.local"] });

  it("makes an identity written with any alias the same workload", () => {
    expect(ids.equivalent("spiffe://old.example.com/ns/a/sa/b", "spiffe://new.example.com/ns/a/sa/b")).toBe(true);
    expect(ids.equivalent("spiffe://cluster.local/ns/a/sa/b", "spiffe://old.example.com/ns/a/sa/b")).toBe(true);
    expect(ids.equivalent("spiffe://old.example.com/any/path", "spiffe://new.example.com/any/path")).toBe(true);
    expect(ids.equivalent("spiffe://old.example.com/ns/a/sa/b", "spiffe://new.example.com/ns/a/sa/c")).toBe(false);
    expect(ids.equivalent("spiffe://other.td/ns/a/sa/b", "spiffe://new.example.com/ns/a/sa/b")).toBe(false);
  });

  it("expands to every alias spelling, the input first", () => {
    expect(ids.expand("spiffe://old.example.com/ns/a/sa/b")).toEqual([
      "spiffe://old.example.com/ns/a/sa/b",
      "spiffe://new.example.com/ns/a/sa/b",
      "spiffe://cluster.local/ns/a/sa/b",
    ]);
    expect(ids.expand("spiffe://other.td/ns/a/sa/b")).toEqual(["spiffe://other.td/ns/a/sa/b"]);
  });

  it("canonicalizes to the mesh trust domain", () => {
    expect(ids.canonical("spiffe://old.example.com/ns/a/sa/b")).toBe("spiffe://new.example.com/ns/a/sa/b");
    expect(ids.canonical("spiffe://other.td/x")).toBe("spiffe://other.td/x");
    expect(ids.trustDomainAliases).toEqual(["old.example.com", "cluster.local"]);
  });
});

describe("explicit mappings", () => {
  it("maps a Consul service in any *.consul trust domain to an Istio identity", () => {
    const ids = createIdentityMapper({ mappings: [{ identities: [{ consul: { service: "web", datacenter: "dc1" } }, WEB] }] });
    expect(ids.equivalent(CONSUL_WEB, WEB)).toBe(true);
    expect(ids.equivalent(WEB, "spiffe://other-cluster.consul/ns/default/dc/dc1/svc/web")).toBe(true);
    expect(ids.equivalent(WEB, "spiffe://1234.consul/ap/default/ns/default/dc/dc1/svc/web")).toBe(true);
    expect(ids.equivalent(WEB, "spiffe://1234.consul/ns/default/dc/dc2/svc/web")).toBe(false);
    expect(ids.equivalent(WEB, "spiffe://1234.consul/ap/team/ns/default/dc/dc1/svc/web")).toBe(false);
    expect(ids.equivalent(WEB, "spiffe://example.org/ns/default/dc/dc1/svc/web")).toBe(false);
    expect(ids.canonical(CONSUL_WEB)).toBe(WEB);
    expect(ids.expand(CONSUL_WEB)).toEqual([CONSUL_WEB, WEB]);
    expect(ids.expand(WEB)).toEqual([WEB]);
  });

  it("uses partition, namespace and a known Consul trust domain", () => {
    const ids = createIdentityMapper({
      consulTrustDomain: "1234.consul",
      mappings: [{ identities: [{ consul: { service: "api", datacenter: "dc1", partition: "team-a", namespace: "pay" } }, { istio: { namespace: "pay", serviceAccount: "api" } }] }],
    });
    const consulApi = "spiffe://1234.consul/ap/team-a/ns/pay/dc/dc1/svc/api";
    expect(ids.equivalent(consulApi, "spiffe://cluster.local/ns/pay/sa/api")).toBe(true);
    expect(ids.equivalent("spiffe://9999.consul/ap/team-a/ns/pay/dc/dc1/svc/api", "spiffe://cluster.local/ns/pay/sa/api")).toBe(false);
    expect(ids.expand("spiffe://cluster.local/ns/pay/sa/api")).toEqual(["spiffe://cluster.local/ns/pay/sa/api", consulApi]);
  });

  it("is transitive across mappings and combines with aliases", () => {
    const ids = createIdentityMapper({
      trustDomainAliases: ["legacy.local"],
      mappings: [
        { identities: ["spiffe://a.example/x", "spiffe://b.example/y"] },
        { identities: [{ spiffe: "spiffe://b.example/y" }, "spiffe://legacy.local/ns/default/sa/web"] },
        { description: "Consul side", identities: [{ consul: { trustDomain: "1234.consul", service: "web", datacenter: "dc1" } }, "spiffe://c.example/z"] },
        { identities: ["spiffe://c.example/z", "spiffe://a.example/x"] },
      ],
    });
    expect(ids.equivalent("spiffe://a.example/x", CONSUL_WEB)).toBe(true);
    expect(ids.equivalent(CONSUL_WEB, "spiffe://cluster.local/ns/default/sa/web")).toBe(true);
    expect(ids.canonical("spiffe://a.example/x")).toBe(WEB);
    expect(ids.canonical("spiffe://legacy.local/ns/default/sa/web")).toBe(WEB);
    expect(ids.expand("spiffe://c.example/z")).toEqual([
      "spiffe://c.example/z",
      WEB,
      "spiffe://legacy.local/ns/default/sa/web",
      "spiffe://a.example/x",
      "spiffe://b.example/y",
      CONSUL_WEB,
    ]);
  });

  it("picks the first ID in config order as canonical when no Istio form is mapped", () => {
    const ids = createIdentityMapper({ mappings: [{ identities: ["spiffe://a.example/x", "spiffe://b.example/y"] }] });
    expect(ids.canonical("spiffe://b.example/y")).toBe("spiffe://a.example/x");
    expect(ids.canonical("spiffe://a.example/x")).toBe("spiffe://a.example/x");
    expect(ids.expand("spiffe://b.example/y")).toEqual(["spiffe://b.example/y", "spiffe://a.example/x"]);
  });

  it("throws SpiffeIdError for malformed IDs", () => {
    const ids = createIdentityMapper();
    expect(() => ids.equivalent("cluster.local/ns/a/sa/b", WEB)).toThrow(SpiffeIdError);
    expect(() => ids.expand("spiffe://x/")).toThrow(/trailing slash/);
    expect(ids.trustDomain).toBe("cluster.local");
  });
});

describe("config validation", () => {
  const problems = (input: unknown): string[] => {
    const r = validateIdentityMappingConfig(input, { file: "mesh.yaml", object: "IdentityMapping/default" });
    return r.ok ? [] : r.diagnostics.map((d) => `${d.file} ${d.object} ${d.path}: ${d.message}`);
  };

  it("accepts the documented shapes", () => {
    expect(problems({ trustDomain: "cluster.local", trustDomainAliases: ["old"], mappings: [{ identities: [WEB, { consul: { service: "web", datacenter: "dc1" } }] }] })).toEqual([]);
    expect(identityMappingConfigSchema.safeParse({}).success).toBe(true);
  });

  it("names the field of each problem", () => {
    expect(problems({ trustDomain: "Cluster.local" })).toEqual([`mesh.yaml IdentityMapping/default trustDomain: the trust domain "Cluster.local" must be lowercase (found "C")`]);
    expect(problems({ trustDomainAliases: ["ok", "bad:1"] })[0]).toMatch(/trustDomainAliases\[1\]: .*port/);
    expect(problems({ mappings: [{ identities: [WEB] }] })[0]).toMatch(/mappings\[0\]\.identities: a mapping needs at least two identities/);
    expect(problems({ mappings: [{ identities: [WEB, { consul: { service: "web" } }] }] })[0]).toMatch(/mappings\[0\]\.identities\[1\]\.consul\.datacenter/);
    expect(problems({ mappings: [{ identities: [WEB, { consul: { service: "web", datacenter: "dc 1" } }] }] })[0]).toMatch(
      /mappings\[0\]\.identities\[1\]\.consul\.datacenter: character " " is not allowed/,
    );
    expect(problems({ mappings: [{ identities: [WEB, "spiffe://cluster.local/ns/a/sa/b/"] }] })[0]).toMatch(/mappings\[0\]\.identities\[1\]: the path must not end with a trailing slash/);
    expect(problems({ mappings: [{ identities: [WEB, { istio: { namespace: "a", serviceAccount: "b", extra: 1 } }] }] })[0]).toMatch(/identities\[1\]\.istio\.extra: unknown field "extra"/);
    expect(problems({ typo: 1 })[0]).toMatch(/typo: unknown field "typo"/);
  });

  it("createIdentityMapper throws a ValidationError carrying the diagnostics", () => {
    let caught: unknown;
    try {
      createIdentityMapper({ trustDomain: "" }, { file: "mesh.yaml" });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).diagnostics[0]).toMatchObject({ file: "mesh.yaml", path: "trustDomain", severity: "error" });
    expect((caught as Error).message).toMatch(/^mesh\.yaml: error: trustDomain: the trust domain is missing/);
  });
});

describe("properties", () => {
  // A small pool so that generated mappings overlap and chain.
  const tds = ["cluster.local", "alias.one", "alias.two", "other.td", "1234.consul"];
  const paths = ["/ns/a/sa/x", "/ns/b/sa/y", "/ns/default/dc/dc1/svc/web", "/p/q", "/ns/a/sa/y"];
  const uriArb = fc.tuple(fc.constantFrom(...tds), fc.constantFrom(...paths)).map(([td, p]) => `spiffe://${td}${p}`);
  const refArb = fc.oneof(uriArb, fc.constantFrom({ consul: { service: "web", datacenter: "dc1" } }, { istio: { namespace: "a", serviceAccount: "x" } }));
  const configArb = fc.record({
    trustDomainAliases: fc.subarray(["alias.one", "alias.two"]),
    mappings: fc.array(fc.record({ identities: fc.array(refArb, { minLength: 2, maxLength: 3 }) }), { maxLength: 4 }),
  });

  // Draw the IDs under test mostly from those the config mentions, so that mapped classes are exercised.
  const withIds = configArb.chain((config) => {
    const mentioned = config.mappings.flatMap((m) => m.identities.filter((r): r is string => typeof r === "string"));
    const pick = mentioned.length > 0 ? fc.oneof(fc.constantFrom(...mentioned), uriArb) : uriArb;
    return fc.tuple(fc.constant(config), pick, pick, pick);
  });

  it("equivalence is reflexive, symmetric and transitive; canonical and expand agree with it", () => {
    fc.assert(
      fc.property(withIds, ([config, a, b, c]) => {
        const ids = createIdentityMapper(config);
        expect(ids.equivalent(a, a)).toBe(true);
        expect(ids.equivalent(a, b)).toBe(ids.equivalent(b, a));
        if (ids.equivalent(a, b) && ids.equivalent(b, c)) expect(ids.equivalent(a, c)).toBe(true);
        expect(ids.equivalent(a, b)).toBe(ids.canonical(a) === ids.canonical(b));
        expect(ids.equivalent(a, ids.canonical(a))).toBe(true);
        expect(ids.canonical(ids.canonical(a))).toBe(ids.canonical(a));
        const expanded = ids.expand(a);
        expect(expanded[0]).toBe(a);
        expect(new Set(expanded).size).toBe(expanded.length);
        for (const e of expanded) expect(ids.equivalent(a, e)).toBe(true);
        // Every equivalent concrete ID is listed, except Consul IDs matched only by a trust-domain-less reference.
        if (ids.equivalent(a, b) && !b.startsWith("spiffe://1234.consul/ns/default/dc/")) expect(expanded).toContain(b);
      }),
      { numRuns: 300 },
    );
  });

  it("alias expansion lists every alias spelling of any path", () => {
    fc.assert(
      fc.property(fc.subarray(["alias.one", "alias.two", "alias.three"], { minLength: 1 }), fc.constantFrom(...paths), (aliases, path) => {
        const ids = createIdentityMapper({ trustDomain: "mesh.td", trustDomainAliases: aliases });
        const expanded = ids.expand(`spiffe://${aliases[0]}${path}`);
        expect([...expanded].sort()).toEqual(["mesh.td", ...aliases].map((td) => `spiffe://${td}${path}`).sort());
        for (const td of aliases) expect(ids.canonical(`spiffe://${td}${path}`)).toBe(`spiffe://mesh.td${path}`);
      }),
    );
  });
});
