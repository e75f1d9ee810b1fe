/**
 * @module cli/commands/authz
 * `weft authz check -f FILE... --request REQUEST.json [--root-namespace NS] [--custom-deny] ...`:
 * decides one request against AuthorizationPolicies with Istio's semantics and prints one JSON object:
 * `{decision, policy, audit, custom, rule, action, reason, ...}`. Warnings (e.g. unknown `when` keys)
 * go to stderr. Exit 0 when a decision was made (allow or deny), 1 on invalid input, 2 on bad usage.
 * Consul config entries (`service-intentions`, ...; JSON as `consul config write` takes them) may sit beside
 * the policies; they form Consul's ordered layer (see adapters/consul) for requests naming `destination.service`.
 */
import type { AuthzPolicy } from "../../core/ir/model.ts";
import { authorizationPolicyFromIstio, compileAuthorizer, type PathNormalization } from "../../core/policy/index.ts";
import { authzRequestSchema } from "../../core/policy/request-schema.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { consulAuthzPolicy } from "../../adapters/consul/conversion.ts";
import type { LoadedEntry } from "../../adapters/consul/entries.ts";
import { loadMixed } from "../../adapters/consul/load-mixed.ts";
import { formatDiagnostic, zodIssuesToDiagnostics, type Diagnostic } from "../../core/schema/index.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

const HELP = `usage: weft authz check -f FILE... --request REQUEST.json [options]

Decides one request against Istio AuthorizationPolicies (security.istio.io v1/v1beta1) as Istio would,
and against Consul service-intentions as Consul would (see docs/consul.md).
  -f, --file FILE              policy files (repeatable; multi-document YAML or JSON; Consul config
                               entries, one per document or a JSON array of them)
  --request FILE               the request's attributes (JSON; see docs/authz.md)
  --root-namespace NS          mesh-wide policy namespace (default istio-system)
  --custom-deny                assume CUSTOM providers deny (default: they allow)
  --trust-domain TD            mesh trust domain (default cluster.local)
  --trust-domain-alias TD      a trust domain alias (repeatable)
  --path-normalization MODE    NONE | BASE (default) | MERGE_SLASHES | DECODE_AND_MERGE_SLASHES
  --strict                     warnings (e.g. unknown 'when' keys) are errors
  --consul-default allow|deny  Consul's default intention policy (default allow, as with ACLs off)
  --consul-trust-domain TD     the Consul trust domain (<cluster-id>.consul); default: any
`;

const MODES: PathNormalization[] = ["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"];

export async function run(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.stdout(HELP);
    return sub ? 0 : 2;
  }
  if (sub !== "check") {
    io.stderr(`weft authz: unknown subcommand "${sub}"\n\n${HELP}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs(rest, [
      { names: ["-f", "--file", "--filename"], type: "string", multiple: true, key: "files" },
      { names: ["--request"], type: "string", key: "request" },
      { names: ["--root-namespace"], type: "string", key: "rootNamespace" },
      { names: ["--custom-deny"], type: "boolean", key: "customDeny" },
      { names: ["--trust-domain"], type: "string", key: "trustDomain" },
      { names: ["--trust-domain-alias"], type: "string", multiple: true, key: "aliases" },
      { names: ["--path-normalization"], type: "string", key: "pathNormalization" },
      { names: ["--strict"], type: "boolean", key: "strict" },
      { names: ["--consul-default"], type: "string", key: "consulDefault" },
      { names: ["--consul-trust-domain"], type: "string", key: "consulTrustDomain" },
      { names: ["-h", "--help"], type: "boolean", key: "help" },
    ]);
  } catch (err) {
    if (err instanceof ArgError) {
      io.stderr(`weft authz check: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  const files = (v.files as string[] | undefined) ?? [];
  if (files.length === 0 || typeof v.request !== "string") {
    io.stderr(`weft authz check: -f FILE and --request FILE are required\n\n${HELP}`);
    return 2;
  }
  const mode = v.pathNormalization as PathNormalization | undefined;
  if (mode !== undefined && !MODES.includes(mode)) {
    io.stderr(`weft authz check: --path-normalization must be one of ${MODES.join(", ")}\n`);
    return 2;
  }

  const consulDefault = v.consulDefault as string | undefined;
  if (consulDefault !== undefined && consulDefault !== "allow" && consulDefault !== "deny") {
    io.stderr("weft authz check: --consul-default must be allow or deny\n");
    return 2;
  }
  const diagnostics: Diagnostic[] = [];
  const policies: AuthzPolicy[] = [];
  const consulEntries: LoadedEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await io.readFile(file);
    } catch (err) {
      diagnostics.push({ severity: "error", file, message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    const r = loadMixed(text, allKinds, file);
    diagnostics.push(...r.diagnostics);
    consulEntries.push(...r.consul);
    for (const res of r.resources) {
      if (res.object.kind !== "AuthorizationPolicy") continue;
      const c = authorizationPolicyFromIstio(res.object, { file, locate: res.locate });
      if (c.value) policies.push(c.value);
    }
  }

  if (consulEntries.length > 0 || consulDefault !== undefined) {
    const c = consulAuthzPolicy(consulEntries, { defaultAction: consulDefault === "deny" ? "deny" : "allow", trustDomain: v.consulTrustDomain as string | undefined });
    policies.push(c.policy);
    for (const l of c.losses) diagnostics.push({ severity: "warning", object: l.object, path: l.field || undefined, message: l.reason });
  }
  const request = await readRequest(v.request, io, diagnostics);
  const strict = v.strict === true;
  const effective = diagnostics.map((d) => (strict && d.severity === "warning" ? { ...d, severity: "error" as const } : d));
  // Conversion repeats the kind check's warnings; print each once.
  const seen = new Set<string>();
  for (const d of effective) {
    const line = formatDiagnostic(d);
    if (!seen.has(line)) io.stderr(line + "\n");
    seen.add(line);
  }
  if (effective.some((d) => d.severity === "error") || !request) return 1;

  const authorizer = compileAuthorizer(policies, {
    rootNamespace: v.rootNamespace as string | undefined,
    trustDomain: v.trustDomain as string | undefined,
    trustDomainAliases: v.aliases as string[] | undefined,
    pathNormalization: mode,
  });
  const d = authorizer.check(request, { customDecision: v.customDeny ? "deny" : "allow" });
  const out = {
    decision: d.decision,
    policy: d.policy,
    audit: d.audit,
    custom: d.custom,
    rule: d.rule,
    action: d.action,
    reason: d.reason,
    auditPolicies: d.auditPolicies,
    customPolicy: d.customPolicy,
    ...(d.dryRun ? { dryRun: d.dryRun } : {}),
    ...(d.normalizedPath !== undefined ? { normalizedPath: d.normalizedPath } : {}),
    ...(d.ordered ? { consul: d.ordered } : {}),
  };
  io.stdout(JSON.stringify(out, null, 2) + "\n");
  return 0;
}

async function readRequest(file: string, io: CliIo, diagnostics: Diagnostic[]) {
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (err) {
    diagnostics.push({ severity: "error", file, message: `cannot read request: ${(err as Error).message}` });
    return null;
  }
  const { documents, diagnostics: ds } = loadYaml(text, { file });
  diagnostics.push(...ds);
  const doc = documents[0];
  if (!doc) {
    if (ds.length === 0) diagnostics.push({ severity: "error", file, message: "the request file is empty" });
    return null;
  }
  const r = authzRequestSchema.safeParse(doc.value);
  if (!r.success) {
    for (const d of zodIssuesToDiagnostics(r.error.issues, { file, object: "request" })) diagnostics.push(d);
    return null;
  }
  return r.data;
}
