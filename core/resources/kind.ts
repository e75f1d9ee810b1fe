/**
 * @module core/resources/kind
 * The contract between resource kinds and their validators. A `KindSpec` names one kind (group,
 * served versions, kind) with its zod schema and an optional semantic `check`; `validateResource`
 * picks the spec for an object by apiVersion and kind, runs the schema and then the check, and returns
 * diagnostics that each name the object (`Kind/namespace/name`), the field path and the source location.
 * `weft validate` and the config store both go through it.
 */
import { z, formatPath, zodIssuesToDiagnostics, type Diagnostic, type SourceLocation } from "../schema/index.ts";
import { unknownFieldMessages } from "./fields.ts";

/** One resource kind: its schema and the semantic checks the schema cannot express. */
export interface KindSpec<T = unknown> {
  /** API group, e.g. `networking.istio.io`; `""` for the Kubernetes core group. */
  group: string;
  /** Versions served with the same schema, e.g. `["v1", "v1beta1", "v1alpha3"]`. */
  versions: string[];
  kind: string;
  /** Validates the whole object (`apiVersion`, `kind`, `metadata`, `spec`). */
  schema: z.ZodType<T>;
  /** Semantic checks on an object that passed `schema`; paths start at the object root (`spec.…`). */
  check?(obj: T): Diagnostic[];
}

/** Types a kind spec against its schema, so `check` receives the parsed shape. */
export function defineKind<T>(spec: KindSpec<T>): KindSpec<T> {
  return spec;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `Kind/namespace/name` (or `Kind/name`) of an object, as far as it can be read. */
export function objectRef(obj: unknown): string | undefined {
  if (!isRecord(obj)) return undefined;
  const kind = typeof obj.kind === "string" && obj.kind !== "" ? obj.kind : "<no kind>";
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === "string" && meta.name !== "" ? meta.name : "<no name>";
  const ns = typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : undefined;
  return ns ? `${kind}/${ns}/${name}` : `${kind}/${name}`;
}

function maxDepth(issues: ReadonlyArray<z.core.$ZodIssue>): number {
  return issues.reduce((m, i) => Math.max(m, i.path.length), 0);
}

/** Zod issues → diagnostics; unknown keys get one diagnostic each with the `strict()` suggestion. */
export function issuesToDiagnostics(issues: ReadonlyArray<z.core.$ZodIssue>, base: Partial<Diagnostic>, prefix: ReadonlyArray<PropertyKey> = []): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      const messages = unknownFieldMessages(issue.keys, issue.message);
      issue.keys.forEach((key, i) => {
        out.push({ ...base, severity: "error", path: formatPath([...path, key]), message: messages[i] ?? `unknown field "${key}"` });
      });
      continue;
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const best = issue.errors.reduce((a, b) => (maxDepth(b) > maxDepth(a) ? b : a));
      out.push(...issuesToDiagnostics(best, base, path));
      continue;
    }
    out.push(...zodIssuesToDiagnostics([issue], base, prefix));
  }
  return out;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function describeKinds(kinds: readonly KindSpec[]): string {
  return kinds.map((k) => `${k.kind} (${k.group ? `${k.group}/` : ""}${k.versions.join("|")})`).join(", ");
}

/**
 * Validates one object against the kind its apiVersion and kind name.
 * @example
 * const diags = validateResource(doc.toJS(), istioKinds, { file: "vs.yaml", line: 1 });
 * const ok = diags.every((d) => d.severity !== "error");
 */
export function validateResource(obj: unknown, kinds: readonly KindSpec[], loc: SourceLocation = {}): Diagnostic[] {
  const where: Partial<Diagnostic> = {};
  if (loc.file !== undefined) where.file = loc.file;
  if (loc.line !== undefined) where.line = loc.line;
  if (loc.column !== undefined) where.column = loc.column;
  const object = objectRef(obj);
  const base: Partial<Diagnostic> = object ? { object, ...where } : { ...where };
  const fail = (message: string, path?: string): Diagnostic[] => [{ ...base, severity: "error", message, ...(path ? { path } : {}) }];

  if (!isRecord(obj)) return fail("a resource must be a mapping with apiVersion, kind, metadata and spec");
  if (typeof obj.apiVersion !== "string" || obj.apiVersion === "") return fail("apiVersion is required (e.g. networking.istio.io/v1)", "apiVersion");
  if (typeof obj.kind !== "string" || obj.kind === "") return fail("kind is required", "kind");

  const kind = obj.kind;
  const { group, version } = splitApiVersion(obj.apiVersion);
  const spec = kinds.find((k) => k.kind === kind && k.group === group && k.versions.includes(version));
  if (!spec) {
    const sameKind = kinds.filter((k) => k.kind === kind);
    let hint = "";
    if (sameKind.length > 0) hint = ` (${kind} is served as ${sameKind.map((k) => k.versions.map((v) => `${k.group}/${v}`).join(", ")).join(", ")})`;
    else {
      const near = kinds.find((k) => k.kind.toLowerCase() === kind.toLowerCase());
      if (near) hint = ` (did you mean "${near.kind}"?)`;
    }
    return fail(`unknown kind ${kind} (apiVersion ${obj.apiVersion})${hint}; known kinds: ${describeKinds(kinds)}`, "kind");
  }

  const parsed = spec.schema.safeParse(obj);
  if (!parsed.success) return issuesToDiagnostics(parsed.error.issues, base);
  if (!spec.check) return [];
  return spec.check(parsed.data).map((d) => ({ ...d, ...base }));
}
