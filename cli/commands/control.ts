/**
 * @module cli/commands/control
 * `weft control`: runs the control plane on Node — config store in a data directory, CA, registry fed
 * by discovery files, and the admin API with its web page — until SIGINT or SIGTERM, then shuts down
 * cleanly (the store's log is fsync'ed on every apply, so nothing accepted is lost either way).
 */
import { randomBytes } from "node:crypto";
import type { ConsulBridgeConfig } from "../../adapters/consul/catalog/config.ts";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

const USAGE = `usage: weft control [--data DIR] [--admin HOST:PORT] [--admin-token TOKEN] [--discovery PATH...]
                    [--xds HOST:PORT] [--trust-domain TD] [--ca-cert FILE --ca-key FILE] [--config FILE]

  --data DIR           config store and CA state (default .weft/control)
  --admin HOST:PORT    admin API and UI (default 127.0.0.1:15000; port 0 picks a free port)
  --admin-token TOKEN  bearer token for the admin API (default: $WEFT_ADMIN_TOKEN, else generated and printed once)
  --discovery PATH     ServiceEntry/WorkloadEntry files or directories, watched (repeatable)
  --xds HOST:PORT      serve xDS (ADS over TLS) to weft proxies and Envoy sidecars; proxies join with
                       a join token (POST /v1/ca/join-tokens) and then use the SVID it gets them
  --trust-domain TD    SPIFFE trust domain of the CA (default cluster.local)
  --ca-cert FILE       a root CA certificate (PEM) to issue from, with --ca-key (PKCS#8 PEM);
                       without them a root is generated on first start and kept in the data directory
  --config FILE        control-plane config (YAML); its consul: section starts the Consul bridge (docs/consul.md)
`;

function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`weft control: ${problem}\n\n${USAGE}`);
  return 2;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs(args, [
      { names: ["--data"], type: "string", key: "data" },
      { names: ["--admin"], type: "string", key: "admin" },
      { names: ["--admin-token"], type: "string", key: "token" },
      { names: ["--discovery"], type: "string", multiple: true, key: "discovery" },
      { names: ["--trust-domain"], type: "string", key: "trustDomain" },
      { names: ["--xds"], type: "string", key: "xds" },
      { names: ["--ca-cert"], type: "string", key: "caCert" },
      { names: ["--ca-key"], type: "string", key: "caKey" },
      { names: ["--config"], type: "string", key: "config" },
      { names: ["-h", "--help"], type: "boolean", key: "help" },
    ]));
  } catch (err) {
    if (err instanceof ArgError) return usage(io, err.message);
    throw err;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const admin = parseHostPort((values.admin as string | undefined) ?? "127.0.0.1:15000");
  if (!admin) return usage(io, `--admin: expected HOST:PORT, got "${String(values.admin)}"`);
  const xds = values.xds === undefined ? undefined : parseHostPort(values.xds as string);
  if (values.xds !== undefined && !xds) return usage(io, `--xds: expected HOST:PORT, got "${String(values.xds)}"`);
  if ((values.caCert === undefined) !== (values.caKey === undefined)) return usage(io, "--ca-cert and --ca-key go together");
  let caRoot: { certPem: string; keyPem: string } | undefined;
  if (values.caCert !== undefined) {
    try {
      caRoot = { certPem: await io.readFile(values.caCert as string), keyPem: await io.readFile(values.caKey as string) };
    } catch (err) {
      io.stderr(`weft control: cannot read the CA root: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let consul: ConsulBridgeConfig | undefined;
  if (values.config !== undefined) {
    const file = values.config as string;
    const { loadConsulSection } = await import("../../adapters/consul/catalog/config.ts");
    const { formatDiagnostic } = await import("../../core/schema/index.ts");
    let text: string;
    try {
      text = await io.readFile(file);
    } catch (err) {
      io.stderr(`weft control: cannot read ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    const { config, diagnostics } = loadConsulSection(text, file);
    if (diagnostics.some((d) => d.severity === "error")) {
      io.stderr(`${diagnostics.map(formatDiagnostic).join("\n")}\n`);
      return 1;
    }
    consul = config ?? undefined;
  }
  let token = (values.token as string | undefined) ?? io.env("WEFT_ADMIN_TOKEN");
  const generated = token === undefined || token === "";
  if (generated) token = `wat_${randomBytes(32).toString("base64url")}`;
  if (token!.length < 8) return usage(io, "the admin token must be at least 8 characters");

  const dataDir = (values.data as string | undefined) ?? ".weft/control";
  const log = (line: string) => io.stderr(`weft control: ${line}\n`);
  const { startControlPlane } = await import("../../control/node/control-plane.ts");
  let cp;
  try {
    cp = await startControlPlane({
      dataDir,
      trustDomain: (values.trustDomain as string | undefined) ?? "cluster.local",
      ...(caRoot ? { caRoot } : {}),
      discovery: (values.discovery as string[] | undefined) ?? [],
      admin: { ...admin, token: token! },
      extensions: xds ? [(await import("../../control/node/xds-extension.ts")).xdsExtension({ host: xds.host, port: xds.port })] : [],
      ...(consul ? { consul } : {}),
      log,
    });
  } catch (err) {
    io.stderr(`weft control: ${(err as Error).message}\n`);
    return 1;
  }
  const running = cp;
  io.stdout(`config store  ${dataDir} (revision ${running.store.revision()})\n`);
  io.stdout(`CA            trust domain ${running.trustDomain} (root ${running.caOrigin})\n`);
  for (const ext of running.extensions) if (ext.url) io.stdout(`${ext.name.padEnd(13)} ${ext.url}\n`);
  if (running.consul) io.stdout(`consul        ${running.consul.client.address} (bridge state: ${running.adminUrl}/v1/registry/sources)\n`);
  io.stdout(`admin API     ${running.adminUrl}\n`);
  io.stdout(`OpenAPI       ${running.adminUrl}/openapi.json\n`);
  if (generated) {
    io.stdout(`admin token   ${token} (generated; shown once — pass --admin-token or set WEFT_ADMIN_TOKEN to choose one)\n`);
    io.stdout(`UI            ${running.adminUrl}/ui#token=${encodeURIComponent(token!)}\n`);
  } else {
    io.stdout(`UI            ${running.adminUrl}/ui#token=<admin token>\n`);
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: shutting down`);
      running.stop().then(() => {
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
