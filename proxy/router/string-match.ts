/**
 * @module proxy/router/string-match
 * IR `StringMatch` compiled once into a predicate. Regexes match the whole value (as Envoy's
 * safe_regex does); `ignoreCase` lowers both sides. `undefined` means the value is absent.
 */
import type { StringMatch } from "../../core/ir/model.ts";

export type CompiledStringMatch = (value: string | undefined) => boolean;

export function compileStringMatch(m: StringMatch): CompiledStringMatch {
  if ("present" in m) return (v) => v !== undefined;
  if ("regex" in m) {
    const re = new RegExp(`^(?:${m.regex})$`);
    return (v) => v !== undefined && re.test(v);
  }
  const ic = m.ignoreCase === true;
  if ("exact" in m) {
    const want = ic ? m.exact.toLowerCase() : m.exact;
    return ic ? (v) => v !== undefined && v.toLowerCase() === want : (v) => v === want;
  }
  if ("prefix" in m) {
    const want = ic ? m.prefix.toLowerCase() : m.prefix;
    return ic ? (v) => v !== undefined && v.toLowerCase().startsWith(want) : (v) => v !== undefined && v.startsWith(want);
  }
  const want = ic ? m.suffix.toLowerCase() : m.suffix;
  return ic ? (v) => v !== undefined && v.toLowerCase().endsWith(want) : (v) => v !== undefined && v.endsWith(want);
}
