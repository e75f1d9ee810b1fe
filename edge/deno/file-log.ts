/**
 * @module edge/deno/file-log
 * The config store's durable log on Deno: one JSON record per line in `<dir>/store.log`, each append
 * synced to disk before it resolves; a torn last line (a crash mid-write) is dropped on read;
 * compaction writes the snapshot to a temporary file, syncs it and renames it over the log.
 * (Deno KV would also do — `Deno.openKv` works in the npm `deno` 2.9 build with `--unstable-kv` — but
 * a file keeps the control plane free of unstable flags.)
 */
import type { DurableLog, LogRecord } from "../../control/store/types.ts";

export async function createDenoFileLog(dir: string): Promise<DurableLog> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/store.log`;
  const file = await Deno.open(path, { create: true, append: true });
  const encoder = new TextEncoder();
  let handle = file;
  return {
    async readAll() {
      const text = await Deno.readTextFile(path);
      const out: LogRecord[] = [];
      for (const line of text.split("\n")) {
        if (line === "") continue;
        try {
          out.push(JSON.parse(line) as LogRecord);
        } catch {
          break; // a torn last record
        }
      }
      return out;
    },
    async append(record) {
      await handle.write(encoder.encode(JSON.stringify(record) + "\n"));
      await handle.syncData();
    },
    async compact(snapshot) {
      const tmp = `${path}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify(snapshot) + "\n");
      const f = await Deno.open(tmp, { read: true });
      await f.syncData();
      f.close();
      handle.close();
      await Deno.rename(tmp, path);
      handle = await Deno.open(path, { append: true });
    },
    close() {
      handle.close();
      return Promise.resolve();
    },
  };
}
