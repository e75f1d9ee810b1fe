import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  SpiffeIdError,
  formatSpiffeId,
  fromAuthzPrincipal,
  isSpiffeId,
  parseSpiffeId,
  spiffeIdFromSegments,
  toAuthzPrincipal,
  tryParseSpiffeId,
  validatePathSegment,
  validateTrustDomain,
} from "./spiffe.ts";

const TD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.-_".split("");
const SEG_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_".split("");

/** Valid trust domains and path segments, per the SPIFFE ID character sets. */
const trustDomainArb = fc.string({ unit: fc.constantFrom(...TD_CHARS), minLength: 1, maxLength: 40 });
const segmentArb = fc
  .string({ unit: fc.constantFrom(...SEG_CHARS), minLength: 1, maxLength: 20 })
  .filter((s) => s !== "." && s !== "..");

describe("parseSpiffeId: valid IDs", () => {
  const valid: [string, string, string][] = [
    // From the SPIFFE ID specification's examples.
    ["spiffe://staging.example.com/payments/mysql", "staging.example.com", "/payments/mysql"],
    ["spiffe://staging.example.com/payments/web-fe", "staging.example.com", "/payments/web-fe"],
    ["spiffe://k8s-west.example.com/ns/staging/sa/default", "k8s-west.example.com", "/ns/staging/sa/default"],
    ["spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453", "example.com", "/9eebccd2-12bf-40a6-b262-65fe0487d453"],
    // Istio and Consul.
    ["spiffe://cluster.local/ns/default/sa/web", "cluster.local", "/ns/default/sa/web"],
    ["spiffe://1234.consul/ap/bizdev/ns/default/dc/dc01/svc/web", "1234.consul", "/ap/bizdev/ns/default/dc/dc01/svc/web"],
    // Trust-domain-only (signing identity), odd but allowed characters.
    ["spiffe://example.org", "example.org", ""],
    ["spiffe://1234.consul", "1234.consul", ""],
    ["spiffe://a_b-c.d/Upper/MiXeD/x.y/_-.", "a_b-c.d", "/Upper/MiXeD/x.y/_-."],
    ["spiffe://td/...", "td", "/..."],
    ["spiffe://td/.a/..b", "td", "/.a/..b"],
  ];
  for (const [uri, trustDomain, path] of valid) {
    it(uri, () => {
      expect(parseSpiffeId(uri)).toEqual({ trustDomain, path, uri });
      expect(isSpiffeId(uri)).toBe(true);
      expect(formatSpiffeId({ trustDomain, path })).toBe(uri);
    });
  }

  it("accepts an ID of exactly 2048 bytes", () => {
    const prefix = "spiffe://example.org/";
    const uri = prefix + "a".repeat(2048 - prefix.length);
    expect(uri).toHaveLength(2048);
    expect(parseSpiffeId(uri).uri).toBe(uri);
  });
});

describe("parseSpiffeId: invalid IDs name the offending part", () => {
  const invalid: [string, string, RegExp][] = [
    ["", "input", /cannot be empty/],
    ["example.org/foo", "scheme", /scheme is missing/],
    ["http://example.org/foo", "scheme", /must be "spiffe", not "http"/],
    ["SPIFFE://example.org/foo", "scheme", /must be lowercase "spiffe"/],
    ["spiffe:example.org/foo", "scheme", /scheme is missing/],
    ["spiffe://", "trust-domain", /trust domain is missing/],
    ["spiffe:///foo", "trust-domain", /trust domain is missing/],
    ["spiffe://Example.org/foo", "trust-domain", /must be lowercase \(found "E"\)/],
    ["spiffe://example.org:8080/foo", "trust-domain", /must not have a port/],
    ["spiffe://user@example.org/foo", "trust-domain", /userinfo/],
    ["spiffe://user:pass@example.org/foo", "trust-domain", /userinfo/],
    ["spiffe://exa%6dple.org/foo", "trust-domain", /percent-encoded/],
    ["spiffe://exa mple.org/foo", "trust-domain", /character " " is not allowed in the trust domain/],
    ["spiffe://exämple.org/foo", "trust-domain", /character "ä" is not allowed/],
    ["spiffe://[::1]/foo", "trust-domain", /port or ":"/],
    ["spiffe://example.org/", "path", /trailing slash/],
    ["spiffe://example.org/foo/", "path", /trailing slash/],
    ["spiffe://example.org//foo", "path", /empty segments/],
    ["spiffe://example.org/foo//bar", "path", /empty segments/],
    ["spiffe://example.org/./foo", "path", /"\." segments/],
    ["spiffe://example.org/foo/..", "path", /"\.\." segments/],
    ["spiffe://example.org/foo%2Fbar", "path", /percent-encoded/],
    ["spiffe://example.org/foo bar", "path", /character " " is not allowed in the path segment "foo bar"/],
    ["spiffe://example.org/foo*", "path", /character "\*"/],
    ["spiffe://example.org/f\u00fc", "path", /character "ü"/],
    ["spiffe://example.org/\u{1F600}", "path", /character "\u{1F600}"/u],
    ["spiffe://example.org/foo?x=1", "query", /query/],
    ["spiffe://example.org?x", "query", /query/],
    ["spiffe://example.org/foo#frag", "fragment", /fragment/],
    ["spiffe://example.org/foo#a?b", "fragment", /fragment/],
  ];
  for (const [uri, part, message] of invalid) {
    it(JSON.stringify(uri), () => {
      let caught: unknown;
      try {
        parseSpiffeId(uri);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SpiffeIdError);
      const err = caught as SpiffeIdError;
      expect(err.part).toBe(part);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(`invalid SPIFFE ID ${JSON.stringify(uri)}`);
      expect(err.name).toBe("SpiffeIdError");
      expect(tryParseSpiffeId(uri)).toBeUndefined();
      expect(isSpiffeId(uri)).toBe(false);
    });
  }

  it("rejects an ID longer than 2048 bytes", () => {
    const uri = "spiffe://example.org/" + "a".repeat(2048);
    expect(() => parseSpiffeId(uri)).toThrow(/at most 2048 bytes/);
  });

  it("rejects a trust domain longer than 255 bytes", () => {
    expect(() => parseSpiffeId(`spiffe://${"a".repeat(256)}/x`)).toThrow(/at most 255/);
    expect(parseSpiffeId(`spiffe://${"a".repeat(255)}/x`).trustDomain).toHaveLength(255);
  });

  it("shortens very long inputs in the message", () => {
    const uri = "spiffe://example.org/" + "a".repeat(500) + "/";
    expect(() => parseSpiffeId(uri)).toThrow(SpiffeIdError);
    try {
      parseSpiffeId(uri);
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(300);
    }
  });

  it("rejects non-strings from untyped callers with a SpiffeIdError", () => {
    expect(() => parseSpiffeId(undefined as unknown as string)).toThrow(SpiffeIdError);
    expect(() => parseSpiffeId(42 as unknown as string)).toThrow(/expected a string, got number/);
  });
});

describe("validateTrustDomain and path segments", () => {
  it("accepts valid and rejects invalid trust domains", () => {
    expect(validateTrustDomain("cluster.local")).toBe("cluster.local");
    expect(() => validateTrustDomain("")).toThrow(/invalid trust domain "": the trust domain is missing/);
    expect(() => validateTrustDomain("Cluster.local")).toThrow(/lowercase/);
    expect(() => validateTrustDomain("td:443")).toThrow(/port/);
    expect(() => validateTrustDomain("td/ns")).toThrow(/character "\/"/);
  });

  it("names the segment in errors", () => {
    expect(validatePathSegment("web")).toBe("web");
    expect(() => validatePathSegment("", "namespace")).toThrow(/invalid namespace "": the namespace is empty/);
    expect(() => validatePathSegment("a/b", "service")).toThrow(/invalid service "a\/b"/);
    expect(() => validatePathSegment("..", "service")).toThrow(/"\.\." segments/);
  });

  it("formats from segments", () => {
    expect(spiffeIdFromSegments("cluster.local", ["ns", "default", "sa", "web"])).toBe("spiffe://cluster.local/ns/default/sa/web");
    expect(spiffeIdFromSegments("example.org", [])).toBe("spiffe://example.org");
    expect(() => spiffeIdFromSegments("example.org", ["a/b"])).toThrow(SpiffeIdError);
    expect(() => formatSpiffeId({ trustDomain: "example.org", path: "foo" })).toThrow(/start with "\/"/);
  });
});

describe("Istio authorization principals", () => {
  it("converts both ways", () => {
    expect(toAuthzPrincipal("spiffe://cluster.local/ns/default/sa/web")).toBe("cluster.local/ns/default/sa/web");
    expect(fromAuthzPrincipal("cluster.local/ns/default/sa/web")).toBe("spiffe://cluster.local/ns/default/sa/web");
    expect(fromAuthzPrincipal("example.org")).toBe("spiffe://example.org");
  });

  it("rejects patterns, schemes and malformed principals", () => {
    expect(() => fromAuthzPrincipal("*")).toThrow(/pattern/);
    expect(() => fromAuthzPrincipal("cluster.local/ns/default/sa/*")).toThrow(/pattern/);
    expect(() => fromAuthzPrincipal("spiffe://cluster.local/ns/default/sa/web")).toThrow(/without a scheme/);
    expect(() => fromAuthzPrincipal("")).toThrow(/cannot be empty/);
    expect(() => fromAuthzPrincipal("Cluster.local/ns/a/sa/b")).toThrow(/invalid principal "Cluster.local\/ns\/a\/sa\/b": .*lowercase/);
    expect(() => toAuthzPrincipal("cluster.local/ns/a/sa/b")).toThrow(SpiffeIdError);
  });
});

describe("properties", () => {
  const validId = fc.tuple(trustDomainArb, fc.array(segmentArb, { maxLength: 8 })).map(([td, segs]) => ({ td, segs }));

  it("format ∘ parse is the identity on generated valid IDs", () => {
    fc.assert(
      fc.property(validId, ({ td, segs }) => {
        const uri = spiffeIdFromSegments(td, segs);
        const id = parseSpiffeId(uri);
        expect(id.trustDomain).toBe(td);
        expect(formatSpiffeId(id)).toBe(uri);
        expect(fromAuthzPrincipal(toAuthzPrincipal(uri))).toBe(uri);
      }),
    );
  });

  it("parse never throws anything but SpiffeIdError on arbitrary strings", () => {
    const near = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 60 }),
      // Any UTF-16 code unit, lone surrogates and control characters included.
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }).map((s) => `spiffe://td/${s}`),
      fc.string({ unit: "grapheme-ascii", maxLength: 60 }).map((s) => `spiffe://${s}`),
      fc.string({ unit: fc.constantFrom("a", "A", "/", ".", ":", "@", "%", "?", "#", "-", "_", "1", " "), maxLength: 30 }).map((s) => `spiffe://${s}`),
    );
    fc.assert(
      fc.property(near, (s) => {
        try {
          const id = parseSpiffeId(s);
          expect(id.uri).toBe(s);
          expect(isSpiffeId(s)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(SpiffeIdError);
          expect(isSpiffeId(s)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
