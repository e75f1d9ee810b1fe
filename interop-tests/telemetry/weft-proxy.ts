// A real `weft proxy` process for the telemetry interop suites: `bin/weft.js proxy --config FILE`
// started in its own process group with its output in a log file, an upstream HTTP server on port 0,
// and the listener and admin ports read from the proxy's own startup lines (everything binds port 0).

import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { repoRoot, spawnPeer, tmpDataDir, waitFor } from "../peers/lib.ts";
import type { SpawnedProcess } from "../peers/types.ts";

export interface WeftProxy {
  process: SpawnedProcess;
  logPath: string;
  /** `http://127.0.0.1:<port>` of the listener `web`. */
  url: string;
  adminPort: number;
  upstream: Server;
  /** SIGTERM (drain, flush telemetry), then wait for the exit code. */
  stop(): Promise<number | string>;
}

/**
 * Starts an upstream that answers 200 with a small body, and a weft proxy in front of it whose config
 * is `telemetryYaml` (the `workload:` and `telemetry:` sections) plus one inbound listener `web` with
 * routes `/` → the upstream and nothing else (other paths: 404 NR).
 */
export async function startWeftProxy(telemetryYaml: string): Promise<WeftProxy> {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain", "x-seen-traceparent": String(req.headers.traceparent ?? "") }).end("reviews ok\n"));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const upPort = (upstream.address() as AddressInfo).port;
  const dir = tmpDataDir("weft-proxy-telemetry");
  const config = join(dir, "proxy.yaml");
  writeFileSync(config, `${telemetryYaml}
admin: { address: 127.0.0.1:0 }
listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      virtualHosts:
        - name: all
          domains: ["*"]
          routes: [{ name: reviews, match: { prefix: /reviews }, route: { cluster: "inbound|9080||reviews.default.svc.cluster.local" } }]
clusters:
  - name: "inbound|9080||reviews.default.svc.cluster.local"
    endpoints: ["127.0.0.1:${upPort}"]
`);
  const logPath = join(dir, "weft-proxy.log");
  const proc = spawnPeer(process.execPath, [join(repoRoot, "bin", "weft.js"), "proxy", "--config", config], { logPath, cwd: repoRoot });
  let listen: RegExpExecArray | null = null;
  let admin: RegExpExecArray | null = null;
  await waitFor(async () => {
    const log = readFileSync(logPath, "utf8");
    listen = /listener web: http on [^:]+:(\d+)/.exec(log);
    admin = /admin on [^:]+:(\d+)/.exec(log);
    return listen !== null && admin !== null;
  }, { what: "weft proxy to listen", logPath, process: proc, timeoutMs: 60_000 });
  return {
    process: proc,
    logPath,
    url: `http://127.0.0.1:${listen![1]}`,
    adminPort: Number(admin![1]),
    upstream,
    async stop() {
      await proc.stop();
      await new Promise((r) => upstream.close(r));
      return proc.exited;
    },
  };
}
