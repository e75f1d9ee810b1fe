import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "../ca/authority.ts";
import { openCaState } from "./ca-state-file.ts";

describe("CA state file", () => {
  it("generates once, restores after, and switches to a supplied root", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weft-ca-"));
    const first = await openCaState(dir, { trustDomain: "cluster.local" });
    expect(first.origin).toBe("generated");
    expect(statSync(join(dir, "ca.json")).mode & 0o777).toBe(0o600);
    const again = await openCaState(dir, { trustDomain: "cluster.local" });
    expect(again.origin).toBe("restored");
    expect(again.ca.trustBundle()).toEqual(first.ca.trustBundle());

    const other = (await (await createCertificateAuthority({ trustDomain: "cluster.local" })).exportState()).roots[0]!;
    const root = { certPem: other.certPem, keyPem: other.keyPem! };
    const supplied = await openCaState(dir, { trustDomain: "cluster.local", root });
    expect(supplied.origin).toBe("supplied");
    expect(supplied.ca.trustBundle()).toEqual([other.certPem]);
    const restored = await openCaState(dir, { trustDomain: "cluster.local", root });
    expect(restored.origin).toBe("restored");
    expect(restored.ca.trustBundle()).toEqual([other.certPem]);
    await expect(openCaState(dir, { trustDomain: "example.org", root })).rejects.toThrow(/trust domain cluster\.local, not example\.org/);
  });
});
