import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  classifyIdentity,
  formatConsulIdentity,
  formatIdentity,
  formatIstioIdentity,
  parseConsulIdentity,
  parseIstioIdentity,
  tryClassifyIdentity,
} from "./mesh-forms.ts";
import { SpiffeIdError } from "./spiffe.ts";

const TD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.-_".split("");
const SEG_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_".split("");
const tdArb = fc.string({ unit: fc.constantFrom(...TD_CHARS), minLength: 1, maxLength: 30 });
const segArb = fc.string({ unit: fc.constantFrom(...SEG_CHARS), minLength: 1, maxLength: 15 }).filter((s) => s !== "." && s !== "..");

describe("Istio form", () => {
  it("parses and formats", () => {
    const w = { trustDomain: "cluster.local", namespace: "default", serviceAccount: "bookinfo-productpage" };
    expect(parseIstioIdentity("spiffe://cluster.local/ns/default/sa/bookinfo-productpage")).toEqual(w);
    expect(formatIstioIdentity(w)).toBe("spiffe://cluster.local/ns/default/sa/bookinfo-productpage");
    expect(parseIstioIdentity("spiffe://k8s-west.example.com/ns/staging/sa/default").namespace).toBe("staging");
  });

  it("rejects other shapes with a message naming the expected form", () => {
    expect(() => parseIstioIdentity("spiffe://cluster.local/ns/default")).toThrow(/is not of the form "\/ns\/<namespace>\/sa\/<service-account>"/);
    expect(() => parseIstioIdentity("spiffe://cluster.local/ns/default/sa/web/extra")).toThrow(SpiffeIdError);
    expect(() => parseIstioIdentity("spiffe://1234.consul/ns/default/dc/dc1/svc/web")).toThrow(/invalid Istio identity/);
    expect(() => parseIstioIdentity("spiffe://Cluster.local/ns/default/sa/web")).toThrow(/lowercase/);
  });

  it("names the bad field when formatting", () => {
    expect(() => formatIstioIdentity({ trustDomain: "cluster.local", namespace: "", serviceAccount: "web" })).toThrow(/namespace is empty/);
    expect(() => formatIstioIdentity({ trustDomain: "cluster.local", namespace: "a", serviceAccount: "we/b" })).toThrow(/invalid service account "we\/b"/);
    expect(() => formatIstioIdentity({ trustDomain: "Cluster", namespace: "a", serviceAccount: "b" })).toThrow(/invalid trust domain/);
  });
});

describe("Consul forms", () => {
  const services: [string, object][] = [
    // Examples from Consul's agent/connect URI tests.
    ["spiffe://1234.consul/ns/default/dc/dc01/svc/web", { trustDomain: "1234.consul", namespace: "default", datacenter: "dc01", service: "web" }],
    ["spiffe://1234.consul/ap/bizdev/ns/default/dc/dc01/svc/web", { trustDomain: "1234.consul", partition: "bizdev", namespace: "default", datacenter: "dc01", service: "web" }],
    [
      "spiffe://11111111-2222-3333-4444-555555555555.consul/ap/team-a/ns/payments/dc/us-east-1/svc/api",
      { trustDomain: "11111111-2222-3333-4444-555555555555.consul", partition: "team-a", namespace: "payments", datacenter: "us-east-1", service: "api" },
    ],
  ];
  for (const [uri, expected] of services) {
    it(`service ${uri}`, () => {
      expect(parseConsulIdentity(uri)).toEqual(expected);
      expect(formatConsulIdentity(parseConsulIdentity(uri))).toBe(uri);
      expect(classifyIdentity(uri).kind).toBe("consul");
    });
  }

  it("leaves the default partition out, as Consul does", () => {
    const parsed = parseConsulIdentity("spiffe://1234.consul/ap/default/ns/default/dc/dc1/svc/web");
    expect(parsed.partition).toBeUndefined();
    expect(formatConsulIdentity(parsed)).toBe("spiffe://1234.consul/ns/default/dc/dc1/svc/web");
    expect(formatConsulIdentity({ ...parsed, partition: "default" })).toBe("spiffe://1234.consul/ns/default/dc/dc1/svc/web");
  });

  it("rejects other shapes and bad fields", () => {
    expect(() => parseConsulIdentity("spiffe://1234.consul/ns/default/dc/dc1")).toThrow(/invalid Consul service identity/);
    expect(() => parseConsulIdentity("spiffe://cluster.local/ns/default/sa/web")).toThrow(/\[\/ap\/<partition>\]/);
    expect(() => parseConsulIdentity("spiffe://1234.consul/ns/foo%2Fbar/dc/dc1/svc/web")).toThrow(/percent-encoded/);
    expect(() => formatConsulIdentity({ trustDomain: "1234.consul", namespace: "default", datacenter: "dc 1", service: "web" })).toThrow(/invalid datacenter "dc 1"/);
  });

  const others: [string, string, object][] = [
    ["spiffe://1234.consul/agent/client/dc/dc1/id/uuid", "consul-agent", { agent: { trustDomain: "1234.consul", datacenter: "dc1", node: "uuid" } }],
    ["spiffe://1234.consul/ap/bizdev/agent/client/dc/dc1/id/uuid", "consul-agent", { agent: { trustDomain: "1234.consul", partition: "bizdev", datacenter: "dc1", node: "uuid" } }],
    ["spiffe://1234.consul/agent/server/dc/dc1", "consul-server", { server: { trustDomain: "1234.consul", datacenter: "dc1" } }],
    ["spiffe://1234.consul/gateway/mesh/dc/dc1", "consul-mesh-gateway", { gateway: { trustDomain: "1234.consul", datacenter: "dc1" } }],
    ["spiffe://1234.consul/ap/bizdev/gateway/mesh/dc/dc1", "consul-mesh-gateway", { gateway: { trustDomain: "1234.consul", partition: "bizdev", datacenter: "dc1" } }],
    ["spiffe://cluster.local/ns/default/sa/web", "istio", { workload: { trustDomain: "cluster.local", namespace: "default", serviceAccount: "web" } }],
    ["spiffe://1234.consul", "other", {}],
    ["spiffe://example.org/payments/mysql", "other", {}],
    ["spiffe://1234.consul/ap/bizdev/agent/server/dc/dc1", "other", {}],
    ["spiffe://cluster.local/ap/x/ns/default/sa/web", "other", {}],
    ["spiffe://1234.consul/ap/bizdev/ns/default/dc/dc1/svc", "other", {}],
  ];
  for (const [uri, kind, fields] of others) {
    it(`classifies ${uri} as ${kind}`, () => {
      const c = classifyIdentity(uri);
      expect(c.kind).toBe(kind);
      expect(c.id.uri).toBe(uri);
      expect(c).toMatchObject(fields);
      expect(formatIdentity(c)).toBe(uri);
    });
  }

  it("throws only for invalid IDs", () => {
    expect(() => classifyIdentity("spiffe://1234.consul/ns//dc/dc1/svc/web")).toThrow(SpiffeIdError);
    expect(tryClassifyIdentity("not an id")).toBeUndefined();
    expect(tryClassifyIdentity("spiffe://td/x")?.kind).toBe("other");
  });
});

describe("properties", () => {
  it("Istio format ∘ parse is the identity", () => {
    fc.assert(
      fc.property(tdArb, segArb, segArb, (trustDomain, namespace, serviceAccount) => {
        const uri = formatIstioIdentity({ trustDomain, namespace, serviceAccount });
        expect(parseIstioIdentity(uri)).toEqual({ trustDomain, namespace, serviceAccount });
        expect(formatIstioIdentity(parseIstioIdentity(uri))).toBe(uri);
      }),
    );
  });

  it("Consul format ∘ parse is the identity (partitions included)", () => {
    const partitionArb = fc.option(segArb.filter((p) => p !== "default"), { nil: undefined });
    fc.assert(
      fc.property(tdArb, partitionArb, segArb, segArb, segArb, (td, partition, namespace, datacenter, service) => {
        const c = { trustDomain: `${td}.consul`, ...(partition === undefined ? {} : { partition }), namespace, datacenter, service };
        const uri = formatConsulIdentity(c);
        expect(parseConsulIdentity(uri)).toEqual(c);
        expect(formatConsulIdentity(parseConsulIdentity(uri))).toBe(uri);
        expect(formatIdentity(classifyIdentity(uri))).toBe(uri);
      }),
    );
  });
});
