/**
 * @module adapters/consul/entries
 * Reads Consul config entries from text — JSON as `consul config write` takes it (one entry, or an array
 * of entries), or YAML with the same keys — and validates each against its kind's schema and Consul's
 * write-time checks. Every diagnostic names the file and line, the entry (`Kind/Name`) and the field in
 * Consul's spelling. Pure: the caller reads the file.
 */
import { formatPath, type Diagnostic } from "../../core/schema/index.ts";
import { issuesToDiagnostics } from "../../core/resources/kind.ts";
import { loadYaml } from "../../core/yaml/loader.ts";
import { originalPath } from "./fields.ts";
import { consulEntrySchemas, type ConsulEntry, type ConsulKind } from "./schema.ts";
import { validateEntry } from "./validate.ts";

/** A valid entry with where it came from. */
export interface LoadedEntry {
  entry: ConsulEntry;
  /** `Kind/Name`. */
  ref: string;
  file?: string;
  line?: number;
}

export interface EntryLoadResult {
  entries: LoadedEntry[];
  diagnostics: Diagnostic[];
  /** Documents that are not Consul entries (e.g. Istio objects), for the caller to handle. */
  others: { value: Record<string, unknown>; index: number; locate(path: ReadonlyArray<PropertyKey>): { line?: number; column?: number } }[];
}

const KINDS = Object.keys(consulEntrySchemas) as ConsulKind[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The Consul kind of an object (`Kind` or `kind`, no `apiVersion`), or undefined. */
export function consulKindOf(v: unknown): string | undefined {
  if (!isRecord(v) || "apiVersion" in v) return undefined;
  const k = v.Kind ?? v.kind;
  return typeof k === "string" ? k : undefined;
}

/** True when `v` looks like a Consul config entry (whether or not weft reads its kind). */
export function isConsulEntry(v: unknown): boolean {
  return consulKindOf(v) !== undefined;
}

/**
 * Validates one decoded entry.
 * @example
 * const { entry, diagnostics } = parseEntry({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow" }] });
 */
export function parseEntry(raw: unknown, where: { file?: string; locate?: (path: ReadonlyArray<PropertyKey>) => { line?: number; column?: number } } = {}): { entry: ConsulEntry | null; diagnostics: Diagnostic[] } {
  const kind = consulKindOf(raw);
  const name = isRecord(raw) ? (raw.Name ?? raw.name) : undefined;
  const object = `${kind ?? "<no kind>"}/${typeof name === "string" && name !== "" ? name : "<no name>"}`;
  const at = (path: ReadonlyArray<PropertyKey>) => ({ file: where.file, ...where.locate?.(originalPath(raw, path)) });
  if (kind === undefined) return { entry: null, diagnostics: [{ severity: "error", object, ...at([]), message: "a Consul config entry needs a Kind" }] };
  if (!(KINDS as string[]).includes(kind)) {
    return { entry: null, diagnostics: [{ severity: "error", object, path: "Kind", ...at(["Kind"]), message: `weft does not read config entries of kind ${JSON.stringify(kind)} (known: ${KINDS.join(", ")})` }] };
  }
  const schema = consulEntrySchemas[kind as ConsulKind];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const diags = issuesToDiagnostics(parsed.error.issues, { object });
    return { entry: null, diagnostics: diags.map((d) => ({ ...d, ...at(d.path ? d.path.split(/\.|\[|\]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : []) })) };
  }
  const entry = { kind, entry: parsed.data } as ConsulEntry;
  const diagnostics: Diagnostic[] = [];
  if (entry.entry.Name === "") diagnostics.push({ severity: "error", object, path: "Name", ...at(["Name"]), message: "Name is required" });
  validateEntry(entry, (path, message, severity = "error") => {
    diagnostics.push({ severity, object, path: formatPath(path) || undefined, ...at(path), message });
  });
  return { entry: diagnostics.some((d) => d.severity === "error") ? null : entry, diagnostics };
}

/**
 * Loads every entry in a file's text; invalid entries are left out and reported.
 * @example
 * const { entries, diagnostics } = loadConsulEntries(await readFile("intentions.json"), "intentions.json");
 */
export function loadConsulEntries(text: string, file?: string): EntryLoadResult {
  const { documents, diagnostics } = loadYaml(text, { file });
  const entries: LoadedEntry[] = [];
  const others: EntryLoadResult["others"] = [];
  for (const doc of documents) {
    const items: { value: unknown; prefix: number[] }[] = Array.isArray(doc.value)
      ? doc.value.map((value, i) => ({ value, prefix: [i] }))
      : [{ value: doc.value, prefix: [] }];
    for (const { value, prefix } of items) {
      if (!isConsulEntry(value)) {
        if (isRecord(value)) others.push({ value, index: doc.index, locate: (p) => doc.locate([...prefix, ...p]) });
        else diagnostics.push({ severity: "error", file, ...doc.locate(prefix), message: "expected a Consul config entry (an object with Kind and Name) or a resource with apiVersion and kind" });
        continue;
      }
      const r = parseEntry(value, { file, locate: (p) => doc.locate([...prefix, ...p]) });
      diagnostics.push(...r.diagnostics);
      if (r.entry) entries.push({ entry: r.entry, ref: `${r.entry.kind}/${r.entry.entry.Name}`, file, line: doc.locate(prefix).line });
    }
  }
  return { entries, diagnostics, others };
}
