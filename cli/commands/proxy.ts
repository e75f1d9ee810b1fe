/**
 * @module cli/commands/proxy
 * `weft proxy`: runs the data-plane proxy on Node.
 *   weft proxy --config FILE [--admin HOST:PORT] [--drain-timeout MS]
 *   weft proxy --listen HOST:PORT --upstream http://HOST:PORT [--admin HOST:PORT] [--access-log]
 * The config file is hot-reloaded; SIGTERM or SIGINT drains in-flight requests, then exits.
 */
import type { CliIo } from "../io.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { parseSocketAddress } from "../../proxy/config/schema.ts";

const USAGE = `usage:
  weft proxy --config FILE [--admin HOST:PORT] [--drain-timeout MS]
  weft proxy --listen HOST:PORT --upstream http://HOST:PORT [--admin HOST:PORT] [--access-log]

  --config FILE        static YAML config (listeners, routeConfigs, clusters); reloaded on change
  --listen HOST:PORT   quick mode: the address to accept HTTP on
  --upstream URL       quick mode: where every request goes (http:// or h2c://)
  --admin HOST:PORT    admin listener (/ready, /config_dump, /clusters, /stats/prometheus)
  --access-log         quick mode: JSON access log on stdout
  --drain-timeout MS   how long SIGTERM waits for in-flight requests (default 5000)
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const opts: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--help" || a === "-h") {
      io.stdout(USAGE);
      return 0;
    }
    if (a === "--access-log") opts["access-log"] = true;
    else if (a.startsWith("--") && ["config", "listen", "upstream", "admin", "drain-timeout"].includes(a.slice(2).split("=")[0]!)) {
      const [k, inline] = a.slice(2).split(/=(.*)/s);
      const v = inline ?? args[++i];
      if (v === undefined) return usage(io, `${a} needs a value`);
      opts[k!] = v;
    } else return usage(io, `unknown argument "${a}"`);
  }
  const config = opts.config as string | undefined;
  const listen = opts.listen as string | undefined;
  const upstream = opts.upstream as string | undefined;
  if ((config === undefined) === (listen === undefined && upstream === undefined)) return usage(io, "give either --config FILE or --listen and --upstream");
  if (config === undefined && (listen === undefined || upstream === undefined)) return usage(io, "quick mode needs both --listen and --upstream");
  let admin: { address: string; port: number } | undefined;
  if (opts.admin !== undefined) {
    admin = parseSocketAddress(opts.admin as string);
    if (!admin) return usage(io, `--admin: expected HOST:PORT, got "${opts.admin}"`);
  }
  const drainTimeout = Number(opts["drain-timeout"] ?? 5000);
  if (!Number.isFinite(drainTimeout) || drainTimeout < 0) return usage(io, "--drain-timeout: expected milliseconds");

  const { runProxy, ConfigError } = await import("../../proxy/node/run.ts");
  const log = (line: string) => io.stderr(`weft proxy: ${line}\n`);
  let proxy;
  try {
    proxy = await runProxy({
      filters: httpFilters,
      ...(config !== undefined ? { configFile: config } : { quick: { listen: listen!, upstream: upstream!, accessLog: opts["access-log"] === true } }),
      ...(admin ? { admin } : {}),
      log,
      accessLog: (line) => io.stdout(line + "\n"),
    });
  } catch (err) {
    if (err instanceof ConfigError) io.stderr(`${err.message}\n`);
    else io.stderr(`weft proxy: ${(err as Error).message}\n`);
    return 1;
  }
  const running = proxy;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: draining (up to ${drainTimeout} ms)`);
      running.stop(drainTimeout).then(() => {
        log("stopped");
        resolve(0);
      }, (err: unknown) => {
        log(`stop failed: ${(err as Error).message}`);
        resolve(1);
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`weft proxy: ${problem}\n\n${USAGE}`);
  return 2;
}
