import { describe, expect, it } from "vitest";
import { loadYaml } from "./loader.ts";

describe("loadYaml", () => {
  const text = "a: 1\n---\n# comment\nkind: X\nspec:\n  rules:\n  - from: []\n    to:\n    - x: 1\n---\n";
  it("returns non-empty documents with their start lines", () => {
    const r = loadYaml(text, { file: "f.yaml" });
    expect(r.diagnostics).toEqual([]);
    expect(r.documents).toHaveLength(2);
    expect(r.documents[1]!.location).toMatchObject({ file: "f.yaml", line: 4 });
  });
  it("locates a field path, or its nearest ancestor", () => {
    const doc = loadYaml(text).documents[1]!;
    expect(doc.locate(["spec", "rules", 0, "to", 0, "x"]).line).toBe(9);
    expect(doc.locate(["spec", "rules", 0, "from"]).line).toBe(7);
    expect(doc.locate(["spec", "missing", "deeper"]).line).toBe(6);
  });
  it("reports syntax errors with file:line and keeps the other documents", () => {
    const r = loadYaml("ok: 1\n---\nbad: [1, 2\n---\nalso: ok\n", { file: "b.yaml" });
    expect(r.documents.map((d) => d.value)).toEqual([{ ok: 1 }, { also: "ok" }]);
    expect(r.diagnostics[0]).toMatchObject({ severity: "error", file: "b.yaml" });
    expect(r.diagnostics[0]!.line).toBeGreaterThanOrEqual(3);
  });
  it("rejects duplicate keys", () => {
    expect(loadYaml("a: 1\na: 2\n").diagnostics[0]?.message).toMatch(/unique|duplicate/i);
  });
  it("caps size and alias expansion (billion laughs)", () => {
    expect(loadYaml("x".repeat(100), { maxBytes: 10 }).diagnostics[0]?.message).toMatch(/limit is 10/);
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (let i = 0; i < 8; i++) bomb += `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill("*" + String.fromCharCode(97 + i)).join(", ")}]\n`;
    const r = loadYaml(bomb);
    expect(r.documents).toHaveLength(0);
    expect(r.diagnostics[0]?.severity).toBe("error");
  });
  it("loads JSON too", () => {
    expect(loadYaml('{"destination": {"namespace": "foo"}}').documents[0]!.value).toEqual({ destination: { namespace: "foo" } });
  });
});
