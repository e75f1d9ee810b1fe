// Properties of snapshot versions: independent of resource order; a change to one resource changes
// that resource's version and its type's version, and nothing else.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ALL_TYPE_URLS, TypeUrl } from "./resource-types.ts";
import { createSnapshot } from "./snapshot.ts";
import { edsCluster, loadAssignment } from "./testing.ts";

const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 1, maxLength: 8 });

describe("snapshot versions", () => {
  it("do not depend on resource order", () => {
    fc.assert(fc.property(names, fc.integer({ min: 1, max: 65535 }), (ns, port) => {
      const a = createSnapshot({ [TypeUrl.cluster]: ns.map(edsCluster), [TypeUrl.endpoint]: ns.map((n) => loadAssignment(n, [port])) });
      const rev = [...ns].reverse();
      const b = createSnapshot({ [TypeUrl.cluster]: rev.map(edsCluster), [TypeUrl.endpoint]: rev.map((n) => loadAssignment(n, [port])) });
      for (const t of ALL_TYPE_URLS) expect(b.version(t)).toBe(a.version(t));
    }));
  });

  it("change exactly where the content changed", () => {
    fc.assert(fc.property(names, fc.nat(), fc.integer({ min: 1, max: 60000 }), (ns, pick, port) => {
      const changed = ns[pick % ns.length]!;
      const a = createSnapshot({ [TypeUrl.cluster]: ns.map(edsCluster), [TypeUrl.endpoint]: ns.map((n) => loadAssignment(n, [port])) });
      const b = createSnapshot({ [TypeUrl.cluster]: ns.map(edsCluster), [TypeUrl.endpoint]: ns.map((n) => loadAssignment(n, [n === changed ? port + 1 : port])) });
      expect(b.version(TypeUrl.cluster)).toBe(a.version(TypeUrl.cluster));
      expect(b.version(TypeUrl.endpoint)).not.toBe(a.version(TypeUrl.endpoint));
      for (const n of ns) {
        const same = b.resources(TypeUrl.endpoint).get(n)!.version === a.resources(TypeUrl.endpoint).get(n)!.version;
        expect(same).toBe(n !== changed);
      }
    }));
  });
});
