/**
 * @module cli/commands/proxy
 * `weft proxy`: runs the data-plane proxy on Node.
 *   weft proxy --config FILE [--admin HOST:PORT] [--drain-timeout MS]
 *   weft proxy --listen HOST:PORT --upstream http://HOST:PORT [--admin HOST:PORT] [--access-log]
  weft proxy --xds URL [--join-token T] [--node-id ID] [--cluster NAME] [--xds-ca FILE] [--admin HOST:PORT]
 *   weft proxy --xds URL --join-token T [--node-id ID] [--cluster NAME] [--xds-ca FILE] [--admin HOST:PORT]
 * The config file is hot-reloaded; with `--xds` the config comes from a control plane over ADS. SIGTERM
 * or SIGINT drains in-flight requests, then exits.
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
  --xds URL            take the config from a control plane over xDS (ADS), e.g. https://127.0.0.1:15010
  --join-token T       one-time join token (weft control: POST /v1/ca/join-tokens); also $WEFT_JOIN_TOKEN.
                       Used once: the control plane answers with an SVID over SDS, which authenticates
                       every later connection
  --xds-ca FILE        PEM roots that verify the control plane on the first connection
                       (weft control: GET /v1/ca/bundle?format=pem); later its SDS trust bundle is used
  --node-id ID         the xDS node id (default: the host name)
  --cluster NAME       the xDS node cluster (default: the node id)
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
    else if (a.startsWith("--") && ["config", "listen", "upstream", "admin", "drain-timeout", "xds", "join-token", "xds-ca", "node-id", "cluster"].includes(a.slice(2).split("=")[0]!)) {
      const [k, inline] = a.slice(2).split(/=(.*)/s);
      const v = inline ?? args[++i];
      if (v === undefined) return usage(io, `${a} needs a value`);
      opts[k!] = v;
    } else return usage(io, `unknown argument "${a}"`);
  }
  const config = opts.config as string | undefined;
  const listen = opts.listen as string | undefined;
  const upstream = opts.upstream as string | undefined;
  const xds = opts.xds as string | undefined;
  if (xds !== undefined) {
    if (config !== undefined || listen !== undefined || upstream !== undefined) return usage(io, "--xds takes the whole config from the control plane; leave out --config, --listen and --upstream");
    return runXds(io, opts, xds);
  }
  for (const k of ["join-token", "xds-ca", "node-id", "cluster"]) if (opts[k] !== undefined) return usage(io, `--${k} goes with --xds`);
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
  return waitForSignal((ms) => running.stop(ms), drainTimeout, log);
}

async function runXds(io: CliIo, opts: Record<string, string | true>, url: string): Promise<number> {
  if (!/^https?:\/\/[^/]+\/?$/.test(url)) return usage(io, `--xds: expected https://HOST:PORT (or http:// on loopback), got "${url}"`);
  let admin: { address: string; port: number } | undefined;
  if (opts.admin !== undefined) {
    admin = parseSocketAddress(opts.admin as string);
    if (!admin) return usage(io, `--admin: expected HOST:PORT, got "${opts.admin}"`);
  }
  const drainTimeout = Number(opts["drain-timeout"] ?? 5000);
  if (!Number.isFinite(drainTimeout) || drainTimeout < 0) return usage(io, "--drain-timeout: expected milliseconds");
  const joinToken = (opts["join-token"] as string | undefined) ?? io.env("WEFT_JOIN_TOKEN");
  let bootstrapCaPem: string | undefined;
  if (opts["xds-ca"] !== undefined) {
    try {
      bootstrapCaPem = await io.readFile(opts["xds-ca"] as string);
    } catch (err) {
      io.stderr(`weft proxy: cannot read --xds-ca: ${(err as Error).message}\n`);
      return 1;
    }
  } else if (url.startsWith("https:") && joinToken) {
    return usage(io, "--xds-ca FILE is needed to verify the control plane before the proxy has its identity");
  }
  if (url.startsWith("http:") && joinToken && !/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(url)) {
    return usage(io, "a join token is sent over https:// only (or plain http:// to a loopback address)");
  }
  const { hostname } = await import("node:os");
  const nodeId = (opts["node-id"] as string | undefined) ?? hostname();
  const { runXdsProxy } = await import("../../proxy/node/xds-run.ts");
  const log = (line: string) => io.stderr(`weft proxy: ${line}\n`);
  const running = runXdsProxy({
    url: url.replace(/\/$/, ""),
    node: { id: nodeId, cluster: (opts.cluster as string | undefined) ?? nodeId },
    ...(joinToken ? { joinToken } : {}),
    ...(bootstrapCaPem ? { bootstrapCaPem } : {}),
    filters: httpFilters,
    ...(admin ? { admin } : {}),
    log,
    accessLog: (line) => io.stdout(line + "\n"),
  });
  return waitForSignal((ms) => running.stop(ms), drainTimeout, log);
}

function waitForSignal(stop: (drainMs: number) => Promise<void>, drainTimeout: number, log: (line: string) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: draining (up to ${drainTimeout} ms)`);
      stop(drainTimeout).then(() => {
        log("stopped");
        resolve(0);
      }, (err: unknown) => {
        log(`stop failed: ${(err as Error).message}`);
        resolve(1);
      });
    };
    process.once("SIGTERM", () => onSignal("SIGTERM"));
    process.once("SIGINT", () => onSignal("SIGINT"));
  });
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`weft proxy: ${problem}\n\n${USAGE}`);
  return 2;
}
