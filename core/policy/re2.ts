/**
 * @module core/policy/re2
 * RE2 patterns (what Envoy's `safe_regex` and Consul's `PathRegex`/`Regex` fields take) compiled into
 * JavaScript regexes that match the whole value, as Envoy's full-match does. RE2 spellings JavaScript
 * lacks are translated (`(?P<name>`, leading `(?i)`/`(?s)` flags, `\A`, `\z`, POSIX classes like
 * `[[:digit:]]`); constructs RE2 refuses (look-around, back-references) are errors, as they would be in
 * Envoy, so a pattern weft accepts is one Consul's Envoy accepts too.
 */

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", ascii: "\\x00-\\x7F", blank: "\\t ", cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9", graph: "!-~", lower: "a-z", print: " -~", punct: "!-\\/:-@\\[-`{-~", space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z", word: "0-9A-Za-z_", xdigit: "0-9A-Fa-f",
};

/** Why RE2 (and so Envoy) would reject `pattern`, or null when it compiles. */
export function re2Problem(pattern: string): string | null {
  const r = translate(pattern);
  return typeof r === "string" ? r : null;
}

function translate(pattern: string): { source: string; flags: string } | string {
  if (/\(\?<?[=!]/.test(pattern)) return `look-around is not supported by RE2: ${pattern}`;
  if (/(^|[^\\])(\\\\)*\\[1-9]/.test(pattern)) return `back-references are not supported by RE2: ${pattern}`;
  let flags = "";
  let src = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    if (lead[1]!.includes("U")) return `the (?U) flag has no JavaScript equivalent: ${pattern}`;
    flags = [...new Set(lead[1]!.split(""))].join("");
    src = src.slice(lead[0].length);
  }
  src = src
    .replace(/\(\?P</g, "(?<")
    .replace(/\[\[:(\^?)([a-z]+):\]\]/g, (m, neg: string, name: string) => (POSIX[name] ? `[${neg}${POSIX[name]}]` : m))
    .replace(/\[:([a-z]+):\]/g, (m, name: string) => POSIX[name] ?? m)
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, "$1$2^")
    .replace(/(^|[^\\])((?:\\\\)*)\\z/g, "$1$2$");
  return { source: src, flags };
}

/**
 * Compiles an RE2 pattern into a full-match test.
 * @throws Error when the pattern is not valid RE2 or cannot be expressed in JavaScript.
 * @example
 * compileFullMatch("/v[0-9]+/.*")("/v2/users"); // true
 */
export function compileFullMatch(pattern: string): (s: string) => boolean {
  const r = translate(pattern);
  if (typeof r === "string") throw new Error(r);
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${r.source})$`, `${r.flags}u`);
  } catch {
    try {
      re = new RegExp(`^(?:${r.source})$`, r.flags);
    } catch (err) {
      throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  }
  return (s) => re.test(s);
}
