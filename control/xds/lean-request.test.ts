// The lean request schema reads what the generated one writes; names are decoded once per change of
// a type's subscription and reused (the same array) while they repeat; invalid UTF-8 is refused.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DiscoveryRequestSchema, type DiscoveryRequest } from "../../gen/proto/envoy/service/discovery/v3/discovery_pb.ts";
import { LeanDiscoveryRequestSchema, toDiscoveryRequests } from "./lean-request.ts";
import { TypeUrl } from "./resource-types.ts";
import { StreamProtocolError } from "./stream-common.ts";

const wire = (init: Parameters<typeof create<typeof DiscoveryRequestSchema>>[1]) =>
  fromBinary(LeanDiscoveryRequestSchema, toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, init)));

async function collect(reqs: ReturnType<typeof wire>[]): Promise<DiscoveryRequest[]> {
  const out: DiscoveryRequest[] = [];
  for await (const r of toDiscoveryRequests((async function* () { yield* reqs; })())) out.push(r);
  return out;
}

describe("lean DiscoveryRequest", () => {
  it("decodes the same fields and reuses the name list while a type's subscription repeats", async () => {
    const names = ["outbound|80||a.default.svc.cluster.local", "b", "ü-c"];
    const out = await collect([
      wire({ node: { id: "n1", cluster: "c" }, typeUrl: TypeUrl.endpoint, resourceNames: names, versionInfo: "v1", responseNonce: "3" }),
      wire({ typeUrl: TypeUrl.cluster }),
      wire({ typeUrl: TypeUrl.endpoint, resourceNames: names, responseNonce: "4", errorDetail: { code: 3, message: "bad" } }),
      wire({ typeUrl: TypeUrl.endpoint, resourceNames: ["b"] }),
    ]);
    expect(out[0]!.resourceNames).toEqual(names);
    expect(out[0]!.node?.id).toBe("n1");
    expect(out[0]!.versionInfo).toBe("v1");
    expect(out[1]!.resourceNames).toEqual([]);
    expect(out[2]!.resourceNames).toBe(out[0]!.resourceNames);
    expect(out[2]!.errorDetail?.message).toBe("bad");
    expect(out[3]!.resourceNames).toEqual(["b"]);
  });

  it("always yields the names that were sent, whatever repeats and whatever changes", async () => {
    const name = fc.oneof(fc.constantFrom("a", "b", "ab", "ba", "é", "x".repeat(130), "y".repeat(130)), fc.string({ maxLength: 3 }));
    const request = fc.record({ typeUrl: fc.constantFrom(TypeUrl.endpoint, TypeUrl.route), resourceNames: fc.array(name, { maxLength: 4 }) });
    await fc.assert(fc.asyncProperty(fc.array(request, { maxLength: 8 }), async (reqs) => {
      const out = await collect(reqs.map((r) => wire(r)));
      expect(out.map((r) => r.resourceNames)).toEqual(reqs.map((r) => r.resourceNames));
    }), { numRuns: 300 });
  });

  it("refuses names that are not UTF-8", async () => {
    const bad = fromBinary(LeanDiscoveryRequestSchema, toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.endpoint })));
    (bad as unknown as { resourceNames: Uint8Array[] }).resourceNames = [new Uint8Array([0xff, 0xfe])];
    await expect(collect([bad])).rejects.toBeInstanceOf(StreamProtocolError);
  });
});
