/**
 * @module control/node/ca-state-file
 * Keeps the CA's state (roots and the intermediate, with private keys) in `<data dir>/ca.json`, mode
 * 0600, written atomically (temp file, fsync, rename, fsync the directory), so the control plane keeps
 * its identity across restarts. On start: restore the saved state; or build from a supplied root
 * (`--ca-cert/--ca-key`) when none is saved or the saved one is from another root; or generate a root.
 */
import { open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { createCertificateAuthority, type CaOptions, type CaState, type CertificateAuthority } from "../ca/authority.ts";

async function writeAtomic(dir: string, name: string, text: string): Promise<void> {
  const path = join(dir, name);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export interface LoadedCa {
  ca: CertificateAuthority;
  /** How the CA came to be: restored from ca.json, built from the supplied root, or generated. */
  origin: "restored" | "supplied" | "generated";
}

/**
 * @example
 * const { ca, origin } = await openCaState(".weft/control", { trustDomain: "cluster.local" });
 */
export async function openCaState(dir: string, options: CaOptions): Promise<LoadedCa> {
  const file = join(dir, "ca.json");
  let saved: CaState | undefined;
  try {
    saved = JSON.parse(await readFile(file, "utf8")) as CaState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read CA state ${file}: ${(err as Error).message}`);
  }
  const sameRoot = !options.root || saved?.roots.some((r) => r.certPem.trim() === options.root!.certPem.trim());
  if (saved && sameRoot) {
    return { ca: await createCertificateAuthority(options, saved), origin: "restored" };
  }
  const ca = await createCertificateAuthority(options);
  await writeAtomic(dir, "ca.json", JSON.stringify(await ca.exportState(), null, 2) + "\n");
  return { ca, origin: options.root ? "supplied" : "generated" };
}
