/**
 * @module proxy/node/config-watcher
 * Hot reload of the static config file: watches the file's directory (editors replace files by rename,
 * which a watch on the file itself would miss), debounces bursts of events, re-reads the file and
 * hands its text on only when the content changed. A poll every few seconds backs up `fs.watch`, which
 * some file systems do not support.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";

export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(file: string, initialText: string, onChange: (text: string) => void, options: { debounceMs?: number; pollMs?: number } = {}): ConfigWatcher {
  const path = resolve(file);
  const name = basename(path);
  let last = initialText;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    timer = undefined;
    readFile(path, "utf8").then((text) => {
      if (text === last) return;
      last = text;
      onChange(text);
    }, () => undefined /* mid-rename: the next event or poll reads it */);
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, options.debounceMs ?? 100);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, changed) => {
      if (changed === null || changed === name) schedule();
    });
    watcher.on("error", () => undefined);
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(check, options.pollMs ?? 2000);
  poll.unref();
  watcher?.unref();
  return {
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
