/**
 * @module adapters/file/controller
 * Watches resource files (ServiceEntry, WorkloadEntry, ...) and publishes them to the registry as one
 * source. Each file is parsed and validated on its own; a file that breaks keeps its last good objects
 * and the problem is reported on the source (file:line, object, field), so a bad edit never empties the
 * registry. File access and change notification are injected (`FileHost`), so the controller runs on any
 * runtime; `control/node/file-host.ts` is the Node host.
 */
import { allKinds } from "../../core/resources/all-kinds.ts";
import { loadResources } from "../../core/resources/load.ts";
import { formatDiagnostic } from "../../core/schema/index.ts";
import type { Registry } from "../../control/registry/registry.ts";
import { registryFromIstio, type Loss } from "./conversion.ts";

export interface FileHost {
  /** Files to read for a configured path: the file itself, or the .yaml/.yml/.json files in a directory. */
  expand(path: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
  /** Calls `onChange` (debounced by the host) when anything under `path` changes. */
  watch(path: string, onChange: () => void): () => void;
}

export interface FileSourceStatus {
  files: { file: string; objects: number; error?: string }[];
  losses: Loss[];
}

export interface FileSource {
  /** Reads everything now (also called on every change). */
  sync(): Promise<void>;
  stop(): void;
  status(): FileSourceStatus;
}

/**
 * @example
 * const src = await startFileSource({ paths: ["mesh/"], registry, host: createNodeFileHost(), trustDomain: "cluster.local" });
 */
export async function startFileSource(opts: { paths: string[]; registry: Registry; host: FileHost; trustDomain?: string; sourceName?: string }): Promise<FileSource> {
  const name = opts.sourceName ?? `file:${opts.paths.join(",")}`;
  const lastGood = new Map<string, Record<string, unknown>[]>();
  const errors = new Map<string, string>();
  let losses: Loss[] = [];
  let running: Promise<void> | null = null;
  let again = false;

  const syncOnce = async () => {
    const files = new Set<string>();
    for (const p of opts.paths) {
      try {
        for (const f of await opts.host.expand(p)) files.add(f);
      } catch (err) {
        errors.set(p, `cannot read ${p}: ${(err as Error).message}`);
      }
    }
    for (const f of [...lastGood.keys()]) if (!files.has(f)) lastGood.delete(f); // removed files leave
    for (const file of files) {
      let text: string;
      try {
        text = await opts.host.readFile(file);
      } catch (err) {
        errors.set(file, `cannot read file: ${(err as Error).message}`);
        continue;
      }
      const r = loadResources(text, allKinds, { file });
      const problems = r.diagnostics.filter((d) => d.severity === "error");
      if (problems.length > 0) {
        errors.set(file, problems.map(formatDiagnostic).join("\n"));
        continue; // keep the last good objects of this file
      }
      errors.delete(file);
      lastGood.set(file, r.resources.map((x) => x.object));
    }
    const converted = registryFromIstio([...lastGood.values()].flat(), opts.trustDomain);
    losses = converted.losses;
    opts.registry.setSource(name, converted.snapshot);
    opts.registry.setSourceError(name, errors.size ? [...errors.values()].join("\n") : undefined);
  };

  const sync = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await syncOnce();
      } while (again);
    })().finally(() => (running = null));
    return running;
  };

  const stops = opts.paths.map((p) => opts.host.watch(p, () => void sync()));
  await sync();
  return {
    sync,
    stop: () => stops.forEach((s) => s()),
    status: () => ({
      files: [...new Set([...lastGood.keys(), ...errors.keys()])].sort().map((file) => ({
        file, objects: lastGood.get(file)?.length ?? 0, ...(errors.has(file) ? { error: errors.get(file) } : {}),
      })),
      losses,
    }),
  };
}
