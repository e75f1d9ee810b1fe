// Used at the top of every interop suite to decide whether its peer is installed. A missing peer makes
// the suite SKIPPED, loudly: a banner in the test output with the reason from the last install attempt,
// and a line in the runner's skip file so `npm run test:interop` lists it in its final summary. This is
// the only accepted use of `describe.skipIf` in interop tests.

import { appendFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { notReadyReason } from "./install.ts";
import { repoRoot } from "./lib.ts";
import type { Peer } from "./types.ts";

export interface PeerAvailability {
  ready: boolean;
  reason?: string;
}

/**
 * Checks `peers` for the suite at `suiteUrl` (pass `import.meta.url`).
 * @example
 * const { ready } = await requirePeers(import.meta.url, consul);
 * describe.skipIf(!ready)("consul smoke", () => { ... });
 */
export async function requirePeers(suiteUrl: string, ...peers: Peer[]): Promise<PeerAvailability> {
  const suite = relative(repoRoot, fileURLToPath(suiteUrl));
  const reasons: string[] = [];
  for (const peer of peers) {
    const ready = await peer.ready().catch(() => false);
    if (!ready) reasons.push(notReadyReason(peer));
  }
  if (reasons.length === 0) return { ready: true };
  const reason = reasons.join("\n");
  const bar = "!".repeat(78);
  console.error(`\n${bar}\n!! SKIPPED ${suite}\n!! ${reason.split("\n").join("\n!! ")}\n${bar}\n`);
  const skipFile = process.env.WEFT_INTEROP_SKIPS;
  if (skipFile) appendFileSync(skipFile, JSON.stringify({ suite, peers: peers.map((p) => p.name), reason }) + "\n");
  return { ready: false, reason };
}
