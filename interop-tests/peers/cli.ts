// `npm run peers`: installs every missing interop peer with a live progress display.
//   npm run peers                      install what is missing
//   npm run peers -- --only consul,kafka
//   npm run peers -- --force           reinstall even when ready
//   npm run peers -- --list            one JSON object per peer: name, version, path, ready
//   npm run peers -- --jobs 1          installs at a time (default 2)
// Exits non-zero when any install failed (after trying all of them).

import { parseArgs } from "node:util";
import { ensurePeers } from "./install.ts";
import { peers, findPeer, withNeeds } from "./registry.ts";
import { diskUsage } from "./lib.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    list: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
    jobs: { type: "string" },
    plain: { type: "boolean" },
    disk: { type: "boolean", default: false },
  },
});

const selected = values.only ? withNeeds(values.only.split(",").map((n) => findPeer(n.trim()).name)) : peers;

if (values.list) {
  for (const peer of selected) {
    const ready = await peer.ready().catch(() => false);
    const entry: Record<string, unknown> = { name: peer.name, version: peer.version, path: peer.dir, ready };
    if (values.disk) entry.diskBytes = diskUsage(peer.dir) ?? null;
    process.stdout.write(JSON.stringify(entry) + "\n");
  }
} else {
  const results = await ensurePeers(selected, {
    force: values.force,
    jobs: values.jobs ? Number(values.jobs) : 2,
    ...(values.plain !== undefined ? { plain: values.plain } : {}),
  });
  process.exitCode = results.some((r) => r.outcome === "failed") ? 1 : 0;
}
