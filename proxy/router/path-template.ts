/**
 * @module proxy/router/path-template
 * Path templates as Envoy's uri_template and Istio write them: `/api/{*}/items/{**}`, where `{*}` is
 * exactly one non-empty segment and `{**}` (last segment only) is zero or more segments. Compiled once
 * into an anchored RegExp.
 */

/** Why a template is invalid, or `undefined`. */
export function templateProblem(template: string): string | undefined {
  if (!template.startsWith("/")) return "a path template starts with /";
  const segs = template.slice(1).split("/");
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as string;
    if (s === "{**}" && i !== segs.length - 1) return "{**} may only be the last segment";
    if (s !== "{*}" && s !== "{**}" && /[{}]/.test(s)) return `segment "${s}": use {*} or {**} as a whole segment`;
  }
  return undefined;
}

/** Compiles a valid template into a RegExp that matches the whole path (query already removed). */
export function compileTemplate(template: string, ignoreCase = false): RegExp {
  const segs = template.slice(1).split("/");
  let re = "";
  for (const s of segs) {
    if (s === "{**}") re += "(?:/.*)?";
    else if (s === "{*}") re += "/[^/]+";
    else re += "/" + s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "");
}
