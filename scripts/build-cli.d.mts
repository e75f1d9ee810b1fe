// Types for scripts/build-cli.mjs (used by bench/proxy/run.ts).
/** The entry file of a bundle that matches the sources on disk, or undefined. */
export function freshBundle(): string | undefined;
/** Builds the bundle; undefined when esbuild is missing, another process is building, or the build failed. */
export function buildBundle(options?: { quiet?: boolean }): Promise<string | undefined>;
