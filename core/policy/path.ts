/**
 * @module core/policy/path
 * Request-path normalization before authorization, as Envoy/Istio do it: the query and fragment are
 * cut off, then (per MeshConfig `pathNormalization`):
 * - NONE: the path as received;
 * - BASE (Istio's default; Envoy's `normalize_path`): RFC 3986 normalization — unreserved percent-encodings
 *   decoded once (`%2e` → `.`), backslashes turned into forward slashes, dot segments resolved
 *   (`/a/../b` → `/b`); `%2F` and `%5C` stay encoded;
 * - MERGE_SLASHES: BASE, then `//` merged;
 * - DECODE_AND_MERGE_SLASHES: `%2F`/`%5C` (any case) decoded to `/` and `\\` first, then MERGE_SLASHES.
 * `%00` anywhere makes the path invalid (Istio rejects it with 400). See
 * https://istio.io/latest/docs/reference/config/security/normalization/
 * Returns null for a path that cannot be a request path (no leading `/`, control characters, bad
 * percent-encoding): the proxy rejects those with 400 before any policy runs.
 */
import type { PathNormalization } from "./types.ts";

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Decodes percent-encoded unreserved characters (RFC 3986 §6.2.2.2) and upper-cases the rest. */
function normalizePercent(p: string): string | null {
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch !== "%") {
      out += ch;
      continue;
    }
    const hex = p.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    const c = String.fromCharCode(parseInt(hex, 16));
    out += UNRESERVED.test(c) ? c : "%" + hex.toUpperCase();
    i += 2;
  }
  return out;
}

/** Resolves `.` and `..` segments (RFC 3986 §5.2.4). Never climbs above the root. */
export function removeDotSegments(path: string): string {
  const segs = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (s === ".") {
      if (last) out.push("");
      continue;
    }
    if (s === "..") {
      out.pop();
      if (last) out.push("");
      continue;
    }
    out.push(s);
  }
  return "/" + out.join("/");
}

/** Strips `?query` and `#fragment` from a request target. */
export function stripQuery(target: string): string {
  let end = target.length;
  const q = target.indexOf("?");
  if (q >= 0) end = q;
  const h = target.indexOf("#");
  if (h >= 0 && h < end) end = h;
  return target.slice(0, end);
}

/** A path without these needs no normalization in any mode (the common case: skip the work). */
const NEEDS_WORK = /[%\\?#\u0000-\u001f\u007f]|\/\.\.?(?:\/|$)|\/\//;

/** Normalizes a request target's path for matching; null when the path is malformed. */
export function normalizePath(target: string, mode: PathNormalization = "BASE"): string | null {
  if (target.charCodeAt(0) === 47 && !NEEDS_WORK.test(target)) return target;
  let p = stripQuery(target);
  if (!p.startsWith("/")) return null;
  if (/[\u0000-\u001f\u007f]/.test(p)) return null;
  if (mode === "NONE") return p;
  if (/%00/.test(p)) return null;
  if (mode === "DECODE_AND_MERGE_SLASHES") p = p.replace(/%2[Ff]/g, "/").replace(/%5[Cc]/g, "\\");
  const pct = normalizePercent(p);
  if (pct === null) return null;
  p = removeDotSegments(pct.replace(/\\/g, "/"));
  if (mode === "MERGE_SLASHES" || mode === "DECODE_AND_MERGE_SLASHES") p = p.replace(/\/{2,}/g, "/");
  return p;
}
