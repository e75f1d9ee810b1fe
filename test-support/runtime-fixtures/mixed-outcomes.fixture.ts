// A fixture for runtime-tests.node.test.ts (not a *.test.ts, so no collector runs it by itself): its
// known mix of passing and failing tests proves that the Deno and workerd runs report failures, catch
// ignored promise assertions and stray rejections, and give tests no network access.
import { describe, expect, it } from "vitest";

describe("fixture", () => {
  it("passes", () => {
    expect([1, 2]).toEqual([1, 2]);
  });

  it("fails", () => {
    expect(1).toBe(2);
  });

  it("uses an unsupported matcher", () => {
    (expect(1) as unknown as { toMatchInlineSnapshot: () => void }).toMatchInlineSnapshot();
  });

  it("ignores a failing promise assertion", () => {
    void expect(Promise.resolve("a")).resolves.toBe("b");
  });

  it("leaves a stray rejection", () => {
    void Promise.reject(new Error("stray rejection"));
  });

  it("has no network access", async () => {
    await expect(fetch("http://127.0.0.1:9/")).rejects.toBeDefined();
  });
});
