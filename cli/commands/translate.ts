/**
 * @module cli/commands/translate
 * `weft translate --from consul|istio|weft --to consul|istio|weft -f FILE...`: converts policy and routing
 * objects between Consul config entries, Istio resources and weft's IR, printing the result on stdout
 * (a JSON array for consul, YAML for istio and weft) and the loss report on stderr. The "weft" format is
 * the IR itself as one YAML document `{authorization, virtualHosts, clusters, ...}` (see docs/consul.md);
 * Istio input and output go through the Istio bridge (`adapters/istio`: all eight converted kinds).
 * Exit 0 when nothing was lost (or `--allow-loss`; approximations are reported but do not fail), 1 when
 * something was lost or the input is invalid, 2 on bad usage.
 */
import { stringify } from "yaml";
import { consulToIr, irToConsul } from "../../adapters/consul/conversion.ts";
import { loadMixed } from "../../adapters/consul/load-mixed.ts";
import { formatLoss, type Loss } from "../../adapters/consul/loss.ts";
import { emptyIstioIr, irToIstio, istioToIr, type IstioIr } from "../../adapters/istio/conversion.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { formatDiagnostic, type Diagnostic } from "../../core/schema/index.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

const HELP = `usage: weft translate --from consul|istio|weft --to consul|istio|weft -f FILE... [options]

Converts authorization and routing objects between Consul config entries, Istio resources and weft's IR.
Output on stdout (consul: a JSON array of entries; istio and weft: YAML); the loss report on stderr.
  -f, --file FILE              input files (repeatable)
  --from FORMAT                consul | istio | weft
  --to FORMAT                  consul | istio | weft
  --allow-loss                 exit 0 even when something could not be expressed
  --consul-default allow|deny  Consul's default intention policy, kept in the IR (default allow)
  --consul-trust-domain TD     the Consul trust domain sources must have (default: any)
  --root-namespace NS          Istio's mesh-wide policy namespace (default istio-system)
`;

const FORMATS = ["consul", "istio", "weft"] as const;
/** The IR parts the weft format carries (the Istio bridge's IR; Consul uses the first three). */
const IR_KEYS = Object.keys(emptyIstioIr()) as (keyof IstioIr)[];
type Format = (typeof FORMATS)[number];

export async function run(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, [
      { names: ["-f", "--file", "--filename"], type: "string", multiple: true, key: "files" },
      { names: ["--from"], type: "string", key: "from" },
      { names: ["--to"], type: "string", key: "to" },
      { names: ["--allow-loss"], type: "boolean", key: "allowLoss" },
      { names: ["--consul-default"], type: "string", key: "consulDefault" },
      { names: ["--consul-trust-domain"], type: "string", key: "trustDomain" },
      { names: ["--root-namespace"], type: "string", key: "rootNamespace" },
      { names: ["-h", "--help"], type: "boolean", key: "help" },
    ]);
  } catch (err) {
    if (err instanceof ArgError) {
      io.stderr(`weft translate: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  const files = [...((v.files as string[] | undefined) ?? []), ...parsed.positionals];
  const from = v.from as Format;
  const to = v.to as Format;
  if (!FORMATS.includes(from) || !FORMATS.includes(to) || files.length === 0) {
    io.stderr(`weft translate: --from, --to (consul, istio or weft) and -f FILE are required\n\n${HELP}`);
    return 2;
  }
  const consulDefault = v.consulDefault as string | undefined;
  if (consulDefault !== undefined && consulDefault !== "allow" && consulDefault !== "deny") {
    io.stderr("weft translate: --consul-default must be allow or deny\n");
    return 2;
  }
  const rootNamespace = v.rootNamespace as string | undefined;

  const diagnostics: Diagnostic[] = [];
  const losses: Loss[] = [];
  const model: IstioIr = emptyIstioIr();
  for (const file of files) {
    let text: string;
    try {
      text = await io.readFile(file);
    } catch (err) {
      diagnostics.push({ severity: "error", file, message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    if (from === "weft") {
      readWeft(text, file, model, diagnostics);
      continue;
    }
    const r = loadMixed(text, allKinds, file);
    diagnostics.push(...r.diagnostics);
    if (from === "consul") {
      for (const res of r.resources) diagnostics.push({ severity: "error", file, ...res.location, object: `${String(res.object.kind)}`, message: "not a Consul config entry (use --from istio for Istio resources)" });
      const c = consulToIr(r.consul, { defaultAction: consulDefault === "deny" ? "deny" : "allow", trustDomain: v.trustDomain as string | undefined });
      model.authorization.push(...c.model.authorization);
      model.virtualHosts.push(...c.model.virtualHosts);
      model.clusters.push(...c.model.clusters);
      losses.push(...c.losses);
    } else {
      for (const e of r.consul) diagnostics.push({ severity: "error", file, line: e.line, object: e.ref, message: "a Consul config entry (use --from consul)" });
      const c = istioToIr(r.resources, { rootNamespace });
      diagnostics.push(...c.diagnostics);
      losses.push(...c.losses);
      for (const k of IR_KEYS) (model[k] as unknown[]).push(...c.model[k]);
    }
  }
  const seen = new Set<string>();
  for (const d of diagnostics) {
    const line = formatDiagnostic(d);
    if (!seen.has(line)) io.stderr(line + "\n");
    seen.add(line);
  }
  if (diagnostics.some((d) => d.severity === "error")) return 1;

  if (to === "weft") {
    // The three parts every format has are always printed; the rest only when present.
    io.stdout(stringify(Object.fromEntries(IR_KEYS.filter((k) => k === "authorization" || k === "virtualHosts" || k === "clusters" || model[k].length > 0).map((k) => [k, model[k]]))));
  } else if (to === "consul") {
    const c = irToConsul(model, { rootNamespace });
    losses.push(...c.losses);
    for (const k of IR_KEYS) {
      if (k !== "authorization" && k !== "virtualHosts" && k !== "clusters" && model[k].length > 0) {
        losses.push({ object: k, field: "", reason: `${model[k].length} ${k} object(s) have no Consul config-entry form and are left out` });
      }
    }
    io.stdout(JSON.stringify(c.entries, null, 2) + "\n");
  } else {
    const c = irToIstio(model, { rootNamespace });
    losses.push(...c.losses);
    io.stdout(c.objects.map((d) => stringify(d)).join("---\n"));
  }
  for (const l of losses) io.stderr(formatLoss(l) + "\n");
  const lost = losses.filter((l) => (l.kind ?? "lost") === "lost").length;
  if (lost && !v.allowLoss) {
    io.stderr(`weft translate: ${lost} loss${lost === 1 ? "" : "es"}; pass --allow-loss to accept\n`);
    return 1;
  }
  return 0;
}

/** The IR format: one YAML document `{authorization, virtualHosts, clusters}` per file (any may be absent). */
function readWeft(text: string, file: string, model: IstioIr, diagnostics: Diagnostic[]): void {
  const { documents, diagnostics: ds } = loadYaml(text, { file });
  diagnostics.push(...ds);
  for (const doc of documents) {
    const v = doc.value as Record<string, unknown>;
    const keys = IR_KEYS;
    if (!v || typeof v !== "object" || Array.isArray(v) || Object.keys(v).some((k) => !(keys as readonly string[]).includes(k))) {
      diagnostics.push({ severity: "error", file, ...doc.location, message: `a weft IR document is a mapping of lists: ${IR_KEYS.join(", ")}` });
      continue;
    }
    for (const k of keys) {
      if (v[k] === undefined || v[k] === null) continue;
      if (!Array.isArray(v[k])) {
        diagnostics.push({ severity: "error", file, ...doc.locate([k]), path: k, message: `${k} must be a list` });
        continue;
      }
      (model[k] as unknown[]).push(...(v[k] as unknown[]));
    }
  }
}
