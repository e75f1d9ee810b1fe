import { appendFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createConfigStore } from "../store/store.ts";
import { createFileLog, LogCorruptError } from "./file-log.ts";

const validate = () => [];
const obj = (name: string) => ({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "foo" }, spec: { hosts: [name] } });

describe("file-backed config store", () => {
  it("survives a restart with every accepted apply", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-store-"));
    const s1 = await createConfigStore({ log: await createFileLog(dir), validate });
    await s1.apply([obj("a")]);
    await s1.apply([obj("b")]);
    await s1.close();
    const s2 = await createConfigStore({ log: await createFileLog(dir), validate });
    expect(s2.revision()).toBe(2);
    expect(s2.list().map((r) => r.name)).toEqual(["a", "b"]);
    await s2.close();
  });

  it("drops a torn last record (crash mid-write) and keeps going", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-store-"));
    const s1 = await createConfigStore({ log: await createFileLog(dir), validate });
    await s1.apply([obj("a")]);
    await s1.close();
    await appendFile(join(dir, "store.log"), '{"revision":2,"time":1,"puts":[{"key":"x"');
    const s2 = await createConfigStore({ log: await createFileLog(dir), validate });
    expect(s2.revision()).toBe(1);
    await s2.apply([obj("c")]);
    await s2.close();
    const lines = (await readFile(join(dir, "store.log"), "utf8")).trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).revision)).toEqual([1, 2]);
  });

  it("refuses to open on corruption in the middle, naming the line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-store-"));
    await writeFile(join(dir, "store.log"), '{"revision":1,"time":1,"puts":[],"deletes":[]}\nGARBAGE\n{"revision":2,"time":1,"puts":[],"deletes":[]}\n');
    const log = await createFileLog(dir);
    await expect(log.readAll()).rejects.toThrow(LogCorruptError);
    await expect(log.readAll()).rejects.toThrow(/store\.log:2/);
    await log.close();
  });

  it("compacts into one snapshot and reopens from it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-store-"));
    const s1 = await createConfigStore({ log: await createFileLog(dir), validate, compactAfter: 2 });
    await s1.apply([obj("a")]);
    await s1.apply([obj("b")]);
    await s1.apply([obj("c")]);
    await s1.close();
    const s2 = await createConfigStore({ log: await createFileLog(dir), validate });
    expect(s2.list().map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(s2.revision()).toBe(3);
    await s2.close();
  });

  it("keeps a second process off the same directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-store-"));
    await writeFile(join(dir, "LOCK"), "1"); // pid 1 is alive
    await expect(createFileLog(dir)).rejects.toThrow(/in use by process 1/);
  });
});
