// Keeps portable-vitest honest: run under real vitest in Node, it checks that each shim matcher passes
// when vitest's would and throws when vitest's would, that unsupported features fail loudly, and that
// run() reports failures, hook order, timeouts and unawaited promise assertions.
import { describe, expect, it } from "vitest";
import * as shim from "./portable-vitest.ts";

const e = shim.expect;

class Point {
  constructor(public x: number, public y: number) {}
}

interface Case { readonly name: string; readonly pass: () => unknown; readonly fail: () => unknown }

const cases: Case[] = [
  { name: "toBe", pass: () => e(NaN).toBe(NaN), fail: () => e({}).toBe({}) },
  { name: "toBe -0", pass: () => e("a").toBe("a"), fail: () => e(0).toBe(-0) },
  { name: "toEqual ignores undefined props", pass: () => e({ a: 1, b: undefined }).toEqual({ a: 1 }), fail: () => e({ a: 1 }).toEqual({ a: 2 }) },
  { name: "toEqual nested", pass: () => e([1, [2, { d: new Date(0) }]]).toEqual([1, [2, { d: new Date(0) }]]), fail: () => e([1, [2, { d: new Date(0) }]]).toEqual([1, [2, { d: new Date(1) }]]) },
  { name: "toEqual arrays", pass: () => e([1, 2]).toEqual([1, 2]), fail: () => e([1, 2]).toEqual([1, 2, 3]) },
  { name: "toEqual class vs plain", pass: () => e(new Point(1, 2)).toEqual({ x: 1, y: 2 }), fail: () => e(new Point(1, 2)).toEqual({ x: 1, y: 3 }) },
  { name: "toEqual errors", pass: () => e(new Error("a")).toEqual(new Error("a")), fail: () => e(new Error("a")).toEqual(new Error("b")) },
  { name: "toEqual URL", pass: () => e(new URL("http://a/x")).toEqual(new URL("http://a/x")), fail: () => e(new URL("http://a/")).toEqual(new URL("http://b/")) },
  { name: "toEqual bytes", pass: () => e(new Uint8Array([1, 2])).toEqual(new Uint8Array([1, 2])), fail: () => e(new Uint8Array([1])).toEqual(new Uint8Array([2])) },
  { name: "toEqual Map", pass: () => e(new Map([["k", { v: 1 }]])).toEqual(new Map([["k", { v: 1 }]])), fail: () => e(new Map([["k", 1]])).toEqual(new Map([["k", 2]])) },
  { name: "toEqual Set", pass: () => e(new Set([{ a: 1 }])).toEqual(new Set([{ a: 1 }])), fail: () => e(new Set([1])).toEqual(new Set([2])) },
  { name: "toEqual iterables", pass: () => e(new Headers({ a: "1" })).toEqual(new Headers({ a: "1" })), fail: () => e(new Headers({ a: "1" })).toEqual(new Headers({ a: "2" })) },
  { name: "toEqual array vs object", pass: () => e({ 0: 1 }).toEqual({ 0: 1 }), fail: () => e([1]).toEqual({ 0: 1 }) },
  { name: "toEqual cycles", pass: () => { const a: Record<string, unknown> = {}; a.self = a; const b: Record<string, unknown> = {}; b.self = b; e(a).toEqual(b); }, fail: () => { const a: Record<string, unknown> = { n: 1 }; a.self = a; const b: Record<string, unknown> = { n: 2 }; b.self = b; e(a).toEqual(b); } },
  { name: "toStrictEqual undefined props", pass: () => e({ a: [1] }).toStrictEqual({ a: [1] }), fail: () => e({ a: 1, b: undefined }).toStrictEqual({ a: 1 }) },
  { name: "toStrictEqual prototypes", pass: () => e(new Point(1, 2)).toStrictEqual(new Point(1, 2)), fail: () => e(new Point(1, 2)).toStrictEqual({ x: 1, y: 2 }) },
  { name: "toStrictEqual holes", pass: () => e([undefined, 1]).toStrictEqual([undefined, 1]), fail: () => e([, 1]).toStrictEqual([undefined, 1]) },
  { name: "toBeTruthy", pass: () => e(1).toBeTruthy(), fail: () => e(0).toBeTruthy() },
  { name: "toBeFalsy", pass: () => e("").toBeFalsy(), fail: () => e("x").toBeFalsy() },
  { name: "toBeNull", pass: () => e(null).toBeNull(), fail: () => e(undefined).toBeNull() },
  { name: "toBeUndefined", pass: () => e(undefined).toBeUndefined(), fail: () => e(null).toBeUndefined() },
  { name: "toBeDefined", pass: () => e(null).toBeDefined(), fail: () => e(undefined).toBeDefined() },
  { name: "toContain string", pass: () => e("hello").toContain("ell"), fail: () => e("hello").toContain("xyz") },
  { name: "toContain array", pass: () => e([1, 2]).toContain(2), fail: () => e([{ a: 1 }]).toContain({ a: 1 }) },
  { name: "toContain set", pass: () => e(new Set(["a"])).toContain("a"), fail: () => e(new Set(["a"])).toContain("b") },
  { name: "toContainEqual", pass: () => e([{ a: 1 }]).toContainEqual({ a: 1 }), fail: () => e([{ a: 1 }]).toContainEqual({ a: 2 }) },
  { name: "toHaveLength", pass: () => e("abc").toHaveLength(3), fail: () => e([1]).toHaveLength(2) },
  { name: "toThrow", pass: () => e(() => { throw new Error("x"); }).toThrow(), fail: () => e(() => 1).toThrow() },
  { name: "toThrow substring", pass: () => e(() => { throw new Error("bad field"); }).toThrow("field"), fail: () => e(() => { throw new Error("bad field"); }).toThrow("other") },
  { name: "toThrow RegExp", pass: () => e(() => { throw new Error("code 42"); }).toThrow(/\d+/), fail: () => e(() => { throw new Error("code"); }).toThrow(/\d+/) },
  { name: "toThrow class", pass: () => e(() => { throw new TypeError("t"); }).toThrow(TypeError), fail: () => e(() => { throw new Error("t"); }).toThrow(TypeError) },
  { name: "toThrow async function", pass: () => e(() => { throw new Error("sync"); }).toThrow("sync"), fail: () => e(async () => { throw new Error("async"); }).toThrow() },
  { name: "not.toThrow", pass: () => e(() => 1).not.toThrow(), fail: () => e(() => { throw new Error("x"); }).not.toThrow() },
  { name: "toMatch", pass: () => e("abc-123").toMatch(/\d{3}/), fail: () => e("abc").toMatch("zz") },
  { name: "toBeGreaterThan", pass: () => e(2).toBeGreaterThan(1), fail: () => e(1).toBeGreaterThan(1) },
  { name: "toBeGreaterThanOrEqual", pass: () => e(1n).toBeGreaterThanOrEqual(1n), fail: () => e(0).toBeGreaterThanOrEqual(1) },
  { name: "toBeLessThan", pass: () => e(1).toBeLessThan(2), fail: () => e(2).toBeLessThan(2) },
  { name: "toBeLessThanOrEqual", pass: () => e(2).toBeLessThanOrEqual(2), fail: () => e(3).toBeLessThanOrEqual(2) },
  { name: "toBeCloseTo", pass: () => e(0.1 + 0.2).toBeCloseTo(0.3), fail: () => e(0.31).toBeCloseTo(0.3) },
  { name: "toMatchObject", pass: () => e({ a: { b: 1, c: 2 }, d: [{ x: 1, y: 2 }] }).toMatchObject({ a: { b: 1 }, d: [{ x: 1 }] }), fail: () => e({ a: { b: 1 } }).toMatchObject({ a: { c: 1 } }) },
  { name: "toMatchObject arrays", pass: () => e([{ a: 1, b: 2 }]).toMatchObject([{ a: 1 }]), fail: () => e([{ a: 1 }, { a: 2 }]).toMatchObject([{ a: 1 }]) },
  { name: "toBeInstanceOf", pass: () => e(new Point(0, 0)).toBeInstanceOf(Point), fail: () => e({}).toBeInstanceOf(Point) },
  { name: "toHaveProperty", pass: () => e({ a: { b: [1, { c: 2 }] } }).toHaveProperty("a.b[1].c", 2), fail: () => e({ a: { b: [1, { c: 2 }] } }).toHaveProperty("a.b[1].c", 3) },
  { name: "toHaveProperty missing", pass: () => e({ a: undefined }).toHaveProperty("a"), fail: () => e({ a: 1 }).toHaveProperty(["b"]) },
  { name: "not", pass: () => e(1).not.toBe(2), fail: () => e(1).not.toBe(1) },
  { name: "asymmetric any", pass: () => e({ id: "x", n: 1 }).toEqual({ id: e.any(String), n: e.any(Number) }), fail: () => e({ id: 1 }).toEqual({ id: e.any(String) }) },
  { name: "asymmetric containing", pass: () => e({ a: [1, 2, 3], s: "hello" }).toEqual({ a: e.arrayContaining([3, 1]), s: e.stringContaining("ell") }), fail: () => e({ a: { b: 1 } }).toEqual({ a: e.objectContaining({ b: 2 }) }) },
];

describe("portable-vitest matchers", () => {
  it.each(cases)("$name passes when it should", ({ pass }) => {
    expect(pass).not.toThrow();
  });

  it.each(cases)("$name fails when it should", ({ fail }) => {
    expect(fail).toThrow(shim.AssertionError);
  });

  it("failure messages name the received and expected values", () => {
    expect(() => e({ a: 1 }).toEqual({ a: 2 })).toThrow("expected {a: 1} to equal {a: 2}");
    expect(() => e(3).not.toBe(3)).toThrow("expected 3 not to be 3");
  });

  it("misused matchers throw even under .not", () => {
    expect(() => e(5).not.toContain(1)).toThrow(/expects a string or an iterable/);
    expect(() => e(5).not.toMatch("x")).toThrow(/expects a string/);
  });

  it("resolves and rejects await the promise and apply the matcher", async () => {
    await expect(e(Promise.resolve(1)).resolves.toBe(1)).resolves.toBeUndefined();
    await expect(e(Promise.resolve(1)).resolves.toBe(2)).rejects.toThrow(shim.AssertionError);
    await expect(e(Promise.resolve(1)).resolves.not.toBe(2)).resolves.toBeUndefined();
    await expect(e(Promise.reject(new Error("boom"))).rejects.toThrow("boom")).resolves.toBeUndefined();
    await expect(e(Promise.reject(new Error("boom"))).rejects.toThrow("other")).rejects.toThrow(shim.AssertionError);
    await expect(e(Promise.resolve(1)).rejects.toThrow()).rejects.toThrow(/expected promise to reject/);
    await expect(e(Promise.reject(new Error("no"))).resolves.toBe(1)).rejects.toThrow(/expected promise to resolve/);
  });

  it("unsupported features throw a clear error instead of passing", () => {
    const unsupported = /not supported by portable-vitest/;
    expect(() => (e(1) as unknown as Record<string, () => void>).toMatchSnapshot?.()).toThrow(unsupported);
    expect(() => (e(1) as unknown as Record<string, () => void>).toHaveBeenCalled?.()).toThrow(unsupported);
    expect(() => (e as unknown as Record<string, unknown>).soft).toThrow(unsupported);
    expect(() => shim.vi.fn).toThrow(unsupported);
    expect(() => (shim.it as unknown as Record<string, unknown>).skip).toThrow(unsupported);
    expect(() => (shim.describe as unknown as Record<string, unknown>).only).toThrow(unsupported);
    expect(() => shim.it("todo")).toThrow(unsupported);
    expect(() => shim.it("retried", { retry: 2 }, () => undefined)).toThrow(unsupported);
  });

  it("formats .each titles like vitest", () => {
    expect(shim.formatTitle("%s + %d = %i (%#, %$) 100%%", ["a", 2, 3.7], 4)).toBe("a + 2 = 3 (4, 5) 100%");
    expect(shim.formatTitle("$name has $info.n", [{ name: "x", info: { n: 2 } }], 0)).toBe("'x' has 2");
  });
});

describe("portable-vitest runner", () => {
  it("runs nested suites with hooks in vitest's order and reports failures by full name", async () => {
    const log: string[] = [];
    shim.describe("outer", () => {
      shim.beforeAll(() => { log.push("beforeAll"); });
      shim.afterAll(() => { log.push("afterAll"); });
      shim.beforeEach(() => { log.push("beforeEach outer"); });
      shim.afterEach(() => { log.push("afterEach outer"); });
      shim.it("passes", () => { log.push("test 1"); shim.expect(1).toBe(1); });
      shim.describe("inner", () => {
        shim.beforeEach(() => { log.push("beforeEach inner"); });
        shim.afterEach(() => { log.push("afterEach inner"); });
        shim.test("fails", async () => { log.push("test 2"); await Promise.resolve(); shim.expect(1).toBe(2); });
      });
    });
    const result = await shim.run({ prefix: "file.test.ts" });
    expect(result.passed).toBe(1);
    expect(result.failed).toBe(1);
    expect(result.failures[0]?.name).toBe("file.test.ts > outer > inner > fails");
    expect(result.failures[0]?.error).toBe("AssertionError: expected 1 to be 2");
    expect(log).toEqual(["beforeAll", "beforeEach outer", "test 1", "afterEach outer",
      "beforeEach outer", "beforeEach inner", "test 2", "afterEach inner", "afterEach outer", "afterAll"]);
  });

  it("fails a test whose promise assertion was not awaited", async () => {
    shim.it("forgot await", () => { void shim.expect(Promise.resolve(1)).resolves.toBe(2); });
    const result = await shim.run();
    expect(result).toMatchObject({ passed: 0, failed: 1 });
  });

  it("does not fail a test for a promise assertion failure it awaited and handled", async () => {
    shim.it("handles", async () => {
      const failing = shim.expect(Promise.resolve(1)).resolves.toBe(2);
      await Promise.resolve();
      await shim.expect(failing).rejects.toThrow("expected 1 to be 2");
    });
    const result = await shim.run();
    expect(result).toEqual({ passed: 1, failed: 0, failures: [] });
  });

  it("fails a test that exceeds its timeout", async () => {
    shim.it("hangs", () => new Promise(() => undefined), 10);
    const result = await shim.run();
    expect(result.failed).toBe(1);
    expect(result.failures[0]?.error).toMatch(/timed out after 10 ms/);
  });

  it("checks expect.assertions and expect.hasAssertions", async () => {
    shim.it("counts", () => { shim.expect.assertions(2); shim.expect(1).toBe(1); });
    shim.it("needs one", () => { shim.expect.hasAssertions(); });
    shim.it("has two", () => { shim.expect.assertions(2); shim.expect(1).toBe(1); shim.expect(2).toBe(2); });
    const result = await shim.run();
    expect(result.passed).toBe(1);
    expect(result.failures.map((failure) => failure.name)).toEqual(["counts", "needs one"]);
  });

  it("reports a failing beforeAll and a describe that throws while collecting", async () => {
    shim.describe("setup", () => {
      shim.beforeAll(() => { throw new Error("no db"); });
      shim.it("never runs", () => undefined);
    });
    shim.describe("broken", () => { throw new Error("bad table"); });
    const result = await shim.run();
    expect(result.passed).toBe(0);
    expect(result.failures).toEqual([
      expect.objectContaining({ name: "setup > beforeAll", error: "Error: no db" }),
      expect.objectContaining({ name: "broken (while collecting)", error: "Error: bad table" }),
    ]);
  });

  it("expands it.each, it.for and describe.each", async () => {
    const seen: unknown[] = [];
    shim.it.each([[1, 2], [3, 4]])("sum %i %i", (a, b) => { seen.push((a as number) + (b as number)); });
    shim.it.for([{ n: 5 }])("for $n", (row) => { seen.push(row); });
    shim.describe.each([["x"]])("suite %s", (name) => { shim.it("inside", () => { seen.push(name); }); });
    const result = await shim.run();
    expect(result).toEqual({ passed: 4, failed: 0, failures: [] });
    expect(seen).toEqual([3, 7, { n: 5 }, "x"]);
  });
});
