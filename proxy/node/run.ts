/**
 * @module proxy/node/run
 * Runs the proxy from a config file (with hot reload) or in quick mode (one listener, one upstream).
 * A bad file at start is an error; a bad file on reload is logged with file, line, object and field,
 * and the last good config keeps serving.
 */
import { readFile } from "node:fs/promises";
import { formatDiagnostic } from "../../core/schema/index.ts";
import { loadProxyConfig, type LoadConfigResult } from "../config/load.ts";
import { createFilterCatalog, type HttpFilterFactory } from "../filter.ts";
import { watchConfigFile, type ConfigWatcher } from "./config-watcher.ts";
import { createProxyServer, type ProxyServer } from "./proxy-server.ts";

export interface RunOptions {
  filters: ReadonlyMap<string, HttpFilterFactory<unknown>>;
  /** A config file to load and watch. */
  configFile?: string;
  /** Quick mode: listen here and send everything to `upstream` (`http://host:port` or `h2c://host:port`). */
  quick?: { listen: string; upstream: string; accessLog?: boolean };
  admin?: { address: string; port: number };
  log(line: string): void;
  accessLog?(line: string): void;
  watch?: { debounceMs?: number; pollMs?: number };
}

export interface RunningProxy {
  server: ProxyServer;
  /** Resolves after each reload attempt; for tests. */
  reloads: { ok: number; failed: number };
  stop(drainTimeoutMs?: number): Promise<void>;
}

/** Config file text for quick mode (JSON is YAML, so the normal loader validates it). */
export function quickConfigText(listen: string, upstream: string, accessLog = false): string {
  const m = /^(http|h2c):\/\/([^/]+?)\/?$/.exec(upstream);
  if (!m) throw new Error(`--upstream: expected http://HOST:PORT or h2c://HOST:PORT, got "${upstream}"`);
  const endpoint = /:\d+$/.test(m[2]!) ? m[2]! : `${m[2]}:80`;
  return JSON.stringify({
    listeners: [{ name: "quick", address: listen, http: { accessLog, virtualHosts: [{ name: "all", domains: ["*"], routes: [{ name: "all", route: { cluster: "upstream" } }] }] } }],
    clusters: [{ name: "upstream", protocol: m[1] === "h2c" ? "http2" : "http", endpoints: [endpoint] }],
  }, null, 2);
}

export async function runProxy(o: RunOptions): Promise<RunningProxy> {
  const catalog = createFilterCatalog(o.filters);
  const file = o.configFile;
  let text: string;
  if (file !== undefined) text = await readFile(file, "utf8");
  else if (o.quick) text = quickConfigText(o.quick.listen, o.quick.upstream, o.quick.accessLog);
  else throw new Error("give a config file or quick mode");
  const first = loadProxyConfig(text, file ?? "(quick mode)", catalog);
  if (!first.ok) throw new ConfigError(first);
  const server = createProxyServer({ filters: o.filters, log: o.log, accessLog: o.accessLog, admin: o.admin });
  await server.apply(first.config);
  const reloads = { ok: 0, failed: 0 };
  let watcher: ConfigWatcher | undefined;
  if (file !== undefined) {
    watcher = watchConfigFile(file, text, (next) => {
      const r = loadProxyConfig(next, file, catalog);
      const keep = server.snapshot()?.config.version;
      if (!r.ok) {
        reloads.failed++;
        o.log(`config reload rejected; version ${keep} keeps serving:\n${r.diagnostics.map(formatDiagnostic).join("\n")}`);
        return;
      }
      server.apply(r.config).then(() => reloads.ok++, (err: unknown) => {
        reloads.failed++;
        o.log(`config reload failed; version ${keep} keeps serving: ${(err as Error).message}`);
      });
    }, o.watch);
  }
  return {
    server,
    reloads,
    async stop(drainTimeoutMs = 0) {
      watcher?.close();
      if (drainTimeoutMs > 0) await server.drain(drainTimeoutMs);
      else await server.close();
    },
  };
}

export class ConfigError extends Error {
  constructor(readonly result: Extract<LoadConfigResult, { ok: false }>) {
    super(result.diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "ConfigError";
  }
}
