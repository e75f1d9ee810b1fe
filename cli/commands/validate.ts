/**
 * @module cli/commands/validate
 * `weft validate -f FILE... [--strict] [-o text|json]`: validates resource files and prints each problem
 * as `file:line:col: severity: Kind/ns/name: field.path: message`. Exit 0 when valid, 1 when any error
 * (or, with --strict, any warning), 2 on bad usage.
 */
import { allKinds } from "../../core/resources/all-kinds.ts";
import { loadResources } from "../../core/resources/load.ts";
import { formatDiagnostic, type Diagnostic } from "../../core/schema/index.ts";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

const HELP = `usage: weft validate -f FILE... [--strict] [-o text|json]

Validates Istio resources (AuthorizationPolicy, PeerAuthentication, RequestAuthentication, VirtualService,
DestinationRule, ServiceEntry, WorkloadEntry, Gateway, Sidecar, Telemetry). Multi-document YAML and JSON.
  -f, --file FILE   a file to validate (repeatable; several files may follow one -f)
  --strict          treat warnings (e.g. unknown 'when' keys) as errors
  -o, --output      text (default) or json
`;

export interface FileDiagnostics {
  objects: number;
  diagnostics: Diagnostic[];
}

/** Reads and validates files; unreadable files become diagnostics. */
export async function validateFiles(files: string[], io: CliIo): Promise<FileDiagnostics> {
  let objects = 0;
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await io.readFile(file);
    } catch (err) {
      diagnostics.push({ severity: "error", file, message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    const r = loadResources(text, allKinds, { file });
    objects += r.resources.length;
    diagnostics.push(...r.diagnostics);
  }
  return { objects, diagnostics };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, [
      { names: ["-f", "--file", "--filename"], type: "string", multiple: true, key: "files" },
      { names: ["--strict"], type: "boolean", key: "strict" },
      { names: ["-o", "--output"], type: "string", key: "output" },
      { names: ["-h", "--help"], type: "boolean", key: "help" },
    ]);
  } catch (err) {
    if (err instanceof ArgError) {
      io.stderr(`weft validate: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  if (parsed.values.help) {
    io.stdout(HELP);
    return 0;
  }
  const files = [...((parsed.values.files as string[] | undefined) ?? []), ...parsed.positionals];
  if (files.length === 0) {
    io.stderr(`weft validate: no files given\n\n${HELP}`);
    return 2;
  }
  const strict = parsed.values.strict === true;
  const { objects, diagnostics } = await validateFiles(files, io);
  const effective = diagnostics.map((d) => (strict && d.severity === "warning" ? { ...d, severity: "error" as const } : d));
  const errors = effective.filter((d) => d.severity === "error").length;
  const warnings = effective.length - errors;
  if (parsed.values.output === "json") {
    io.stdout(JSON.stringify({ valid: errors === 0, objects, errors, warnings, diagnostics: effective }, null, 2) + "\n");
  } else {
    for (const d of effective) (d.severity === "error" ? io.stderr : io.stdout)(formatDiagnostic(d) + "\n");
    const summary = `${objects} object${objects === 1 ? "" : "s"} valid, ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
    (errors ? io.stderr : io.stdout)(summary + "\n");
  }
  return errors > 0 ? 1 : 0;
}
