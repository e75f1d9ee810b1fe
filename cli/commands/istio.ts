/**
 * @module cli/commands/istio
 * `weft istio register-extension --name weft --service HOST --port 9191 [...]`: prints what routes Istio
 * sidecars' authorization decisions to weft's ext_authz server — the MeshConfig `extensionProviders`
 * entry (`envoyExtAuthzGrpc`) and a CUSTOM AuthorizationPolicy naming that provider (YAML, two
 * documents; `--output mesh|policy` prints one). `weft istio ext-authz -f FILE...` runs the server.
 */
import { stringify } from "yaml";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

const HELP = `usage: weft istio <subcommand> [options]

  register-extension   print the MeshConfig extensionProviders entry and a CUSTOM AuthorizationPolicy
                       that send Istio sidecars' authorization checks to weft
    --name NAME              provider name (default weft)
    --service HOST           the ext_authz service host (e.g. weft-authz.weft-system.svc.cluster.local)
    --port PORT              its gRPC port (default 9191)
    --timeout DURATION       check timeout (default 0.5s)
    --fail-open              let requests through when weft cannot be reached (default: deny)
    --status-on-error CODE   HTTP status when weft cannot be reached (default 403)
    --namespace NS           namespace of the CUSTOM policy (default istio-system: mesh-wide)
    --selector KEY=VALUE     restrict the policy to workloads with these labels (repeatable)
    --path PATH              only send requests to these paths (repeatable; default: all requests)
    --policy-name NAME       name of the CUSTOM policy (default <name>-ext-authz)
    -o, --output WHAT        all (default), mesh or policy
  ext-authz            run the ext_authz gRPC server (see docs/istio.md)
    -f, --file FILE          AuthorizationPolicy files (repeatable)
    --listen HOST:PORT       default 127.0.0.1:9191
    --tls-cert FILE --tls-key FILE   serve TLS
    --root-namespace NS      mesh-wide policy namespace (default istio-system)
`;

export interface ExtensionOptions {
  name: string;
  service: string;
  port: number;
  timeout: string;
  failOpen: boolean;
  statusOnError?: string;
  namespace: string;
  selector: Record<string, string>;
  paths: string[];
  policyName: string;
}

/** The MeshConfig fragment (`extensionProviders`) for weft as an `envoyExtAuthzGrpc` provider. */
export function meshConfigFragment(o: ExtensionOptions): Record<string, unknown> {
  return {
    extensionProviders: [{
      name: o.name,
      envoyExtAuthzGrpc: {
        service: o.service,
        port: o.port,
        timeout: o.timeout,
        failOpen: o.failOpen,
        ...(o.statusOnError ? { statusOnError: o.statusOnError } : {}),
      },
    }],
  };
}

/** The CUSTOM AuthorizationPolicy that sends matching requests to the provider. */
export function customPolicy(o: ExtensionOptions): Record<string, unknown> {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: o.policyName, namespace: o.namespace },
    spec: {
      ...(Object.keys(o.selector).length ? { selector: { matchLabels: o.selector } } : {}),
      action: "CUSTOM",
      provider: { name: o.name },
      rules: o.paths.length ? [{ to: [{ operation: { paths: o.paths } }] }] : [{}],
    },
  };
}

export function renderExtension(o: ExtensionOptions, output: "all" | "mesh" | "policy"): string {
  const mesh = `# MeshConfig: merge into the 'mesh' key of ConfigMap istio-system/istio (or IstioOperator
# spec.meshConfig / Helm values meshConfig), then restart istiod.
${stringify(meshConfigFragment(o))}`;
  const policy = stringify(customPolicy(o));
  if (output === "mesh") return mesh;
  if (output === "policy") return policy;
  return `${mesh}---\n${policy}`;
}

async function registerExtension(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, [
    { names: ["--name"], type: "string", key: "name" },
    { names: ["--service"], type: "string", key: "service" },
    { names: ["--port"], type: "string", key: "port" },
    { names: ["--timeout"], type: "string", key: "timeout" },
    { names: ["--fail-open"], type: "boolean", key: "failOpen" },
    { names: ["--status-on-error"], type: "string", key: "statusOnError" },
    { names: ["--namespace"], type: "string", key: "namespace" },
    { names: ["--selector"], type: "string", multiple: true, key: "selector" },
    { names: ["--path"], type: "string", multiple: true, key: "paths" },
    { names: ["--policy-name"], type: "string", key: "policyName" },
    { names: ["-o", "--output"], type: "string", key: "output" },
  ]).values;
  if (typeof p.service !== "string") throw new ArgError("--service is required");
  const port = Number(p.port ?? 9191);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ArgError(`--port must be 1-65535, got ${String(p.port)}`);
  const output = (p.output ?? "all") as string;
  if (output !== "all" && output !== "mesh" && output !== "policy") throw new ArgError("--output must be all, mesh or policy");
  const timeout = (p.timeout as string | undefined) ?? "0.5s";
  if (!/^\d+(\.\d+)?(ms|s|m|h)$/.test(timeout)) throw new ArgError(`--timeout must be a duration like 0.5s or 200ms, got ${timeout}`);
  const statusOnError = p.statusOnError as string | undefined;
  if (statusOnError !== undefined && !/^[1-5]\d\d$/.test(statusOnError)) throw new ArgError("--status-on-error must be an HTTP status code");
  const selector: Record<string, string> = {};
  for (const s of (p.selector as string[] | undefined) ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new ArgError(`--selector must be KEY=VALUE, got ${s}`);
    selector[s.slice(0, eq)] = s.slice(eq + 1);
  }
  const name = (p.name as string | undefined) ?? "weft";
  io.stdout(renderExtension({
    name, service: p.service, port, timeout, failOpen: p.failOpen === true, ...(statusOnError ? { statusOnError } : {}),
    namespace: (p.namespace as string | undefined) ?? "istio-system", selector,
    paths: (p.paths as string[] | undefined) ?? [], policyName: (p.policyName as string | undefined) ?? `${name}-ext-authz`,
  }, output));
  return 0;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.stdout(HELP);
    return sub ? 0 : 2;
  }
  try {
    if (sub === "register-extension") return await registerExtension(rest, io);
    if (sub === "ext-authz") return await (await import("./istio-ext-authz.ts")).serve(rest, io);
  } catch (err) {
    if (err instanceof ArgError) {
      io.stderr(`weft istio ${sub}: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  io.stderr(`weft istio: unknown subcommand "${sub}"\n\n${HELP}`);
  return 2;
}
