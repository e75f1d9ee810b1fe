/**
 * @module core/identity/spiffe
 * SPIFFE IDs, the principal everywhere in weft: a strict parser and formatter that follow the SPIFFE ID
 * specification (lowercase `spiffe` scheme; trust domain of `[a-z0-9._-]` with no userinfo, port or
 * percent-encoding; path segments of `[A-Za-z0-9._-]`, none empty, none `.`/`..`; no trailing slash, query or
 * fragment; at most 2048 bytes, trust domain at most 255), plus Istio's authorization "principal" spelling
 * (the URI without `spiffe://`). Mistakes are reported as {@link SpiffeIdError}s that name the offending part.
 * The mesh-specific path shapes (Istio, Consul) live in `mesh-forms.ts`.
 */
import type { SpiffeId } from "../ir/model.ts";

/** Longest SPIFFE ID the specification requires implementations to accept, in bytes. */
export const SPIFFE_ID_MAX_BYTES = 2048;
/** Longest trust domain name (an RFC 3986 host), in bytes. */
export const TRUST_DOMAIN_MAX_BYTES = 255;

const SCHEME_PREFIX = "spiffe://";

/** Which part of the input a {@link SpiffeIdError} is about. */
export type SpiffeIdPart = "input" | "length" | "scheme" | "trust-domain" | "path" | "query" | "fragment" | "form";

/**
 * A malformed SPIFFE ID, trust domain or principal. These are user mistakes: the message names the input and
 * the offending part, and is meant to be shown as it is (no stack trace needed).
 */
export class SpiffeIdError extends Error {
  /** The rejected input (as given). */
  readonly input: string;
  /** The part of the input that is wrong. */
  readonly part: SpiffeIdPart;
  /** The reason alone, without the `invalid ... "input":` prefix. */
  readonly reason: string;
  constructor(what: string, input: string, part: SpiffeIdPart, reason: string) {
    super(`invalid ${what} ${quote(input)}: ${reason}`);
    this.name = "SpiffeIdError";
    this.input = input;
    this.part = part;
    this.reason = reason;
  }
}

interface Failure {
  part: SpiffeIdPart;
  reason: string;
}

/** Quotes user input for an error message, shortening very long values. */
export function quote(input: string): string {
  return JSON.stringify(input.length > 120 ? `${input.slice(0, 100)}…${input.slice(-12)}` : input);
}

function describeChar(s: string, i: number): string {
  const cp = s.codePointAt(i) ?? 0;
  return JSON.stringify(String.fromCodePoint(cp));
}

function isLower(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}
function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
/** `.`, `-`, `_`: allowed in trust domains and path segments. */
function isPunct(c: number): boolean {
  return c === 0x2e || c === 0x2d || c === 0x5f;
}

function checkTrustDomain(td: string): Failure | undefined {
  if (td === "") return { part: "trust-domain", reason: "the trust domain is missing" };
  if (td.includes("@")) return { part: "trust-domain", reason: `userinfo ("…@") is not allowed before the trust domain` };
  if (td.includes(":")) return { part: "trust-domain", reason: `the trust domain ${quote(td)} must not have a port or ":"` };
  if (td.includes("%")) return { part: "trust-domain", reason: `the trust domain ${quote(td)} must not be percent-encoded` };
  for (let i = 0; i < td.length; i++) {
    const c = td.charCodeAt(i);
    if (isLower(c) || isDigit(c) || isPunct(c)) continue;
    if (isUpper(c)) {
      return { part: "trust-domain", reason: `the trust domain ${quote(td)} must be lowercase (found ${describeChar(td, i)})` };
    }
    return {
      part: "trust-domain",
      reason: `character ${describeChar(td, i)} is not allowed in the trust domain ${quote(td)}; use lowercase letters, digits, ".", "-" and "_"`,
    };
  }
  if (td.length > TRUST_DOMAIN_MAX_BYTES) {
    return { part: "trust-domain", reason: `the trust domain is ${td.length} bytes long; at most ${TRUST_DOMAIN_MAX_BYTES} are allowed` };
  }
  return undefined;
}

/** Checks one path segment (without slashes). `last` tells an empty last segment (trailing slash) apart. */
function checkSegment(seg: string, last: boolean): Failure | undefined {
  if (seg === "") {
    return last
      ? { part: "path", reason: "the path must not end with a trailing slash" }
      : { part: "path", reason: `the path must not contain empty segments ("//")` };
  }
  if (seg === "." || seg === "..") return { part: "path", reason: `the path must not contain "${seg}" segments` };
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (isLower(c) || isUpper(c) || isDigit(c) || isPunct(c)) continue;
    if (c === 0x25) return { part: "path", reason: `the path segment ${quote(seg)} must not be percent-encoded` };
    return {
      part: "path",
      reason: `character ${describeChar(seg, i)} is not allowed in the path segment ${quote(seg)}; use letters, digits, ".", "-" and "_"`,
    };
  }
  return undefined;
}

function scan(s: string): SpiffeId | Failure {
  if (typeof s !== "string") return { part: "input", reason: `expected a string, got ${s === null ? "null" : typeof s}` };
  if (s === "") return { part: "input", reason: "a SPIFFE ID cannot be empty" };
  if (s.length > SPIFFE_ID_MAX_BYTES) {
    return { part: "length", reason: `it is ${s.length} bytes long; a SPIFFE ID may be at most ${SPIFFE_ID_MAX_BYTES} bytes` };
  }
  if (!s.startsWith(SCHEME_PREFIX)) {
    const sep = s.indexOf("://");
    if (sep < 0) return { part: "scheme", reason: `the "spiffe://" scheme is missing` };
    const scheme = s.slice(0, sep);
    if (scheme.toLowerCase() === "spiffe") return { part: "scheme", reason: `the scheme must be lowercase "spiffe", not ${quote(scheme)}` };
    return { part: "scheme", reason: `the scheme must be "spiffe", not ${quote(scheme)}` };
  }
  const q = s.indexOf("?");
  const f = s.indexOf("#");
  if (q >= 0 && (f < 0 || q < f)) return { part: "query", reason: "a SPIFFE ID must not have a query (\"?…\")" };
  if (f >= 0) return { part: "fragment", reason: "a SPIFFE ID must not have a fragment (\"#…\")" };
  const slash = s.indexOf("/", SCHEME_PREFIX.length);
  const trustDomain = slash < 0 ? s.slice(SCHEME_PREFIX.length) : s.slice(SCHEME_PREFIX.length, slash);
  const tdFailure = checkTrustDomain(trustDomain);
  if (tdFailure) return tdFailure;
  const path = slash < 0 ? "" : s.slice(slash);
  if (path !== "") {
    let start = 1;
    for (;;) {
      const end = path.indexOf("/", start);
      const seg = end < 0 ? path.slice(start) : path.slice(start, end);
      const failure = checkSegment(seg, end < 0);
      if (failure) return failure;
      if (end < 0) break;
      start = end + 1;
    }
  }
  return { trustDomain, path, uri: s };
}

function isFailure(r: SpiffeId | Failure): r is Failure {
  return "reason" in r;
}

/**
 * Parses and validates a SPIFFE ID. The result's `uri` is the input (a valid ID is already canonical) and
 * `path` is empty for an ID with no path (for example a trust domain's signing identity).
 * @throws SpiffeIdError naming the offending part.
 * @example
 * parseSpiffeId("spiffe://cluster.local/ns/default/sa/web").path; // "/ns/default/sa/web"
 */
export function parseSpiffeId(uri: string): SpiffeId {
  const r = scan(uri);
  if (isFailure(r)) throw new SpiffeIdError("SPIFFE ID", String(uri), r.part, r.reason);
  return r;
}

/** Like {@link parseSpiffeId}, but returns `undefined` instead of throwing (for hot paths). */
export function tryParseSpiffeId(uri: string): SpiffeId | undefined {
  const r = scan(uri);
  return isFailure(r) ? undefined : r;
}

/** True when `uri` is a valid SPIFFE ID. */
export function isSpiffeId(uri: string): boolean {
  return !isFailure(scan(uri));
}

/**
 * Checks a trust domain name (`[a-z0-9._-]`, 1–255 bytes, no port, userinfo or percent-encoding) and returns it.
 * @throws SpiffeIdError
 */
export function validateTrustDomain(trustDomain: string): string {
  const failure =
    typeof trustDomain !== "string" ? { part: "input" as const, reason: `expected a string, got ${typeof trustDomain}` } : checkTrustDomain(trustDomain);
  if (failure) throw new SpiffeIdError("trust domain", String(trustDomain), failure.part, failure.reason);
  return trustDomain;
}

/** Checks one path segment (no slashes) and returns it. `what` names it in the error, e.g. `namespace`. */
export function validatePathSegment(segment: string, what = "path segment"): string {
  const failure =
    typeof segment !== "string" ? { part: "input" as const, reason: `expected a string, got ${typeof segment}` } : checkSegment(segment, false);
  if (failure) {
    const reason = segment === "" ? `the ${what} is empty` : failure.reason;
    throw new SpiffeIdError(what, String(segment), failure.part, reason);
  }
  return segment;
}

/**
 * Formats a SPIFFE ID from its trust domain and path (`""` or starting with `/`), validating both.
 * `formatSpiffeId(parseSpiffeId(s)) === s` for every valid `s`.
 * @throws SpiffeIdError
 */
export function formatSpiffeId(id: { trustDomain: string; path: string }): string {
  validateTrustDomain(id.trustDomain);
  if (id.path !== "" && !id.path.startsWith("/")) {
    throw new SpiffeIdError("SPIFFE ID path", id.path, "path", `the path must be empty or start with "/"`);
  }
  return parseSpiffeId(`${SCHEME_PREFIX}${id.trustDomain}${id.path}`).uri;
}

/**
 * Formats a SPIFFE ID from a trust domain and path segments, validating each segment.
 * @example
 * spiffeIdFromSegments("cluster.local", ["ns", "default", "sa", "web"]); // "spiffe://cluster.local/ns/default/sa/web"
 * @throws SpiffeIdError
 */
export function spiffeIdFromSegments(trustDomain: string, segments: readonly string[]): string {
  validateTrustDomain(trustDomain);
  for (const seg of segments) validatePathSegment(seg);
  return `${SCHEME_PREFIX}${trustDomain}${segments.map((seg) => `/${seg}`).join("")}`;
}

/** The path segments of a parsed ID (`[]` for an ID with no path). */
export function pathSegments(id: SpiffeId): string[] {
  return id.path === "" ? [] : id.path.slice(1).split("/");
}

/**
 * Istio's authorization-policy spelling of an identity: the SPIFFE ID without `spiffe://`
 * (`cluster.local/ns/default/sa/web`).
 * @throws SpiffeIdError when `uri` is not a valid SPIFFE ID.
 */
export function toAuthzPrincipal(uri: string): string {
  return parseSpiffeId(uri).uri.slice(SCHEME_PREFIX.length);
}

/**
 * The SPIFFE ID an Istio authorization principal names (`td/ns/x/sa/y` → `spiffe://td/ns/x/sa/y`).
 * Principal patterns (`*`, `prefix*`, `*suffix`) name many identities and are rejected, as is a principal
 * written with the `spiffe://` scheme (Istio would never match it).
 * @throws SpiffeIdError
 */
export function fromAuthzPrincipal(principal: string): string {
  if (typeof principal !== "string" || principal === "") {
    throw new SpiffeIdError("principal", String(principal), "input", "a principal cannot be empty");
  }
  if (principal.includes("*")) {
    throw new SpiffeIdError("principal", principal, "form", `a principal pattern with "*" names many identities, not one`);
  }
  if (principal.includes("://")) {
    throw new SpiffeIdError("principal", principal, "scheme", `principals are written without a scheme, e.g. "cluster.local/ns/default/sa/web"`);
  }
  const r = scan(SCHEME_PREFIX + principal);
  if (isFailure(r)) throw new SpiffeIdError("principal", principal, r.part, r.reason);
  return r.uri;
}
