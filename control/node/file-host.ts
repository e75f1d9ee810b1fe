/**
 * @module control/node/file-host
 * The Node host for file-watching front ends: directory expansion, reads, and `fs.watch` with a
 * debounce plus a slow poll as a safety net (fs.watch misses events on some filesystems and when an
 * editor replaces a file by rename).
 */
import { watch as fsWatch, type FSWatcher } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FileHost } from "../../adapters/file/controller.ts";

const RESOURCE_FILE = /\.(ya?ml|json)$/;

export function createNodeFileHost(opts: { debounceMs?: number; pollMs?: number } = {}): FileHost {
  const debounceMs = opts.debounceMs ?? 100;
  const pollMs = opts.pollMs ?? 5_000;
  return {
    async expand(path) {
      const s = await stat(path);
      if (!s.isDirectory()) return [path];
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile() && RESOURCE_FILE.test(e.name)).map((e) => join(e.parentPath ?? path, e.name)).sort();
    },
    readFile: (path) => readFile(path, "utf8"),
    watch(path, onChange) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const fire = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      };
      let watcher: FSWatcher | null = null;
      try {
        watcher = fsWatch(path, { recursive: false }, fire);
        watcher.on("error", () => undefined);
      } catch {
        watcher = null; // the path may not exist yet; the poll covers it
      }
      const poll = setInterval(onChange, pollMs);
      poll.unref?.();
      return () => {
        watcher?.close();
        clearInterval(poll);
        if (timer) clearTimeout(timer);
      };
    },
  };
}
