/**
 * @module adapters/consul/fields
 * Schema building blocks that read Consul config entries the way Consul's own decoder does
 * (`agent/structs.DecodeConfigEntry`: mapstructure with `HookTranslateKeys` and `HookWeakDecodeFromSlice`):
 * a field is found whatever the letter case of its key (`pathexact`, `PathExact`) or by its snake_case
 * alias (`path_exact`); a one-element list stands for the object inside it (an HCL artefact); unknown
 * keys are errors with a suggestion. Durations take Go's syntax (`1m30s`) or nanoseconds. Everything is
 * normalized to the PascalCase names of `consul config write` JSON, so diagnostics name fields as Consul
 * does (`Sources[0].Permissions[1].HTTP.PathExact`).
 */
import { unknownFieldMessage } from "../../core/resources/fields.ts";
import { z } from "../../core/schema/index.ts";

/** Consul's `alias:` tags where they differ from the plain snake_case of the field name. */
const ALIASES: Record<string, string[]> = {
  EnforcingConsecutive5xx: ["enforcing_consecutive_5xx"],
  JSONWebKeySet: ["json_web_key_set"],
  JSONFormat: ["json_format"],
  ExternalSNI: ["external_sni"],
};
/** Multi-word fields Consul gives no snake_case alias. */
const NO_ALIAS = new Set(["MaxRequestHeadersKB"]);

/** `PathExact` → `path_exact`; `ExternalSNI` → `external_sni`. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2").toLowerCase();
}

/** Lower-cased spellings Consul accepts for a field. */
function spellings(field: string): string[] {
  const out = [field.toLowerCase()];
  if (!NO_ALIAS.has(field)) out.push(...(ALIASES[field] ?? [snakeCase(field)]));
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The canonical field an input key names, among `fields`. */
export function canonicalKey(key: string, fields: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  return fields.find((f) => spellings(f).includes(k));
}

/** Keys every entry may carry that Consul ignores on write (`consul config read` prints them). */
const IGNORED = new Set(["createindex", "modifyindex"]);

/**
 * A Consul struct: keys matched as Consul matches them, renamed to their PascalCase names, unknown keys
 * rejected with a suggestion.
 * @example consulStruct({ PathExact: z.string().optional() }).parse({ path_exact: "/" }); // { PathExact: "/" }
 */
export function consulStruct<S extends z.core.$ZodLooseShape>(shape: S, options: { topLevel?: boolean } = {}) {
  const fields = Object.keys(shape);
  const object = z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? iss.keys.map((k) => unknownFieldMessage(k, fields)).join("\n") : undefined),
  });
  return z.preprocess((input) => {
    if (Array.isArray(input) && input.length === 1 && isRecord(input[0])) input = input[0];
    if (!isRecord(input)) return input;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      if (options.topLevel && IGNORED.has(key.toLowerCase())) continue;
      const canon = canonicalKey(key, fields);
      if (canon === undefined) out[key] = value;
      else if (!(canon in out) || key === canon) out[canon] = value;
    }
    return out;
  }, object) as unknown as typeof object;
}

/**
 * Translates a canonical field path back to the keys the input used, so a YAML/JSON locator finds the line.
 * @example originalPath({ sources: [{ path_exact: 1 }] }, ["Sources", 0, "PathExact"]); // ["sources", 0, "path_exact"]
 */
export function originalPath(input: unknown, path: ReadonlyArray<PropertyKey>): PropertyKey[] {
  const out: PropertyKey[] = [];
  let node = input;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === "number") {
      out.push(seg);
      node = node[seg];
      continue;
    }
    if (Array.isArray(node) && node.length === 1 && typeof seg === "string") {
      out.push(0);
      node = node[0];
    }
    if (!isRecord(node)) break;
    const key = typeof seg === "string" ? (seg in node ? seg : Object.keys(node).find((k) => canonicalKey(k, [seg]) === seg)) : undefined;
    if (key === undefined) break;
    out.push(key);
    node = node[key];
  }
  return out;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's `time.ParseDuration` (or an integer of nanoseconds) → milliseconds; null when malformed. */
export function parseGoDuration(v: string | number): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v / 1e6 : null;
  let s = v.trim();
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") return null;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * UNITS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** Formats milliseconds the way Go prints a `time.Duration` for the common cases (`1m30s`, `250ms`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000 || !Number.isInteger(ms / 1000)) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/** A Go `time.Duration` field: a duration string or nanoseconds, kept as written. */
export const goDuration = z.union([z.string(), z.number()]).refine((v) => parseGoDuration(v) !== null, {
  message: "must be a duration such as \"15s\", \"1m30s\" or \"250ms\"",
});

export const meta = z.record(z.string(), z.string()).optional();
export const stringList = z.array(z.string()).nullish().transform((v) => v ?? undefined).optional();
