/**
 * @module proxy/request-target
 * The request target as every host routes it: its path normalized per the listener's mode (Istio's
 * pathNormalization, core/policy/path.ts), the query kept. Runtime-neutral, shared by the Node host and
 * the fetch (Deno, workerd) hosts so they normalize identically.
 */
import { normalizePath } from "../core/policy/path.ts";
import type { PathNormalization } from "../core/policy/types.ts";

/**
 * The target with its path normalized (query kept), or null when the target is invalid: a fragment
 * (`#`, never sent by a client; Envoy rejects it), `%00`, bad percent-encoding, no leading `/`.
 */
export function normalizeTarget(target: string, mode: PathNormalization): string | null {
  if (target === "*") return target;
  if (target.indexOf("#") !== -1) return null;
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const n = normalizePath(path, mode);
  if (n === null || (mode === "NONE" && path.includes("%00"))) return null;
  if (n === path) return target; // normalizePath's fast path: nothing changed
  return q === -1 ? n : n + target.slice(q);
}
