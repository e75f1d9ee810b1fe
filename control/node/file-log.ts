/**
 * @module control/node/file-log
 * The config store's durable log on Node: JSON lines in `<dir>/store.log`, each record written and
 * fsync'ed before the apply returns; compaction writes a snapshot to a temp file, fsyncs it, renames
 * it over the log and fsyncs the directory. A torn last line (a crash mid-write) is dropped and
 * truncated on open; corruption anywhere else stops the store from opening, naming the line, rather
 * than silently losing accepted config. A lock file keeps two processes off one directory.
 */
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { mkdir, open, readFile, rename, truncate, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { DurableLog, LogRecord } from "../store/types.ts";

export class LogCorruptError extends Error {}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function lock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (holder && holder !== process.pid && pidAlive(holder)) {
        throw new Error(`config store ${dir} is in use by process ${holder}`);
      }
      await unlink(path).catch(() => undefined); // stale lock from a dead process
    }
  }
  throw new Error(`cannot lock config store ${dir}`);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Opens (creating) a log directory.
 * @example
 * const store = await createConfigStore({ log: await createFileLog(".weft/store"), validate });
 */
export async function createFileLog(dir: string): Promise<DurableLog> {
  await mkdir(dir, { recursive: true });
  const unlock = await lock(dir);
  const path = join(dir, "store.log");
  let fh: FileHandle | null = null;

  const openAppend = async () => {
    fh = await open(path, "a", 0o600);
  };

  return {
    async readAll() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          await openAppend();
          return [];
        }
        throw err;
      }
      const records: LogRecord[] = [];
      let offset = 0;
      const lines = text.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const last = i === lines.length - 1;
        if (line === "") {
          offset += 1;
          continue;
        }
        let rec: LogRecord | null = null;
        try {
          rec = JSON.parse(line) as LogRecord;
        } catch {
          rec = null;
        }
        const complete = !last; // a line without its newline was torn mid-write
        if (!rec || !complete || typeof rec.revision !== "number") {
          if (last || (i === lines.length - 2 && lines[lines.length - 1] === "")) {
            await truncate(path, Buffer.byteLength(text.slice(0, offset)));
            break;
          }
          throw new LogCorruptError(`${path}:${i + 1}: corrupt record; refusing to open (move the file aside to start empty)`);
        }
        records.push(rec);
        offset += line.length + 1;
      }
      await openAppend();
      return records;
    },
    async append(record) {
      if (!fh) await openAppend();
      await fh!.write(JSON.stringify(record) + "\n");
      await fh!.datasync();
    },
    async compact(snapshot) {
      const tmp = `${path}.tmp`;
      const t = await open(tmp, "w", 0o600);
      try {
        await t.write(JSON.stringify(snapshot) + "\n");
        await t.sync();
      } finally {
        await t.close();
      }
      await fh?.close();
      await rename(tmp, path);
      await fsyncDir(dir);
      await openAppend();
    },
    async close() {
      await fh?.close();
      fh = null;
      await unlock();
    },
  };
}
