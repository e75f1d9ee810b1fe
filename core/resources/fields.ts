/**
 * @module core/resources/fields
 * Strict object schemas whose unknown-field errors help: a snake_case spelling of a known camelCase
 * field, a different letter case or a near-miss typo is answered with `did you mean "x"?`. Resource
 * schemas build every object in `spec` with `strict()` so a mistyped field is an error that names it,
 * instead of a setting silently ignored. `unknownFieldMessages()` reads the per-key messages back when
 * issues become diagnostics (see `kind.ts`).
 */
import { z } from "../schema/index.ts";

/** Separates the per-key messages of one `unrecognized_keys` issue produced by `strict()`. */
const KEY_SEPARATOR = "\n";

/** `foo_bar_baz` → `fooBarBaz`. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_r, i) => Array.from({ length: b.length + 1 }, (_c, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i]![j] = v;
    }
  }
  return at(a.length, b.length);
}

/** The known field a mistyped key most likely meant, or undefined. */
export function suggestField(key: string, known: readonly string[]): string | undefined {
  const camel = snakeToCamel(key);
  if (camel !== key && known.includes(camel)) return camel;
  const lower = camel.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters) return sameLetters;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = key.length <= 4 ? 1 : 2;
  return bestDistance <= limit ? best : undefined;
}

/** The message for one unknown key. */
export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const hint = suggestField(key, known);
  return hint ? `unknown field "${key}" (did you mean "${hint}"?)` : `unknown field "${key}"`;
}

/**
 * A strict object: unknown keys are errors whose messages suggest the intended field.
 * @example strict({ host: z.string(), subset: z.string().optional() })
 */
export function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape);
  const object = z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys"
      ? iss.keys.map((k) => unknownFieldMessage(k, known)).join(KEY_SEPARATOR)
      : undefined),
  });
  // Istio decodes YAML with jsonpb, which accepts a field's proto name (snake_case) as well as its JSON
  // name, so `per_try_timeout` is valid Istio. Accept it verbatim too, as the camelCase field.
  const renames = new Map<string, string>();
  for (const k of known) {
    const snake = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (snake !== k && !known.includes(snake)) renames.set(snake, k);
  }
  if (renames.size === 0) return object;
  return z.preprocess((input) => {
    if (!input || typeof input !== "object" || Array.isArray(input)) return input;
    let out: Record<string, unknown> | null = null;
    for (const key of Object.keys(input)) {
      const camel = renames.get(key);
      if (camel === undefined || camel in input) continue;
      out ??= { ...(input as Record<string, unknown>) };
      out[camel] = out[key];
      delete out[key];
    }
    return out ?? input;
  }, object) as unknown as typeof object;
}

/** The per-key messages of an `unrecognized_keys` issue, aligned with `keys` (generic ones when not from `strict()`). */
export function unknownFieldMessages(keys: readonly string[], message: string): string[] {
  const parts = message.split(KEY_SEPARATOR);
  if (parts.length === keys.length && parts.every((p, i) => p.includes(`"${keys[i]}"`))) return parts;
  return keys.map((k) => `unknown field "${k}"`);
}
