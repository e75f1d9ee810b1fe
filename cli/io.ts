/**
 * @module cli/io
 * The few platform functions the CLI needs (argv, stdout/stderr, reading files, exit), for Node and Deno,
 * so command code stays runtime-neutral and testable with an in-memory io.
 */
export interface CliIo {
  argv: string[];
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<string>;
  exit(code: number): void;
  isMain(metaUrl: string): boolean;
  env(name: string): string | undefined;
}

declare const Deno: {
  args: string[];
  readTextFile(path: string): Promise<string>;
  exit(code: number): never;
  mainModule: string;
  env: { get(name: string): string | undefined };
  stdout: { writeSync(b: Uint8Array): number };
  stderr: { writeSync(b: Uint8Array): number };
} | undefined;

export async function createNodeOrDenoIo(): Promise<CliIo> {
  if (typeof Deno !== "undefined" && Deno) {
    const d = Deno;
    const enc = new TextEncoder();
    const writeAll = (w: { writeSync(b: Uint8Array): number }, text: string) => {
      let buf = enc.encode(text);
      while (buf.length > 0) buf = buf.subarray(w.writeSync(buf));
    };
    return {
      argv: d.args,
      stdout: (t) => writeAll(d.stdout, t),
      stderr: (t) => writeAll(d.stderr, t),
      readFile: (p) => d.readTextFile(p),
      exit: (c) => d.exit(c),
      isMain: (u) => u === d.mainModule,
      env: (n) => d.env.get(n),
    };
  }
  const fs = await import("node:fs/promises");
  const { pathToFileURL } = await import("node:url");
  const { realpathSync } = await import("node:fs");
  return {
    argv: process.argv.slice(2),
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    readFile: (p) => fs.readFile(p, "utf8"),
    exit: (c) => {
      process.exitCode = c;
    },
    isMain: (u) => {
      const entry = process.argv[1];
      if (!entry) return false;
      if (entry.endsWith("bin/weft.js") || entry.endsWith("bin/weft")) return true;
      try {
        return pathToFileURL(realpathSync(entry)).href === u;
      } catch {
        return false;
      }
    },
    env: (n) => process.env[n],
  };
}
