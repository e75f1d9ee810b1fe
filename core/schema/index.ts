/**
 * @module core/schema
 * The one schema library of weft (zod), and the error shape every validator reports: a problem names
 * the file and line, the object (kind/name) and the field path, so a user can find it without a stack
 * trace. Validators across core/, plugins/, proxy/, control/ and adapters/ use these helpers.
 */
import { z } from "zod";

export { z };

/** Where a value came from: file, 1-based line and column, and the object it belongs to. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
}

/** One problem found in user input. `severity: "warning"` does not fail validation unless strict. */
export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  /** `Kind/namespace/name` or `Kind/name` of the object, when known. */
  object?: string;
  /** Field path inside the object, e.g. `spec.rules[0].from[1].source.ipBlocks[0]`. */
  path?: string;
  file?: string;
  line?: number;
  column?: number;
}

/** Formats a path array as `spec.rules[0].when[1].key`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Renders a diagnostic as `file:line: error: Kind/ns/name: spec.x.y: message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ""}` : ""}: ` : "";
  const obj = d.object ? `${d.object}: ` : "";
  const path = d.path ? `${d.path}: ` : "";
  return `${where}${d.severity}: ${obj}${path}${d.message}`;
}

/** Thrown when user input is invalid; carries every diagnostic, not just the first. */
export class ValidationError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic).join("\n") || "invalid input");
    this.name = "ValidationError";
    this.diagnostics = diagnostics;
  }
}

/** Turns zod issues into diagnostics (messages made readable: unknown keys are named). */
export function zodIssuesToDiagnostics(issues: ReadonlyArray<z.core.$ZodIssue>, base: Partial<Diagnostic> = {}, prefix: ReadonlyArray<PropertyKey> = []): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ ...base, severity: "error", path: formatPath([...path, key]), message: `unknown field "${key}"` });
      }
      continue;
    }
    if (issue.code === "invalid_union" && "errors" in issue && Array.isArray(issue.errors) && issue.errors.length > 0) {
      // Report the branch that got furthest (most specific) instead of a generic "invalid input".
      const best = issue.errors.reduce((a, b) => (maxDepth(b) > maxDepth(a) ? b : a));
      out.push(...zodIssuesToDiagnostics(best, base, path));
      continue;
    }
    out.push({ ...base, severity: "error", path: formatPath(path) || undefined, message: issue.message });
  }
  return out;
}

function maxDepth(issues: ReadonlyArray<z.core.$ZodIssue>): number {
  return issues.reduce((m, i) => Math.max(m, i.path.length), 0);
}

/** A string list where YAML `null` means empty (common in hand-written Istio YAML). */
export const stringList = z.array(z.string()).nullish().transform((v) => v ?? undefined);
