/**
 * @module core/match/string-match
 * The IR's `StringMatch` (Envoy's StringMatcher) compiled once into a predicate: exact, prefix, suffix
 * (each optionally case-insensitive), presence, and regexes that match the whole value (as Envoy's
 * safe_regex does). `undefined` means the value is absent. The router, the CORS filter and the ordered
 * (Consul) policy layer share it; a caller that must reject non-RE2 patterns passes its own regex compiler.
 */
import type { StringMatch } from "../ir/model.ts";

export type CompiledStringMatch = (value: string | undefined) => boolean;

/** Compiles a regex for a whole-value match. */
export type RegexCompiler = (pattern: string) => (s: string) => boolean;

const jsFullMatch: RegexCompiler = (pattern) => {
  const re = new RegExp(`^(?:${pattern})$`);
  return (s) => re.test(s);
};

export function compileStringMatch(m: StringMatch, compileRegex: RegexCompiler = jsFullMatch): CompiledStringMatch {
  if ("present" in m) return (v) => v !== undefined;
  if ("regex" in m) {
    const t = compileRegex(m.regex);
    return (v) => v !== undefined && t(v);
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
