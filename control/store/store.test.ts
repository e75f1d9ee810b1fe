import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../core/schema/index.ts";
import { createConfigStore, diffPaths } from "./store.ts";
import { CompactedError, ConflictError, type DurableLog, type LogRecord, StoreValidationError } from "./types.ts";

/** An in-memory log for unit tests; the file log is tested in control/node. */
function memoryLog(initial: LogRecord[] = []): DurableLog & { records: LogRecord[] } {
  const records = [...initial];
  return {
    records,
    readAll: async () => [...records],
    append: async (r) => void records.push(r),
    compact: async (s) => void records.splice(0, records.length, s),
    close: async () => undefined,
  };
}

const validate = (o: Record<string, unknown>): Diagnostic[] =>
  o.kind === "Bad" ? [{ severity: "error", object: "Bad/x", path: "spec", message: "bad spec" }] : [];

const vs = (name: string, host = "a") => ({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "foo" }, spec: { hosts: [host] } });

describe("config store", () => {
  it("applies atomically with revisions, reports create/update/unchanged and diffs", async () => {
    const store = await createConfigStore({ log: memoryLog(), validate });
    const r1 = await store.apply([vs("a"), vs("b")]);
    expect(r1.revision).toBe(1);
    expect(r1.changes.map((c) => c.action)).toEqual(["create", "create"]);
    const r2 = await store.apply([vs("a"), vs("b", "z")]);
    expect(r2.revision).toBe(2);
    expect(r2.changes).toEqual([{ key: "networking.istio.io/VirtualService/foo/a", action: "unchanged" }, { key: "networking.istio.io/VirtualService/foo/b", action: "update", changedPaths: ["spec.hosts[0]"] }]);
    expect(store.get({ group: "networking.istio.io", kind: "VirtualService", namespace: "foo", name: "b" })).toMatchObject({ revision: 2, createRevision: 1 });
    const r3 = await store.apply([vs("a")]);
    expect(r3.revision).toBe(2); // nothing changed, no new revision
  });

  it("rejects the whole batch when one object is invalid, keeping accepted config", async () => {
    const store = await createConfigStore({ log: memoryLog(), validate });
    await store.apply([vs("a")]);
    await expect(store.apply([vs("b"), { kind: "Bad", metadata: { name: "x" } }])).rejects.toThrow(StoreValidationError);
    expect(store.list().map((r) => r.name)).toEqual(["a"]);
    expect(store.revision()).toBe(1);
  });

  it("dry-run computes the diff without writing", async () => {
    const log = memoryLog();
    const store = await createConfigStore({ log, validate });
    const r = await store.apply([vs("a")], { dryRun: true });
    expect(r).toMatchObject({ dryRun: true, revision: 0, changes: [{ action: "create" }] });
    expect(log.records).toHaveLength(0);
  });

  it("optimistic concurrency with expectRevision", async () => {
    const store = await createConfigStore({ log: memoryLog(), validate });
    await store.apply([vs("a")]);
    await expect(store.apply([vs("b")], { expectRevision: 0 })).rejects.toThrow(ConflictError);
    expect((await store.apply([vs("b")], { expectRevision: 1 })).revision).toBe(2);
  });

  it("watch replays from a revision, then streams; deletes are events", async () => {
    const store = await createConfigStore({ log: memoryLog(), validate });
    await store.apply([vs("a")]);
    await store.apply([vs("b")]);
    const seen: string[] = [];
    const stop = store.watch(1, (evs) => evs.forEach((e) => seen.push(`${e.type}:${e.resource.name}@${e.revision}`)));
    await store.delete([{ group: "networking.istio.io", kind: "VirtualService", namespace: "foo", name: "a" }]);
    stop();
    await store.apply([vs("c")]);
    expect(seen).toEqual(["PUT:b@2", "DELETE:a@3"]);
  });

  it("recovers state and history by replaying the log, and compacts", async () => {
    const log = memoryLog();
    const s1 = await createConfigStore({ log, validate, compactAfter: 3 });
    await s1.apply([vs("a")], { actor: "alice" });
    await s1.apply([vs("a", "x")], { actor: "bob" });
    expect(s1.history({ group: "networking.istio.io", kind: "VirtualService", namespace: "foo", name: "a" }).map((h) => h.actor)).toEqual(["alice", "bob"]);
    await s1.apply([vs("b")]);
    expect(log.records).toHaveLength(1);
    expect(log.records[0]!.snapshot).toBe(true);
    const s2 = await createConfigStore({ log, validate });
    expect(s2.revision()).toBe(3);
    expect(s2.list().map((r) => [r.name, (r.object.spec as { hosts: string[] }).hosts[0]])).toEqual([["a", "x"], ["b", "a"]]);
    expect(() => s2.watch(0, () => undefined)).toThrow(CompactedError);
  });

  it("a throwing watcher does not break the store", async () => {
    const store = await createConfigStore({ log: memoryLog(), validate });
    store.watch(0, () => {
      throw new Error("boom");
    });
    expect((await store.apply([vs("a")])).revision).toBe(1);
  });

  it("diffPaths names changed leaves", () => {
    expect(diffPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] }, d: true })).toEqual(["b.c[1]", "d"]);
  });
});
