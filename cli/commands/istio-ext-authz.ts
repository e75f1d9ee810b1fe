/**
 * @module cli/commands/istio-ext-authz
 * `weft istio ext-authz -f FILE... [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]`: runs the
 * Envoy ext_authz gRPC server (control/extauthz) with AuthorizationPolicies from files, for Istio's
 * `envoyExtAuthzGrpc` provider and Consul's `builtin/ext-authz` extension. WorkloadEntry and
 * ServiceEntry objects in the same files feed the registry that tells which workload (namespace, labels)
 * listens on a CheckRequest's destination address, for policies whose selectors need it. Runs until
 * interrupted.
 */
import { registryFromIstio } from "../../adapters/file/conversion.ts";
import { createRegistryWorkloadResolver } from "../../control/extauthz/workload-resolver.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import { authorizationPoliciesFromYaml } from "../../core/policy/index.ts";
import { formatDiagnostic, type Diagnostic } from "../../core/schema/index.ts";
import type { AuthzPolicy } from "../../core/ir/model.ts";
import { createStaticPolicySource } from "../../control/extauthz/policy-source.ts";
import { startExtAuthzServer } from "../../control/extauthz/node/server.ts";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

export async function serve(args: string[], io: CliIo): Promise<number> {
  const v = parseArgs(args, [
    { names: ["-f", "--file"], type: "string", multiple: true, key: "files" },
    { names: ["--listen"], type: "string", key: "listen" },
    { names: ["--tls-cert"], type: "string", key: "cert" },
    { names: ["--tls-key"], type: "string", key: "key" },
    { names: ["--root-namespace"], type: "string", key: "rootNamespace" },
    { names: ["--trust-domain"], type: "string", key: "trustDomain" },
  ]).values;
  const files = (v.files as string[] | undefined) ?? [];
  if (files.length === 0) throw new ArgError("-f FILE is required");
  if ((v.cert === undefined) !== (v.key === undefined)) throw new ArgError("--tls-cert and --tls-key go together");
  const listen = (v.listen as string | undefined) ?? "127.0.0.1:9191";
  const colon = listen.lastIndexOf(":");
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) throw new ArgError(`--listen must be HOST:PORT, got ${listen}`);
  const policies: AuthzPolicy[] = [];
  const diagnostics: Diagnostic[] = [];
  const registryObjects: Record<string, unknown>[] = [];
  for (const file of files) {
    const text = await io.readFile(file);
    const r = authorizationPoliciesFromYaml(text, file);
    policies.push(...r.policies);
    diagnostics.push(...r.diagnostics);
    for (const doc of loadYaml(text, { file }).documents) {
      const o = doc.value as { kind?: unknown } | null;
      if (o && typeof o === "object" && (o.kind === "WorkloadEntry" || o.kind === "ServiceEntry")) registryObjects.push(o as Record<string, unknown>);
    }
  }
  for (const d of diagnostics) io.stderr(formatDiagnostic(d) + "\n");
  if (diagnostics.some((d) => d.severity === "error")) return 1;
  const registry = registryFromIstio(registryObjects, (v.trustDomain as string | undefined) ?? "cluster.local").snapshot;
  const server = await startExtAuthzServer({
    policies: createStaticPolicySource(policies, { rootNamespace: v.rootNamespace as string | undefined }),
    resolveWorkload: createRegistryWorkloadResolver(() => registry),
    host: listen.slice(0, colon).replace(/^\[|\]$/g, ""),
    port,
    ...(v.cert ? { tls: { certPem: await io.readFile(v.cert as string), keyPem: await io.readFile(v.key as string) } } : {}),
  });
  io.stdout(`weft ext_authz: ${policies.length} policies, ${registry.workloads.length} workloads, listening on ${server.address} (${v.cert ? "TLS" : "plaintext"} gRPC)\n`);
  await new Promise<void>(() => undefined);
  return 0;
}
